package weft_test

import (
	"errors"
	"fmt"

	"github.com/weftgo/weft"
)

// A panic in a callback comes back as an error; errors.As finds it and its
// value, and errors.Is sees through it when the value was an error.
func ExamplePanicError() {
	errBadInput := errors.New("bad input")
	// What a weft package returns when a callback panics with an error value.
	var err error = fmt.Errorf("task 7: %w", &weft.PanicError{Value: errBadInput})

	var pe *weft.PanicError
	if errors.As(err, &pe) {
		fmt.Println("recovered:", pe.Value)
	}
	fmt.Println(errors.Is(err, errBadInput))
	fmt.Println(err)
	// Output:
	// recovered: bad input
	// true
	// task 7: weft: panic: bad input
}
