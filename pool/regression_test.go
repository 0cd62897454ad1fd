package pool_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/pool"
)

// ants#237 and conc#107 ask for a submit that stops waiting for a worker
// when the caller's context ends, without cancelling the pool. Pool.GoContext
// and Workers.Submit do that; the pool and its running tasks go on.
func TestRegressionContextAwareBlockingOnFullPool(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(context.Background(), 1, pool.Buffer(1))
		release := make(chan struct{})
		for range 2 {
			p.Go(func(ctx context.Context) error {
				select {
				case <-release:
					return nil
				case <-ctx.Done():
					return errors.New("the pool was cancelled")
				}
			})
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := p.GoContext(ctx, nop); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("GoContext on a full pool = %v, want DeadlineExceeded", err)
		}
		close(release)
		// The running tasks were not cancelled; Wait reports only the
		// task GoContext did not take.
		if err := p.Wait(); err.Error() != "pool: 1 task refused: context deadline exceeded" {
			t.Fatalf("Wait = %v: the caller's deadline reached the pool", err)
		}

		w := pool.NewWorkers(context.Background(), 1, func(context.Context, int) error { <-release; return nil }, pool.Buffer(0))
		release = make(chan struct{})
		w.Submit(context.Background(), 1)
		ctx, cancel = context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := w.Submit(ctx, 2); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Submit on a full pool = %v, want DeadlineExceeded", err)
		}
		close(release)
		if err := w.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

// A Go waiting for room in a FailFast pool must not outlive the failure
// that cancels it: the failure cancels the pool's context, the tasks that
// wait for it return, and every Go waiting for room returns the cause.
func TestRegressionFailFastGoDoesNotDeadlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(context.Background(), 10, pool.FailFast(true))
		var refused atomic.Int32
		for i := range 90 {
			err := p.Go(func(ctx context.Context) error {
				if i == 5 {
					<-time.After(time.Second) // fails once the pool is full
					return errBoom
				}
				<-ctx.Done()
				return nil
			})
			if err != nil {
				refused.Add(1)
				if err != errBoom {
					t.Fatalf("Go after the failure = %v, want errBoom", err)
				}
			}
		}
		err := p.Wait()
		if errs := err.(interface{ Unwrap() []error }).Unwrap(); len(errs) != 2 || errs[0] != errBoom || !errors.Is(errs[1], errBoom) {
			t.Fatalf("Wait = %v, want errBoom, then the refusals it caused", err)
		}
		s := p.Stats()
		checkLaw(t, s)
		if refused.Load() == 0 || s.Rejected != uint64(refused.Load()) {
			t.Fatalf("%d Go calls refused, Stats = %s", refused.Load(), stats(s))
		}
	})
}

// pond#138 (and pond#61): a context cancelled while tasks were still
// waiting for a worker left the pool hanging. Here Wait and Close return at
// once: every task a Pool accepted runs, sees its context done and returns,
// and a Workers' waiting jobs come back unrun.
func TestRegressionNoStartAfterCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		p := pool.New(ctx, 2)
		var started atomic.Int32
		task := func(ctx context.Context) error {
			started.Add(1)
			select {
			case <-time.After(time.Minute):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		submitted := make(chan int)
		go func() {
			n := 0
			for range 100 {
				if p.Go(task) != nil {
					break
				}
				n++
			}
			submitted <- n
		}()
		synctest.Wait()
		cancel()
		n := <-submitted
		start := time.Now()
		err := p.Wait()
		if time.Since(start) != 0 || !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v after %v, want context.Canceled at once", err, time.Since(start))
		}
		s := p.Stats()
		checkLaw(t, s)
		if started.Load() != int32(n) || s.Canceled != 0 || s.Failed != uint64(n) || s.Rejected != 1 {
			t.Fatalf("%d of %d accepted tasks started; Stats = %s", started.Load(), n, stats(s))
		}

		// The same for a Workers: the queued jobs come back unrun.
		ctx, cancel = context.WithCancel(context.Background())
		w := pool.NewWorkers(ctx, 1, func(ctx context.Context, j int) error {
			<-ctx.Done()
			return ctx.Err()
		}, pool.Buffer(5))
		for j := range 6 {
			w.Submit(context.Background(), j)
		}
		synctest.Wait()
		cancel()
		var ce *pool.CloseError[int]
		if err := w.Close(context.Background()); !errors.As(err, &ce) ||
			!slices.Equal(ce.Unrun, []int{1, 2, 3, 4, 5}) || !slices.Equal(ce.Interrupted, []int{0}) {
			t.Fatalf("Close = %v, want jobs 1-5 unrun and 0 interrupted", err)
		}
	})
}

// pond#135: a task that called runtime.Goexit (as testing.T.FailNow and
// gomock do) made StopAndWait hang. Here every way to join returns, with
// weft.ErrGoexit.
func TestRegressionGoexitDoesNotHangWait(t *testing.T) {
	exit := func(context.Context) error { runtime.Goexit(); return nil }

	p := pool.New(context.Background(), 2)
	for range 5 {
		p.Go(exit)
	}
	if err := p.Wait(); !errors.Is(err, weft.ErrGoexit) {
		t.Fatalf("Pool.Wait = %v", err)
	}

	r := pool.NewResultPool[int](context.Background(), 2)
	r.Go(func(ctx context.Context) (int, error) { return 0, exit(ctx) })
	if _, err := r.Wait(); err != weft.ErrGoexit {
		t.Fatalf("ResultPool.Wait = %v", err)
	}

	w := pool.NewWorkers(context.Background(), 2, func(ctx context.Context, _ int) error { return exit(ctx) })
	for j := range 5 {
		w.Submit(context.Background(), j)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatalf("Workers.Close = %v", err)
	}
	if s := w.Stats(); s.Failed != 5 {
		t.Fatalf("Workers Stats = %s", stats(s))
	}
	noLeftover(t)
}

// ants#197: a task that submits to its own full pool blocks for ever. The
// rule here: TryGo and TrySubmit never block, so a task may always call them
// and do the work itself when they refuse; Go and Submit from a task may
// wait for a worker, which never comes if every worker is doing the same.
func TestRegressionSubmitFromInsideTaskAtCapacity(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(context.Background(), 1, pool.Buffer(1))
		var inline, queued atomic.Int32
		var spawn func(depth int) func(context.Context) error
		spawn = func(depth int) func(context.Context) error {
			return func(ctx context.Context) error {
				if depth == 0 {
					return nil
				}
				for range 3 {
					f := spawn(depth - 1)
					if p.TryGo(f) == nil {
						queued.Add(1)
					} else {
						inline.Add(1)
						f(ctx)
					}
				}
				return nil
			}
		}
		p.Go(spawn(3))
		if err := p.Wait(); err != nil {
			t.Fatal(err)
		}
		if inline.Load()+queued.Load() != 3+9+27 || inline.Load() == 0 {
			t.Fatalf("%d subtasks queued and %d run inline, want 39 with some inline", queued.Load(), inline.Load())
		}

		// What the rule avoids: Go from the only worker, with the channel
		// full, waits for ever; bounded here by GoContext.
		p = pool.New(context.Background(), 1, pool.Buffer(1))
		var nested error
		p.Go(func(context.Context) error {
			p.Go(nop) // fills the one place in the channel
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			nested = p.GoContext(ctx, nop)
			return nil
		})
		if err := p.Wait(); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v, want the refused GoContext reported", err)
		}
		if !errors.Is(nested, context.DeadlineExceeded) {
			t.Fatalf("Go from the only busy worker = %v, want it to wait until its deadline", nested)
		}

		// And for a Workers: TrySubmit from a handler at capacity refuses.
		var tried error
		var w *pool.Workers[int]
		w = pool.NewWorkers(context.Background(), 1, func(_ context.Context, j int) error {
			if j == 0 {
				tried = w.TrySubmit(1)
			}
			return nil
		}, pool.Buffer(0))
		w.Submit(context.Background(), 0)
		synctest.Wait()
		if err := w.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !errors.Is(tried, pool.ErrFull) {
			t.Fatalf("TrySubmit from the only handler = %v, want ErrFull", tried)
		}
	})
}
