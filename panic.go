package weft

import (
	"errors"
	"fmt"
)

// ErrGoexit is returned to whoever waits on a callback that called
// [runtime.Goexit] (for example through testing.T.FailNow) instead of
// returning or panicking. The goroutine that ran the callback has exited; the
// waiters get this error instead of hanging.
var ErrGoexit = errors.New("weft: callback called runtime.Goexit")

// PanicError is a panic recovered from a user callback that ran on a
// goroutine started by weft. It is returned through the same path as the
// callback's own error would have been, so a panic is never lost and never
// crashes the process from a goroutine the caller cannot see.
//
// Match it with [errors.As]:
//
//	var pe *weft.PanicError
//	if errors.As(err, &pe) {
//		log.Printf("task panicked: %v\n%s", pe.Value, pe.Stack)
//	}
//
// When the panic value is itself an error, [errors.Is] and [errors.As] see
// through the PanicError to it.
type PanicError struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the stack of the panicking goroutine, as formatted by
	// [runtime/debug.Stack] at the point of recovery.
	Stack []byte
}

// Error returns "weft: panic: " followed by the panic value. The stack is left
// out to keep the message on one line; format the error with %+v to get it.
func (e *PanicError) Error() string {
	return fmt.Sprintf("weft: panic: %v", e.Value)
}

// Unwrap returns the panic value when it is an error, and nil otherwise.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Format implements [fmt.Formatter]: %v and %s print the message, %+v adds
// the stack on the following lines.
func (e *PanicError) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('+'):
		fmt.Fprintf(f, "%s\n%s", e.Error(), e.Stack)
	case verb == 'q':
		fmt.Fprintf(f, "%q", e.Error())
	default:
		fmt.Fprint(f, e.Error())
	}
}
