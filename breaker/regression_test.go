package breaker_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/breaker"
)

// Regression tests for faults found in other Go circuit breakers.

// A listener that reads or drives the breaker must not deadlock: listeners
// run outside the breaker's lock (the fault of sony/gobreaker#37, where the
// callback ran under it).
func TestCallbackMayCallBreaker(t *testing.T) {
	var b *breaker.Breaker
	var ev events
	b = breaker.New(breaker.ConsecutiveFailures(1), breaker.OnStateChange(func(e breaker.Event) {
		ev.add(e)
		if got := b.State(); got != breaker.Open {
			t.Errorf("State() from the listener = %v, want open", got)
		}
		_ = b.Stats()
		if e.Reason == breaker.ReasonConsecutiveFailures {
			b.ForceOpen() // a state change from inside a delivery
		}
	}))
	done := make(chan struct{})
	go func() {
		defer close(done)
		failN(b, 1)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a listener that calls the breaker deadlocked it")
	}
	if got, want := ev.String(), "closed → open (consecutive failures); open → open (forced open)"; got != want {
		t.Fatalf("events = %s, want %s", got, want)
	}
}

// A two-step caller that never reports its probe must not hold the breaker
// half-open forever: the probe's lease runs out and counts as a failure.
func TestLostDoneDoesNotWedgeHalfOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Second), breaker.ProbeTimeout(10*time.Second))
		failN(b, 1)
		time.Sleep(time.Second)
		if _, err := b.Allow(); err != nil { // the probe, lost
			t.Fatal(err)
		}
		if _, err := b.Allow(); !errors.Is(err, breaker.ErrTooManyProbes) {
			t.Fatalf("Allow() beside the lost probe = %v, want ErrTooManyProbes", err)
		}
		time.Sleep(10*time.Second - time.Nanosecond)
		wantState(t, b, breaker.HalfOpen)
		time.Sleep(time.Nanosecond)
		wantState(t, b, breaker.Open) // the lease ran out: a failed probe
		time.Sleep(time.Second)
		probe, err := b.Allow()
		if err != nil {
			t.Fatalf("Allow() after the lease and the open time = %v", err)
		}
		probe.Done(nil)
		wantState(t, b, breaker.Closed)
	})
}

// A success from a call admitted before the breaker tripped must not close
// it (nor count as a probe), and neither may a probe's success reported
// after its lease ran out and a new half-open period began.
func TestStaleSuccessDoesNotCloseHalfOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Second), breaker.ProbeTimeout(time.Second))
		early, err := b.Allow() // admitted while closed
		if err != nil {
			t.Fatal(err)
		}
		failN(b, 1)
		time.Sleep(time.Second)
		wantState(t, b, breaker.HalfOpen)
		early.Done(nil)
		if s := b.Stats(); s.State != breaker.HalfOpen || s.ProbeSuccesses != 0 {
			t.Fatalf("Stats() after a stale success = %+v, want half-open with no probe success", s)
		}

		slow, err := b.Allow() // a probe whose lease will run out
		if err != nil || !slow.Probe() {
			t.Fatalf("Allow() = probe %v, %v", slow.Probe(), err)
		}
		time.Sleep(2 * time.Second) // lease out at 1s, open again until 2s
		wantState(t, b, breaker.HalfOpen)
		slow.Done(nil)
		if s := b.Stats(); s.State != breaker.HalfOpen || s.ProbeSuccesses != 0 || s.ProbesInFlight != 0 {
			t.Fatalf("Stats() after a stale probe success = %+v, want half-open, untouched", s)
		}
	})
}

// A probe that panics must count as a failure and free its slot at once, so
// the breaker re-opens and later recovers, instead of staying half-open with
// its only probe slot taken.
func TestPanickingProbeDoesNotWedge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Second), breaker.ProbeTimeout(time.Hour))
		failN(b, 1)
		time.Sleep(time.Second)
		_, err := breaker.Do(context.Background(), b, func(context.Context) (int, error) {
			panic("probe exploded")
		})
		var pe *weft.PanicError
		if !errors.As(err, &pe) || pe.Value != "probe exploded" {
			t.Fatalf("Do() with a panicking probe = %v, want a *weft.PanicError", err)
		}
		if s := b.Stats(); s.State != breaker.Open || s.ProbesInFlight != 0 {
			t.Fatalf("Stats() after the panic = %+v, want open with no probe in flight", s)
		}
		time.Sleep(time.Second)
		if err := b.Run(context.Background(), func(context.Context) error { return nil }); err != nil {
			t.Fatalf("Run() after the open time = %v", err)
		}
		wantState(t, b, breaker.Closed)
	})
}
