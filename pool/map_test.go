package pool_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/pool"
)

func TestMap(t *testing.T) {
	tests := []struct {
		name    string
		workers int
		n       int
	}{
		{"empty", 3, 0},
		{"one item", 3, 1},
		{"more workers than items", 16, 5},
		{"one worker", 1, 1000},
		{"many items", 4, 100_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := make([]int, tt.n)
			for i := range in {
				in[i] = i
			}
			var calls atomic.Int64
			got, err := pool.Map(context.Background(), tt.workers, in, func(_ context.Context, v int) (int, error) {
				calls.Add(1)
				return v * v, nil
			})
			if err != nil {
				t.Fatalf("Map = %v", err)
			}
			if len(got) != tt.n || calls.Load() != int64(tt.n) {
				t.Fatalf("Map returned %d values after %d calls, want %d", len(got), calls.Load(), tt.n)
			}
			for i, v := range got {
				if v != i*i {
					t.Fatalf("Map(%d) = %d, want %d", i, v, i*i)
				}
			}
			noLeftover(t)
		})
	}
}

// Map never runs more than workers calls at once, and spreads slow items
// over all of them.
func TestMapLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var h highWater
		in := make([]int, 64)
		start := time.Now()
		_, err := pool.Map(context.Background(), 4, in, func(context.Context, int) (int, error) {
			h.enter()
			defer h.leave()
			time.Sleep(time.Second)
			return 0, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if h.peak() != 4 {
			t.Fatalf("peak concurrency = %d, want 4", h.peak())
		}
		if d := time.Since(start); d != 16*time.Second {
			t.Fatalf("64 one-second items on 4 workers took %v, want 16s", d)
		}
	})
}

// The first error stops Map: the other calls see it as their context's
// cause, no new item starts, and the items that failed keep their values.
func TestMapStopsAtFirstError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make([]int, 8) // few enough items that each claim is one item
		for i := range in {
			in[i] = i
		}
		var started atomic.Int64
		var sawCause atomic.Bool
		zeroRunning := make(chan struct{}) // item 0 is in f before item 1 fails
		got, err := pool.Map(context.Background(), 2, in, func(ctx context.Context, v int) (int, error) {
			started.Add(1)
			switch v {
			case 0:
				close(zeroRunning)
				<-ctx.Done()
				sawCause.Store(context.Cause(ctx) == errBoom)
				return -1, ctx.Err()
			case 1:
				<-zeroRunning
				return 100, errBoom
			}
			return v, nil
		})
		if err != errBoom {
			t.Fatalf("Map = %v, want errBoom", err)
		}
		if !sawCause.Load() {
			t.Fatal("the running call did not see errBoom as its context's cause")
		}
		if n := started.Load(); n != 2 {
			t.Fatalf("%d calls started, want 2: none after the failure", n)
		}
		if len(got) != len(in) || got[0] != -1 || got[1] != 100 || got[2] != 0 {
			t.Fatalf("Map values start %v, want [-1 100 0 ...]", got[:3])
		}
	})
}

// No item starts after the failure, even one in a batch that a worker had
// already claimed.
func TestMapStopsInsideABatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make([]int, 1000)
		for i := range in {
			in[i] = i
		}
		start := time.Now()
		var failedAt, lastStart atomic.Int64
		_, err := pool.Map(context.Background(), 2, in, func(_ context.Context, v int) (int, error) {
			at := int64(time.Since(start))
			for {
				old := lastStart.Load()
				if at <= old || lastStart.CompareAndSwap(old, at) {
					break
				}
			}
			if v == 900 {
				// Fail half-way through a sleep of the other worker.
				time.Sleep(time.Millisecond / 2)
				failedAt.Store(int64(time.Since(start)))
				return 0, errBoom
			}
			time.Sleep(time.Millisecond)
			return v, nil
		})
		if err != errBoom {
			t.Fatalf("Map = %v, want errBoom", err)
		}
		if failedAt.Load() == 0 || lastStart.Load() > failedAt.Load() {
			t.Fatalf("an item started at %v, after the failure at %v", time.Duration(lastStart.Load()), time.Duration(failedAt.Load()))
		}
	})
}

func TestMapPanicsAreKept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Item 0 starts first and panics only after item 1's error has
		// been recorded: the fake second passes once every other goroutine
		// of the bubble is blocked, so the other worker is done by then.
		started, gate := make(chan struct{}), make(chan struct{})
		_, err := pool.Map(context.Background(), 2, []int{0, 1}, func(_ context.Context, v int) (int, error) {
			if v == 0 {
				close(started)
				<-gate
				time.Sleep(time.Second)
				panic("late")
			}
			<-started
			close(gate)
			return 0, errBoom
		})
		if !errors.Is(err, errBoom) || !isPanic(err, "late") {
			t.Fatalf("Map = %v, want errBoom and the later panic", err)
		}
	})
	_, err := pool.Map(context.Background(), 3, []int{1, 2, 3}, func(_ context.Context, v int) (int, error) {
		if v == 2 {
			panic("two")
		}
		return v, nil
	})
	var pe *weft.PanicError
	if !errors.As(err, &pe) || pe.Value != "two" {
		t.Fatalf("Map = %v, want the panic", err)
	}
}

func TestMapContextDone(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("stop")
	cancel(cause)
	got, err := pool.Map(ctx, 2, []int{1, 2}, func(context.Context, int) (int, error) {
		t.Error("called with a done context")
		return 0, nil
	})
	if err != cause || len(got) != 2 {
		t.Fatalf("Map = %v, %v; want two zero values and the cause", got, err)
	}

	// Cancelled in the middle of a batch: no item starts once Map has
	// noticed, which the synctest.Wait lets it do, and f's own ctx.Err()
	// gives way to the cause.
	for _, fErr := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			var calls atomic.Int64
			in := make([]int, 100)
			_, err := pool.Map(ctx, 1, in, func(ctx context.Context, _ int) (int, error) {
				if calls.Add(1) == 3 {
					cancel(cause)
					synctest.Wait()
					if fErr {
						return 0, ctx.Err()
					}
				}
				return 0, nil
			})
			if err != cause {
				t.Fatalf("Map = %v, want the cause", err)
			}
			if n := calls.Load(); n != 3 {
				t.Fatalf("f called %d times, want 3: items went on starting after the context was cancelled", n)
			}
		})
	}
}

// f's own timeout, before ctx ended, stays Map's error: ctx's cause takes
// its place only when f's error was the echo of ctx having ended.
func TestMapOwnTimeoutBeforeParent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errParent := errors.New("parent deadline")
		ctx, cancel := context.WithTimeoutCause(context.Background(), 10*time.Second, errParent)
		defer cancel()
		_, err := pool.Map(ctx, 2, []int{0, 1}, func(ctx context.Context, i int) (int, error) {
			if i == 0 {
				c, cc := context.WithTimeout(ctx, time.Second)
				defer cc()
				<-c.Done()
				return 0, c.Err() // its own timeout, at 1s
			}
			time.Sleep(20 * time.Second) // a slow item that ignores ctx
			return 1, nil
		})
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errParent) {
			t.Fatalf("Map = %v, want f's own DeadlineExceeded, which came first", err)
		}
	})
}

// runtime.Goexit in f on a goroutine Map started ends Map with
// weft.ErrGoexit; on the calling goroutine it lets that goroutine exit, but
// only after Map's other goroutines have stopped.
func TestMapGoexit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var callerID atomic.Int64
		var after atomic.Int64
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			callerID.Store(goid())
			pool.Map(context.Background(), 2, make([]int, 10), func(ctx context.Context, _ int) (int, error) {
				if goid() == callerID.Load() {
					runtime.Goexit()
				}
				// The other worker's items wait until Map has stopped
				// (it cancels ctx then), so any item that starts after
				// the one in flight is one that Map let start after
				// the Goexit.
				<-ctx.Done()
				after.Add(1)
				return 0, nil
			})
			t.Error("Map returned on a goroutine that called runtime.Goexit")
		}()
		<-stopped
		synctest.Wait()
		if left := poolGoroutines(); len(left) > 0 {
			t.Fatalf("Map left goroutines behind: %v", left)
		}
		if n := after.Load(); n > 1 {
			t.Fatalf("%d items ran after the Goexit, want at most the one in flight", n)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		var caller atomic.Int64
		caller.Store(goid())
		_, err := pool.Map(context.Background(), 2, make([]int, 10), func(context.Context, int) (int, error) {
			if goid() != caller.Load() {
				runtime.Goexit()
			}
			time.Sleep(time.Second)
			return 0, nil
		})
		if err != weft.ErrGoexit {
			t.Fatalf("Map = %v, want weft.ErrGoexit", err)
		}
	})
}

// goid returns the current goroutine's id, read from its stack header.
func goid() int64 {
	var buf [64]byte
	s := strings.TrimPrefix(string(buf[:runtime.Stack(buf[:], false)]), "goroutine ")
	var id int64
	for _, c := range s {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + int64(c-'0')
	}
	return id
}

func TestMapMisuse(t *testing.T) {
	f := func(context.Context, int) (int, error) { return 0, nil }
	tests := []struct {
		name string
		call func()
		want string
	}{
		{"zero workers", func() { pool.Map(context.Background(), 0, []int{1}, f) }, "pool: Map(workers=0): need at least one worker"},
		{"nil context", func() { pool.Map(noContext, 1, []int{1}, f) }, "pool: Map: nil Context"},
		{"nil func", func() { pool.Map[int, int](context.Background(), 1, []int{1}, nil) }, "pool: Map: nil func"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustPanic(t, tt.call); got != tt.want {
				t.Fatalf("panic %q, want %q", got, tt.want)
			}
		})
	}
}

// Items are claimed in batches that shrink towards the end, so a few slow
// items at the end of the slice still spread over the workers.
func TestMapSpreadsSlowTail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in := make([]int, 400)
		for i := range in {
			in[i] = i
		}
		start := time.Now()
		got, err := pool.Map(context.Background(), 4, in, func(_ context.Context, v int) (int, error) {
			if v >= 392 {
				time.Sleep(time.Second) // the last eight items are slow
			}
			return v, nil
		})
		if err != nil || !slices.Equal(got, in) {
			t.Fatalf("Map = %v", err)
		}
		if d := time.Since(start); d != 2*time.Second {
			t.Fatalf("eight slow items on four workers took %v, want 2s", d)
		}
	})
}
