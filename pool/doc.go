// Package pool runs work on a bounded number of goroutines: a [Pool] of
// tasks that returns their errors, a [ResultPool] that also returns their
// values in order, [Map] over a slice, and [Workers], a long-lived typed
// worker pool behind a bounded job queue, with retries and dead letters.
// All of them bound their goroutines, wait with a context, lose nothing,
// count everything, and return panics as errors.
//
//	p := pool.New(ctx, 8)
//	for _, f := range files {
//		if err := p.Go(func(ctx context.Context) error { return upload(ctx, f) }); err != nil {
//			break // ctx is done; Wait reports it too
//		}
//	}
//	err := p.Wait() // every upload's error, joined
//
// # Which one?
//
//	Need                                               Use
//	-------------------------------------------------  -----------------------------------
//	run a batch of tasks, at most n at once, errors    Pool (New, Go, Wait)
//	the same, and each task's value, in order          ResultPool (NewResultPool)
//	f over every item of a slice you already have      Map
//	a service's consumer: jobs arrive for hours,       Workers (NewWorkers, Submit, Close)
//	  a queue, retries, dead letters, metrics
//	a few goroutines, no limit, no reuse               golang.org/x/sync/errgroup
//
// A Pool does errgroup.Group's job, with a limit: its workers are reused
// rather than started per task, Go stops waiting when the pool's context is
// done (and [Pool.GoContext] when the caller's is), panics are returned,
// not lost, and [Pool.Stats] counts every task. errgroup costs less for a
// handful of goroutines without a limit. Map is faster than a Pool or
// ResultPool for a slice, since it needs no closure, channel operation or
// result slot per item. Workers is for work that never "finishes": it has a
// queue, [Workers.Resize], an [IdleTimeout], retries with [Retry] and a
// [DeadLetter] sink, and [Workers.Close] returns the jobs it could not
// run.
//
// # Goroutines
//
// Nothing starts a goroutine until work arrives, and every goroutine has an
// owner that joins it. A Pool or ResultPool starts workers as tasks come, up to
// its limit, and they exit when [Pool.Wait] has seen every task finish:
// Wait returns only after the last one has exited. Map starts its
// goroutines and joins them before it returns. A Workers starts workers as
// jobs come and keeps them until [Workers.Close] (or their [IdleTimeout]);
// Close returns only after the last one has exited, and must be called,
// even after the Workers' context is done. Timers waiting to retry jobs are
// stopped, or waited for, by Close.
//
// # Panics
//
// A panic in a task, a job's handler, Map's function, a retry policy's hook,
// a dead-letter sink or an OnDone hook is recovered on the worker, which
// goes on with its next task. The panic becomes a *weft.PanicError that
// holds the value and the stack where it happened, and takes the path the
// function's error would have taken: into Wait's error for Pool and
// ResultPool, Map's error, and a job's error path for Workers (its dead
// letter, the OnDone hook, and [Stats.Panicked]), where a panic in a retry
// hook ends the job's retries. A panic in a sink refuses the letter, which
// Close returns among the undelivered with the panic in its Err; a panic in
// an OnDone hook is returned by Close, in [CloseError]'s Panics. Either way
// the job itself is counted by its own outcome. A Workers keeps the first 64
// of each for Close and counts the rest, so that what it keeps does not
// grow with the jobs it runs.
//
// Only a panic recovered on the pool's own goroutine is a panic: a function
// that returns a *weft.PanicError (a nested pool's, say) or weft.ErrGoexit
// has failed like any other, is retried, and does not make Wait re-panic.
//
// The reason is the goroutine: a panic on a worker the caller cannot see
// would crash the process from a place that has nothing to do with the
// caller's code, and re-panicking it elsewhere would lose the worker's
// stack. As an error, the caller decides, and the stack is kept in the
// error. Where a panic must still end the program, [Repanic] makes Wait
// panic with the *weft.PanicError once every task has finished.
//
// A function that calls runtime.Goexit (as t.FailNow does in a test) ends
// its worker goroutine; its task or job fails with weft.ErrGoexit, a new
// worker takes the old one's place when there is work for it, and Wait and
// Close return as usual. The same holds for a retry hook or a dead-letter
// sink that calls it: the job is still counted, and its letter kept among
// the undelivered.
//
// # Cancellation
//
// Once the pool's context is done, Go and Submit return its
// [context.Cause] and take nothing more. Every task a Pool or ResultPool has
// accepted still runs, as errgroup runs every function its Go accepted,
// and sees its context done, so it is expected to return at once; Wait
// reports the Go calls that were refused, by the reason, so code that
// ignores Go's error loses nothing without a word. A Workers starts no job
// once its context is done, and keeps its queued jobs for Close to return.
//
// Sizes are checked when the pool is made: a limit or a Workers' queue of
// math.MaxInt means no bound, and memory grows with the work, not with the
// limit.
//
// # Rules
//
//   - Wait may be called more than once, and returns the same result each
//     time; Go after Wait returns [ErrClosed]. Tasks may call Go while Wait
//     waits.
//   - Close may be called more than once, from any goroutine: every call
//     waits for the pool to stop, the first returns the [CloseError], the
//     others [ErrClosed]. Submit after Close returns ErrClosed.
//   - TryGo and TrySubmit never block, so a task may call them on its own
//     pool. Go and Submit from a task may wait for a worker, and deadlock if
//     every worker does that at once: from a task, use the Try forms, or
//     leave room.
//   - [Stats] obeys one conservation law at every instant: what was
//     submitted has succeeded, failed, panicked, been canceled,
//     dead-lettered or refused, or is queued, running or waiting to retry.
//   - A Pool, ResultPool or Workers must not be copied; all their methods are
//     safe for concurrent use.
//
// # Cost
//
// Medians measured on a shared 2-core machine, with as many workers as
// cores (bench_test.go has the benchmarks and the hand-written floors they
// are compared with):
//
//	Pool.Go, a task that does nothing        150ns, 0 allocations    hand-written channel pool 170-200ns
//	  the same with a closure and FailFast   200ns, 1 allocation     errgroup with SetLimit 860ns
//	TryGo on a full pool                     17ns, 0 allocations
//	ResultPool, per task, in order              190ns                   unordered, under a mutex 200ns
//	Map, per item, at zero work              8ns                     atomic index per item 30-70ns
//	Workers, per job through Submit          270ns, 0 allocations
//	idle Workers worker                      its goroutine, and 400 bytes of heap
//
// The repository's docs/benchmarks.md sets Pool and Workers beside
// errgroup, ants, pond and conc on batches of 10,000 tasks, with 4 and 64
// workers.
//
// The hand-written pool gives its channel room for one task per worker; a
// Pool's default room of 64 (see [Buffer]) is where it gains, by
// switching goroutines less often. The cost of a Pool is mostly the
// runtime's: handing a task to a goroutine over a channel, and waking one
// that waits. A task that does any work makes it negligible; a task of a
// few nanoseconds is better batched, or given to Map.
package pool
