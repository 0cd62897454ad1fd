package coalesce_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/coalesce"
)

func TestGroupDoSequentialCallsDoNotCache(t *testing.T) {
	var g coalesce.Flight[string, int]
	var runs atomic.Int32
	fn := func(context.Context) (int, error) { return int(runs.Add(1)), nil }
	for want := 1; want <= 3; want++ {
		r := g.DoResult(context.Background(), "k", fn)
		if r.Value != want || r.Err != nil || r.Shared {
			t.Fatalf("call %d: DoResult = %+v, want {%d <nil> false}", want, r, want)
		}
	}
}

func TestGroupDoReturnsError(t *testing.T) {
	var g coalesce.Flight[string, int]
	errLoad := errors.New("load failed")
	v, err := g.Do(context.Background(), "k", func(context.Context) (int, error) { return 7, errLoad })
	if v != 7 || !errors.Is(err, errLoad) {
		t.Fatalf("Do = %d, %v, want 7, %v", v, err, errLoad)
	}
}

// Concurrent callers of one key share one execution and all get its result;
// other keys run on their own.
func TestGroupConcurrentCallersShareOneExecution(t *testing.T) {
	for _, name := range []string{"background", "cancellable"} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				if name == "cancellable" {
					var cancel context.CancelFunc
					ctx, cancel = context.WithCancel(ctx)
					defer cancel()
				}
				var g coalesce.Flight[string, string]
				var runs atomic.Int32
				release := make(chan struct{})
				fn := func(ctx context.Context) (string, error) {
					runs.Add(1)
					<-release
					return "value", nil
				}
				const callers = 10
				results := make(chan coalesce.Result[string], callers)
				for range callers {
					go func() { results <- g.DoResult(ctx, "k", fn) }()
				}
				other := g.DoChan(ctx, "other", func(context.Context) (string, error) { return "other", nil })
				synctest.Wait()
				if got := runs.Load(); got != 1 {
					t.Fatalf("fn ran %d times for one key, want 1", got)
				}
				if r := <-other; r.Value != "other" || r.Err != nil {
					t.Fatalf("other key: %+v, want other, nil", r)
				}
				close(release)
				for range callers {
					r := <-results
					if r.Value != "value" || r.Err != nil || !r.Shared {
						t.Fatalf("DoResult = %+v, want {value <nil> true}", r)
					}
				}
			})
		})
	}
}

// The bug that keeps singleflight out of context-taking code: with
// singleflight the first caller's cancellation fails everyone who joined.
func TestGroupFirstCallerCancelsOthersStillGetValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g coalesce.Flight[string, string]
		release := make(chan struct{})
		var execErr error
		fn := func(ctx context.Context) (string, error) {
			select {
			case <-release:
				return "value", nil
			case <-ctx.Done():
				execErr = ctx.Err()
				return "", ctx.Err()
			}
		}
		first, cancelFirst := context.WithCancel(context.Background())
		firstDone := make(chan error, 1)
		go func() {
			_, err := g.Do(first, "k", fn)
			firstDone <- err
		}()
		synctest.Wait()
		second := make(chan coalesce.Result[string], 1)
		go func() { second <- g.DoResult(context.Background(), "k", fn) }()
		synctest.Wait()

		cancelFirst()
		if err := <-firstDone; !errors.Is(err, context.Canceled) {
			t.Fatalf("first caller: Do = %v, want context.Canceled", err)
		}
		synctest.Wait()
		close(release)
		r := <-second
		if r.Value != "value" || r.Err != nil || !r.Shared {
			t.Fatalf("second caller: %+v, want {value <nil> true}", r)
		}
		if execErr != nil {
			t.Fatalf("the shared execution saw %v while a caller still waited", execErr)
		}
	})
}

// The shared execution is cancelled once every caller has gone, with the
// cause of the last one to leave.
func TestGroupAllCallersCancelCancelsExecution(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g coalesce.Flight[int, int]
		type keyT struct{}
		errLast := errors.New("last caller gone")
		execCause := make(chan error, 1)
		fn := func(ctx context.Context) (int, error) {
			if ctx.Value(keyT{}) != "first" {
				t.Errorf("the execution's context lacks the first caller's values")
			}
			if _, ok := ctx.Deadline(); ok {
				t.Errorf("the execution's context has the first caller's deadline")
			}
			<-ctx.Done()
			execCause <- context.Cause(ctx)
			return 0, ctx.Err()
		}
		ctx1, cancel1 := context.WithTimeout(context.WithValue(context.Background(), keyT{}, "first"), time.Minute)
		defer cancel1()
		ctx2, cancel2 := context.WithCancelCause(context.Background())
		ch1 := g.DoChan(ctx1, 1, fn)
		ch2 := g.DoChan(ctx2, 1, fn)
		synctest.Wait()

		cancel1()
		if r := <-ch1; !errors.Is(r.Err, context.Canceled) {
			t.Fatalf("first caller got %+v, want context.Canceled", r)
		}
		synctest.Wait()
		select {
		case err := <-execCause:
			t.Fatalf("execution cancelled (%v) while a caller still waited", err)
		default:
		}
		cancel2(errLast)
		if r := <-ch2; !errors.Is(r.Err, errLast) {
			t.Fatalf("second caller got %+v, want %v", r, errLast)
		}
		if err := <-execCause; !errors.Is(err, errLast) {
			t.Fatalf("execution cause = %v, want %v", err, errLast)
		}
	})
}

// An abandoned execution is still running when a new caller arrives: the new
// caller gets a fresh execution, started only after the abandoned one
// returned.
func TestGroupAbandonedExecutionIsNotJoined(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g coalesce.Flight[string, int]
		var running, maxRunning, runs atomic.Int32
		fn := func(ctx context.Context) (int, error) {
			n := runs.Add(1)
			if r := running.Add(1); r > maxRunning.Load() {
				maxRunning.Store(r)
			}
			defer running.Add(-1)
			if n > 1 {
				return int(n), nil
			}
			<-ctx.Done()
			time.Sleep(time.Second) // slow to notice the cancellation
			return 0, ctx.Err()
		}
		ctx1, cancel1 := context.WithCancel(context.Background())
		ch1 := g.DoChan(ctx1, "k", fn)
		synctest.Wait()
		cancel1()
		if r := <-ch1; !errors.Is(r.Err, context.Canceled) {
			t.Fatalf("first caller got %+v, want context.Canceled", r)
		}

		start := time.Now()
		v, err := g.Do(context.Background(), "k", fn)
		if v != 2 || err != nil {
			t.Fatalf("second caller: Do = %d, %v, want 2, nil from a fresh execution", v, err)
		}
		if got := time.Since(start); got != time.Second {
			t.Fatalf("second caller returned after %v, want 1s (when the abandoned execution returned)", got)
		}
		if got := maxRunning.Load(); got != 1 {
			t.Fatalf("%d executions of one key ran at once, want 1", got)
		}
	})
}

// All callers leave before the execution's goroutine gets to run fn: fn is
// never called.
func TestGroupExecutionSkippedWhenAbandonedBeforeStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g coalesce.Flight[string, int]
		called := false
		block := make(chan struct{})
		// The first execution holds the key; the second queues behind it.
		ctx1, cancel1 := context.WithCancel(context.Background())
		g.DoChan(ctx1, "k", func(ctx context.Context) (int, error) {
			<-block
			return 0, nil
		})
		synctest.Wait()
		cancel1()
		synctest.Wait()
		ctx2, cancel2 := context.WithCancel(context.Background())
		ch2 := g.DoChan(ctx2, "k", func(ctx context.Context) (int, error) {
			called = true
			return 1, nil
		})
		synctest.Wait()
		cancel2()
		<-ch2
		close(block)
		synctest.Wait()
		if called {
			t.Fatal("fn ran although every caller had left before it started")
		}
	})
}

func TestGroupPanicReachesEveryWaiterAndDoesNotPoisonKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g coalesce.Flight[string, int]
		release := make(chan struct{})
		panicking := func(context.Context) (int, error) {
			<-release
			panic("boom")
		}
		const callers = 3
		errs := make(chan error, callers)
		for i := range callers {
			ctx := context.Background()
			if i > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
			}
			go func() {
				_, err := g.Do(ctx, "k", panicking)
				errs <- err
			}()
			synctest.Wait()
		}
		close(release)
		for range callers {
			var pe *weft.PanicError
			if err := <-errs; !errors.As(err, &pe) || pe.Value != "boom" {
				t.Fatalf("waiter got %v, want *weft.PanicError(boom)", err)
			}
		}
		v, err := g.Do(context.Background(), "k", func(context.Context) (int, error) { return 1, nil })
		if v != 1 || err != nil {
			t.Fatalf("Do after a panic = %d, %v, want 1, nil", v, err)
		}
	})
}

func TestGroupGoexitDoesNotHangWaiters(t *testing.T) {
	for _, name := range []string{"inline", "goroutine"} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var g coalesce.Flight[string, int]
				release := make(chan struct{})
				fn := func(context.Context) (int, error) {
					<-release
					runtime.Goexit()
					return 0, nil
				}
				ctx := context.Background()
				if name == "goroutine" {
					var cancel context.CancelFunc
					ctx, cancel = context.WithCancel(ctx)
					defer cancel()
				}
				starterExited := make(chan struct{})
				go func() {
					defer close(starterExited)
					g.Do(ctx, "k", fn)
				}()
				synctest.Wait()
				joiner := g.DoChan(context.Background(), "k", fn)
				close(release)
				if r := <-joiner; !errors.Is(r.Err, weft.ErrGoexit) {
					t.Fatalf("joiner got %+v, want weft.ErrGoexit", r)
				}
				<-starterExited
			})
		})
	}
}

func TestGroupForget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g coalesce.Flight[string, string]
		release := make(chan struct{})
		old := g.DoChan(context.Background(), "k", func(context.Context) (string, error) {
			<-release
			return "old", nil
		})
		synctest.Wait()
		g.Forget("k")
		g.Forget("never-used")
		v, err := g.Do(context.Background(), "k", func(context.Context) (string, error) { return "new", nil })
		if v != "new" || err != nil {
			t.Fatalf("Do after Forget = %q, %v, want new, nil", v, err)
		}
		close(release)
		if r := <-old; r.Value != "old" || r.Err != nil {
			t.Fatalf("forgotten execution's caller got %+v, want old", r)
		}
	})
}

func TestGroupCancelledContextDoesNotRun(t *testing.T) {
	var g coalesce.Flight[string, int]
	ctx, cancel := context.WithCancelCause(context.Background())
	errGone := errors.New("gone")
	cancel(errGone)
	fn := func(context.Context) (int, error) {
		t.Error("fn called with a done context")
		return 0, nil
	}
	if _, err := g.Do(ctx, "k", fn); !errors.Is(err, errGone) {
		t.Fatalf("Do(done ctx) = %v, want %v", err, errGone)
	}
	if r := <-g.DoChan(ctx, "k", fn); !errors.Is(r.Err, errGone) {
		t.Fatalf("DoChan(done ctx) = %+v, want %v", r, errGone)
	}
}

// A caller whose context ends at the moment the result arrives gets one or
// the other, and a DoChan channel receives exactly one Result.
func TestGroupResultAndCancelRace(t *testing.T) {
	var g coalesce.Flight[int, int]
	for i := range 200 {
		ctx, cancel := context.WithCancel(context.Background())
		release := make(chan struct{})
		ch := g.DoChan(ctx, i, func(context.Context) (int, error) {
			<-release
			return 1, nil
		})
		var wg sync.WaitGroup
		wg.Go(cancel)
		wg.Go(func() { close(release) })
		wg.Wait()
		r := <-ch
		if r.Err == nil && r.Value != 1 || r.Err != nil && !errors.Is(r.Err, context.Canceled) {
			t.Fatalf("DoChan = %+v, want the value or context.Canceled", r)
		}
		select {
		case extra := <-ch:
			t.Fatalf("second Result on the channel: %+v", extra)
		default:
		}
	}
}

// A key that cannot be hashed panics, as a map key would, and leaves the
// Group usable for every other key.
func TestGroupUnhashableKeyPanicsAndLeavesTheGroupUsable(t *testing.T) {
	var g coalesce.Flight[any, int]
	one := func(context.Context) (int, error) { return 1, nil }
	for name, call := range map[string]func(){
		"Do":     func() { g.Do(context.Background(), []int{1}, one) },
		"DoChan": func() { g.DoChan(context.Background(), []int{1}, one) },
		"Forget": func() { g.Forget([]int{1}) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s with a slice key did not panic", name)
				}
			}()
			call()
		}()
		if v, err := g.Do(context.Background(), "ok", one); v != 1 || err != nil {
			t.Fatalf("after %s: Do = %v, %v; want 1, nil", name, v, err)
		}
	}
}
