package fanout_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/fanout"
)

func TestFirstFastestWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var losers []error
		loser := func(d time.Duration) func(context.Context) (string, error) {
			return func(ctx context.Context) (string, error) {
				select {
				case <-time.After(d):
					return "slow", nil
				case <-ctx.Done():
					mu.Lock()
					losers = append(losers, context.Cause(ctx)) // First joins us before it returns
					mu.Unlock()
					return "", ctx.Err()
				}
			}
		}
		start := time.Now()
		v, err := fanout.First(context.Background(), loser(time.Hour), after(10*time.Millisecond, "fast", nil), loser(time.Minute))
		if v != "fast" || err != nil {
			t.Fatalf("First = %q, %v, want fast, nil", v, err)
		}
		if d := time.Since(start); d != 10*time.Millisecond {
			t.Fatalf("First took %v, want 10ms", d)
		}
		if len(losers) != 2 || !strings.Contains(losers[0].Error(), "another call answered first") {
			t.Fatalf("losers saw %v, want two cancellations saying another call answered", losers)
		}
	})
}

func TestFirstFailuresDoNotWin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		v, err := fanout.First(context.Background(),
			after(time.Millisecond, "", errBoom),
			after(20*time.Millisecond, "ok", nil),
		)
		if v != "ok" || err != nil {
			t.Fatalf("First = %q, %v, want ok, nil", v, err)
		}
	})
}

func TestFirstAllFail(t *testing.T) {
	errA, errB := errors.New("a down"), errors.New("b down")
	_, err := fanout.First(context.Background(),
		func(context.Context) (int, error) { return 0, errA },
		func(context.Context) (int, error) { return 0, errB },
	)
	if !errors.Is(err, errA) || !errors.Is(err, errB) {
		t.Fatalf("First() error = %v, want both errors in it", err)
	}
	if want := "fanout: First: all 2 calls failed: a down; b down"; err.Error() != want {
		t.Fatalf("Error() = %q, want %q", err.Error(), want)
	}
}

func TestFirstPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cancelled := false
		_, err := fanout.First(context.Background(),
			func(ctx context.Context) (int, error) {
				<-ctx.Done()
				cancelled = true
				return 0, ctx.Err()
			},
			func(context.Context) (int, error) { panic("bug") },
		)
		var pe *weft.PanicError
		if !errors.As(err, &pe) || pe.Value != "bug" {
			t.Fatalf("First() error = %v, want the panic", err)
		}
		if !cancelled {
			t.Fatal("the other call was not cancelled and joined")
		}
	})
}

// A call that calls runtime.Goexit has failed.
func TestFirstGoexit(t *testing.T) {
	v, err := fanout.First(context.Background(),
		func(context.Context) (int, error) { runtime.Goexit(); return 0, nil },
	)
	if v != 0 || !errors.Is(err, weft.ErrGoexit) {
		t.Fatalf("First = %v, %v, want 0 and ErrGoexit", v, err)
	}
}

func TestFirstContextDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errStop := errors.New("stop")
		ctx, cancel := context.WithCancelCause(context.Background())
		time.AfterFunc(10*time.Millisecond, func() { cancel(errStop) })
		start := time.Now()
		_, err := fanout.Hedged(ctx, 50*time.Millisecond,
			after(time.Hour, "a", nil),
			after(time.Hour, "b", nil), // never starts
		)
		if !errors.Is(err, errStop) || !errors.Is(err, context.Canceled) {
			t.Fatalf("Hedged() error = %v, want the cause and the call's error", err)
		}
		if d := time.Since(start); d != 10*time.Millisecond {
			t.Fatalf("Hedged took %v, want 10ms", d)
		}

		// A panic seen while cancelling still wins over the cancellation.
		ctx, cancel = context.WithCancelCause(context.Background())
		time.AfterFunc(10*time.Millisecond, func() { cancel(errStop) })
		_, err = fanout.First(ctx, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			panic("late")
		})
		var pe *weft.PanicError
		if !errors.As(err, &pe) {
			t.Fatalf("First() error = %v, want the panic", err)
		}

		done, cancelDone := context.WithCancel(context.Background())
		cancelDone()
		ran := false
		_, err = fanout.First(done, func(context.Context) (int, error) { ran = true; return 1, nil })
		if ran || !errors.Is(err, context.Canceled) {
			t.Fatalf("First on a done ctx ran = %v, error = %v; want no run and Canceled", ran, err)
		}
	})
}

// A success that is waiting when ctx ends wins: whichever of the two the
// loop sees first, the answer is not thrown away for an error.
func TestFirstSuccessAtCancellationWins(t *testing.T) {
	for range 100 {
		ctx, cancel := context.WithCancel(context.Background())
		v, err := fanout.First(ctx,
			func(context.Context) (int, error) {
				cancel() // ctx ends before this success is delivered
				return 42, nil
			},
			func(ctx context.Context) (int, error) {
				<-ctx.Done()
				return 0, ctx.Err()
			})
		cancel()
		if v != 42 || err != nil {
			t.Fatalf("First() = %v, %v; want the success that came as ctx ended", v, err)
		}
	}
}

// Hedges start delay apart while no answer comes.
func TestHedgedStartsAfterDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var mu sync.Mutex
		var starts []time.Duration
		call := func(d time.Duration, v string) func(context.Context) (string, error) {
			return func(ctx context.Context) (string, error) {
				mu.Lock()
				starts = append(starts, time.Since(start))
				mu.Unlock()
				return after(d, v, nil)(ctx)
			}
		}
		v, err := fanout.Hedged(context.Background(), 10*time.Millisecond,
			call(time.Hour, "first"), call(15*time.Millisecond, "second"), call(time.Hour, "third"), call(time.Hour, "fourth"))
		if v != "second" || err != nil {
			t.Fatalf("Hedged = %q, %v, want second, nil", v, err)
		}
		want := []time.Duration{0, 10 * time.Millisecond, 20 * time.Millisecond}
		if len(starts) != len(want) {
			t.Fatalf("calls started at %v, want %v", starts, want)
		}
		for i := range want {
			if starts[i] != want[i] {
				t.Fatalf("calls started at %v, want %v", starts, want)
			}
		}
	})
}

// When every call running has failed, the next starts at once.
func TestHedgedFailureStartsTheNext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		v, err := fanout.Hedged(context.Background(), time.Hour,
			after(time.Millisecond, "", errBoom),
			after(time.Millisecond, "", errBoom),
			after(time.Millisecond, "ok", nil),
		)
		if v != "ok" || err != nil {
			t.Fatalf("Hedged = %q, %v, want ok, nil", v, err)
		}
		if d := time.Since(start); d != 3*time.Millisecond {
			t.Fatalf("Hedged took %v, want 3ms", d)
		}
	})
}

func TestFirstMisuse(t *testing.T) {
	ok := func(context.Context) (int, error) { return 0, nil }
	wantPanic(t, "fanout: First with no calls", func() { fanout.First[int](context.Background()) })
	wantPanic(t, "fanout: Hedged: call 1 is nil", func() { fanout.Hedged(context.Background(), 0, ok, nil) })
	wantPanic(t, "fanout: Hedged(delay=-1ms): negative delay", func() { fanout.Hedged(context.Background(), -time.Millisecond, ok) })
	wantPanic(t, "fanout: First with a nil context", func() {
		//lint:ignore SA1012 the nil context is the point of the test
		fanout.First(nil, ok)
	})
}

// A call that loses and panics while it is cancelled is not hidden by the
// success: First returns the winner's value and an error holding the panic
// of every call that lost that way.
func TestFirstReportsLosersPanicsNextToTheWinnersValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		loser := func(value string) func(context.Context) (string, error) {
			return func(ctx context.Context) (string, error) {
				<-ctx.Done()
				panic(value)
			}
		}
		v, err := fanout.First(context.Background(), loser("a"), after(time.Millisecond, "won", nil), loser("b"))
		if v != "won" || err == nil {
			t.Fatalf("First = %q, %v; want the winner's value and an error", v, err)
		}
		var pe *weft.PanicError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "call 1 succeeded, but 2 calls panicked") ||
			!strings.Contains(err.Error(), "panic: a") || !strings.Contains(err.Error(), "panic: b") {
			t.Fatalf("First error = %q, want both panics after the winner's index", err)
		}
	})
}

// Every error of First and Hedged is one line, whatever it joins: the
// failures of every call, the cause of ctx, the panics of several calls.
func TestFirstErrorIsOneLine(t *testing.T) {
	errA, errB := errors.New("a down"), errors.New("b down")
	fail := func(err error) func(context.Context) (int, error) {
		return func(context.Context) (int, error) { return 0, err }
	}
	panicking := func(v string) func(context.Context) (int, error) {
		return func(context.Context) (int, error) { panic(v) }
	}
	cancelled, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("shutting down")
	tests := []struct {
		name string
		run  func() error
		want []string
	}{
		{"all fail", func() error {
			_, err := fanout.First(context.Background(), fail(errA), fail(errB))
			return err
		}, []string{"a down", "b down"}},
		{"ctx done", func() error {
			_, err := fanout.Hedged(cancelled, time.Hour, func(ctx context.Context) (int, error) {
				cancel(cause)
				<-ctx.Done()
				return 0, errA
			}, fail(errB))
			return err
		}, []string{"shutting down", "a down"}},
		{"panics", func() error {
			_, err := fanout.First(context.Background(), panicking("x"), panicking("y"))
			return err
		}, []string{"panic: x", "panic: y"}},
	}
	for _, tt := range tests {
		err := tt.run()
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error = %q, want one line", tt.name, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error = %q, want %q in it", tt.name, err, w)
			}
		}
	}
}
