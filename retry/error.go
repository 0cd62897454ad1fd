package retry

import (
	"strconv"
	"strings"
	"time"
)

// The causes of giving up, the Cause of an [*Error]: match them with
// [errors.Is] on the error a call returns.
var (
	// ErrExhausted: the last allowed attempt failed, retryably.
	ErrExhausted = newCause("attempts exhausted")
	// ErrNotRetryable: the last error was [Permanent], rejected by the
	// classifier, or a refusal not waited out (see [HonorRetryAfter]).
	ErrNotRetryable = newCause("not retryable")
	// ErrMaxElapsed: the next attempt would start after [MaxElapsed].
	ErrMaxElapsed = newCause("max elapsed time reached")
	// ErrDeadline: the next attempt would start at or after ctx's deadline.
	ErrDeadline = newCause("delay exceeds deadline")
	// ErrBudget: the policy's [Budget] refused the retry.
	ErrBudget = newCause("budget exhausted")
	// ErrAbandoned: a [Loop]'s body was left early (see [Loop]).
	ErrAbandoned = newCause("loop abandoned")
)

// cause is the type of the package's sentinel causes; its phrase is what
// [Error.Error] prints.
type cause struct{ phrase string }

func newCause(phrase string) error { return &cause{phrase} }

func (c *cause) Error() string { return "retry: " + c.phrase }

// Error is returned by every call that does not succeed, even on its first
// attempt, so [errors.As] always finds it; [errors.Is] matches both its
// Cause and its Last.
type Error struct {
	// Cause is why the policy gave up: an Err cause, or [context.Cause] of
	// the caller's context (errors.Is then also matches ctx.Err()).
	Cause error
	// Last is the last failed attempt's error, without a [Permanent] or
	// [After] marker around it; nil if no attempt failed.
	Last error
	// Attempts is the number of attempts made, refusals included.
	Attempts int
	// Refused counts the Attempts that were refusals not using up one.
	Refused int
	// Elapsed is how long the call took until the policy gave up: from
	// its start under [MaxElapsed] and for [Process] and [State], else
	// from the end of the first attempt.
	Elapsed time.Duration

	// ctxErr is the context's Err when Cause is a different, custom cause.
	ctxErr error
}

// Error returns "retry: CAUSE after N attempts (R refused): LAST", leaving out
// " (R refused)" when Refused is 0 and ": LAST" when Last is nil.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("retry: ")
	switch c := e.Cause.(type) {
	case *cause:
		b.WriteString(c.phrase)
	case nil:
		b.WriteString("gave up")
	default:
		b.WriteString(c.Error())
	}
	b.WriteString(" after ")
	b.WriteString(strconv.Itoa(e.Attempts))
	if e.Attempts == 1 {
		b.WriteString(" attempt")
	} else {
		b.WriteString(" attempts")
	}
	if e.Refused > 0 {
		b.WriteString(" (")
		b.WriteString(strconv.Itoa(e.Refused))
		b.WriteString(" refused)")
	}
	if e.Last != nil {
		b.WriteString(": ")
		b.WriteString(e.Last.Error())
	}
	return b.String()
}

// Unwrap returns Cause, Last and, for a custom context cause, the context's
// own error: those that are not nil.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 3)
	for _, err := range [...]error{e.Cause, e.ctxErr, e.Last} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
