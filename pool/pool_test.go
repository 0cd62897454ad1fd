package pool_test

import (
	"context"
	"errors"
	"fmt"
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

func TestPoolRunsEveryTaskOnce(t *testing.T) {
	for _, workers := range []int{1, 2, 7} {
		p := pool.New(context.Background(), workers)
		const n = 500
		var runs [n]atomic.Int32
		for i := range n {
			if err := p.Go(func(context.Context) error { runs[i].Add(1); return nil }); err != nil {
				t.Fatalf("Go = %v", err)
			}
		}
		if err := p.Wait(); err != nil {
			t.Fatalf("Wait = %v", err)
		}
		for i := range runs {
			if got := runs[i].Load(); got != 1 {
				t.Fatalf("workers %d: task %d ran %d times, want 1", workers, i, got)
			}
		}
		s := p.Stats()
		checkLaw(t, s)
		if s.Submitted != n || s.Succeeded != n || s.Running != 0 || s.Queued != 0 || s.Workers != 0 {
			t.Fatalf("Stats after Wait = %s, workers %d", stats(s), s.Workers)
		}
		noLeftover(t)
	}
}

// No more than the limit run at once, and no more goroutines than the limit
// are started while tasks keep coming.
func TestPoolLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const workers = 3
		p := pool.New(context.Background(), workers)
		var h highWater
		for range 40 {
			err := p.Go(func(context.Context) error {
				h.enter()
				defer h.leave()
				time.Sleep(time.Millisecond)
				return nil
			})
			if err != nil {
				t.Fatalf("Go = %v", err)
			}
			if w := p.Stats().Workers; w > workers {
				t.Fatalf("Stats.Workers = %d, limit %d", w, workers)
			}
		}
		if err := p.Wait(); err != nil {
			t.Fatalf("Wait = %v", err)
		}
		if got := h.peak(); got != workers {
			t.Fatalf("peak concurrency = %d, want %d", got, workers)
		}
	})
}

// Go blocks while every worker is busy and the channel is full, and returns
// as soon as a worker takes a task.
func TestPoolGoBlocksWhileFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(context.Background(), 1, pool.Buffer(1))
		release := make(chan struct{})
		block := func(context.Context) error { <-release; return nil }
		for range 2 { // the worker and the one place in the channel
			if err := p.Go(block); err != nil {
				t.Fatalf("Go = %v", err)
			}
		}
		returned := make(chan error, 1)
		go func() { returned <- p.Go(block) }()
		synctest.Wait()
		select {
		case err := <-returned:
			t.Fatalf("Go on a full pool returned %v without waiting", err)
		default:
		}
		if s := p.Stats(); s.Queued != 2 || s.Running != 1 {
			t.Fatalf("Stats with one running and two waiting = %s", stats(s))
		}
		release <- struct{}{}
		if err := <-returned; err != nil {
			t.Fatalf("Go after a worker freed up = %v", err)
		}
		close(release)
		if err := p.Wait(); err != nil {
			t.Fatalf("Wait = %v", err)
		}
	})
}

// By default the channel has room for 64 tasks: so many are
// accepted while every worker is busy, and no more.
func TestPoolDefaultQueue(t *testing.T) {
	for _, workers := range []int{1, 2, 100} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := pool.New(context.Background(), workers)
				release := make(chan struct{})
				block := func(context.Context) error { <-release; return nil }
				room := 64 // whatever the limit: memory grows with tasks, not with the limit
				for i := range workers + room {
					if err := p.TryGo(block); err != nil {
						t.Fatalf("TryGo %d of %d workers and %d places = %v", i, workers, room, err)
					}
				}
				if err := p.TryGo(block); !errors.Is(err, pool.ErrFull) {
					t.Fatalf("TryGo with every worker busy and every place taken = %v, want ErrFull", err)
				}
				synctest.Wait() // the workers have started their tasks
				if s := p.Stats(); s.Running != uint64(workers) || s.Queued != uint64(room) {
					t.Fatalf("Stats = %s, want %d running and %d queued", stats(s), workers, room)
				}
				close(release)
				if err := p.Wait(); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// With Buffer(0) a task never waits in the channel: Go waits until a
// worker takes it, as errgroup's Go waits for a free goroutine, and TryGo
// succeeds only when a worker is idle.
func TestPoolNoQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(context.Background(), 1, pool.Buffer(0))
		release := make(chan struct{})
		block := func(context.Context) error { <-release; return nil }
		if err := p.Go(block); err != nil {
			t.Fatal(err)
		}
		if err := p.TryGo(nop); !errors.Is(err, pool.ErrFull) {
			t.Fatalf("TryGo with the only worker busy and no queue = %v, want ErrFull", err)
		}
		returned := make(chan error, 1)
		go func() { returned <- p.Go(block) }()
		synctest.Wait()
		select {
		case err := <-returned:
			t.Fatalf("Go with the only worker busy and no queue returned %v without waiting", err)
		default:
		}
		release <- struct{}{} // the first task ends; the worker takes the second
		if err := <-returned; err != nil {
			t.Fatalf("Go once the worker was free = %v", err)
		}
		release <- struct{}{}
		synctest.Wait() // the worker waits for a task
		if err := p.TryGo(nop); err != nil {
			t.Fatalf("TryGo with the worker idle = %v", err)
		}
		if err := p.Wait(); err != nil {
			t.Fatal(err)
		}
		if s := p.Stats(); s.Succeeded != 3 || s.Rejected != 1 {
			t.Fatalf("Stats = %s", stats(s))
		}
	})
}

func TestPoolJoinsEveryError(t *testing.T) {
	p := pool.New(context.Background(), 4)
	errs := []error{errors.New("a"), errors.New("b"), errors.New("c")}
	for _, e := range errs {
		p.Go(func(context.Context) error { return e })
	}
	for range 10 {
		p.Go(func(context.Context) error { return nil })
	}
	err := p.Wait()
	for _, e := range errs {
		if !errors.Is(err, e) {
			t.Fatalf("Wait = %v, does not hold %v", err, e)
		}
	}
	if s := p.Stats(); s.Failed != 3 || s.Succeeded != 10 {
		t.Fatalf("Stats = %s", stats(s))
	}
}

// A single error comes back as it is, not wrapped in a join.
func TestPoolSingleErrorUnwrapped(t *testing.T) {
	p := pool.New(context.Background(), 2)
	p.Go(func(context.Context) error { return errBoom })
	if err := p.Wait(); err != errBoom {
		t.Fatalf("Wait = %#v, want errBoom itself", err)
	}
}

func TestPoolFailFast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(context.Background(), 2, pool.FailFast(true))
		var sawCause atomic.Bool
		started := make(chan struct{})
		p.Go(func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			sawCause.Store(context.Cause(ctx) == errBoom)
			return ctx.Err()
		})
		<-started
		p.Go(func(context.Context) error { return errBoom })
		synctest.Wait()
		// The pool's context is done: Go refuses with its cause, and the
		// task does not run.
		ran := false
		if err := p.Go(func(context.Context) error { ran = true; return nil }); err != errBoom {
			t.Fatalf("Go after the first error = %v, want errBoom", err)
		}
		if err := p.Wait(); fmt.Sprint(err) != "boom\npool: 1 task refused: boom" {
			t.Fatalf("Wait = %v, want errBoom, and the task it made Go refuse", err)
		}
		if ran {
			t.Fatal("a task ran after the pool failed")
		}
		if !sawCause.Load() {
			t.Fatal("the running task did not see errBoom as its context's cause")
		}
		s := p.Stats()
		checkLaw(t, s)
		if s.Failed != 2 || s.Rejected != 1 {
			t.Fatalf("Stats = %s", stats(s))
		}
	})
}

// With FailFast, panics are reported even after the first error.
func TestPoolFailFastKeepsPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(context.Background(), 2, pool.FailFast(true))
		gate := make(chan struct{})
		p.Go(func(context.Context) error { <-gate; panic("late") })
		synctest.Wait() // started before the error, so it runs to its panic
		p.Go(func(context.Context) error { return errBoom })
		synctest.Wait()
		close(gate)
		err := p.Wait()
		if !errors.Is(err, errBoom) || !isPanic(err, "late") {
			t.Fatalf("Wait = %v, want errBoom and the panic", err)
		}
	})
}

func TestPoolPanicIsAnErrorAndTheWorkerSurvives(t *testing.T) {
	p := pool.New(context.Background(), 1)
	p.Go(func(context.Context) error { panic("kaput") })
	var after atomic.Int32
	for range 5 {
		p.Go(func(context.Context) error { after.Add(1); return nil })
	}
	err := p.Wait()
	var pe *weft.PanicError
	if !errors.As(err, &pe) || pe.Value != "kaput" {
		t.Fatalf("Wait = %v, want a *weft.PanicError with value kaput", err)
	}
	if !strings.Contains(string(pe.Stack), "pool_test.TestPoolPanicIsAnErrorAndTheWorkerSurvives") {
		t.Fatalf("the panic's stack does not show the task:\n%s", pe.Stack)
	}
	if after.Load() != 5 {
		t.Fatalf("%d tasks ran after the panic, want 5", after.Load())
	}
	if s := p.Stats(); s.Panicked != 1 || s.Succeeded != 5 {
		t.Fatalf("Stats = %s", stats(s))
	}
}

func TestPoolRepanic(t *testing.T) {
	p := pool.New(context.Background(), 2, pool.Repanic(true))
	p.Go(func(context.Context) error { panic("again") })
	got := mustPanic(t, func() { p.Wait() })
	if got != "weft: panic: again" {
		t.Fatalf("Wait panicked with %q", got)
	}
	noLeftover(t)
}

// Repanic does nothing when no task panicked.
func TestPoolRepanicWithoutPanic(t *testing.T) {
	p := pool.New(context.Background(), 2, pool.Repanic(true))
	p.Go(func(context.Context) error { return errBoom })
	if err := p.Wait(); err != errBoom {
		t.Fatalf("Wait = %v", err)
	}
}

func TestPoolGoAfterWait(t *testing.T) {
	p := pool.New(context.Background(), 2)
	p.Go(func(context.Context) error { return nil })
	if err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := p.Go(func(context.Context) error { t.Error("ran after Wait"); return nil }); !errors.Is(err, pool.ErrClosed) {
		t.Fatalf("Go after Wait = %v, want ErrClosed", err)
	}
	if err := p.TryGo(func(context.Context) error { t.Error("ran after Wait"); return nil }); !errors.Is(err, pool.ErrClosed) {
		t.Fatalf("TryGo after Wait = %v, want ErrClosed", err)
	}
	if err := p.Wait(); err != nil {
		t.Fatalf("second Wait = %v, want the first's nil", err)
	}
	if s := p.Stats(); s.Rejected != 2 {
		t.Fatalf("Stats = %s", stats(s))
	}
}

// Every Wait gets the same result, including concurrent ones.
func TestPoolWaitTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(context.Background(), 1)
		release := make(chan struct{})
		p.Go(func(context.Context) error { <-release; return errBoom })
		second := make(chan error, 1)
		go func() { second <- p.Wait() }()
		synctest.Wait()
		close(release)
		if err := p.Wait(); err != errBoom {
			t.Fatalf("Wait = %v", err)
		}
		if err := <-second; err != errBoom {
			t.Fatalf("concurrent Wait = %v", err)
		}
	})
}

func TestPoolWaitWithNoTasks(t *testing.T) {
	p := pool.New(context.Background(), 3)
	if err := p.Wait(); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	if s := p.Stats(); s != (pool.Stats{}) {
		t.Fatalf("Stats = %+v", s)
	}
}

// Wait cancels the pool's context, so goroutines that tasks left behind
// see it end.
func TestPoolWaitCancelsContext(t *testing.T) {
	p := pool.New(context.Background(), 1)
	var taskCtx context.Context
	p.Go(func(ctx context.Context) error { taskCtx = ctx; return nil })
	p.Wait()
	if taskCtx.Err() == nil {
		t.Fatal("the pool's context is not done after Wait")
	}
}

// A task waiting in the channel as the context ends still runs, as every
// task Go accepted does, and sees the context done.
func TestPoolTasksInTheChannelRunAfterCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		p := pool.New(ctx, 1)
		release := make(chan struct{})
		var sawCause atomic.Bool
		p.Go(func(ctx context.Context) error { <-release; return nil })
		p.Go(func(ctx context.Context) error { sawCause.Store(context.Cause(ctx) != nil); return context.Cause(ctx) })
		synctest.Wait()
		cause := errors.New("shutting down")
		cancel(cause)
		close(release)
		err := p.Wait()
		if err != cause {
			t.Fatalf("Wait = %v, want the cause the second task returned", err)
		}
		if !sawCause.Load() {
			t.Fatal("the task in the channel did not run with its context done")
		}
		s := p.Stats()
		checkLaw(t, s)
		if s.Canceled != 0 || s.Succeeded != 1 || s.Failed != 1 {
			t.Fatalf("Stats = %s", stats(s))
		}
	})
}

// A task may call Go while Wait waits, and Wait waits for the new task too.
func TestPoolGoFromATaskDuringWait(t *testing.T) {
	p := pool.New(context.Background(), 2)
	var count atomic.Int32
	var spawn func(depth int) func(context.Context) error
	spawn = func(depth int) func(context.Context) error {
		return func(context.Context) error {
			count.Add(1)
			if depth == 0 {
				return nil
			}
			// TryGo, falling back to running inline: never blocks a worker.
			for range 2 {
				if f := spawn(depth - 1); p.TryGo(f) != nil {
					f(context.Background())
				}
			}
			return nil
		}
	}
	p.Go(spawn(6))
	if err := p.Wait(); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	if got := count.Load(); got != 127 {
		t.Fatalf("%d tasks ran, want 127", got)
	}
}

func TestPoolTryGo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(context.Background(), 2, pool.Buffer(2))
		release := make(chan struct{})
		block := func(context.Context) error { <-release; return nil }
		for i := range 4 {
			if err := p.TryGo(block); err != nil {
				t.Fatalf("TryGo %d on a pool with room = %v", i, err)
			}
		}
		if err := p.TryGo(block); !errors.Is(err, pool.ErrFull) {
			t.Fatalf("TryGo on a full pool = %v, want ErrFull", err)
		}
		s := p.Stats()
		checkLaw(t, s)
		if s.Rejected != 1 || s.Submitted != 5 {
			t.Fatalf("Stats = %s", stats(s))
		}
		close(release)
		if err := p.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

// GoContext gives up when the caller's context ends, and the pool goes on.
func TestPoolGoContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(context.Background(), 1, pool.Buffer(1))
		release := make(chan struct{})
		block := func(context.Context) error { <-release; return nil }
		p.Go(block)
		p.Go(block)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		err := p.GoContext(ctx, func(context.Context) error { t.Error("ran after GoContext gave up"); return nil })
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != time.Second {
			t.Fatalf("GoContext = %v after %v, want DeadlineExceeded after 1s", err, time.Since(start))
		}
		if err := p.GoContext(ctx, block); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("GoContext with a done context = %v", err)
		}
		close(release)
		if err := p.GoContext(context.Background(), block); err != nil {
			t.Fatalf("GoContext with room = %v", err)
		}
		if err := p.Wait(); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v, want the refusals reported", err)
		}
		if s := p.Stats(); s.Rejected != 2 || s.Succeeded != 3 {
			t.Fatalf("Stats = %s", stats(s))
		}
	})
}

func TestPoolGoexit(t *testing.T) {
	p := pool.New(context.Background(), 1)
	p.Go(func(context.Context) error { runtime.Goexit(); return nil })
	var after atomic.Int32
	for range 3 {
		p.Go(func(context.Context) error { after.Add(1); return nil })
	}
	if err := p.Wait(); err != weft.ErrGoexit {
		t.Fatalf("Wait = %v, want weft.ErrGoexit", err)
	}
	if after.Load() != 3 {
		t.Fatalf("%d tasks ran after the Goexit, want 3", after.Load())
	}
	if s := p.Stats(); s.Failed != 1 || s.Succeeded != 3 {
		t.Fatalf("Stats = %s", stats(s))
	}
	noLeftover(t)
}

func TestPoolMisuse(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"zero workers", func() { pool.New(ctx, 0) }, "pool: New(workers=0): need at least one worker"},
		{"negative workers", func() { pool.NewResultPool[int](ctx, -1) }, "pool: NewResultPool(workers=-1)"},
		{"nil context", func() { pool.New(noContext, 1) }, "pool: New: nil Context"},
		{"nil option", func() { pool.New(ctx, 1, nil) }, "pool: New: nil option"},
		{"nil ResultPool option", func() { pool.NewResultPool[int](ctx, 1, nil) }, "pool: NewResultPool: nil option"},
		{"negative queue", func() { pool.New(ctx, 1, pool.Buffer(-1)) }, "pool: Buffer(-1): negative buffer size"},
		{"huge queue", func() { pool.NewResultPool[int](ctx, 1, pool.Buffer(1<<62)) }, "pool: NewResultPool: Buffer(4611686018427387904): a ResultPool allocates its queue up front, and takes at most 65536"},
		{"nil Go", func() { pool.New(ctx, 1).Go(nil) }, "pool: Pool.Go(nil)"},
		{"nil GoContext", func() { pool.New(ctx, 1).GoContext(ctx, nil) }, "pool: Pool.GoContext(nil)"},
		{"nil GoContext ctx", func() { pool.New(ctx, 1).GoContext(noContext, func(context.Context) error { return nil }) }, "pool: Pool.GoContext: nil Context"},
		{"nil TryGo", func() { pool.New(ctx, 1).TryGo(nil) }, "pool: Pool.TryGo(nil)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustPanic(t, tt.f); !strings.HasPrefix(got, tt.want) {
				t.Fatalf("panic %q, want it to start with %q", got, tt.want)
			}
		})
	}
}

// With FailFast, a pool ended by its parent context before any task failed
// reports the Go calls it refused by the parent's cause, even when a running
// task then returns its context's error, which comes first; the tasks it
// had accepted all run.
func TestPoolFailFastParentCause(t *testing.T) {
	cause := errors.New("shutting down")
	parent, cancel := context.WithCancelCause(context.Background())
	p := pool.New(parent, 1, pool.FailFast(true), pool.Buffer(3))
	started := make(chan struct{})
	p.Go(func(ctx context.Context) error { close(started); <-ctx.Done(); return ctx.Err() })
	<-started
	for range 3 {
		p.Go(func(context.Context) error { return nil }) // waits in the channel
	}
	cancel(cause)
	if err := p.Go(nop); err != cause {
		t.Fatalf("Go after the parent's cancellation = %v, want its cause", err)
	}
	err := p.Wait()
	if s := p.Stats(); s.Succeeded != 3 || !errors.Is(err, cause) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v with Stats %s; want 3 tasks run, and the refusal reported by the parent's cause", err, stats(s))
	}
}

// errList is an error of a type that cannot be compared with ==.
type errList []error

func (e errList) Error() string { return fmt.Sprint([]error(e)) }

// With FailFast, a first error of a type == cannot compare is returned, not
// a runtime panic in Wait.
func TestPoolFailFastUncomparableError(t *testing.T) {
	p := pool.New(context.Background(), 1, pool.FailFast(true), pool.Buffer(1))
	release := make(chan struct{})
	first := errList{errors.New("invalid field")}
	p.Go(func(context.Context) error { <-release; return first })
	p.Go(func(context.Context) error { return nil }) // queued; runs after the failure
	close(release)
	var got errList
	if err := p.Wait(); !errors.As(err, &got) || len(got) != 1 {
		t.Fatalf("Wait = %v, want the first error", err)
	}
}

// The errors of ResultPool come back in submission order; Pool keeps the
// order of failure. Both hold every error.
func TestPoolErrorsInFailureOrder(t *testing.T) {
	p := pool.New(context.Background(), 1)
	var want []error
	for i := range 5 {
		e := errors.New(string(rune('a' + i)))
		want = append(want, e)
		p.Go(func(context.Context) error { return e })
	}
	err := p.Wait()
	got := err.(interface{ Unwrap() []error }).Unwrap()
	if !slices.Equal(got, want) {
		t.Fatalf("Wait = %v, want the errors in the order the tasks failed: %v", got, want)
	}
}

// A worker that a task ends with runtime.Goexit is replaced at once, so the
// tasks waiting in the channel behind it run even while every other worker
// is busy.
func TestPoolGoexitWorkerReplaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New(context.Background(), 2)
		releaseA, releaseB := make(chan struct{}), make(chan struct{})
		p.Go(func(context.Context) error { <-releaseA; return nil })
		p.Go(func(context.Context) error { <-releaseB; return nil })
		p.Go(func(context.Context) error { runtime.Goexit(); return nil })
		ran := make(chan struct{})
		p.Go(func(context.Context) error { close(ran); return nil })
		synctest.Wait()
		close(releaseA) // its worker takes the Goexit task next, and dies
		synctest.Wait()
		select {
		case <-ran:
		default:
			t.Fatalf("the task behind the Goexit did not run while the other worker was busy: %s", stats(p.Stats()))
		}
		if s := p.Stats(); s.Workers != 2 {
			t.Fatalf("Stats.Workers = %d after the Goexit, want 2", s.Workers)
		}
		close(releaseB)
		if err := p.Wait(); err != weft.ErrGoexit {
			t.Fatalf("Wait = %v", err)
		}
	})
}

// TryGo returns the errors Go returns, and ErrFull only where Go would wait.
func TestTryGoReturnsGoErrors(t *testing.T) {
	cause := errors.New("stopped")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	p := pool.New(ctx, 1)
	if err := p.TryGo(nop); !errors.Is(err, cause) {
		t.Fatalf("Pool.TryGo on a done pool = %v, want %v", err, cause)
	}
	r := pool.NewResultPool[int](ctx, 1)
	if err := r.TryGo(func(context.Context) (int, error) { return 0, nil }); !errors.Is(err, cause) {
		t.Fatalf("ResultPool.TryGo on a done pool = %v, want %v", err, cause)
	}
	if _, err := r.Wait(); err != nil {
		t.Fatalf("ResultPool.Wait after a TryGo refusal = %v, want nil", err)
	}
	if err := r.TryGo(func(context.Context) (int, error) { return 0, nil }); !errors.Is(err, pool.ErrClosed) {
		t.Fatalf("ResultPool.TryGo after Wait = %v, want ErrClosed", err)
	}
	if err := p.Wait(); err != nil {
		t.Fatalf("Pool.Wait after a TryGo refusal = %v, want nil", err)
	}
}
