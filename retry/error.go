package retry

import (
	"strconv"
	"strings"
	"time"
)

// The causes of giving up. Every call that does not succeed returns an
// [*Error] whose Cause is one of these, or the caller's context cause; match
// them with [errors.Is] on the returned error.
var (
	// ErrExhausted means that the last allowed attempt failed with a
	// retryable error.
	ErrExhausted = newCause("attempts exhausted")
	// ErrNotRetryable means that the last attempt's error is not worth
	// retrying: it was marked with [Permanent], rejected by the classifier
	// (see [RetryIf]), or said when to come back and the policy does not
	// wait that long (see [HonorRetryAfter]).
	ErrNotRetryable = newCause("not retryable")
	// ErrMaxElapsed means that the next attempt would start after the
	// policy's [MaxElapsed] time.
	ErrMaxElapsed = newCause("max elapsed time reached")
	// ErrDeadline means that the wait before the next attempt would last
	// until the caller's context deadline or past it, so the policy gave up
	// at once instead of sleeping for nothing.
	ErrDeadline = newCause("delay exceeds deadline")
	// ErrBudget means that the policy's [Budget] refused the retry.
	ErrBudget = newCause("budget exhausted")
	// ErrAbandoned means that the body of a [Loop] was left by break or
	// return before the policy had decided: without calling [Attempt.Done],
	// or after a Done that reported a retry was due.
	ErrAbandoned = newCause("loop abandoned")
)

// cause is the type of the package's sentinel causes; its phrase is what
// [Error.Error] prints.
type cause struct{ phrase string }

func newCause(phrase string) error { return &cause{phrase} }

func (c *cause) Error() string { return "retry: " + c.phrase }

// Error is the error returned by every call that did not succeed: it says why
// the policy gave up, what the last attempt returned, how many attempts were
// made and how long that took. Match it with [errors.As]; [errors.Is] sees
// through it to both Cause and Last:
//
//	err := retry.Run(ctx, policy, send)
//	var re *retry.Error
//	switch {
//	case err == nil:
//	case errors.Is(err, retry.ErrExhausted): // retryable, but out of attempts
//	case errors.Is(err, context.Canceled): // the caller cancelled
//	case errors.As(err, &re):
//		log.Printf("send: gave up after %d attempts: %v", re.Attempts, re.Last)
//	}
//
// A call that succeeds returns nil, never an *Error. A call that gives up
// at once, because its first attempt's error is not retryable, still
// returns an *Error (with Cause [ErrNotRetryable] and Attempts 1), so that
// callers can always use errors.As. The markers [Permanent] and [After] are
// removed: Last holds the error they wrapped.
type Error struct {
	// Cause is why the policy gave up: ErrExhausted, ErrNotRetryable,
	// ErrMaxElapsed, ErrDeadline, ErrBudget, ErrAbandoned, or the caller's
	// [context.Cause] when its context was done. In the last case
	// errors.Is also matches the context's own error (context.Canceled or
	// context.DeadlineExceeded), even if the context was cancelled with a
	// cause of its own.
	Cause error
	// Last is the error of the last attempt that failed, without the
	// Permanent or After marker it was wrapped in: the last attempt's error,
	// unless a Loop was left without Done. It is nil if no attempt failed,
	// as when the context was done before the first one.
	Last error
	// Attempts is the number of attempts made, refusals included.
	Attempts int
	// Refused is how many of the Attempts were refusals that did not use
	// up an attempt: errors whose RetryAfter hint the policy honoured while
	// the call had a time limit (see [HonorRetryAfter]).
	Refused int
	// Elapsed is how long the call took until the policy gave up. It is
	// measured from the start of the call when the policy has MaxElapsed,
	// and for Process and State, which are given their start. Otherwise Do,
	// Run and Loop measure it from the end of the first attempt, and leave
	// that attempt's own duration out: a call that succeeds at once then
	// never reads the clock, which costs more than the rest of such a call.
	Elapsed time.Duration

	// ctxErr is the context's Err when Cause is a different, custom cause.
	ctxErr error
}

// Error returns "retry: CAUSE after N attempts (R refused): LAST", where
// CAUSE is the cause's phrase or message, " (R refused)" is left out when
// Refused is 0 and ": LAST" when Last is nil.
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

// Unwrap returns Cause and Last (those that are not nil), and the context's
// own error when Cause is a custom context cause, so that [errors.Is] and
// [errors.As] look at all of them.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 3)
	for _, err := range [...]error{e.Cause, e.ctxErr, e.Last} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
