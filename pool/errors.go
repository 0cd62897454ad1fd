package pool

import (
	"errors"
	"fmt"
	"strings"

	"github.com/weftgo/weft/retry"
)

var (
	// ErrClosed is returned by Go, GoContext, TryGo, Submit and TrySubmit
	// once the pool takes no more work: after [Pool.Wait] or
	// [ResultPool.Wait] has seen every task finish, or once [Workers.Close]
	// has been called. A second Close returns it too.
	ErrClosed = errors.New("pool: closed")
	// ErrFull is returned by [Pool.TryGo], [ResultPool.TryGo] and
	// [Workers.TrySubmit] where Go or Submit would wait for room.
	ErrFull = errors.New("pool: queue full")
)

// CloseError is what [Workers.Close] returns when it could not finish every
// job: its context or the Workers' ended before the drain did, the
// dead-letter sink refused letters, or an [OnDone] or [OnEvent] hook
// panicked. A job that
// neither succeeded, failed, nor reached the sink is in Unrun or
// Interrupted, for the caller to store or run elsewhere. [errors.Is] and
// [errors.As] see through it to Cause alone, never to a job's own error.
//
//	var ce *pool.CloseError[Job]
//	if errors.As(err, &ce) {
//		requeue(ce.Unrun)
//	}
type CloseError[J any] struct {
	// Cause is the [context.Cause] of the context that cut the drain
	// short, or nil if the drain completed.
	Cause error
	// Unrun holds the jobs that never started: the queued ones in queue
	// order, then those waiting to retry in the order they were due, then
	// any handed to a worker as the stop came. Each may be submitted again.
	Unrun []J
	// Interrupted holds the jobs that were running when the drain was cut
	// short, failed, and reached no sink; they may have done part of their
	// work.
	Interrupted []J
	// Undelivered holds the first 64 letters the dead-letter sink refused;
	// each Letter's Err joins the job's error and the sink's.
	Undelivered []retry.Letter[J]
	// Panics holds the first 64 panics of OnDone and OnEvent hooks, as
	// [*weft.PanicError] values.
	Panics []error
	// OmittedLetters and OmittedPanics count the refused letters and hook
	// panics past the first 64, which are counted but not kept.
	OmittedLetters, OmittedPanics int
}

// maxKept is how many refused letters, and how many hook panics, a Workers
// keeps for Close.
const maxKept = 64

// Error summarises what did not finish, as "pool: close: 3 jobs unrun, 1
// interrupted: context deadline exceeded".
func (e *CloseError[J]) Error() string {
	var parts []string
	if n := len(e.Unrun); n > 0 {
		parts = append(parts, plural(n, "job", "jobs")+" unrun")
	}
	if n := len(e.Interrupted); n > 0 {
		parts = append(parts, fmt.Sprintf("%d interrupted", n))
	}
	if n := len(e.Undelivered) + e.OmittedLetters; n > 0 {
		parts = append(parts, plural(n, "dead letter", "dead letters")+" refused")
	}
	if n := len(e.Panics) + e.OmittedPanics; n > 0 {
		parts = append(parts, plural(n, "hook panic", "hook panics"))
	}
	msg := "pool: close: " + strings.Join(parts, ", ")
	if len(parts) == 0 {
		msg = "pool: close: drain cut short"
	}
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

// Unwrap returns Cause: what cut the drain short, or nil if nothing did.
func (e *CloseError[J]) Unwrap() error { return e.Cause }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
