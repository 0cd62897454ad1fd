// Package retry calls a function again, with backoff and jitter, until it succeeds or gives up.
//
// A [Policy] says how many attempts, how long to wait between them, which
// errors are worth another attempt and when to give up early.
//
//	var policy = retry.New(retry.Attempts(4), retry.MaxElapsed(5*time.Second))
//
//	user, err := retry.Do(ctx, policy, func(ctx context.Context) (User, error) {
//		return client.GetUser(ctx, id)
//	})
//
// [Policy.Loop] is a for-loop form of [Do]; [Process] feeds a [DeadLetter];
// [State] decides without sleeping. Retry only what is safe to repeat (a
// payment whose response timed out may have been taken), and mark errors
// another attempt cannot fix with [Permanent].
//
// The zero Policy makes at most 3 attempts, waiting 100ms doubling up to 10s
// with [FullJitter], and has no time limit but the caller's context.
//
// # Rules
//
// After a failed attempt the policy decides in this order:
//
//  1. If the caller's context is done, the call ends with its cause.
//  2. An error marked with [Permanent] ends the call at once.
//  3. An error marked with [After] is retried after the delay it asks for.
//  4. An error with a method RetryAfter() time.Duration is a refusal (an open
//     circuit breaker's, a rate limiter's): it is waited out only under
//     [HonorRetryAfter], and not retried by default.
//  5. Otherwise [RetryIf] decides, or the default: retry every error.
//
// And whatever decides:
//
//   - A hint (steps 3 and 4) is a floor, never a shortcut: the policy waits
//     for the hint or its own backoff's delay, whichever is longer.
//   - A refusal waited out takes no [Budget] token, and, when the call has
//     a time limit ([MaxElapsed] or a deadline on ctx), uses up no attempt.
//   - No wait runs past a limit: if the next attempt would start after
//     [MaxElapsed], or at or after ctx's deadline, the call gives up at once
//     with [ErrMaxElapsed] or [ErrDeadline].
//   - A call that does not succeed returns an [*Error] that matches why
//     the policy gave up and the last attempt's error.
//   - Nothing starts goroutines: every function given to this package runs
//     on the caller's goroutine, and its panics reach the caller.
//   - For metrics: [OnEvent] and [Budget.Stats].
//
// # With a circuit breaker
//
// Put the retry outside, so each attempt asks the
// [github.com/weftgo/weft/breaker.Breaker] first:
//
//	err := retry.Run(ctx, policy, func(ctx context.Context) error {
//		return b.Run(ctx, call)
//	})
//
// An open circuit's error is a refusal (rule 4).
//
// The hot path is allocation-free; see the [benchmark page].
//
// [benchmark page]: https://github.com/weftgo/weft/blob/main/docs/benchmarks.md
package retry
