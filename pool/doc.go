// Package pool runs work on a bounded number of goroutines.
//
// A [Pool] runs a batch of tasks, at most n at once, and returns their
// errors; a [ResultPool] also returns their values, in order; [Map] calls a
// function on every item of a slice; [Workers] is a long-lived worker pool
// behind a bounded job queue, with retries and dead letters. For a few
// goroutines with no limit, [golang.org/x/sync/errgroup] is enough.
//
//	p := pool.New(ctx, 8)
//	for _, f := range files {
//		if err := p.Go(func(ctx context.Context) error { return upload(ctx, f) }); err != nil {
//			break // ctx is done; Wait reports it too
//		}
//	}
//	err := p.Wait() // every upload's error, joined
//
// # Rules
//
//   - Nothing starts a goroutine before work arrives, and every goroutine is
//     joined: by Wait and [Map] before they return, and by [Workers.Close],
//     which must be called even after the Workers' context is done.
//   - A panic in a task, a handler, a retry hook, a dead-letter sink or a
//     hook is recovered on the worker, which goes on, and returned as a
//     [*weft.PanicError]: in Wait's or Map's error, a job's outcome, or
//     [CloseError.Panics]. A runtime.Goexit fails the function with
//     [weft.ErrGoexit].
//   - Once the pool's context is done, a Pool or ResultPool still runs the
//     tasks it accepted, with their context done; a Workers starts no more
//     jobs, and Close returns those it did not run.
//   - TryGo and TrySubmit never block, so a task may call them on its own
//     pool; Go or Submit from every worker at once can deadlock.
//   - A limit or a Workers' [Buffer] of math.MaxInt means no bound.
//   - A Pool, ResultPool or Workers must not be copied; its methods are safe
//     for concurrent use.
//
// [Pool.Go] and [Workers.Submit] allocate nothing in the common case; see
// the [benchmark page].
//
// [benchmark page]: https://github.com/weftgo/weft/blob/main/docs/benchmarks.md
package pool
