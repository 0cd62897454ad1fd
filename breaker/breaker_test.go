package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/breaker"
)

// fail reports n failures through b.
func failN(b *breaker.Breaker, n int) {
	for range n {
		t, err := b.Allow()
		if err == nil {
			t.Done(errFail)
		}
	}
}

// events collects the events of a breaker, safely from any goroutine.
type events struct {
	mu  sync.Mutex
	all []breaker.Event
}

func (e *events) add(ev breaker.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
}

func (e *events) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := make([]string, len(e.all))
	for i, ev := range e.all {
		s[i] = ev.String()
	}
	return strings.Join(s, "; ")
}

func wantState(t *testing.T, b *breaker.Breaker, want breaker.State) {
	t.Helper()
	if got := b.State(); got != want {
		t.Fatalf("State() = %v, want %v", got, want)
	}
}

func TestDefaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New()
		failN(b, 4)
		wantState(t, b, breaker.Closed)
		failN(b, 1)
		wantState(t, b, breaker.Open)
		time.Sleep(5*time.Second - time.Nanosecond)
		wantState(t, b, breaker.Open)
		time.Sleep(time.Nanosecond)
		wantState(t, b, breaker.HalfOpen)
		probe, err := b.Allow()
		if err != nil || !probe.Probe() {
			t.Fatalf("Allow() in half-open = probe %v, %v; want a probe", probe.Probe(), err)
		}
		if _, err := b.Allow(); !errors.Is(err, breaker.ErrTooManyProbes) {
			t.Fatalf("second Allow() in half-open = %v, want ErrTooManyProbes", err)
		}
		probe.Done(nil)
		wantState(t, b, breaker.Closed)
		if b.Name() != "" {
			t.Fatalf("Name() = %q, want empty", b.Name())
		}
	})
}

func TestConsecutiveFailuresResetBySuccessNotByIgnore(t *testing.T) {
	b := breaker.New(breaker.ConsecutiveFailures(3))
	failN(b, 2)
	tk, _ := b.Allow()
	tk.Done(context.Canceled) // ignored: the run goes on
	failN(b, 1)
	wantState(t, b, breaker.Open)

	b = breaker.New(breaker.ConsecutiveFailures(3))
	failN(b, 2)
	tk, _ = b.Allow()
	tk.Done(nil)
	failN(b, 2)
	if s := b.Stats(); s.State != breaker.Closed || s.ConsecutiveFailures != 2 {
		t.Fatalf("Stats() = %+v, want closed with 2 consecutive failures", s)
	}
}

func TestCountWindow(t *testing.T) {
	// Window of 4, trips at half failed once it holds 4 calls.
	b := breaker.New(breaker.CountWindow(4), breaker.MinCalls(4), breaker.FailureRate(0.5))
	for _, err := range []error{errFail, nil, nil, nil, nil} {
		tk, _ := b.Allow()
		tk.Done(err)
	}
	// The first failure has slid out of the window.
	if s := b.Stats(); s.Successes != 4 || s.Failures != 0 {
		t.Fatalf("Stats() = %+v, want 4 successes and no failures", s)
	}
	failN(b, 1)
	wantState(t, b, breaker.Closed) // 1 of 4
	tk, _ := b.Allow()
	tk.Done(nil) // a success never trips, whatever the counts
	failN(b, 1)
	wantState(t, b, breaker.Open) // 2 of 4
}

// A share of failures (or slow calls) exactly equal to the rate trips, and
// one call fewer does not, for every rate of two decimals and every window
// up to 100 where the two meet exactly: 7 of 25 at 0.28 is no less than
// 0.28, although 0.28*25 rounds to more than 7 in float64.
func TestRateExactlyAtThreshold(t *testing.T) {
	ok := func(context.Context) error { return nil }
	boom := func(context.Context) error { return errFail }
	for k := 1; k < 100; k++ {
		rate := float64(k) / 100
		for n := 1; n <= 100; n++ {
			if k*n%100 != 0 {
				continue
			}
			m := k * n / 100 // failures that make exactly the rate
			for _, tt := range []struct {
				failures int
				want     breaker.State
			}{{m, breaker.Open}, {m - 1, breaker.Closed}} {
				b := breaker.New(breaker.CountWindow(n), breaker.MinCalls(n), breaker.FailureRate(rate))
				for range n - tt.failures {
					b.Run(context.Background(), ok)
				}
				for range tt.failures {
					b.Run(context.Background(), boom)
				}
				if got := b.State(); got != tt.want {
					t.Fatalf("FailureRate(%v), %d of %d calls failed: State() = %v, want %v", rate, tt.failures, n, got, tt.want)
				}
			}
		}
	}
}

func TestCountWindowMinCallsDefaultsToSmallWindow(t *testing.T) {
	b := breaker.New(breaker.CountWindow(3))
	failN(b, 2)
	wantState(t, b, breaker.Closed)
	failN(b, 1)
	wantState(t, b, breaker.Open)
}

func TestTimeWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.TimeWindow(time.Second, 4), breaker.MinCalls(3), breaker.FailureRate(0.5))
		failN(b, 2)
		time.Sleep(time.Second) // both failures leave the window
		if s := b.Stats(); s.Failures != 0 {
			t.Fatalf("Stats() after the window = %+v, want no failures", s)
		}
		failN(b, 1)
		wantState(t, b, breaker.Closed)
		time.Sleep(250 * time.Millisecond) // next bucket, still in the window
		tk, _ := b.Allow()
		tk.Done(nil)
		failN(b, 1)
		if s := b.Stats(); s.State != breaker.Open {
			t.Fatalf("Stats() = %+v, want open (2 of 3 failed)", s)
		}
	})
}

func TestTimeWindowIdleForLong(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.TimeWindow(time.Second, 10), breaker.MinCalls(1), breaker.FailureRate(1))
		tk, _ := b.Allow()
		tk.Done(nil)
		// Long enough for the bucket tags to wrap many times over.
		time.Sleep(1000 * time.Hour)
		if s := b.Stats(); s.Successes != 0 {
			t.Fatalf("Stats() after an idle hour = %+v, want an empty window", s)
		}
		tk, _ = b.Allow()
		tk.Done(nil)
		time.Sleep(500 * time.Millisecond)
		failN(b, 1)
		if s := b.Stats(); s.State != breaker.Closed || s.Successes != 1 || s.Failures != 1 {
			t.Fatalf("Stats() = %+v, want closed with 1 success and 1 failure", s)
		}
	})
}

func TestSlowCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		b := breaker.New(
			breaker.CountWindow(10), breaker.MinCalls(4), breaker.SlowCall(100*time.Millisecond, 0.5),
			breaker.OpenFor(time.Second), breaker.OnStateChange(ev.add),
		)
		ctx := context.Background()
		slow := func(ctx context.Context) (string, error) {
			time.Sleep(150 * time.Millisecond)
			return "late", nil
		}
		fast := func(ctx context.Context) (string, error) { return "fast", nil }
		for _, f := range []func(context.Context) (string, error){fast, slow, fast, slow} {
			v, err := breaker.Do(ctx, b, f)
			if err != nil || v == "" {
				t.Fatalf("Do() = %q, %v; a slow call still returns its result", v, err)
			}
		}
		if s := b.Stats(); s.State != breaker.Open {
			t.Fatalf("Stats() = %+v, want open after 2 slow calls of 4", s)
		}
		// Exactly at the threshold is not slow.
		time.Sleep(time.Second)
		_, err := breaker.Do(ctx, b, func(ctx context.Context) (int, error) {
			time.Sleep(100 * time.Millisecond)
			return 0, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		wantState(t, b, breaker.Closed)
		// A slow probe re-opens.
		b.ForceOpen()
		b.Reset()
		for range 4 {
			breaker.Do(ctx, b, slow)
		}
		time.Sleep(time.Second)
		breaker.Do(ctx, b, slow)
		wantState(t, b, breaker.Open)
		want := "closed → open (slow-call rate); open → half-open (open time elapsed); half-open → closed (probes succeeded); " +
			"closed → open (forced open); open → closed (reset); closed → open (slow-call rate); " +
			"open → half-open (open time elapsed); half-open → open (probe slow)"
		if got := ev.String(); got != want {
			t.Fatalf("events:\n%s\nwant\n%s", got, want)
		}
	})
}

func TestOpenBackoffAndRecovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Second), breaker.OpenBackoff(2, 5*time.Second))
		openFor := func() time.Duration {
			t.Helper()
			_, err := b.Allow()
			var oe *breaker.OpenError
			if !errors.As(err, &oe) {
				t.Fatalf("Allow() = %v, want an *OpenError", err)
			}
			return oe.RetryAfter()
		}
		failN(b, 1)
		var got []time.Duration
		for range 5 {
			d := openFor()
			got = append(got, d)
			time.Sleep(d)
			failN(b, 1) // the probe fails
		}
		want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("open times %v, want %v", got, want)
		}
		// Closing starts over.
		time.Sleep(5 * time.Second)
		tk, _ := b.Allow()
		tk.Done(nil)
		failN(b, 1)
		if d := openFor(); d != time.Second {
			t.Fatalf("open time after closing = %v, want 1s", d)
		}
	})
}

func TestJitterSpreadsOpenTime(t *testing.T) {
	seen := map[time.Duration]bool{}
	for range 50 {
		b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Hour), breaker.ProportionalJitter(0.5))
		failN(b, 1)
		d := b.Stats().OpenRemaining.Round(time.Minute)
		if d < 30*time.Minute || d > 90*time.Minute {
			t.Fatalf("open time %v outside 1h ± 50%%", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Fatalf("50 jittered open times fell on only %d distinct minutes", len(seen))
	}
}

func TestHalfOpenProbesAndSuccessesToClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Second),
			breaker.HalfOpenProbes(2), breaker.SuccessesToClose(3))
		failN(b, 1)
		time.Sleep(time.Second)
		p1, err1 := b.Allow()
		p2, err2 := b.Allow()
		_, err3 := b.Allow()
		if err1 != nil || err2 != nil || !errors.Is(err3, breaker.ErrTooManyProbes) || !errors.Is(err3, breaker.ErrOpen) {
			t.Fatalf("three Allows in half-open with 2 probes: %v, %v, %v", err1, err2, err3)
		}
		var oe *breaker.OpenError
		if !errors.As(err3, &oe) || oe.State != breaker.HalfOpen || !oe.Until.IsZero() {
			t.Fatalf("half-open rejection = %#v, want State half-open and no Until", oe)
		}
		if d := oe.RetryAfter(); d <= 0 || d > time.Second {
			t.Fatalf("half-open RetryAfter() = %v, want within (0, OpenFor]", d)
		}
		p1.Done(nil)
		p2.Report(breaker.Ignore) // frees the slot, decides nothing
		if s := b.Stats(); s.State != breaker.HalfOpen || s.ProbesInFlight != 0 || s.ProbeSuccesses != 1 || s.Ignored != 1 {
			t.Fatalf("Stats() = %+v, want half-open, no probes in flight, 1 success, 1 ignored", s)
		}
		for range 2 {
			p, err := b.Allow()
			if err != nil {
				t.Fatal(err)
			}
			p.Done(nil)
		}
		wantState(t, b, breaker.Closed)
	})
}

// The longest ProbeTimeout, a way to say "never take a probe back", does
// not overflow into a lease that has already run out.
func TestProbeTimeoutMax(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Second), breaker.ProbeTimeout(math.MaxInt64))
		failN(b, 1)
		time.Sleep(time.Second)
		tk, err := b.Allow()
		if err != nil || !tk.Probe() {
			t.Fatalf("Allow() = %v, want a probe", err)
		}
		time.Sleep(24 * time.Hour)
		if s := b.Stats(); s.State != breaker.HalfOpen || s.ProbesInFlight != 1 {
			t.Fatalf("a day into the probe: Stats() = %+v, want half-open with the probe in flight", s)
		}
		tk.Done(nil)
		wantState(t, b, breaker.Closed)
	})
}

// A listener that panics while a probe is being admitted keeps the probe
// from its caller: its slot is given back at once, not held until the
// lease runs out.
func TestListenerPanicAtProbeFreesTheSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		panicky := true
		b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Second),
			breaker.OnStateChange(func(e breaker.Event) {
				if panicky && e.To == breaker.HalfOpen {
					panic("listener")
				}
			}))
		failN(b, 1)
		time.Sleep(time.Second)
		func() {
			defer func() {
				if r := recover(); r != "listener" {
					t.Errorf("recovered %v, want the listener's panic", r)
				}
			}()
			b.Run(context.Background(), func(context.Context) error { t.Error("f called"); return nil })
		}()
		panicky = false
		if s := b.Stats(); s.State != breaker.HalfOpen || s.ProbesInFlight != 0 {
			t.Fatalf("Stats() = %+v, want half-open with no probe in flight", s)
		}
		if err := b.Run(context.Background(), func(context.Context) error { return nil }); err != nil {
			t.Fatalf("the next probe = %v, want it admitted", err)
		}
		wantState(t, b, breaker.Closed)
	})
}

// A Classify that panics still reports the call, as a failure, through Do
// (which returns the panic), Run and a Ticket (which let it go on up).
func TestClassifyPanicStillReports(t *testing.T) {
	odd := errors.New("odd")
	newBreaker := func() *breaker.Breaker {
		b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Second),
			breaker.Classify(func(err error) breaker.Outcome {
				if err == odd {
					panic("classifier")
				}
				return breaker.Failure
			}))
		failN(b, 1)
		time.Sleep(time.Second)
		return b
	}
	synctest.Test(t, func(t *testing.T) {
		b := newBreaker()
		v, err := breaker.Do(context.Background(), b, func(context.Context) (int, error) { return 7, odd })
		var pe *weft.PanicError
		if v != 0 || !errors.As(err, &pe) || pe.Value != "classifier" {
			t.Fatalf("Do = %v, %v; want 0 and the classifier's panic", v, err)
		}
		wantState(t, b, breaker.Open) // the probe failed
	})
	for name, call := range map[string]func(*breaker.Breaker){
		"Run": func(b *breaker.Breaker) {
			b.Run(context.Background(), func(context.Context) error { return odd })
		},
		"Ticket": func(b *breaker.Breaker) {
			tk, _ := b.Allow()
			tk.Done(odd)
		},
	} {
		synctest.Test(t, func(t *testing.T) {
			b := newBreaker()
			func() {
				defer func() {
					if r := recover(); r != "classifier" {
						t.Errorf("%s: recovered %v, want the classifier's panic", name, r)
					}
				}()
				call(b)
			}()
			if s := b.Stats(); s.State != breaker.Open || s.ProbesInFlight != 0 {
				t.Fatalf("%s: Stats() = %+v, want the probe reported as a failure", name, s)
			}
		})
	}
}

func TestForceOpenAndReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ev events
		b := breaker.New(breaker.Name("db"), breaker.OnStateChange(ev.add), breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Second))
		b.Reset() // closed → closed: no event
		b.ForceOpen()
		b.ForceOpen() // already forced: nothing
		time.Sleep(time.Hour)
		_, err := b.Allow()
		var oe *breaker.OpenError
		if !errors.As(err, &oe) || !oe.Forced || oe.RetryAfter() != math.MaxInt64 || !oe.Until.IsZero() || oe.Name != "db" {
			t.Fatalf("Allow() on a forced-open breaker = %#v", err)
		}
		if got, want := err.Error(), "breaker: circuit open (forced): db"; got != want {
			t.Fatalf("Error() = %q, want %q", got, want)
		}
		if s := b.Stats(); !s.Forced || s.OpenRemaining != 0 || s.Rejected != 1 {
			t.Fatalf("Stats() = %+v, want forced, no remaining time, 1 rejected", s)
		}
		b.Reset()
		failN(b, 1)
		b.ForceOpen() // open on a timer → forced
		time.Sleep(time.Hour)
		wantState(t, b, breaker.Open)
		b.Reset()
		wantState(t, b, breaker.Closed)
		want := "db: closed → open (forced open); db: open → closed (reset); db: closed → open (consecutive failures); " +
			"db: open → open (forced open); db: open → closed (reset)"
		if got := ev.String(); got != want {
			t.Fatalf("events:\n%s\nwant\n%s", got, want)
		}
	})
}

func TestOpenErrorMessages(t *testing.T) {
	tests := []struct {
		err  *breaker.OpenError
		want string
	}{
		{&breaker.OpenError{State: breaker.Open}, "breaker: circuit open"},
		{&breaker.OpenError{State: breaker.Open, Name: "payments"}, "breaker: circuit open: payments"},
		{&breaker.OpenError{State: breaker.Open, Forced: true}, "breaker: circuit open (forced)"},
		{&breaker.OpenError{State: breaker.HalfOpen, Name: "x"}, "breaker: circuit half-open, all probes in flight: x"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("(%+v).Error() = %q, want %q", tt.err, got, tt.want)
		}
		if !errors.Is(tt.err, breaker.ErrOpen) {
			t.Errorf("errors.Is(%q, ErrOpen) = false", tt.want)
		}
		if got, want := errors.Is(tt.err, breaker.ErrTooManyProbes), tt.err.State == breaker.HalfOpen; got != want {
			t.Errorf("errors.Is(%q, ErrTooManyProbes) = %v, want %v", tt.want, got, want)
		}
	}
	if !errors.Is(breaker.ErrTooManyProbes, breaker.ErrOpen) {
		t.Error("ErrTooManyProbes does not match ErrOpen")
	}
	if breaker.ErrOpen.Error() != "breaker: circuit open" {
		t.Errorf("ErrOpen = %q", breaker.ErrOpen)
	}
}

func TestRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(10*time.Second))
		failN(b, 1)
		time.Sleep(3 * time.Second)
		err := b.Run(context.Background(), func(context.Context) error { t.Fatal("called"); return nil })
		// The interface a retry policy uses, without importing breaker.
		var ra interface{ RetryAfter() time.Duration }
		if !errors.As(err, &ra) || ra.RetryAfter() != 7*time.Second {
			t.Fatalf("Run() = %v, want an error with RetryAfter() = 7s", err)
		}
		time.Sleep(8 * time.Second)
		if d := ra.RetryAfter(); d != 0 {
			t.Fatalf("RetryAfter() after the open time = %v, want 0", d)
		}
		if s := b.Stats(); s.Rejected != 1 {
			t.Fatalf("Stats().Rejected = %d, want 1", s.Rejected)
		}
	})
}

func TestClassify(t *testing.T) {
	errNotFound := errors.New("not found")
	var seen []error
	b := breaker.New(breaker.ConsecutiveFailures(2), breaker.Classify(func(err error) breaker.Outcome {
		seen = append(seen, err)
		switch {
		case errors.Is(err, errNotFound):
			return breaker.Success
		case errors.Is(err, context.Canceled):
			return breaker.Failure // stricter than the default
		case err.Error() == "weird":
			return breaker.Outcome(99) // counts as a failure
		}
		return breaker.DefaultOutcome(err)
	}))
	ctx := context.Background()
	run := func(err error) { b.Run(ctx, func(context.Context) error { return err }) }
	run(nil) // never reaches the classifier
	run(errFail)
	run(errNotFound) // a success: resets the run
	run(errFail)
	wantState(t, b, breaker.Closed)
	run(errors.New("weird"))
	wantState(t, b, breaker.Open)
	if len(seen) != 4 {
		t.Fatalf("classifier saw %v, want the 4 errors", seen)
	}

	b = breaker.New(breaker.ConsecutiveFailures(1), breaker.Classify(func(error) breaker.Outcome { return breaker.Ignore }))
	breaker.Do(ctx, b, func(context.Context) (int, error) { panic("a panic is a failure whatever the classifier says") })
	wantState(t, b, breaker.Open)

	b = breaker.New(breaker.ConsecutiveFailures(1))
	tk, _ := b.Allow()
	tk.Report(breaker.Outcome(7))
	wantState(t, b, breaker.Open)
}

func TestDefaultOutcome(t *testing.T) {
	tests := []struct {
		err  error
		want breaker.Outcome
	}{
		{nil, breaker.Success},
		{errFail, breaker.Failure},
		{context.Canceled, breaker.Ignore},
		{fmt.Errorf("call: %w", context.Canceled), breaker.Ignore},
		{context.DeadlineExceeded, breaker.Failure},
		{fmt.Errorf("inner: %w", breaker.ErrOpen), breaker.Ignore},
		{&breaker.OpenError{State: breaker.HalfOpen}, breaker.Ignore},
	}
	for _, tt := range tests {
		if got := breaker.DefaultOutcome(tt.err); got != tt.want {
			t.Errorf("DefaultOutcome(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestRunCancellation(t *testing.T) {
	b := breaker.New(breaker.ConsecutiveFailures(1))
	// The caller's own cancellation is ignored.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := b.Run(ctx, func(ctx context.Context) error { return ctx.Err() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run() = %v, want context.Canceled", err)
	}
	if s := b.Stats(); s.State != breaker.Closed || s.Ignored != 1 {
		t.Fatalf("Stats() = %+v, want closed with 1 ignored", s)
	}
	// A per-call timeout is a failure.
	_, err = breaker.Do(context.Background(), b, func(ctx context.Context) (int, error) {
		ctx, cancel := context.WithTimeout(ctx, 0)
		defer cancel()
		<-ctx.Done()
		return 0, ctx.Err()
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Do() = %v, want context.DeadlineExceeded", err)
	}
	wantState(t, b, breaker.Open)
	// An inner breaker's rejection is ignored.
	outer := breaker.New(breaker.ConsecutiveFailures(1))
	inner := breaker.New()
	inner.ForceOpen()
	err = outer.Run(context.Background(), func(ctx context.Context) error {
		return inner.Run(ctx, func(context.Context) error { return nil })
	})
	if !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("Run() through an open inner breaker = %v", err)
	}
	wantState(t, outer, breaker.Closed)
}

func TestDoReturnsValueAndRejection(t *testing.T) {
	b := breaker.New()
	v, err := breaker.Do(context.Background(), b, func(context.Context) (string, error) { return "v", nil })
	if v != "v" || err != nil {
		t.Fatalf("Do() = %q, %v", v, err)
	}
	b.ForceOpen()
	v, err = breaker.Do(context.Background(), b, func(context.Context) (string, error) { return "called", nil })
	if v != "" || !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("Do() on an open breaker = %q, %v", v, err)
	}
	v, err = breaker.Do(context.Background(), breaker.New(), func(context.Context) (string, error) { panic("boom") })
	var pe *weft.PanicError
	if v != "" || !errors.As(err, &pe) || pe.Value != "boom" {
		t.Fatalf("Do() with a panic = %q, %v", v, err)
	}
}

func TestPanicInRunPropagatesAndCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Second), breaker.ProbeTimeout(time.Hour))
		panicking := func(context.Context) error { panic(errFail) }
		run := func() (r any) {
			defer func() { r = recover() }()
			b.Run(context.Background(), panicking)
			return nil
		}
		if r := run(); r != errFail {
			t.Fatalf("recovered %v from Run, want the panic of f", r)
		}
		wantState(t, b, breaker.Open) // counted as a failure on the way up
		time.Sleep(time.Second)
		if r := run(); r != errFail {
			t.Fatalf("recovered %v from a probe, want the panic of f", r)
		}
		// The probe's slot is back at once, not after the hour-long lease.
		if s := b.Stats(); s.State != breaker.Open || s.ProbesInFlight != 0 {
			t.Fatalf("Stats() after a probe panicked = %+v, want open", s)
		}
	})
}

func TestGoexitInRunCountsAsFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, viaDo := range []bool{false, true} {
			b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Second), breaker.ProbeTimeout(time.Hour))
			failN(b, 1)
			time.Sleep(time.Second)
			done := make(chan struct{})
			go func() {
				defer close(done)
				if viaDo {
					breaker.Do(context.Background(), b, func(context.Context) (int, error) { runtime.Goexit(); return 0, nil })
				} else {
					b.Run(context.Background(), func(context.Context) error { runtime.Goexit(); return nil })
				}
				t.Error("Run returned after Goexit")
			}()
			<-done
			// The probe's slot is back at once, not after the hour-long lease.
			if s := b.Stats(); s.State != breaker.Open || s.ProbesInFlight != 0 {
				t.Fatalf("Stats() after a probe called Goexit = %+v, want open", s)
			}
		}
	})
}

func TestZeroTicket(t *testing.T) {
	var tk breaker.Ticket
	tk.Done(errFail)
	tk.Report(breaker.Failure)
	if tk.Probe() {
		t.Fatal("the zero Ticket is a probe")
	}
}

func TestCopiedProbeTicketReportsOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Second), breaker.SuccessesToClose(2))
		failN(b, 1)
		time.Sleep(time.Second)
		tk, err := b.Allow()
		if err != nil {
			t.Fatal(err)
		}
		copied := tk
		tk.Done(nil)
		copied.Done(nil) // the lease is gone: no second success
		if s := b.Stats(); s.State != breaker.HalfOpen || s.ProbeSuccesses != 1 {
			t.Fatalf("Stats() = %+v, want half-open with 1 probe success", s)
		}
	})
}

func TestDoneTwiceCountsOnce(t *testing.T) {
	b := breaker.New(breaker.ConsecutiveFailures(2))
	tk, _ := b.Allow()
	tk.Done(errFail)
	tk.Done(errFail)
	tk.Report(breaker.Failure)
	if s := b.Stats(); s.State != breaker.Closed || s.ConsecutiveFailures != 1 {
		t.Fatalf("Stats() = %+v, want closed with 1 failure", s)
	}
}

func TestListenerPanicKeepsBreakerUsable(t *testing.T) {
	var ev events
	panicking := true
	b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OnStateChange(func(e breaker.Event) {
		if panicking {
			panicking = false
			panic("listener")
		}
		ev.add(e)
	}))
	func() {
		defer func() {
			if r := recover(); r != "listener" {
				t.Fatalf("recovered %v, want the listener's panic", r)
			}
		}()
		failN(b, 1)
	}()
	wantState(t, b, breaker.Open)
	b.Reset()
	b.ForceOpen()
	if got, want := ev.String(), "open → closed (reset); closed → open (forced open)"; got != want {
		t.Fatalf("events after the panic: %s, want %s", got, want)
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{breaker.Closed.String(), "closed"},
		{breaker.Open.String(), "open"},
		{breaker.HalfOpen.String(), "half-open"},
		{breaker.State(9).String(), "State(9)"},
		{breaker.Success.String(), "success"},
		{breaker.Failure.String(), "failure"},
		{breaker.Ignore.String(), "ignore"},
		{breaker.Outcome(9).String(), "Outcome(9)"},
		{breaker.ReasonProbeTimeout.String(), "probe timed out"},
		{breaker.Reason(0).String(), "Reason(0)"},
		{breaker.Reason(99).String(), "Reason(99)"},
		{breaker.Event{Name: "n", From: breaker.Open, To: breaker.HalfOpen, Reason: breaker.ReasonOpenElapsed}.String(), "n: open → half-open (open time elapsed)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("String() = %q, want %q", tt.got, tt.want)
		}
	}
}

func TestOptionsPanic(t *testing.T) {
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"ConsecutiveFailures", func() { breaker.ConsecutiveFailures(0) }, "breaker: ConsecutiveFailures(0): "},
		{"CountWindow low", func() { breaker.CountWindow(0) }, "breaker: CountWindow(0): "},
		{"CountWindow high", func() { breaker.CountWindow(1 << 20) }, "breaker: CountWindow(1048576): "},
		{"TimeWindow buckets", func() { breaker.TimeWindow(time.Second, 0) }, "breaker: TimeWindow(1s, 0): "},
		{"TimeWindow many buckets", func() { breaker.TimeWindow(time.Hour, 5000) }, "breaker: TimeWindow(1h0m0s, 5000): "},
		{"TimeWindow span", func() { breaker.TimeWindow(time.Millisecond, 2) }, "breaker: TimeWindow(1ms, 2): "},
		{"TimeWindow negative", func() { breaker.TimeWindow(-time.Second, 1) }, "breaker: TimeWindow(-1s, 1): "},
		{"FailureRate high", func() { breaker.FailureRate(1.5) }, "breaker: FailureRate(1.5): "},
		{"FailureRate zero", func() { breaker.FailureRate(0) }, "breaker: FailureRate(0): "},
		{"FailureRate NaN", func() { breaker.FailureRate(nan()) }, "breaker: FailureRate(NaN): "},
		{"MinCalls", func() { breaker.MinCalls(0) }, "breaker: MinCalls(0): "},
		{"SlowCall threshold", func() { breaker.SlowCall(0, 0.5) }, "breaker: SlowCall(0s, 0.5): "},
		{"SlowCall rate", func() { breaker.SlowCall(time.Second, 2) }, "breaker: SlowCall(1s, 2): "},
		{"OpenFor", func() { breaker.OpenFor(0) }, "breaker: OpenFor(0s): "},
		{"OpenBackoff", func() { breaker.OpenBackoff(0.5, time.Minute) }, "breaker: OpenBackoff(0.5, 1m0s): "},
		{"Jitter", func() { breaker.ProportionalJitter(1) }, "breaker: ProportionalJitter(1): "},
		{"HalfOpenProbes", func() { breaker.HalfOpenProbes(0) }, "breaker: HalfOpenProbes(0): "},
		{"SuccessesToClose", func() { breaker.SuccessesToClose(-1) }, "breaker: SuccessesToClose(-1): "},
		{"ProbeTimeout", func() { breaker.ProbeTimeout(-time.Second) }, "breaker: ProbeTimeout(-1s): "},
		{"FailureRate without window", func() { breaker.New(breaker.FailureRate(0.5)) }, "breaker: FailureRate(0.5) needs a window"},
		{"SlowCall without window", func() { breaker.New(breaker.SlowCall(time.Second, 0.5)) }, "breaker: SlowCall(1s, 0.5) needs a window"},
		{"MinCalls over window", func() { breaker.New(breaker.CountWindow(5), breaker.MinCalls(6)) }, "breaker: MinCalls(6) exceeds CountWindow(5)"},
		{"OpenBackoff below OpenFor", func() { breaker.New(breaker.OpenFor(time.Minute), breaker.OpenBackoff(2, time.Second)) }, "breaker: OpenBackoff(2, 1s): the maximum is shorter than OpenFor(1m0s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				msg, _ := r.(string)
				if !strings.HasPrefix(msg, tt.want) {
					t.Fatalf("panic %v, want a message starting %q", r, tt.want)
				}
			}()
			tt.f()
		})
	}
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

func TestLastOptionWins(t *testing.T) {
	b := breaker.New(breaker.ConsecutiveFailures(1), breaker.ConsecutiveFailures(3), breaker.OnStateChange(nil), breaker.Classify(nil))
	failN(b, 2)
	wantState(t, b, breaker.Closed)
	failN(b, 1)
	wantState(t, b, breaker.Open)
}

// With a time window and a ConsecutiveFailures rule, a success resets the
// run of failures whether it is reported by Run, Do or a Ticket: two
// failures, a success, two failures leave the breaker closed, and a third
// failure in a row opens it.
func TestTimeWindowSuccessResetsConsecutiveFailures(t *testing.T) {
	fail := errors.New("fail")
	succeed := map[string]func(*breaker.Breaker){
		"Run": func(b *breaker.Breaker) { b.Run(context.Background(), func(context.Context) error { return nil }) },
		"Do": func(b *breaker.Breaker) {
			breaker.Do(context.Background(), b, func(context.Context) (int, error) { return 1, nil })
		},
		"Ticket": func(b *breaker.Breaker) {
			tk, err := b.Allow()
			if err != nil {
				t.Fatal(err)
			}
			tk.Done(nil)
		},
	}
	for name, success := range succeed {
		t.Run(name, func(t *testing.T) {
			b := breaker.New(breaker.ConsecutiveFailures(3), breaker.TimeWindow(10*time.Second, 10),
				breaker.FailureRate(1), breaker.MinCalls(1000))
			failure := func() { b.Run(context.Background(), func(context.Context) error { return fail }) }
			failure()
			failure()
			success(b)
			failure()
			failure()
			if s := b.State(); s != breaker.Closed {
				t.Fatalf("State = %v after a success broke the run of failures, want closed", s)
			}
			failure()
			if s := b.State(); s != breaker.Open {
				t.Fatalf("State = %v after three failures in a row, want open", s)
			}
		})
	}
}

// A listener that panics while Do reports f's error is the listener's
// panic, not f's: it goes on up, as it does from Run, and is not returned as
// Do's error in place of f's result.
func TestDoListenerPanicGoesOnUp(t *testing.T) {
	b := breaker.New(breaker.ConsecutiveFailures(1),
		breaker.OnStateChange(func(breaker.Event) { panic("listener") }))
	var err error
	func() {
		defer func() {
			if r := recover(); r != "listener" {
				t.Errorf("recovered %v (Do returned %v), want the listener's panic", r, err)
			}
		}()
		_, err = breaker.Do(context.Background(), b, func(context.Context) (int, error) { return 42, errFail })
	}()
	if s := b.Stats(); s.State != breaker.Open {
		t.Fatalf("Stats() = %+v, want open: the failure was counted", s)
	}
}

// %v of a Stats reads as lowercase name=value pairs, every field included,
// so a log line of a breaker's stats needs no formatting of its own.
func TestStatsString(t *testing.T) {
	tests := []struct {
		s    breaker.Stats
		want string
	}{
		{breaker.Stats{}, "state=closed forced=false successes=0 failures=0 slow=0 consecutive_failures=0 probes_in_flight=0 probe_successes=0 open_remaining=0s rejected=0 ignored=0"},
		{
			breaker.Stats{State: breaker.HalfOpen, Successes: 1, Failures: 2, Slow: 3, ConsecutiveFailures: 4, ProbesInFlight: 5, ProbeSuccesses: 6, OpenRemaining: 1500 * time.Millisecond, Rejected: 7, Ignored: 8},
			"state=half-open forced=false successes=1 failures=2 slow=3 consecutive_failures=4 probes_in_flight=5 probe_successes=6 open_remaining=1.5s rejected=7 ignored=8",
		},
		{breaker.Stats{State: breaker.Open, Forced: true}, "state=open forced=true successes=0 failures=0 slow=0 consecutive_failures=0 probes_in_flight=0 probe_successes=0 open_remaining=0s rejected=0 ignored=0"},
	}
	for _, tt := range tests {
		if got := fmt.Sprintf("%v", tt.s); got != tt.want {
			t.Errorf("Sprintf(%%v, %#v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

// The enums print as lowercase words, and so does an Event built of them.
func TestEnumStringsAreLowercase(t *testing.T) {
	var names []string
	for s := breaker.Closed; s <= breaker.HalfOpen; s++ {
		names = append(names, s.String())
	}
	for o := breaker.Success; o <= breaker.Ignore; o++ {
		names = append(names, o.String())
	}
	for r := breaker.ReasonConsecutiveFailures; r <= breaker.ReasonReset; r++ {
		names = append(names, r.String())
	}
	names = append(names, breaker.Event{From: breaker.Closed, To: breaker.Open, Reason: breaker.ReasonFailureRate}.String())
	for _, n := range names {
		if n != strings.ToLower(n) || strings.Contains(n, "\n") {
			t.Errorf("String() = %q, want lowercase words", n)
		}
	}
}
