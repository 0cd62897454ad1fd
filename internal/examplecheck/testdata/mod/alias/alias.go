package alias

// Option configures nothing.
type Option interface{}

// Opt is passed by an example that imports the package under another name.
func Opt() Option { return nil }

// Other is named in an example only through another package's name.
func Other() Option { return nil }

// Bare is passed by an example in the package itself.
func Bare() Option { return nil }
