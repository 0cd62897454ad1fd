package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/weftgo/weft/breaker"
)

var errDown = errors.New("down")

func down(context.Context) error { return errDown }
func up(context.Context) error   { return nil }

func ExampleConsecutiveFailures() {
	b := breaker.New(breaker.ConsecutiveFailures(3))
	ctx := context.Background()
	for _, f := range []func(context.Context) error{down, down, up, down, down} {
		b.Run(ctx, f)
	}
	fmt.Println(b.State(), "after a success broke the run")
	b.Run(ctx, down)
	fmt.Println(b.State(), "after three failures in a row")
	// Output:
	// closed after a success broke the run
	// open after three failures in a row
}

// A count window of the last 10 results trips at a failure rate of 50%.
func ExampleCountWindow() {
	b := breaker.New(breaker.CountWindow(10), breaker.FailureRate(0.5))
	ctx := context.Background()
	for range 5 {
		b.Run(ctx, up)
	}
	for range 4 {
		b.Run(ctx, down)
	}
	fmt.Println(b.State(), b.Stats().Failures, "of 9 failed")
	b.Run(ctx, down)
	fmt.Println(b.State())
	// Output:
	// closed 4 of 9 failed
	// open
}

func ExampleFailureRate() {
	b := breaker.New(breaker.CountWindow(4), breaker.FailureRate(0.75))
	ctx := context.Background()
	for _, f := range []func(context.Context) error{down, up, down} {
		b.Run(ctx, f)
	}
	fmt.Println(b.State(), "at 2 of 3")
	b.Run(ctx, down)
	fmt.Println(b.State(), "at 3 of 4")
	// Output:
	// closed at 2 of 3
	// open at 3 of 4
}

// Without MinCalls a window of two failures out of two calls would trip.
func ExampleMinCalls() {
	b := breaker.New(breaker.CountWindow(100), breaker.MinCalls(5))
	ctx := context.Background()
	for range 4 {
		b.Run(ctx, down)
	}
	fmt.Println(b.State(), "after 4 calls")
	b.Run(ctx, down)
	fmt.Println(b.State(), "after 5 calls")
	// Output:
	// closed after 4 calls
	// open after 5 calls
}

// A window of the last minute, in six 10-second buckets.
func ExampleTimeWindow() {
	b := breaker.New(breaker.TimeWindow(time.Minute, 6), breaker.MinCalls(4))
	ctx := context.Background()
	for _, f := range []func(context.Context) error{up, down, down, up} {
		b.Run(ctx, f)
	}
	s := b.Stats()
	fmt.Println(s.State, s.Successes, s.Failures)
	b.Run(ctx, down)
	fmt.Println(b.State())
	// Output:
	// closed 2 2
	// open
}

// The name tells breakers apart in errors and events.
func ExampleName() {
	b := breaker.New(breaker.Name("payments"))
	b.ForceOpen()
	fmt.Println(b.Run(context.Background(), up))
	// Output: breaker: circuit open (forced): payments
}

func ExampleOpenFor() {
	b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(30*time.Second))
	b.Run(context.Background(), down)
	err := b.Run(context.Background(), down)
	var oe *breaker.OpenError
	if errors.As(err, &oe) {
		fmt.Println(oe.RetryAfter() > 29*time.Second, oe.RetryAfter() <= 30*time.Second)
	}
	// Output: true true
}

// With jitter, breakers that trip together stay open for different times.
func ExampleProportionalJitter() {
	seen := map[time.Duration]bool{}
	for range 10 {
		b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(10*time.Second), breaker.ProportionalJitter(0.5))
		b.Run(context.Background(), down)
		seen[b.Stats().OpenRemaining.Round(time.Millisecond)] = true
	}
	fmt.Println(len(seen) > 1)
	// Output: true
}

// Each re-open from half-open lasts a million times longer, up to an hour.
func ExampleOpenBackoff() {
	b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Millisecond), breaker.OpenBackoff(1e6, time.Hour))
	ctx := context.Background()
	b.Run(ctx, down)
	for b.State() != breaker.HalfOpen { // wait out the open time
		time.Sleep(time.Millisecond)
	}
	b.Run(ctx, down) // the probe fails: open again, for 1000s
	fmt.Println(b.State(), b.Stats().OpenRemaining > 16*time.Minute)
	// Output: open true
}

func ExampleHalfOpenProbes() {
	b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Millisecond), breaker.HalfOpenProbes(2))
	b.Run(context.Background(), down)
	for b.State() != breaker.HalfOpen { // wait out the open time
		time.Sleep(time.Millisecond)
	}
	for range 3 {
		t, err := b.Allow()
		fmt.Println(t.Probe(), err)
		defer t.Done(nil)
	}
	// Output:
	// true <nil>
	// true <nil>
	// false breaker: circuit half-open, all probes in flight
}

// Two probes must succeed, one after the other, before the breaker closes.
func ExampleSuccessesToClose() {
	b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Millisecond), breaker.SuccessesToClose(2))
	ctx := context.Background()
	b.Run(ctx, down)
	for b.State() != breaker.HalfOpen { // wait out the open time
		time.Sleep(time.Millisecond)
	}
	b.Run(ctx, up)
	fmt.Println(b.State())
	b.Run(ctx, up)
	fmt.Println(b.State())
	// Output:
	// half-open
	// closed
}

// A probe whose result never comes counts as failed once its lease is up,
// so a lost report cannot hold the breaker half-open; its late report is
// ignored.
func ExampleProbeTimeout() {
	b := breaker.New(
		breaker.ConsecutiveFailures(1),
		breaker.OpenFor(time.Millisecond),
		breaker.OpenBackoff(1e6, time.Hour),
		breaker.ProbeTimeout(time.Millisecond),
		breaker.OnStateChange(func(e breaker.Event) { fmt.Println(e) }),
	)
	b.Run(context.Background(), down)
	for b.State() != breaker.HalfOpen { // wait out the open time
		time.Sleep(time.Millisecond)
	}
	t, _ := b.Allow() // a probe that is never reported in time
	for b.State() != breaker.Open {
		time.Sleep(time.Millisecond)
	}
	t.Done(nil)
	fmt.Println(b.State())
	// Output:
	// closed → open (consecutive failures)
	// open → half-open (open time elapsed)
	// half-open → open (probe timed out)
	// open
}

// DefaultOutcome is what a classifier falls back on.
func ExampleDefaultOutcome() {
	for _, err := range []error{nil, errDown, context.DeadlineExceeded, context.Canceled, breaker.ErrOpen} {
		fmt.Printf("%v: %v\n", err, breaker.DefaultOutcome(err))
	}
	// Output:
	// <nil>: success
	// down: failure
	// context deadline exceeded: failure
	// context canceled: ignore
	// breaker: circuit open: ignore
}

// An *OpenError says when the breaker admits calls again.
func ExampleOpenError() {
	b := breaker.New(breaker.Name("search"), breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Minute))
	b.Run(context.Background(), down)
	err := b.Run(context.Background(), up)
	var oe *breaker.OpenError
	if errors.As(err, &oe) {
		fmt.Println(oe.Name, oe.State, oe.Forced, time.Until(oe.Until) > 59*time.Second)
	}
	// Output: search open false true
}

// %v of a Stats is a log-ready line.
func ExampleStats() {
	b := breaker.New(breaker.ConsecutiveFailures(3))
	b.Run(context.Background(), down)
	fmt.Println(b.Stats())
	// Output: state=closed forced=false successes=0 failures=0 slow=0 consecutive_failures=1 probes_in_flight=0 probe_successes=0 open_remaining=0s rejected=0 ignored=0
}

// OnReject sees every call the breaker turns away, with the reason in the
// *OpenError, for a rejection counter.
func ExampleOnReject() {
	b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OnReject(func(err *breaker.OpenError) {
		fmt.Println("rejected:", err.State, "forced:", err.Forced)
	}))
	b.Run(context.Background(), down)
	b.Run(context.Background(), up)
	b.ForceOpen()
	b.Run(context.Background(), up)
	fmt.Println(b.Stats().Rejected)
	// Output:
	// rejected: open forced: false
	// rejected: open forced: true
	// 2
}

// OnSlowCall sees every success slower than the SlowCall threshold.
func ExampleOnSlowCall() {
	b := breaker.New(breaker.CountWindow(10), breaker.SlowCall(time.Millisecond, 1),
		breaker.OnSlowCall(func(took time.Duration) {
			fmt.Println("slow call:", took >= 5*time.Millisecond)
		}))
	b.Run(context.Background(), func(context.Context) error {
		time.Sleep(5 * time.Millisecond)
		return nil
	})
	b.Run(context.Background(), up)
	// Output: slow call: true
}
