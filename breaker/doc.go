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
// [Closed] admits every call; [Open] rejects every call at once with an
// [*OpenError], which matches [ErrOpen]; [HalfOpen] admits [HalfOpenProbes]
// probes at a time. The trip rules are [ConsecutiveFailures] (5, by
// default), [FailureRate] and [SlowCall].
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
//   - Calls run on the caller's goroutine. A panic in [Breaker.Run] goes on
//     up after being counted; [Do] returns it as an error.
//   - [OnStateChange] gets every change in order, [OnReject] every rejection
//     and [OnSlowCall] every slow success, all outside the breaker's locks;
//     [Breaker.Stats] is a snapshot for gauges.
//
// # With retries
//
// Put the retry outside, so each attempt asks the breaker first. A
// rejection says when to come back ([OpenError.RetryAfter]):
// [github.com/weftgo/weft/retry] does not retry it by default, and waits it
// out under [github.com/weftgo/weft/retry.HonorRetryAfter].
//
// A closed breaker admits a call and counts its success without a lock or an
// allocation;
// costs are measured on https://github.com/weftgo/weft/blob/main/docs/benchmarks.md.
package breaker
