package pool_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/pool"
	"github.com/weftgo/weft/retry"
)

// With Repanic a task's panic reaches the caller of Wait, once every task
// has finished, with the stack of the goroutine that panicked.
func ExampleRepanic() {
	p := pool.New(context.Background(), 2, pool.Repanic(true))
	p.Go(func(context.Context) error { panic("bad input") })
	p.Go(func(context.Context) error { return nil })
	defer func() {
		pe := recover().(*weft.PanicError)
		fmt.Println("panic:", pe.Value)
		fmt.Println("stack kept:", len(pe.Stack) > 0)
	}()
	p.Wait()
	// Output:
	// panic: bad input
	// stack kept: true
}

// With IdleTimeout a Workers that has no jobs holds no goroutine.
func ExampleIdleTimeout() {
	ctx := context.Background()
	w := pool.NewWorkers(ctx, 4, func(context.Context, int) error { return nil },
		pool.IdleTimeout(time.Millisecond))
	for n := range 8 {
		w.Submit(ctx, n)
	}
	for w.Stats().Workers > 0 {
		time.Sleep(time.Millisecond) // the idle workers exit one by one
	}
	fmt.Println("workers while idle:", w.Stats().Workers)
	fmt.Println(w.Close(ctx))
	// Output:
	// workers while idle: 0
	// <nil>
}

// Buffer(0) gives errgroup's back-pressure: a task is accepted only by a
// free worker, and TryGo says when there is none.
func ExampleBuffer() {
	p := pool.New(context.Background(), 1, pool.Buffer(0))
	release := make(chan struct{})
	p.Go(func(context.Context) error { <-release; return nil }) // the only worker
	fmt.Println(p.TryGo(func(context.Context) error { return nil }))
	close(release)
	fmt.Println(p.Wait())
	// Output:
	// pool: queue full
	// <nil>
}

// A job that fails is retried as the policy says, without holding a worker
// while it waits.
func ExampleRetry() {
	ctx := context.Background()
	var calls atomic.Int32
	w := pool.NewWorkers(ctx, 2, func(context.Context, string) error {
		if calls.Add(1) < 3 {
			return errors.New("503 service unavailable")
		}
		return nil
	}, pool.Retry(retry.New(retry.Attempts(5), retry.Constant(time.Millisecond))))
	w.Submit(ctx, "/hook")
	fmt.Println(w.Close(ctx))
	s := w.Stats()
	fmt.Println("calls:", calls.Load(), "retried:", s.Retried, "succeeded:", s.Succeeded)
	// Output:
	// <nil>
	// calls: 3 retried: 2 succeeded: 1
}

// Jobs that did not succeed go to the dead-letter sink, with their error.
func ExampleDeadLetter() {
	ctx := context.Background()
	var dead []retry.Letter[string]
	sink := retry.DeadLetterFunc[string](func(_ context.Context, l retry.Letter[string]) error {
		dead = append(dead, l) // one worker: no lock needed
		return nil
	})
	w := pool.NewWorkers(ctx, 1, func(_ context.Context, path string) error {
		if path == "/missing" {
			return errors.New("not found")
		}
		return nil
	}, pool.DeadLetter[string](sink))
	for _, p := range []string{"/a", "/missing", "/b"} {
		w.Submit(ctx, p)
	}
	w.Close(ctx)
	for _, l := range dead {
		fmt.Println(l.Item, l.Err, l.Attempts)
	}
	fmt.Println("dead-lettered:", w.Stats().DeadLettered)
	// Output:
	// /missing not found 1
	// dead-lettered: 1
}

// A Close cut short returns every job it did not finish, to store or run
// elsewhere.
func ExampleCloseError() {
	ctx := context.Background()
	started := make(chan struct{})
	w := pool.NewWorkers(ctx, 1, func(ctx context.Context, job int) error {
		close(started)
		<-ctx.Done() // a job that runs until the pool is stopped
		return ctx.Err()
	})
	for job := 1; job <= 3; job++ {
		w.Submit(ctx, job)
	}
	<-started

	stop, cancel := context.WithCancel(ctx)
	cancel() // no time to drain
	err := w.Close(stop)
	var ce *pool.CloseError[int]
	if errors.As(err, &ce) {
		fmt.Println("unrun:", ce.Unrun, "interrupted:", ce.Interrupted)
	}
	fmt.Println(err)
	// Output:
	// unrun: [2 3] interrupted: [1]
	// pool: close: 2 jobs unrun, 1 interrupted: context canceled
}

// A PoolOption configures New and NewResultPool; options can be chosen at
// run time.
func ExamplePoolOption() {
	strict := true
	opts := []pool.PoolOption{pool.Buffer(16)}
	if strict {
		opts = append(opts, pool.FailFast(true))
	}
	p := pool.New(context.Background(), 2, opts...)
	p.Go(func(context.Context) error { return errors.New("first failure") })
	fmt.Println(p.Wait())
	// Output: first failure
}

// A WorkersOption configures NewWorkers.
func ExampleWorkersOption() {
	ctx := context.Background()
	opts := []pool.WorkersOption{pool.Buffer(64), pool.IdleTimeout(time.Minute)}
	w := pool.NewWorkers(ctx, 2, func(context.Context, int) error { return nil }, opts...)
	w.Submit(ctx, 1)
	fmt.Println(w.Close(ctx), w.Stats().Succeeded)
	// Output: <nil> 1
}

// An Option, such as Buffer, configures every constructor.
func ExampleOption() {
	ctx := context.Background()
	var buffer pool.Option = pool.Buffer(8)
	p := pool.New(ctx, 2, buffer)
	w := pool.NewWorkers(ctx, 2, func(context.Context, int) error { return nil }, buffer)
	fmt.Println(p.Wait(), w.Close(ctx))
	// Output: <nil> <nil>
}

// PropagateValues lets a job carry its submitter's context values, such as
// a request ID or a trace span, into the worker, but not its cancellation:
// the request may be over long before the job runs.
func ExamplePropagateValues() {
	type requestID struct{}
	ctx := context.Background()
	done := make(chan struct{})
	w := pool.NewWorkers(ctx, 1, func(ctx context.Context, job string) error {
		<-done
		fmt.Println(job, "for request", ctx.Value(requestID{}), "- canceled:", ctx.Err() != nil)
		return nil
	}, pool.PropagateValues(true))

	req, cancel := context.WithCancel(context.WithValue(ctx, requestID{}, "r-42"))
	w.Submit(req, "resize image")
	cancel() // the request ends; its job goes on
	close(done)
	w.Close(ctx)
	// Output: resize image for request r-42 - canceled: false
}

// OnEvent sees every step of every job: for metrics, logs or traces.
func ExampleOnEvent() {
	ctx := context.Background()
	w := pool.NewWorkers(ctx, 1, func(ctx context.Context, n int) error {
		if n < 0 {
			return errors.New("negative")
		}
		return nil
	}, pool.OnEvent(func(ctx context.Context, e pool.Event[int]) context.Context {
		if e.Kind == pool.Ended {
			fmt.Println("job", e.Job, e.Outcome, e.Err)
		}
		return ctx
	}))
	w.Submit(ctx, 1)
	w.Submit(ctx, -1)
	w.Close(ctx)
	// Output:
	// job 1 succeeded <nil>
	// job -1 failed negative
}
