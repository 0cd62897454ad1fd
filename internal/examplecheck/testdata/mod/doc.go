// Package root is the module's root package.
package root

// Root is shown by ExampleRoot.
func Root() {}
