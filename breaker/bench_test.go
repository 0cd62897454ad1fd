package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/weftgo/weft/breaker"
)

// The call every benchmark makes: a function value the compiler cannot see
// through, so the bare call and the calls through a breaker pay the same.
var (
	call    = func(context.Context) error { return nil }
	callInt = func(context.Context) (int, error) { return 1, nil }
	sinkErr error
	sinkInt int
)

// The floor: calling the function directly, in the same loop form.
func BenchmarkBareCall(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		sinkErr = call(ctx)
	}
}

// The floor for the parallel benchmark.
func BenchmarkBareCallParallel(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		var err error
		for pb.Next() {
			err = call(ctx)
		}
		sinkErr = err
	})
}

// The reference for the time-window figures: one wall and monotonic clock
// read.
func BenchmarkClockRead(b *testing.B) {
	b.ReportAllocs()
	var t time.Time
	for b.Loop() {
		t = time.Now()
	}
	_ = t
}

// The clock a breaker reads: the monotonic clock alone.
func BenchmarkClockReadMonotonic(b *testing.B) {
	b.ReportAllocs()
	base := time.Now()
	var d time.Duration
	for b.Loop() {
		d += time.Since(base)
	}
	_ = d
}

var modes = []struct {
	name string
	opts []breaker.Option
}{
	{"consecutive", []breaker.Option{breaker.ConsecutiveFailures(5)}},
	{"count-window", []breaker.Option{breaker.CountWindow(100)}},
	{"time-window", []breaker.Option{breaker.TimeWindow(10*time.Second, 10)}},
}

// Closed state, every call succeeds, two-step form.
func BenchmarkClosedAllowDone(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			br := breaker.New(m.opts...)
			ctx := context.Background()
			for b.Loop() {
				t, err := br.Allow()
				if err != nil {
					b.Fatal(err)
				}
				t.Done(call(ctx))
			}
		})
	}
}

// Closed state, every call succeeds, through Run.
func BenchmarkClosedRun(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			br := breaker.New(m.opts...)
			ctx := context.Background()
			for b.Loop() {
				sinkErr = br.Run(ctx, call)
			}
		})
	}
}

// Closed state, every call succeeds, through Do.
func BenchmarkClosedDo(b *testing.B) {
	b.ReportAllocs()
	br := breaker.New()
	ctx := context.Background()
	for b.Loop() {
		sinkInt, sinkErr = breaker.Do(ctx, br, callInt)
	}
}

// Closed state with a slow-call rule: two monotonic clock reads per call.
func BenchmarkClosedRunSlowCallRule(b *testing.B) {
	b.ReportAllocs()
	br := breaker.New(breaker.CountWindow(100), breaker.SlowCall(time.Second, 0.5))
	ctx := context.Background()
	for b.Loop() {
		sinkErr = br.Run(ctx, call)
	}
}

// Closed state, a failure and a success in turn: the counter is written
// on every call.
func BenchmarkClosedRunAlternating(b *testing.B) {
	fail := errors.New("fail")
	alternating := []struct {
		name string
		opts []breaker.Option
	}{
		{"consecutive", []breaker.Option{breaker.ConsecutiveFailures(5)}},
		{"count-window", []breaker.Option{breaker.CountWindow(100), breaker.FailureRate(1)}},
		{"time-window", []breaker.Option{breaker.TimeWindow(10*time.Second, 10), breaker.FailureRate(1)}},
	}
	for _, m := range alternating {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			br := breaker.New(m.opts...)
			i := 0
			for b.Loop() {
				t, _ := br.Allow()
				if i&1 == 0 {
					t.Done(fail)
				} else {
					t.Done(nil)
				}
				i++
			}
		})
	}
}

// Rejection by a breaker forced open: no clock read.
func BenchmarkOpenRejectForced(b *testing.B) {
	b.ReportAllocs()
	br := breaker.New()
	br.ForceOpen()
	ctx := context.Background()
	for b.Loop() {
		sinkErr = br.Run(ctx, call)
	}
}

// Rejection by a breaker open on a timer: one monotonic clock read to see
// that the open time has not passed.
func BenchmarkOpenRejectTimed(b *testing.B) {
	b.ReportAllocs()
	br := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Hour))
	t, _ := br.Allow()
	t.Done(errors.New("fail"))
	ctx := context.Background()
	for b.Loop() {
		sinkErr = br.Run(ctx, call)
	}
}

// Rejection by a half-open breaker whose probe slot is taken: one monotonic
// clock read, no lock.
func BenchmarkHalfOpenReject(b *testing.B) {
	b.ReportAllocs()
	br := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Nanosecond), breaker.ProbeTimeout(time.Hour))
	t, _ := br.Allow()
	t.Done(errors.New("fail"))
	time.Sleep(time.Microsecond)
	if probe, err := br.Allow(); err != nil || !probe.Probe() {
		b.Fatalf("no probe: %v", err)
	}
	ctx := context.Background()
	for b.Loop() {
		sinkErr = br.Run(ctx, call)
	}
}

// Many goroutines succeeding through one closed breaker: no lock and no
// shared write on the path, so ns/op must not grow with -cpu.
func BenchmarkClosedRunParallel(b *testing.B) {
	b.ReportAllocs()
	br := breaker.New(breaker.ConsecutiveFailures(5))
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		var err error
		for pb.Next() {
			err = br.Run(ctx, call)
		}
		sinkErr = err
	})
}

// A re-open from half-open after n re-opens before it: a probe admitted and
// failed, under the breaker's lock. Its cost must not grow with n, so the
// two sizes must cost about the same per re-open. The open time grows by
// 0.01% per re-open from 1ns, far from its cap, and the loop waits out
// each open time (a few nanoseconds) before the probe. Every n/2 re-opens
// the breaker is reset and brought back to n outside the timer, so that
// every measured re-open follows between n and 1.5n others.
func BenchmarkReopen(b *testing.B) {
	for _, n := range []int{1 << 10, 1 << 14} {
		b.Run(fmt.Sprintf("after=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			br := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Nanosecond),
				breaker.OpenBackoff(1.0001, time.Hour), breaker.ProbeTimeout(time.Hour))
			errProbe := errors.New("fail")
			reopen := func() {
				for {
					if t, err := br.Allow(); err == nil {
						t.Done(errProbe)
						return
					}
				}
			}
			warm := func() {
				br.Reset()
				reopen() // the trip
				for range n {
					reopen()
				}
			}
			warm()
			done := 0
			for b.Loop() {
				if done == n/2 {
					b.StopTimer()
					warm()
					done = 0
					b.StartTimer()
				}
				reopen()
				done++
			}
		})
	}
}
