package bad_test

// An example that shows nothing of the package: Lost is named only in a comment.
func ExampleLostCause() {}

func helper() {}
