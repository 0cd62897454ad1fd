package retry

import (
	"context"
	"time"
)

// State is the retry state of one call or work item, for callers that do not
// sleep between attempts, such as a worker pool that requeues a failed job
// with the delay [State.Next] returns; [Do] and the rest decide exactly as it
// does. A State may be copied with its job but must not be used by two
// goroutines at once; the zero State is that of the zero Policy.
type State struct {
	// Under 100 bytes, so a job can carry it; Next allocates only the
	// *Error it returns.
	c        *config
	attempts int
	start    time.Time     // zero until the clock is first read
	last     time.Time     // when the last outcome was reported
	prev     time.Duration // the last delay, for decorrelated jitter
	err      error         // the last failure, markers removed
	refused  int           // refusals that did not use up an attempt
}

// Start returns the State of a new call or work item under p whose first
// attempt starts at now.
func (p Policy) Start(now time.Time) State {
	return State{c: p.config(), start: now}
}

func (s *State) config() *config {
	if s.c == nil {
		return &defaults
	}
	return s.c
}

// Attempts returns the number of outcomes reported to [State.Next].
func (s *State) Attempts() int { return s.attempts }

// First returns when the first attempt started: the time given to
// [Policy.Start], or for a zero State to its first [State.Next].
func (s *State) First() time.Time { return s.start }

// Last returns the time given to the last [State.Next].
func (s *State) Last() time.Time { return s.last }

// Context returns the next attempt's context, ctx with the policy's
// [AttemptTimeout] if any, and its cancel func; call cancel when the attempt
// returns.
func (s *State) Context(ctx context.Context) (context.Context, context.CancelFunc) {
	if d := s.config().attemptTimeout; d > 0 {
		return context.WithTimeout(ctx, d)
	}
	return ctx, nop
}

func nop() {}

// epoch is a reading of the monotonic clock to measure others from.
var epoch = time.Now()

// Next records the outcome of an attempt that ended at now (the zero Time
// reads the clock) and returns 0 and nil on success; a delay and nil to
// retry; or 0 and an [*Error] when the policy gives up. ctx is the caller's
// context: Next never blocks on it, but gives up if it is done or the delay
// would reach its deadline. Next runs the policy's hooks and
// updates its [Budget]; a State is spent once the call is over.
func (s *State) Next(ctx context.Context, err error, now time.Time) (time.Duration, error) {
	if now.IsZero() {
		now = time.Now()
	}
	if err == nil {
		s.succeeded(ctx)
		if s.start.IsZero() {
			s.start = now
		}
		s.last = now
		return 0, nil
	}
	return s.failed(ctx, err, now)
}

func (s *State) succeeded(ctx context.Context) {
	s.attempts++
	if c := s.config(); !c.quiet {
		c.succeeded(ctx, s.attempts)
	}
}

// succeeded pays the budget and calls the OnEvent hook for a call that
// succeeded at attempt n.
func (c *config) succeeded(ctx context.Context, n int) {
	c.budget.deposit()
	if c.onEvent != nil {
		c.onEvent(ctx, Event{Attempt: n, Done: true})
	}
}

// failed is Next for a non-nil err. If now is zero, the State belongs to a
// call of this package that has not read the clock, and failed reads it only
// when it must.
func (s *State) failed(ctx context.Context, err error, now time.Time) (time.Duration, error) {
	c := s.config()
	s.attempts++
	v, last := read(err)
	s.err = last
	if ctx.Err() != nil {
		return 0, s.stop(ctx, nil, now)
	}

	// A hint, from After or an honoured RetryAfter, is a floor under the
	// backoff's delay, never a shortcut past it: a hint of 0 repeated by
	// every attempt would otherwise retry in a tight loop.
	hint, hinted := v.delay, v.after
	if v.permanent {
		return 0, s.stop(ctx, ErrNotRetryable, now)
	}
	refused := false
	if !hinted && v.hint != nil && c.honorRetryAfter > 0 {
		if h := v.hint.RetryAfter(); h <= c.honorRetryAfter {
			hint, hinted, refused = max(h, 0), true, true
		}
	}
	if !hinted && !c.retryable(err, v.hint != nil) {
		return 0, s.stop(ctx, ErrNotRetryable, now)
	}
	// A refusal was turned away before it reached the dependency: it
	// takes no token of the budget, which is there to limit load, and
	// when the call has a time limit to end it, it uses up no attempt.
	allowed := true
	if !refused {
		allowed = c.budget.withdraw()
	} else if c.maxElapsed > 0 || timeLimited(ctx) {
		s.refused++
	}
	if c.attempts != Unlimited && s.attempts-s.refused >= c.attempts {
		return 0, s.stop(ctx, ErrExhausted, now)
	}
	// The backoff goes on growing through refusals, so that a dependency
	// that keeps refusing with a short hint is asked less and less often.
	backoff := c.delay(s.attempts, s.prev)
	d := max(hint, backoff)

	// The clock is read only when a rule needs it: to start the elapsed
	// time, for MaxElapsed, or to compare a real wait with the deadline.
	deadline, hasDeadline := time.Time{}, false
	if d > 0 {
		deadline, hasDeadline = ctx.Deadline()
	}
	switch {
	case !now.IsZero():
	case c.maxElapsed > 0 || hasDeadline:
		now = time.Now()
	case s.start.IsZero():
		// Only the start of Elapsed is needed, and only as a monotonic
		// reading, which costs half of time.Now. Calls of this package
		// never show the start, whose wall clock reading may be off.
		s.start = epoch.Add(time.Since(epoch))
	}
	if !now.IsZero() {
		if s.start.IsZero() {
			s.start = now
		}
		s.last = now
	}
	if c.maxElapsed > 0 {
		if elapsed := now.Sub(s.start); elapsed > c.maxElapsed || d > c.maxElapsed-elapsed {
			return 0, s.stop(ctx, ErrMaxElapsed, now)
		}
	}
	if hasDeadline && d >= deadline.Sub(now) {
		return 0, s.stop(ctx, ErrDeadline, now)
	}
	if !allowed {
		c.budget.refuse()
		return 0, s.stop(ctx, ErrBudget, now)
	}
	if !refused {
		c.budget.retried()
	}
	// A delay a hint set is not the backoff's: decorrelated jitter goes
	// on from its own last draw.
	s.prev = backoff
	if c.hooked {
		return s.hook(ctx, last, d, now)
	}
	return d, nil
}

// hook calls the OnRetry and OnEvent hooks for a retry after d, decided at now, and
// returns what is left of d when the hook returns: the hook's time is part
// of the wait, so that a slow hook cannot push the next attempt past the
// limits checked before it ran. A hook that outlasted d and MaxElapsed ends
// the call.
func (s *State) hook(ctx context.Context, last error, d time.Duration, now time.Time) (time.Duration, error) {
	c := s.config()
	if d == 0 {
		c.retried(ctx, s.attempts, last, d)
		return 0, nil
	}
	begin := time.Now()
	c.retried(ctx, s.attempts, last, d)
	took := time.Since(begin)
	if took < d {
		return d - took, nil
	}
	if c.maxElapsed > 0 && now.Add(took).Sub(s.start) > c.maxElapsed {
		return 0, s.stop(ctx, ErrMaxElapsed, now.Add(took))
	}
	return 0, nil
}

// retried calls the hooks that are set for a retry after d.
func (c *config) retried(ctx context.Context, attempt int, last error, d time.Duration) {
	if c.onRetry != nil {
		c.onRetry(attempt, last, d)
	}
	if c.onEvent != nil {
		c.onEvent(ctx, Event{Attempt: attempt, Err: last, Delay: d})
	}
}

// retryable is the classifier: RetryIf, or by default every error without
// a RetryAfter hint.
func (c *config) retryable(err error, hinted bool) bool {
	if c.retryIf != nil {
		return c.retryIf(err)
	}
	return !hinted
}

// timeLimited reports whether ctx has a deadline.
func timeLimited(ctx context.Context) bool {
	_, ok := ctx.Deadline()
	return ok
}

// stop ends the call with cause, or with ctx's cause if cause is nil.
func (s *State) stop(ctx context.Context, cause error, now time.Time) error {
	if now.IsZero() {
		now = time.Now()
	}
	if s.start.IsZero() {
		s.start = now
	}
	s.last = now
	e := &Error{Cause: cause, Last: s.err, Attempts: s.attempts, Refused: s.refused, Elapsed: now.Sub(s.start)}
	if cause == nil {
		e.Cause = context.Cause(ctx)
		if err := ctx.Err(); err != e.Cause {
			e.ctxErr = err
		}
	}
	if c := s.config(); c.onEvent != nil {
		c.onEvent(ctx, Event{Attempt: s.attempts, Err: s.err, Done: true, Final: e})
	}
	return e
}
