package pool

import (
	"errors"
	"fmt"
	"strings"

	"github.com/weftgo/weft/retry"
)

var (
	// ErrClosed is returned by Go, GoContext, Submit and TrySubmit once the
	// pool no longer takes work: after [Pool.Wait] (or [ResultPool.Wait]) has
	// seen every task finish, or once [Workers.Close] has been called. A
	// second call to Close returns it too.
	ErrClosed = errors.New("pool: closed")
	// ErrFull is returned by [Workers.TrySubmit] when there is no room: no
	// worker is free and the queue is full, or jobs waiting to retry fill
	// the room even of idle workers (see [Buffer]).
	ErrFull = errors.New("pool: queue full")
)

// CloseError is what [Workers.Close] returns when it could not finish every
// job: because its context (or the one the Workers was made with) ended
// before the drain did, because the dead-letter sink refused letters, or
// because an OnDone hook panicked. Every job is accounted for: a job that
// neither succeeded, failed, nor reached the sink is in Unrun or
// Interrupted, so the caller can store it or run it elsewhere.
//
// Match it with [errors.As]:
//
//	var ce *pool.CloseError[Job]
//	if errors.As(err, &ce) {
//		requeue(ce.Unrun)
//	}
//
// [errors.Is] and [errors.As] see through it to Cause alone, so
// errors.Is(err, context.DeadlineExceeded) reports a drain cut short by a
// deadline, never a job whose own error was one: the jobs' errors are in
// Undelivered.
type CloseError[J any] struct {
	// Cause is the [context.Cause] of the context that cut the drain
	// short, or nil if the drain completed.
	Cause error
	// Unrun holds the jobs that were not running when the drain was cut
	// short: first the queued ones, which never started, in queue order,
	// then those waiting out a retry delay, in the order they were due to
	// come back, then any that had just been handed to a worker and found
	// the stop before they started. None of them is running; each may be
	// submitted again.
	Unrun []J
	// Interrupted holds the jobs that were running when the drain was cut
	// short, whose handler then returned an error, and which no dead-letter
	// sink took. They may have done part of their work.
	Interrupted []J
	// Undelivered holds the first 64 letters the dead-letter sink refused;
	// each Letter's Err joins the job's error and the sink's. An OnDone
	// hook is told of every one.
	Undelivered []retry.Letter[J]
	// Panics holds the first 64 panics recovered from OnDone hooks, as
	// *weft.PanicError values.
	Panics []error
	// OmittedLetters and OmittedPanics count the refused letters and hook
	// panics past the first 64, which a Workers counts but does not keep,
	// so that its memory does not grow with the jobs it runs.
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
