package jetstream

import (
	"errors"
	"fmt"
)

// ErrClosed is returned by a second call to [Workers.Close].
var ErrClosed = errors.New("jetstream: closed")

// ErrWrongStream is matched by the error of a Submit whose job the server
// stored in a stream other than the queue's: the queue's stream was deleted
// and another stream now takes its subject. The job is in that other stream,
// which the error names.
var ErrWrongStream = errors.New("jetstream: job stored in another stream")

// CloseError is what [Workers.Close] returns when its context ended before
// the running jobs did, or a hook panicked. The interrupted jobs were handed
// back to the server; [errors.Is] sees through it to Cause.
type CloseError struct {
	// Cause is the context.Cause of the context that cut the drain
	// short, or nil if the drain completed.
	Cause error
	// Interrupted is the number of running jobs the cut-short drain handed
	// back.
	Interrupted int
	// Panics holds the [*weft.PanicError] values of OnDone and OnError hooks.
	Panics []error
}

// Error summarises what did not finish, as "jetstream: close: 3 jobs
// interrupted: context deadline exceeded".
func (e *CloseError) Error() string {
	s := fmt.Sprintf("jetstream: close: %d jobs interrupted", e.Interrupted)
	if len(e.Panics) > 0 {
		s += fmt.Sprintf(", %d hook panics", len(e.Panics))
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns Cause and the hook panics.
func (e *CloseError) Unwrap() []error {
	errs := make([]error, 0, 1+len(e.Panics))
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return append(errs, e.Panics...)
}
