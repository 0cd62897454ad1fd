package retry

import (
	"fmt"
	"time"
)

// Policy says how a call is retried: how many attempts, how long to wait
// between them, which errors are worth another attempt, and when to give up
// early. A Policy is an immutable value: it holds no per-call state, so one
// Policy may be kept in a package-level variable and used by any number of
// goroutines at once; every call keeps its own attempt count, clock and
// timer. Copying a Policy copies one pointer.
//
// The zero Policy is ready to use and behaves as the defaults: 3 attempts,
// exponential backoff from 100ms doubling up to 10s, full jitter, no limit on
// elapsed time but the caller's context, and every error retried except those
// marked with [Permanent], those that say when to come back (see
// [HonorRetryAfter]) and the caller's own context errors. The package
// documentation explains why these are the defaults.
//
// Build other policies with [New], or derive them from an existing one with
// [Policy.With].
type Policy struct {
	c *config
}

// Unlimited is the attempt count that never runs out; pass it to [Attempts].
// A policy with unlimited attempts stops only when an error is not
// retryable, when [MaxElapsed] or the caller's context says so, or when a
// [Budget] refuses.
const Unlimited = -1

// An Option sets one setting of a [Policy]. Options are applied in order and
// the last one of a kind wins; a nil Option is ignored.
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
	budget          *Budget
}

// defaults is the configuration of the zero Policy. It is never written
// after package initialisation.
var defaults = func() config {
	c := config{attempts: 3, jitter: jitter{kind: fullJitter}}
	Exponential(100*time.Millisecond, 2, 10*time.Second).apply(&c)
	return c
}()

// New returns the default [Policy] changed by opts. It panics, naming the
// option, if the result can never work: see each option for its limits.
//
//	var fetchPolicy = retry.New(
//		retry.Attempts(5),
//		retry.Exponential(50*time.Millisecond, 2, 2*time.Second),
//		retry.MaxElapsed(10*time.Second),
//	)
func New(opts ...Option) Policy {
	return Policy{}.With(opts...)
}

// With returns a copy of p changed by opts; p itself is not changed. It
// panics, as [New] does, if the result can never work.
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
	return Policy{c: &c}
}

func (p Policy) config() *config {
	if p.c == nil {
		return &defaults
	}
	return p.c
}

// Attempts sets the most attempts a call makes, the first one included:
// Attempts(1) never retries. Pass [Unlimited] to have no limit. The default
// is 3. Refusals waited out under [HonorRetryAfter] by a call with a time
// limit are not counted. It panics if n is less than 1 and not Unlimited.
func Attempts(n int) Option {
	if n < 1 && n != Unlimited {
		panic(fmt.Sprintf("retry: Attempts(%d): must be at least 1, or Unlimited", n))
	}
	return optionFunc(func(c *config) { c.attempts = n })
}

// MaxElapsed limits the time a call may take, measured from the start of the
// call: when an attempt fails, the policy gives up with [ErrMaxElapsed]
// rather than wait for an attempt that would start later than d after the
// start. It does not interrupt an attempt in progress; use [AttemptTimeout]
// or the caller's context for that. Zero, the default, means no limit but the caller's
// context. It panics if d is negative.
//
// A policy with MaxElapsed reads the clock when a call starts; one without
// it reads the clock only after a failure.
func MaxElapsed(d time.Duration) Option {
	if d < 0 {
		panic(fmt.Sprintf("retry: MaxElapsed(%v): must not be negative", d))
	}
	return optionFunc(func(c *config) { c.maxElapsed = d })
}

// AttemptTimeout gives each attempt a context of its own that is done after
// d. An attempt whose own timeout fired has failed like any other, and is
// retried if its error is retryable (the default classifier retries it); the
// caller's own deadline or cancellation always ends the call. Zero, the
// default, means attempts run under the caller's context. It panics if d is
// negative.
//
// The attempt's context is cancelled when the attempt returns, so a value
// the attempt returns must not depend on it (a response body still to be
// read, for example). Each attempt with a timeout costs a context and a
// timer.
func AttemptTimeout(d time.Duration) Option {
	if d < 0 {
		panic(fmt.Sprintf("retry: AttemptTimeout(%v): must not be negative", d))
	}
	return optionFunc(func(c *config) { c.attemptTimeout = d })
}

// RetryIf sets the classifier that decides whether a failed attempt's error
// is worth another attempt. It replaces the default classifier, which retries
// every error except those that carry a RetryAfter hint (see
// [HonorRetryAfter]). It is not consulted for errors the policy has already
// decided on: the caller's own context errors (never retried), errors marked
// with [Permanent] (never retried) or [After] (always retried, after the
// delay they ask for), and hints honoured by [HonorRetryAfter].
//
// retryable is called on the goroutine of the call, with the error as the
// attempt returned it, and must be safe for concurrent use if the policy is
// shared. RetryIf(nil) restores the default classifier.
func RetryIf(retryable func(err error) bool) Option {
	return optionFunc(func(c *config) { c.retryIf = retryable })
}

// OnRetry sets a hook called each time the policy has decided to retry: after
// the attempt limit, [MaxElapsed], the deadline and the [Budget] have all
// allowed it, and before the wait. It gets the number of the attempt that
// failed (1 for the first), its error and the delay before the next attempt.
// It is not called when the policy gives up, so a call that ends after n
// attempts has called it at most n-1 times. If the caller's context is done
// during the wait, or the hook itself runs past [MaxElapsed], the retry it
// announced does not happen.
//
// hook runs on the goroutine of the call and must be safe for concurrent
// use if the policy is shared. Its time is part of the wait, not added to
// it: the next attempt starts delay after the decision, or when the hook
// returns if it took longer. Use it for logs and metrics. OnRetry(nil)
// removes the hook.
func OnRetry(hook func(attempt int, err error, delay time.Duration)) Option {
	return optionFunc(func(c *config) { c.onRetry = hook })
}

// WithBudget makes the policy ask b before every retry; a refused retry ends
// the call with [ErrBudget]. Share one [Budget] between all the policies that
// call the same dependency. WithBudget(nil), the default, means no budget.
func WithBudget(b *Budget) Option {
	return optionFunc(func(c *config) { c.budget = b })
}

// HonorRetryAfter makes the policy wait out errors that say when to come
// back, if they ask for at most max. Such an error has, somewhere in its
// chain, a method
//
//	RetryAfter() time.Duration
//
// as an open circuit breaker's or a rate limiter's refusal has. By default
// such errors are not retried: the dependency has said it will refuse until
// then, and retrying sooner only adds load. With HonorRetryAfter the error is
// retried, whatever [RetryIf] says, after the delay it asks for or the
// backoff's delay, whichever is longer (a negative hint counts as zero). It
// is a refusal, which the call did not make: it takes nothing from the
// [Budget], and with [MaxElapsed] or a deadline on ctx it uses up no
// attempt (see "Circuit breakers" in the package documentation). A hint
// longer than max is left to the classifier: the default one does not retry
// it, a [RetryIf] may. It panics if max is negative; zero, the default,
// honours no hint.
func HonorRetryAfter(max time.Duration) Option {
	if max < 0 {
		panic(fmt.Sprintf("retry: HonorRetryAfter(%v): must not be negative", max))
	}
	return optionFunc(func(c *config) { c.honorRetryAfter = max })
}
