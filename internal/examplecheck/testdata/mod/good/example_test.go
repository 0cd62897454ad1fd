package good_test

import "example.com/mod/good"

func ExampleFoo() { good.Foo() }

func ExampleBar_Baz() {
	b := good.NewBar()
	b.Baz()
}

func ExampleTable() {
	t, _ := good.NewTable[string, int]()
	_ = t
}

func Example() { _ = good.Size(1) }
