package weft_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/weftgo/weft"
	"pgregory.net/rapid"
)

// The message always names the panic value, and errors.Is sees through a
// PanicError exactly when the value is an error.
func TestPropertyPanicError(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		text := rapid.String().Draw(t, "text")
		asError := rapid.Bool().Draw(t, "asError")
		var value any = text
		if asError {
			value = errors.New(text)
		}
		pe := &weft.PanicError{Value: value}
		if got, want := pe.Error(), "weft: panic: "+text; got != want {
			t.Fatalf("Error() = %q, want %q", got, want)
		}
		if got := pe.Unwrap() != nil; got != asError {
			t.Fatalf("Unwrap() != nil is %v, want %v", got, asError)
		}
		if asError && !errors.Is(fmt.Errorf("wrapped: %w", pe), value.(error)) {
			t.Fatalf("errors.Is did not find the panic value through the wrapper")
		}
	})
}
