// no module line
