// Package catch runs user callbacks, turning their panics into *weft.PanicError values.
//
// A panic comes back as an error instead of crashing the process. Every
// weft package calls user code through it; none recovers panics by hand.
package catch

import (
	"runtime/debug"

	"github.com/weftgo/weft"
)

// newPanicError returns a *weft.PanicError for value with the current
// goroutine's stack. It is called from the deferred function that recovered
// value, so that the stack still shows where the panic happened.
func newPanicError(value any) *weft.PanicError {
	return &weft.PanicError{Value: value, Stack: debug.Stack()}
}

// Call calls f and returns its error. A panic in f is recovered and returned
// as a *weft.PanicError. If f calls runtime.Goexit, Call does not return: the
// goroutine exits, running the caller's deferred calls; use [Guard] where that
// must be reported.
func Call(f func() error) (err error) {
	normal := false
	defer func() {
		if normal {
			return
		}
		if r := recover(); r != nil {
			err = newPanicError(r)
		}
	}()
	err = f()
	normal = true
	return err
}

// Value calls f and returns its results, turning a panic into a
// *weft.PanicError with the zero value of T, as [Call] does.
func Value[T any](f func() (T, error)) (v T, err error) {
	normal := false
	defer func() {
		if normal {
			return
		}
		if r := recover(); r != nil {
			var zero T
			v, err = zero, newPanicError(r)
		}
	}()
	v, err = f()
	normal = true
	return v, err
}

// Guard calls f and then report exactly once with the outcome: f's error, a
// *weft.PanicError if f panicked, or [weft.ErrGoexit] if f called runtime.Goexit.
// In the Goexit case report runs while the goroutine unwinds and Guard does
// not return. Goroutines that deliver a result to a waiter use Guard so that
// the waiter is never left hanging.
func Guard(f func() error, report func(error)) {
	var err error = weft.ErrGoexit
	normal := false
	defer func() {
		if !normal {
			if r := recover(); r != nil {
				err = newPanicError(r)
			}
		}
		report(err)
	}()
	err = f()
	normal = true
}

// Recover is for a function that calls user code itself and must turn a
// panic in it into an error: defer Recover(&err, &normal) before the call,
// and set normal to true once the call has returned. If it has not, the
// function is unwinding: from a panic, which Recover stops, setting *err to
// a *weft.PanicError so that the function returns normally; or from
// runtime.Goexit, which goes on, with *err set to [weft.ErrGoexit] for the
// deferred calls that run after Recover. It costs a deferred call and no
// closure, which makes it the cheapest form for a hot path.
func Recover(err *error, normal *bool) {
	if *normal {
		return
	}
	if r := recover(); r != nil {
		*err = newPanicError(r)
		return
	}
	*err = weft.ErrGoexit
}
