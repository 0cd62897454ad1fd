// Package breaker is a circuit breaker: it stops calling a dependency that is
// failing, so that callers fail fast instead of waiting on timeouts and the
// dependency gets room to recover, and it lets a few probe calls through
// from time to time to find out when it has.
//
// Use a breaker around calls to one remote dependency (a service, a database,
// a queue) whose failures are correlated: when one call fails, the next is
// likely to. Do not use it for errors that are the caller's fault (bad input,
// not found: classify those as successes with [Classify]), for local work, or
// as a rate limiter; and give each independent dependency a breaker of its
// own.
//
//	b := breaker.New(breaker.Name("payments"))
//	err := b.Run(ctx, func(ctx context.Context) error { return charge(ctx, order) })
//	if errors.Is(err, breaker.ErrOpen) {
//		return queueForLater(order) // not called: the circuit is open
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
// Closed admits every call. Open rejects every call at once with an
// [*OpenError], which matches [ErrOpen]. HalfOpen admits up to
// [HalfOpenProbes] calls at a time, the probes, and rejects the others with
// an error that matches [ErrTooManyProbes] (and ErrOpen).
//
// # Trip rules
//
// A closed breaker opens when a failure is recorded and a failure rule is
// met, or when a slow success is recorded and the slow-call rule is met; a
// success that is not slow never trips it:
//
//   - [ConsecutiveFailures](n): n failures in a row. The default rule, with
//     n = 5, when no window is configured.
//   - [FailureRate](r) over a [CountWindow] (the last n calls) or a
//     [TimeWindow] (the calls of the last d): at least a share r of the
//     calls in the window failed, and the window holds at least [MinCalls].
//   - [SlowCall](threshold, r), over the same window: at least a share r of
//     the calls took longer than threshold. The caller still gets its result.
//
// The window starts empty each time the breaker closes. The open time is
// [OpenFor], multiplied by [OpenBackoff]'s factor on each re-open from
// half-open, and spread by [Jitter] so that processes that tripped together
// do not probe together.
//
// # Outcomes
//
// Every result counts as a [Success], a [Failure], or is ignored ([Ignore]):
// neither, as if the call had not been made. By default ([DefaultOutcome]) a
// nil error is a success; the caller's own cancellation and a rejection by
// another breaker further down are ignored; everything else is a failure,
// including [context.DeadlineExceeded] from a per-call timeout. A panic is
// always a failure. [Classify] replaces the default; [Ticket.Report] bypasses
// it, for results that are not errors (an HTTP 503).
//
// # Generations and probe leases
//
// Each state change begins a new generation, and every admitted call belongs
// to the generation that admitted it. A result reported after the state
// changed is ignored: it never moves the state or the counters. So a slow
// success from before a trip cannot close a half-open breaker, and a late
// failure cannot re-open one that has recovered. Reporting a [Ticket] twice
// is harmless: the second report does nothing.
//
// A probe holds a lease of [ProbeTimeout]. A probe not reported by then is
// counted as a failed probe and its slot is taken back, so a lost report, a
// goroutine that died, or a probe that hangs can never hold the breaker
// half-open. A probe that panics inside [Breaker.Run] or [Do] is reported as
// a failure at once.
//
// # Goroutines and panics
//
// A breaker starts no goroutines and no timers, and needs no Close. Changes
// that only need time to pass (open → half-open, an expired probe lease) are
// applied by the first call that looks at the breaker afterwards, [Breaker.State]
// and [Breaker.Stats] included, so State is truthful although nothing runs in
// the background; the [Event] carries the moment the change became due.
//
// Calls run on the caller's goroutine. [Breaker.Run] behaves like calling f
// directly: a panic goes on up the caller's stack, after the breaker has
// counted it as a failure and freed its probe slot, so that a panic is never
// hidden from code that recovers it further up (an HTTP server, a test).
// [Do] recovers the panic instead and returns it as a *weft.PanicError, for
// callers that want every outcome as an error; that costs a few nanoseconds
// more per call.
//
// # Events
//
// [OnStateChange] receives every state change, in order, one at a time, and
// outside every lock of the breaker, so a listener may call back into it
// (State, Stats, even ForceOpen). The goroutine whose call caused a change
// delivers its event before that call returns, unless another goroutine is
// already delivering, which then delivers it too.
//
// # Cost
//
// In the closed state a call admitted and reported as a success takes no
// lock, allocates nothing, and reads the clock only when a [SlowCall] rule
// (two reads) or a [TimeWindow] (one read) needs it. With
// [ConsecutiveFailures] alone a success writes no shared memory, so the path
// scales across cores. Rejections allocate nothing and take no lock; an open
// breaker reads the clock once per rejection to see whether its time is up,
// unless it was forced open. Only state changes, probe admissions and
// reports, and Stats take the breaker's lock.
//
// # With retries
//
// Put the retry loop outside the breaker, so that each attempt asks the
// breaker first, and do not retry an error that matches [ErrOpen]: the
// breaker already knows the dependency is down, and retrying only spins on
// refusals. The [*OpenError] says when trying again makes sense through its
// RetryAfter method, which a retry policy reads through the interface
// interface{ RetryAfter() time.Duration } without importing this package:
// the end of the open time, or, from a half-open breaker whose probes are
// all in flight, a random wait of at most [OpenFor]. Package
// github.com/weftgo/weft/retry stops on such errors by default (see the
// example), and with its HonorRetryAfter option waits them out.
package breaker
