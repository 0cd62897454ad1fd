package catch_test

import (
	"errors"
	"testing"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/internal/catch"
	"pgregory.net/rapid"
)

// Whatever the callback does (return nil, return an error, panic with any
// value), Call and Guard agree, Guard reports exactly once, and a panic is
// always a *weft.PanicError carrying the value.
func TestPropertyOutcome(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		kind := rapid.IntRange(0, 2).Draw(t, "kind")
		text := rapid.String().Draw(t, "text")
		sentinel := errors.New(text)
		f := func() error {
			switch kind {
			case 0:
				return nil
			case 1:
				return sentinel
			default:
				panic(text)
			}
		}
		fromCall := catch.Call(f)
		var fromGuard []error
		catch.Guard(f, func(err error) { fromGuard = append(fromGuard, err) })
		if len(fromGuard) != 1 {
			t.Fatalf("Guard reported %d times, want 1", len(fromGuard))
		}
		switch kind {
		case 0:
			if fromCall != nil || fromGuard[0] != nil {
				t.Fatalf("got %v and %v, want nil", fromCall, fromGuard[0])
			}
		case 1:
			if fromCall != sentinel || fromGuard[0] != sentinel {
				t.Fatalf("got %v and %v, want the returned error", fromCall, fromGuard[0])
			}
		default:
			for _, err := range []error{fromCall, fromGuard[0]} {
				var pe *weft.PanicError
				if !errors.As(err, &pe) || pe.Value != text {
					t.Fatalf("got %v, want *PanicError with value %q", err, text)
				}
			}
		}
	})
}
