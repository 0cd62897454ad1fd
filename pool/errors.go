package pool

import (
	"errors"
	"fmt"
	"strings"

	"github.com/weftgo/weft/retry"
)

var (
	// ErrClosed is returned once the pool takes no more work: by Go,
	// GoContext and TryGo after Wait has seen every task finish, and by
	// Submit, TrySubmit and a second Close once [Workers.Close] was called.
	ErrClosed = errors.New("pool: closed")
	// ErrFull is returned by [Pool.TryGo], [ResultPool.TryGo] and
	// [Workers.TrySubmit] where Go or Submit would wait for room.
	ErrFull = errors.New("pool: queue full")
)

// CloseError is what [Workers.Close] returns when it could not finish every
// job: its context or the Workers' ended before the drain did, the
// dead-letter sink refused letters, or a hook panicked. [errors.Is] and
// [errors.As] see through it to Cause alone, never to a job's own error.
type CloseError[J any] struct {
	// Cause is the [context.Cause] of the context that cut the drain
	// short, or nil if the drain completed.
	Cause error
	// Unrun holds the jobs that never started, for the caller to store or
	// submit again, queued ones first.
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
	// panics past the first 64, which are not kept.
	OmittedLetters, OmittedPanics int
}

// maxKept is how many refused letters, and how many hook panics, a Workers
// keeps for Close.
const maxKept = 64

// Error summarises what did not finish: "pool: close: 3 jobs unrun, 1
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

// Unwrap returns Cause.
func (e *CloseError[J]) Unwrap() error { return e.Cause }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
