package jetstream

import (
	"errors"
	"fmt"
)

// ErrClosed is returned by a second call to [Workers.Close].
var ErrClosed = errors.New("jetstream: closed")

// CloseError is what [Workers.Close] returns when it did not stop cleanly:
// its context ended before the running jobs did, and some of them were
// interrupted, or an OnDone or OnError hook panicked. No job is lost either way: an
// interrupted job was handed back to the server, which delivers it again,
// to this process or another.
//
// errors.Is sees through it to Cause, so errors.Is(err,
// context.DeadlineExceeded) reports a drain cut short by a deadline.
type CloseError struct {
	// Cause is the context.Cause of the context that cut the drain
	// short, or nil if the drain completed.
	Cause error
	// Interrupted is the number of jobs that were running when the drain
	// was cut short, failed, and were handed back to the server.
	Interrupted int
	// Panics holds the panics recovered from OnDone and OnError hooks, as
	// *weft.PanicError values.
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
