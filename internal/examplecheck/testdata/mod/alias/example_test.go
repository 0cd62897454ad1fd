package alias_test

import (
	al "example.com/mod/alias"
	alias "example.com/mod/good"
)

func Example() {
	_ = al.Opt()
	_ = alias.Other() // good's, not this package's
}
