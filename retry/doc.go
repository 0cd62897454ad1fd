// Package retry calls a function again when it fails with an error that is
// worth retrying, waiting between attempts with backoff and jitter, and gives
// up with an error that says why. A [Policy] says how; it is an immutable
// value, safe to share and to keep in a package-level variable, and every
// call keeps its own state.
//
//	var policy = retry.New(retry.Attempts(4), retry.MaxElapsed(5*time.Second))
//
//	user, err := retry.Do(ctx, policy, func(ctx context.Context) (User, error) {
//		return client.GetUser(ctx, id)
//	})
//
// Besides [Do] and [Run] there are a for-loop form, [Policy.Loop], for bodies
// that do not fit in a function literal; [Process], which hands items the
// policy gave up on to a [DeadLetter]; and [State], the same decisions
// without sleeping, for worker pools that put a failed job back on their
// queue with a delay.
//
// # Defaults, and why
//
// The zero Policy makes at most 3 attempts, waits an exponential backoff of
// 100ms doubling up to 10s with full jitter, has no time limit but the
// caller's context, and retries every error except those described below.
//
// Three attempts because retries multiply load: a request that passes
// through three layers that each try three times can reach the bottom layer
// 27 times, at the moment that layer is struggling. The worst case of the
// default waits is 300ms in all, so a default policy never sits on a
// request for long: raise the attempts, or use [Unlimited] with
// [MaxElapsed], where waiting longer is right.
//
// Jitter because clients that failed together retry together, and a
// backoff without jitter only moves the spike. The jitter kinds are those of
// Marc Brooker's "Exponential Backoff And Jitter" (AWS Architecture Blog,
// 2015): [FullJitter], the default, which that study found to finish the
// work soonest with the least load; [EqualJitter]; [DecorrelatedJitter]; and
// also [ProportionalJitter] (±factor) and [NoJitter]. Whatever the jitter,
// every delay lies within [0, cap]: the cap is applied after the jitter, and
// the arithmetic saturates, so a delay never overflows however many attempts
// are made.
//
// # Which errors are retried
//
// After each failed attempt the policy looks at the error in this order:
//
//  1. If the caller's context is done, the call ends with its cause: a
//     caller that cancelled, or whose deadline passed, is never retried.
//  2. An error marked with [Permanent] ends the call at once.
//  3. An error marked with [After] is retried after the delay it asks for.
//  4. An error that says when to come back, through a method RetryAfter()
//     time.Duration, is waited out if the policy has [HonorRetryAfter] and
//     the wait is short enough (see "Circuit breakers" below).
//  5. Otherwise the classifier decides: [RetryIf] if the policy has one,
//     else the default, which retries every error except those of step 4.
//
// The delay a hint asks for, in steps 3 and 4, is a floor and never a
// shortcut: the policy waits for the hint or its own backoff's delay,
// whichever is longer, so a dependency that answers "try again now" every
// time is still asked no more often than the backoff allows.
//
// An attempt that ran out of its own [AttemptTimeout] is an ordinary failure
// under these rules; its error usually wraps [context.DeadlineExceeded], and
// the default classifier retries it.
//
// # When not to retry
//
// Retry only what is safe to repeat. A call that changes something and
// failed may have changed it anyway: a payment whose response timed out may
// have been taken. Retry such calls only when the server deduplicates them
// (an idempotency key sent with every attempt), and otherwise keep them out
// with [Permanent] or [RetryIf]. Retrying also cannot help with errors that
// another attempt will repeat (invalid input, not found, permission denied):
// mark them [Permanent] so the caller hears about them at once.
//
// # Deadlines and giving up
//
// Nothing in this package sleeps past the caller's deadline: when the next
// delay would end at or after ctx's deadline, the call gives up at once with
// [ErrDeadline] and the last attempt's error, instead of sleeping and then
// failing anyway. [MaxElapsed] works the same way with its own limit, and
// ends with [ErrMaxElapsed].
//
// A call that does not succeed returns an [*Error]: Cause says why the
// policy gave up ([ErrExhausted], [ErrNotRetryable], [ErrMaxElapsed],
// [ErrDeadline], [ErrBudget], [ErrAbandoned], or the context's cause), Last
// is the last attempt's error, and [errors.Is] matches both, as well as
// [context.Canceled] or [context.DeadlineExceeded] when the context ended
// the call. A call that succeeds returns nil. The markers [Permanent] and
// [After] never reach the caller: Last holds the error they wrapped.
//
// # Budgets
//
// Per-call limits do not stop a fleet of callers from tripling the load on a
// dependency that is already failing. A [Budget] shared by all the calls to
// one dependency does: it is the token bucket of gRPC's retry throttling
// (gRFC A6, "gRPC Retry Design"), and with NewBudget(10, 0.1) it keeps
// retries near the budget recommended in the "Handling Overload" chapter of
// Google's Site Reliability Engineering book, retries at most 10% of
// requests. A retry the budget refuses ends the call with [ErrBudget].
//
// # Circuit breakers
//
// A breaker and a retry policy go together with the retry outside, so that
// each attempt asks the breaker first:
//
//	err := retry.Run(ctx, policy, func(ctx context.Context) error {
//		return breaker.Run(ctx, call)
//	})
//
// An open circuit refuses at once, and retrying it soon only repeats the
// refusal, so by default an error that wraps a breaker's open error is not
// retried: the call ends with [ErrNotRetryable] and the breaker's error as
// Last. The composition needs no import of the breaker package. An error
// says when it is worth trying again with a method
//
//	RetryAfter() time.Duration
//
// anywhere in its chain, as an open-circuit error does. The default
// classifier does not retry such errors; a policy with [HonorRetryAfter](max)
// waits them out when the wait is at most max. Any error type of the
// caller's can use the same method.
//
// Such an error is a refusal: the call was turned away before it reached
// the dependency, so a refusal the policy waits out takes no [Budget]
// token. When the call has a time limit, [MaxElapsed] or a deadline on ctx,
// it uses up no attempt either, so that callers kept out by a breaker
// during an outage still have their attempts when it is over; the time
// limit ends the waiting. Without a time limit a refusal counts as an
// attempt, so that the call still ends after its attempts.
//
// # Goroutines and panics
//
// This package starts no goroutines. The retried function, the hooks
// ([RetryIf], [OnRetry], [BackoffFunc]) and dead-letter sinks run on the
// goroutine of the call, and their panics reach the caller unchanged:
// nothing is recovered, because nothing runs where the caller cannot see it.
//
// # Cost
//
// Measured with the package's benchmarks on a 2-core machine: a call that
// succeeds at once costs about 10ns more than calling the function, and
// allocates nothing; three attempts without delay take about 110ns in all,
// and allocate nothing; a call that waits allocates its timer once, however
// many times it waits (three small allocations: the timer, its channel and
// the channel's buffer), and nothing when its context can never be
// cancelled. A retry decision of [State.Next] takes about 60ns. The clock is
// not read until an attempt fails, since reading it can cost more than the
// rest of a successful call; see [Error.Elapsed] for what that means.
package retry
