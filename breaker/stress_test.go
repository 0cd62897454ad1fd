package breaker_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft/breaker"
)

// TestStressConcurrentCalls runs many goroutines through one breaker while
// the dependency fails and recovers in turns, with some callers losing their
// tickets or panicking, and others reading the breaker. Goroutines run in
// parallel; only the clock is the bubble's, so the time checks are exact.
//
// It checks that no more than HalfOpenProbes probes are ever in flight at
// once, that no call is admitted while the breaker is open, that probes are
// admitted only while it is half-open, and that the events chain.
func TestStressConcurrentCalls(t *testing.T) {
	const (
		workers = 16
		probes  = 3
		openFor = 100 * time.Millisecond
		runFor  = 5 * time.Second
	)
	synctest.Test(t, func(t *testing.T) {
		var ev events
		b := breaker.New(
			breaker.CountWindow(20), breaker.MinCalls(5), breaker.FailureRate(0.5),
			breaker.OpenFor(openFor), breaker.HalfOpenProbes(probes), breaker.SuccessesToClose(probes+1),
			breaker.ProbeTimeout(20*time.Millisecond), breaker.OnStateChange(ev.add),
		)
		var healthy atomic.Bool
		healthy.Store(true)
		start := time.Now()

		type admission struct {
			at    time.Duration
			probe bool
		}
		var (
			mu         sync.Mutex
			admissions []admission
			inFlight   atomic.Int32
			maxProbes  atomic.Int32
			rejected   atomic.Int64
		)
		call := func(ctx context.Context, probe bool) error {
			if probe {
				n := inFlight.Add(1)
				for m := maxProbes.Load(); n > m && !maxProbes.CompareAndSwap(m, n); m = maxProbes.Load() {
				}
				defer inFlight.Add(-1) // before the report frees the slot
			}
			time.Sleep(time.Duration(1+rand.IntN(5)) * time.Millisecond)
			if !healthy.Load() {
				return errFail
			}
			return nil
		}

		var wg sync.WaitGroup
		wg.Go(func() { // the dependency goes down and up
			for time.Since(start) < runFor {
				time.Sleep(time.Duration(50+rand.IntN(300)) * time.Millisecond)
				healthy.Store(!healthy.Load())
			}
		})
		wg.Go(func() { // an observer
			for time.Since(start) < runFor {
				if s := b.Stats(); s.ProbesInFlight > probes {
					t.Errorf("Stats().ProbesInFlight = %d > %d", s.ProbesInFlight, probes)
				}
				_ = b.State()
				time.Sleep(3 * time.Millisecond)
			}
		})
		for w := range workers {
			wg.Go(func() {
				ctx := context.Background()
				for i := 0; time.Since(start) < runFor; i++ {
					tk, err := b.Allow()
					if err != nil {
						if !errors.Is(err, breaker.ErrOpen) {
							t.Errorf("Allow() = %v, want a rejection matching ErrOpen", err)
						}
						rejected.Add(1)
						time.Sleep(time.Millisecond)
						continue
					}
					mu.Lock()
					admissions = append(admissions, admission{time.Since(start), tk.Probe()})
					mu.Unlock()
					switch {
					case w == 0 && i%7 == 0:
						// Lost: never reported.
						call(ctx, tk.Probe())
					case w == 1 && i%5 == 0:
						func() {
							defer func() { recover() }()
							defer tk.Report(breaker.Failure) // what Run does for a panic
							call(ctx, tk.Probe())
							panic("worker")
						}()
					default:
						tk.Done(call(ctx, tk.Probe()))
					}
				}
			})
		}
		wg.Wait()

		if m := maxProbes.Load(); m > probes {
			t.Errorf("%d probes in flight at once, want at most %d", m, probes)
		}
		// Rebuild the open and half-open periods from the events.
		ev.mu.Lock()
		all := ev.all
		ev.mu.Unlock()
		type span struct {
			state    breaker.State
			from, to time.Duration
		}
		var spans []span
		for i, e := range all {
			if i > 0 && e.From != all[i-1].To {
				t.Fatalf("event %d (%v) does not follow %v", i, e, all[i-1])
			}
			if i > 0 && e.At.Before(all[i-1].At) {
				t.Fatalf("event %d (%v) is earlier than the one before it (%v)", i, e, all[i-1])
			}
			at := e.At.Sub(start)
			if n := len(spans); n > 0 {
				spans[n-1].to = at
			}
			spans = append(spans, span{e.To, at, runFor + time.Hour})
		}
		trips := 0
		for _, s := range spans {
			if s.state == breaker.Open {
				trips++
				if s.to-s.from < openFor {
					t.Errorf("an open period lasted %v, less than %v", s.to-s.from, openFor)
				}
			}
		}
		if trips < 3 || rejected.Load() == 0 {
			t.Fatalf("only %d trips and %d rejections: the test exercised too little", trips, rejected.Load())
		}
		for _, a := range admissions {
			for _, s := range spans {
				// Strictly inside: a call admitted at the very instant of a
				// change raced with it, and either side is right.
				if a.at <= s.from || a.at >= s.to {
					continue
				}
				if s.state == breaker.Open {
					t.Fatalf("a call was admitted at %v, inside an open period %v–%v", a.at, s.from, s.to)
				}
				if a.probe != (s.state == breaker.HalfOpen) {
					t.Fatalf("a call admitted at %v in a %v period has Probe() = %v", a.at, s.state, a.probe)
				}
			}
		}
	})
}

// TestStressEventsInOrder makes many goroutines change the state at once
// while a slow listener calls back into the breaker: events must arrive one
// at a time, each starting where the previous ended, and end at the final
// state.
func TestStressEventsInOrder(t *testing.T) {
	var b *breaker.Breaker
	var (
		mu      sync.Mutex
		got     []breaker.Event
		running atomic.Int32
	)
	b = breaker.New(breaker.ConsecutiveFailures(1), breaker.OnStateChange(func(e breaker.Event) {
		if running.Add(1) != 1 {
			t.Error("two listener calls at once")
		}
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
		_ = b.Stats()
		running.Add(-1)
	}))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				switch (i + j) % 3 {
				case 0:
					b.Reset()
				case 1:
					b.ForceOpen()
				default:
					failN(b, 1)
				}
			}
		})
	}
	wg.Wait()
	b.Reset() // delivers anything still queued, and ends closed
	mu.Lock()
	defer mu.Unlock()
	if len(got) < 10 {
		t.Fatalf("only %d events", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i].From != got[i-1].To {
			t.Fatalf("event %d (%v) does not follow event %d (%v)", i, got[i], i-1, got[i-1])
		}
	}
	if last := got[len(got)-1]; last.To != breaker.Closed || b.State() != breaker.Closed {
		t.Fatalf("last event %v, State() %v, want both closed", last, b.State())
	}
}
