package root_test

func ExampleRoot() {}
