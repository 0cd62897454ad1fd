package retry_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft/retry"
	"pgregory.net/rapid"
)

// spec is a policy's backoff and jitter drawn at random, with a model of the
// delays it may produce.
type spec struct {
	backoff         string
	base, step, cap time.Duration
	mult            float64
	fnK, fnM        int64 // func backoff: ((n·fnK) mod fnM) ms, minus fnM/4 ms
	jitter          string
	factor          float64
}

func drawDuration(t *rapid.T, label string, maxMs int) time.Duration {
	return time.Duration(rapid.IntRange(0, maxMs).Draw(t, label)) * time.Millisecond
}

func drawSpec(t *rapid.T, zeroDelays bool) spec {
	var s spec
	s.backoff = rapid.SampledFrom([]string{"constant", "linear", "exponential", "func"}).Draw(t, "backoff")
	maxMs := 2000
	if zeroDelays {
		maxMs = 0
	}
	switch s.backoff {
	case "constant":
		s.base = drawDuration(t, "d", maxMs)
		s.cap = s.base
	case "linear":
		s.base = drawDuration(t, "base", maxMs)
		s.step = drawDuration(t, "step", maxMs)
		s.cap = s.base + drawDuration(t, "capExtra", 5*maxMs)
	case "exponential":
		s.base = drawDuration(t, "base", maxMs)
		s.mult = rapid.Float64Range(1, 4).Draw(t, "mult")
		s.cap = s.base + drawDuration(t, "capExtra", 5*maxMs)
	case "func":
		s.fnK = rapid.Int64Range(0, 1000).Draw(t, "fnK")
		s.fnM = rapid.Int64Range(1, int64(maxMs)+1).Draw(t, "fnM")
	}
	kinds := []string{"none", "full", "equal", "decorrelated", "proportional"}
	if s.backoff == "func" {
		kinds = []string{"none", "full", "equal", "proportional"}
	}
	s.jitter = rapid.SampledFrom(kinds).Draw(t, "jitter")
	if s.jitter == "proportional" {
		s.factor = rapid.Float64Range(0, 1).Draw(t, "factor")
	}
	return s
}

func (s spec) fn(n int) time.Duration {
	if s.fnM == 1 {
		return 0
	}
	return time.Duration(int64(n)*s.fnK%s.fnM-s.fnM/4) * time.Millisecond
}

func (s spec) options() []retry.Option {
	var opts []retry.Option
	switch s.backoff {
	case "constant":
		opts = append(opts, retry.Constant(s.base))
	case "linear":
		opts = append(opts, retry.Linear(s.base, s.step, s.cap))
	case "exponential":
		opts = append(opts, retry.Exponential(s.base, s.mult, s.cap))
	case "func":
		opts = append(opts, retry.BackoffFunc(s.fn))
	}
	switch s.jitter {
	case "none":
		opts = append(opts, retry.NoJitter())
	case "full":
		opts = append(opts, retry.FullJitter())
	case "equal":
		opts = append(opts, retry.EqualJitter())
	case "decorrelated":
		opts = append(opts, retry.DecorrelatedJitter())
	case "proportional":
		opts = append(opts, retry.ProportionalJitter(s.factor))
	}
	return opts
}

// nominal is the model of the backoff's delay after attempt n, before
// jitter, and of the cap.
func (s spec) nominal(n int) (nom, cap time.Duration) {
	switch s.backoff {
	case "constant":
		return s.base, s.cap
	case "linear":
		return min(s.base+time.Duration(n-1)*s.step, s.cap), s.cap
	case "exponential":
		f := float64(s.base) * math.Pow(s.mult, float64(n-1))
		if f >= float64(s.cap) {
			return s.cap, s.cap
		}
		return time.Duration(f), s.cap
	default:
		d := max(s.fn(n), 0)
		return d, d
	}
}

// bounds returns the interval the delay after attempt n must lie in, given
// the previous delay.
func (s spec) bounds(n int, prev time.Duration) (lo, hi time.Duration) {
	nom, cap := s.nominal(n)
	// Exponential delays go through floating point; allow for rounding.
	slack := time.Duration(float64(nom)*1e-9) + 1
	switch s.jitter {
	case "none":
		lo, hi = nom-slack, nom+slack
	case "full":
		lo, hi = 0, nom+slack
	case "equal":
		lo, hi = nom-nom/2-slack, nom+slack
	case "decorrelated":
		lo, hi = s.base, 3*max(prev, s.base)
	case "proportional":
		lo = time.Duration(float64(nom)*(1-s.factor)) - slack
		hi = time.Duration(float64(nom)*(1+s.factor)) + slack
	}
	return max(lo, 0), min(hi, cap)
}

// Every delay lies within its jitter kind's bounds and within [0, cap].
func TestPropertyDelaysWithinBounds(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := drawSpec(rt, false)
		n := rapid.IntRange(1, 300).Draw(rt, "attempts")
		var got []time.Duration
		opts := append(s.options(), retry.Attempts(retry.Unlimited),
			retry.OnRetry(func(_ int, _ error, d time.Duration) { got = append(got, d) }))
		// In a bubble the hook takes no time, which Next would take off
		// the delay it returns.
		var ds []time.Duration
		var err error
		synctest.Test(t, func(*testing.T) { ds, err = delays(retry.New(opts...), n) })
		if err != nil {
			rt.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(ds) {
			rt.Fatalf("OnRetry saw %v, Next returned %v", got, ds)
		}
		prev := time.Duration(0)
		for i, d := range ds {
			lo, hi := s.bounds(i+1, prev)
			_, cap := s.nominal(i + 1)
			if d < lo || d > hi || d < 0 || d > cap {
				rt.Fatalf("delay %d = %v, want within [%v, %v] and [0, %v]", i+1, d, lo, hi, cap)
			}
			prev = d
		}
	})
}

// A hint, from After or an honoured RetryAfter, is a floor under the
// backoff: every delay is at least the hint and lies within the jitter's
// bounds or at the hint, whatever the backoff and jitter.
func TestPropertyHintIsAFloor(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := drawSpec(rt, false)
		n := rapid.IntRange(1, 50).Draw(rt, "attempts")
		p := retry.New(append(s.options(), retry.Attempts(retry.Unlimited), retry.HonorRetryAfter(time.Hour))...)
		now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		st := p.Start(now)
		prev := time.Duration(0)
		for i := range n {
			hint := drawDuration(rt, "hint", 3000)
			err := retry.After(errTransient, hint)
			if rapid.Bool().Draw(rt, "RetryAfter method") {
				err = &openError{hint}
			}
			d, final := st.Next(context.Background(), err, now)
			if final != nil {
				rt.Fatal(final)
			}
			lo, hi := s.bounds(i+1, prev)
			if d < hint || d > hint && (d < lo || d > hi) {
				rt.Fatalf("delay %d with hint %v = %v, want the hint or within [%v, %v] above it", i+1, hint, d, lo, hi)
			}
			if d > hint {
				prev = d
			} else if s.jitter == "decorrelated" {
				prev = hi // the backoff's own draw, unseen, was at most hi
			}
		}
	})
}

// scenario is a call drawn at random, with every limit that can end it.
// Times are whole seconds, the deadline falls on a half second and the
// cancellation on a quarter, so that no two events happen at once and the
// model is exact.
type scenario struct {
	attempts   int           // or retry.Unlimited
	delay      time.Duration // Constant backoff, no jitter
	maxElapsed time.Duration
	deadline   time.Duration // 0: none
	cancelAt   time.Duration // 0: never
	outcomes   []outcome     // then Permanent
}

type outcome struct {
	kind  string // fail, ok, permanent, after, refused
	took  time.Duration
	after time.Duration // after and refused: the hint
}

func drawScenario(t *rapid.T) scenario {
	sec := func(label string, lo, hi int) time.Duration {
		return time.Duration(rapid.IntRange(lo, hi).Draw(t, label)) * time.Second
	}
	sc := scenario{
		attempts: rapid.SampledFrom([]int{1, 2, 3, 4, 6, retry.Unlimited}).Draw(t, "attempts"),
		delay:    sec("delay", 0, 3),
	}
	if rapid.Bool().Draw(t, "hasMaxElapsed") {
		sc.maxElapsed = sec("maxElapsed", 1, 15)
	}
	if rapid.Bool().Draw(t, "hasDeadline") {
		sc.deadline = sec("deadline", 0, 15) + 500*time.Millisecond
	}
	if rapid.Bool().Draw(t, "hasCancel") {
		sc.cancelAt = sec("cancelAt", 0, 15) + 250*time.Millisecond
	}
	n := rapid.IntRange(1, 8).Draw(t, "outcomes")
	for i := range n {
		o := outcome{
			kind: rapid.SampledFrom([]string{"fail", "fail", "fail", "ok", "permanent", "after", "refused"}).Draw(t, fmt.Sprint("kind", i)),
			took: sec(fmt.Sprint("took", i), 0, 2),
		}
		if o.kind == "after" || o.kind == "refused" {
			o.after = sec(fmt.Sprint("after", i), 0, 4)
		}
		sc.outcomes = append(sc.outcomes, o)
	}
	return sc
}

func (sc scenario) outcome(attempt int) outcome {
	if attempt <= len(sc.outcomes) {
		return sc.outcomes[attempt-1]
	}
	return outcome{kind: "permanent"}
}

// result is what a call did, as the model predicts it or as it happened.
type result struct {
	cause    string
	attempts int
	refused  int           // refusals that did not use up an attempt, if the call failed
	retries  int           // OnRetry calls
	end      time.Duration // when the call returned
}

// ctxCause is the context's state at time now: "" while live.
func (sc scenario) ctxCause(now time.Duration) string {
	canceled := sc.cancelAt > 0 && sc.cancelAt <= now
	expired := sc.deadline > 0 && sc.deadline <= now
	switch {
	case canceled && expired && sc.cancelAt < sc.deadline, canceled && !expired:
		return "canceled"
	case expired:
		return "deadline exceeded"
	}
	return ""
}

// model applies the rules of the package documentation, in their order.
func (sc scenario) model() result {
	var r result
	now := time.Duration(0)
	for {
		if c := sc.ctxCause(now); c != "" {
			r.cause = c
			break
		}
		r.attempts++
		o := sc.outcome(r.attempts)
		now += o.took
		if o.kind == "ok" {
			r.cause = "success"
			break
		}
		if c := sc.ctxCause(now); c != "" {
			r.cause = c
			break
		}
		if o.kind == "permanent" {
			r.cause = "not retryable"
			break
		}
		// A hint is a floor under the backoff; a refusal uses up no
		// attempt when the call has a time limit.
		delay := sc.delay
		if o.kind == "after" || o.kind == "refused" {
			delay = max(o.after, sc.delay)
		}
		if o.kind == "refused" && (sc.maxElapsed > 0 || sc.deadline > 0) {
			r.refused++
		}
		if sc.attempts != retry.Unlimited && r.attempts-r.refused >= sc.attempts {
			r.cause = "exhausted"
			break
		}
		if sc.maxElapsed > 0 && now+delay > sc.maxElapsed {
			r.cause = "max elapsed"
			break
		}
		if delay > 0 && sc.deadline > 0 && now+delay >= sc.deadline {
			r.cause = "deadline"
			break
		}
		r.retries++
		if sc.cancelAt > now && sc.cancelAt < now+delay {
			now = sc.cancelAt
			r.cause = "canceled"
			break
		}
		now += delay
	}
	r.end = now
	if r.cause == "success" {
		r.refused = 0
	}
	return r
}

func causeName(err error) string {
	switch {
	case err == nil:
		return "success"
	case errors.Is(err, retry.ErrExhausted):
		return "exhausted"
	case errors.Is(err, retry.ErrNotRetryable):
		return "not retryable"
	case errors.Is(err, retry.ErrMaxElapsed):
		return "max elapsed"
	case errors.Is(err, retry.ErrDeadline):
		return "deadline"
	case errors.Is(err, retry.ErrBudget):
		return "budget"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline exceeded"
	}
	return "unknown: " + err.Error()
}

// run plays sc in a synctest bubble and returns what happened, and any
// attempt made with the caller's context done or at or after its deadline.
func (sc scenario) run(t *testing.T) (r result, violations []string) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		if sc.cancelAt > 0 {
			time.AfterFunc(sc.cancelAt, cancel)
		}
		if sc.deadline > 0 {
			var cancelDeadline context.CancelFunc
			ctx, cancelDeadline = context.WithDeadline(ctx, start.Add(sc.deadline))
			defer cancelDeadline()
		}
		p := retry.New(retry.Attempts(sc.attempts), retry.Constant(sc.delay), retry.NoJitter(), retry.MaxElapsed(sc.maxElapsed),
			retry.HonorRetryAfter(4*time.Second),
			retry.OnRetry(func(int, error, time.Duration) { r.retries++ }))
		err := retry.Run(ctx, p, func(actx context.Context) error {
			r.attempts++
			if ctx.Err() != nil || sc.deadline > 0 && time.Since(start) >= sc.deadline {
				violations = append(violations, fmt.Sprintf("attempt %d at %v with the context done", r.attempts, time.Since(start)))
			}
			o := sc.outcome(r.attempts)
			time.Sleep(o.took)
			switch o.kind {
			case "ok":
				return nil
			case "permanent":
				return retry.Permanent(errTransient)
			case "after":
				return retry.After(errTransient, o.after)
			case "refused":
				return fmt.Errorf("%w: %w", errTransient, &openError{o.after})
			}
			return errTransient
		})
		r.cause = causeName(err)
		r.end = time.Since(start)
		var re *retry.Error
		if err != nil && (!errors.As(err, &re) || re.Attempts != r.attempts) {
			violations = append(violations, fmt.Sprintf("error %v does not count %d attempts", err, r.attempts))
		}
		if re != nil {
			r.refused = re.Refused
		}
		if err != nil && r.attempts > 0 && !errors.Is(err, errTransient) {
			violations = append(violations, fmt.Sprintf("error %v lost the last error", err))
		}
	})
	return r, violations
}

// A call ends for the rule the model says, after the attempts, retries and
// time it says: the attempt limit holds (refusals aside), OnRetry is called once per retry
// (attempts-1 on exhaustion), f is never called with the caller's context
// done, and no wait runs into the deadline.
func TestPropertyCallFollowsTheRules(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		sc := drawScenario(rt)
		want := sc.model()
		got, violations := sc.run(t)
		for _, v := range violations {
			rt.Error(v)
		}
		if got != want {
			rt.Fatalf("call = %+v, model = %+v", got, want)
		}
		limit := sc.attempts
		for i := 1; i <= got.attempts && (sc.maxElapsed > 0 || sc.deadline > 0); i++ {
			if sc.outcome(i).kind == "refused" {
				limit++
			}
		}
		if sc.attempts != retry.Unlimited && got.attempts > limit {
			rt.Fatalf("%d attempts, more than %d and the refusals", got.attempts, sc.attempts)
		}
		if got.cause == "exhausted" && got.retries != got.attempts-1 {
			rt.Fatalf("exhausted after %d attempts with %d OnRetry calls", got.attempts, got.retries)
		}
	})
}

// With any backoff and jitter, a call that keeps failing makes exactly the
// attempts allowed and calls OnRetry one time less.
func TestPropertyAttemptsAtMostMax(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := drawSpec(rt, false)
		maxAttempts := rapid.IntRange(1, 20).Draw(rt, "maxAttempts")
		var calls, retries int
		var err error
		synctest.Test(t, func(t *testing.T) {
			opts := append(s.options(), retry.Attempts(maxAttempts), retry.OnRetry(func(int, error, time.Duration) { retries++ }))
			err = retry.Run(t.Context(), retry.New(opts...), func(context.Context) error {
				calls++
				return errTransient
			})
		})
		if calls != maxAttempts || retries != maxAttempts-1 || !errors.Is(err, retry.ErrExhausted) {
			rt.Fatalf("%d calls, %d OnRetry, %v; want %d, %d, ErrExhausted", calls, retries, err, maxAttempts, maxAttempts-1)
		}
	})
}

// Whatever the policy and whenever the caller cancels, f is not called
// once the context is done, and the call returns when it is cancelled.
func TestPropertyNeverCalledAfterCancel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := drawSpec(rt, false)
		cancelAt := time.Duration(rapid.Int64Range(0, int64(20*time.Second)).Draw(rt, "cancelAt"))
		// Attempts take some time, or a policy without delays would spin
		// in the bubble without the clock ever reaching the cancellation.
		took := time.Duration(rapid.Int64Range(int64(10*time.Millisecond), int64(time.Second)).Draw(rt, "took"))
		var late []time.Duration
		var end time.Duration
		var err error
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if cancelAt == 0 {
				cancel() // done before the call: f must never run
			} else {
				time.AfterFunc(cancelAt, cancel)
			}
			start := time.Now()
			opts := append(s.options(), retry.Attempts(retry.Unlimited))
			err = retry.Run(ctx, retry.New(opts...), func(context.Context) error {
				// The bubble's clock moves on only once every goroutine
				// in it is blocked, so an attempt that starts after
				// cancelAt starts after cancel has returned. One that
				// starts at cancelAt itself woke with the cancellation
				// and may run before it, as with any context.
				if at := time.Since(start); at > cancelAt || cancelAt == 0 {
					late = append(late, at)
				}
				time.Sleep(took)
				return errTransient
			})
			end = time.Since(start)
		})
		if len(late) > 0 || !errors.Is(err, context.Canceled) {
			rt.Fatalf("calls after cancellation at %v: %v; result %v", cancelAt, late, err)
		}
		// The call ends when cancelled, or when the attempt running then
		// returns.
		if end < cancelAt || end > cancelAt+took {
			rt.Fatalf("cancelled at %v, returned at %v, want by %v", cancelAt, end, cancelAt+took)
		}
	})
}

// No wait ends at or after the caller's deadline: every attempt starts
// before it, and a call whose attempts take no time returns before it.
func TestPropertyNoWaitPastTheDeadline(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := drawSpec(rt, false)
		deadline := time.Duration(rapid.Int64Range(1, int64(30*time.Second)).Draw(rt, "deadline"))
		var at []time.Duration
		var end time.Duration
		var err error
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), deadline)
			defer cancel()
			start := time.Now()
			opts := append(s.options(), retry.Attempts(retry.Unlimited))
			err = retry.Run(ctx, retry.New(opts...), func(context.Context) error {
				at = append(at, time.Since(start))
				// Policies without delays never reach the deadline.
				if len(at) == 1000 {
					return retry.Permanent(errTransient)
				}
				return errTransient
			})
			end = time.Since(start)
		})
		for _, a := range at {
			if a >= deadline {
				rt.Fatalf("an attempt started at %v, deadline %v", a, deadline)
			}
		}
		if end >= deadline {
			rt.Fatalf("returned at %v, at or after the deadline %v (%v)", end, deadline, err)
		}
		if !errors.Is(err, retry.ErrDeadline) && !errors.Is(err, retry.ErrNotRetryable) {
			rt.Fatalf("Run = %v, want ErrDeadline", err)
		}
	})
}

// Policies whose delays are all zero never let the clock move.
func TestPropertyZeroDelayNeverSleeps(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := drawSpec(rt, true)
		n := rapid.IntRange(1, 50).Draw(rt, "attempts")
		var end time.Duration
		var calls int
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			opts := append(s.options(), retry.Attempts(n))
			_ = retry.Run(t.Context(), retry.New(opts...), func(context.Context) error {
				calls++
				return errTransient
			})
			end = time.Since(start)
		})
		if end != 0 || calls != n {
			rt.Fatalf("%d calls took %v, want %d calls in no time", calls, end, n)
		}
	})
}

// One Policy used by many goroutines at once gives every call its own
// attempt count, clock and outcome.
func TestPropertySharedPolicyIndependentCalls(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := drawSpec(rt, true)
		maxAttempts := rapid.IntRange(1, 8).Draw(rt, "maxAttempts")
		failures := rapid.SliceOfN(rapid.IntRange(0, 10), 2, 16).Draw(rt, "failures")
		p := retry.New(append(s.options(), retry.Attempts(maxAttempts))...)
		calls := make([]int, len(failures))
		errs := make([]error, len(failures))
		var wg sync.WaitGroup
		for i, k := range failures {
			wg.Go(func() {
				errs[i] = retry.Run(context.Background(), p, func(context.Context) error {
					calls[i]++
					if calls[i] <= k {
						return errTransient
					}
					return nil
				})
			})
		}
		wg.Wait()
		for i, k := range failures {
			wantCalls := min(k+1, maxAttempts)
			wantOK := k < maxAttempts
			if calls[i] != wantCalls || (errs[i] == nil) != wantOK {
				rt.Fatalf("call %d failing %d times: %d attempts, %v; want %d attempts, success %v", i, k, calls[i], errs[i], wantCalls, wantOK)
			}
		}
	})
}
