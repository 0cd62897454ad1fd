package retry

import (
	"context"
	"fmt"
	"time"
)

// Policy says how a call is retried. It is an immutable value, safe for
// concurrent use and cheap to copy; every call keeps its own state. The zero
// Policy is ready to use with the defaults of the package documentation.
// Build others with [New] or [Policy.With].
type Policy struct {
	c *config // nil: defaults. Copying a Policy copies this one pointer.
}

// Unlimited, passed to [Attempts], sets no limit on attempts.
const Unlimited = -1

// An Option sets one setting of a [Policy]; the last of a kind wins, and nil
// is ignored.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// config is what a Policy points to. It is never modified once a Policy
// holds it.
type config struct {
	attempts        int // at least 1, or Unlimited
	backoff         backoff
	jitter          jitter
	maxElapsed      time.Duration // 0: none
	attemptTimeout  time.Duration // 0: none
	honorRetryAfter time.Duration // 0: hints are not honoured
	retryIf         func(error) bool
	onRetry         func(attempt int, err error, delay time.Duration)
	onEvent         func(ctx context.Context, e Event)

	// quiet is set when a success needs nothing done: no Budget to pay
	// and no OnEvent hook. One test of it keeps a first success as cheap
	// as it was before OnEvent.
	quiet bool
	// hooked is set when a retry has a hook to call: OnRetry or OnEvent.
	hooked bool
	budget *Budget
}

// defaults is the configuration of the zero Policy. It is never written
// after package initialisation.
//
// At most 3 attempts, because retries multiply across layers; FullJitter,
// because clients that failed together otherwise retry together.
var defaults = func() config {
	c := config{attempts: 3, jitter: jitter{kind: fullJitter}, quiet: true}
	Exponential(100*time.Millisecond, 2, 10*time.Second).apply(&c)
	return c
}()

// New returns the default [Policy] changed by opts. It panics, naming the
// option, if the result can never work.
func New(opts ...Option) Policy {
	return Policy{}.With(opts...)
}

// With returns a copy of p changed by opts; p is not changed. It panics as
// [New] does.
func (p Policy) With(opts ...Option) Policy {
	c := *p.config()
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.jitter.kind == decorrelatedJitter && c.backoff.kind == custom {
		panic("retry: DecorrelatedJitter(): needs the base and cap of Constant, Linear or Exponential; BackoffFunc has neither")
	}
	c.quiet = c.budget == nil && c.onEvent == nil
	c.hooked = c.onRetry != nil || c.onEvent != nil
	return Policy{c: &c}
}

func (p Policy) config() *config {
	if p.c == nil {
		return &defaults
	}
	return p.c
}

// Attempts sets the most attempts a call makes, the first included:
// Attempts(1) never retries; the default is 3. Some refusals are not counted
// (see the package Rules). It panics if n is less than 1 and not [Unlimited].
func Attempts(n int) Option {
	if n < 1 && n != Unlimited {
		panic(fmt.Sprintf("retry: Attempts(%d): must be at least 1, or Unlimited", n))
	}
	return optionFunc(func(c *config) { c.attempts = n })
}

// MaxElapsed limits a call to d from its start, as the package Rules say; it
// does not interrupt an attempt in progress (see [AttemptTimeout]).
// Zero, the default, means no limit; it panics if d is negative.
func MaxElapsed(d time.Duration) Option {
	if d < 0 {
		panic(fmt.Sprintf("retry: MaxElapsed(%v): must not be negative", d))
	}
	return optionFunc(func(c *config) { c.maxElapsed = d })
}

// AttemptTimeout gives each attempt a context done after d; an attempt that
// times out has failed like any other. The context is cancelled when the
// attempt returns, so its result must not depend on it (a body still to be
// read). Zero, the default, means none; it panics if d is negative.
func AttemptTimeout(d time.Duration) Option {
	if d < 0 {
		panic(fmt.Sprintf("retry: AttemptTimeout(%v): must not be negative", d))
	}
	return optionFunc(func(c *config) { c.attemptTimeout = d })
}

// RetryIf replaces the default classifier (retry every error) with retryable,
// called with each failed attempt's error as returned. It is not consulted for
// the caller's context errors, [Permanent], [After] or hints honoured by
// [HonorRetryAfter]. It must be safe for concurrent use if the policy is
// shared; RetryIf(nil) restores the default.
func RetryIf(retryable func(err error) bool) Option {
	return optionFunc(func(c *config) { c.retryIf = retryable })
}

// OnRetry sets a hook called after the policy has decided to retry and before
// the wait, with the failed attempt's number (1 for the first), its error and
// the delay; it is never called when the policy gives up. Its running time is
// taken off the delay. It must be safe for concurrent use if the policy is
// shared; OnRetry(nil) removes it.
func OnRetry(hook func(attempt int, err error, delay time.Duration)) Option {
	return optionFunc(func(c *config) { c.onRetry = hook })
}

// OnEvent sets a hook called with the caller's context after every attempt
// the policy retries, as [OnRetry] is, and once when the call is over, for
// metrics and traces. It runs before the wait or the return and must be safe
// for concurrent use if the policy is shared; OnEvent(nil) removes it.
func OnEvent(hook func(ctx context.Context, e Event)) Option {
	return optionFunc(func(c *config) { c.onEvent = hook })
}

// Event is one event of a call, delivered to [OnEvent]: a retry, or the end.
type Event struct {
	// Attempt is the attempt just made, 1 for the first; at the end, the
	// number of attempts made.
	Attempt int
	Err     error         // the attempt's error, markers removed; nil on success
	Delay   time.Duration // the wait before the next attempt; 0 at the end
	Done    bool          // the call is over
	Final   error         // at the end, nil on success, else the [*Error] the call returns
}

// WithBudget makes the policy ask b before every retry; a refused retry ends
// the call with [ErrBudget]. WithBudget(nil), the default, means no budget.
func WithBudget(b *Budget) Option {
	return optionFunc(func(c *config) { c.budget = b })
}

// HonorRetryAfter makes the policy wait out refusals, errors with a method
// RetryAfter() time.Duration in their chain, that ask for at most max,
// whatever [RetryIf] says (see the package Rules for how long it waits).
// Zero, the default, honours none; it panics if max is negative.
func HonorRetryAfter(max time.Duration) Option {
	if max < 0 {
		panic(fmt.Sprintf("retry: HonorRetryAfter(%v): must not be negative", max))
	}
	return optionFunc(func(c *config) { c.honorRetryAfter = max })
}
