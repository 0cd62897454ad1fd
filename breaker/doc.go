// Package breaker stops calling a failing dependency, so callers fail fast while it recovers.
//
// Use a [Breaker] around calls to one remote dependency whose failures are
// correlated, one breaker per dependency. Not for errors that are the
// caller's fault (classify those as successes), local work, or rate limits.
//
//	b := breaker.New(breaker.Name("payments"))
//	err := b.Run(ctx, func(ctx context.Context) error { return charge(ctx, order) })
//	if errors.Is(err, breaker.ErrOpen) {
//		return queueForLater(order) // charge was not called: the circuit is open
//	}
//
// # States
//
//	          a trip rule is met           the open time has passed
//	Closed ─────────────────────▶ Open ─────────────────────────▶ HalfOpen
//	  ▲                            ▲                                 │
//	  │                            └── a probe fails, is slow, ──────┤
//	  │                                or outlives its lease         │
//	  └─────────────── SuccessesToClose probes succeed ──────────────┘
//
//	ForceOpen: any state → Open, until Reset.  Reset: any state → Closed.
//
// [State] says what each state admits. The trip rules are
// [ConsecutiveFailures] (the default), [FailureRate] and [SlowCall].
//
// # Rules
//
//   - Every result is a [Success], a [Failure] or ignored, as
//     [DefaultOutcome] or [Classify] says; a panic is a failure.
//   - A result reported after the state changed is ignored, and a probe not
//     reported within [ProbeTimeout] counts as failed.
//   - A breaker starts no goroutines or timers and needs no Close: a change
//     due to time alone is applied by the next call that looks, including
//     [Breaker.State].
//   - Calls run on the caller's goroutine.
//   - For metrics: [OnStateChange], [OnReject], [OnSlowCall] and
//     [Breaker.Stats].
//
// # With retries
//
// Put the retry outside, so each attempt asks the breaker first. A
// rejection says when to come back ([OpenError.RetryAfter]):
// [github.com/weftgo/weft/retry] does not retry it by default, and waits it
// out under [github.com/weftgo/weft/retry.HonorRetryAfter].
//
// The closed-state hot path is allocation-free; see the [benchmark page].
//
// [benchmark page]: https://github.com/weftgo/weft/blob/main/docs/benchmarks.md
package breaker
