package alias

func Example_bare() { _ = Bare() }
