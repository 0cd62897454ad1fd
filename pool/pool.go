package pool

import "context"

// Pool runs tasks on at most a fixed number of goroutines and collects
// their errors: errgroup.Group with a limit, workers that are reused, a Go
// that stops waiting when the pool's context is done, and panics returned
// as errors.
//
// Create one with [New], start tasks with [Pool.Go], and call [Pool.Wait]
// once all are started:
//
//	p := pool.New(ctx, 8)
//	for _, u := range urls {
//		if err := p.Go(func(ctx context.Context) error { return fetch(ctx, u) }); err != nil {
//			break // the pool's context is done
//		}
//	}
//	err := p.Wait()
//
// # Tasks and workers
//
// While fewer workers run than the limit, Go starts a new worker goroutine
// with its task. After that it puts the task in a channel, which the first
// worker to finish takes, and blocks while that channel is full. A task
// thus waits only while every worker is busy, and a Pool of n workers
// starts n goroutines over its life, reused task after task (more only
// when a task ends its worker with runtime.Goexit and another takes its
// place).
//
// The channel has room for 64 tasks, whatever n is, unless [Buffer]
// says otherwise. The room is what makes small tasks cheap: the caller of
// Go and the workers each run through many tasks per goroutine switch
// instead of handing tasks over one at a time. Buffer(0) gives
// errgroup's back-pressure instead, where Go returns only once a worker has
// the task. Every task gets the pool's context, which is derived from the
// one given to New and is cancelled by FailFast's first error and when
// Wait returns.
//
// # Errors and cancellation
//
// Wait returns every task's error joined with [errors.Join], in the order
// the tasks failed, or with [FailFast] the first error only (but never
// without the panics). Every task Go accepted runs, even if the pool's
// context ends before a worker takes it: it then sees the context done.
// Once the context is done Go returns its [context.Cause] and accepts
// nothing, and Wait's error ends with one that counts the refused Go calls
// and wraps that cause, so that a refusal is never lost when Go's error is
// ignored.
//
// A task that panics has its panic recovered on the worker, which goes on
// with the next task: the task's error is a *weft.PanicError holding the
// value and the stack. With [Repanic], Wait panics with it instead. A task
// that calls runtime.Goexit (as t.FailNow does) ends its worker goroutine;
// the task's error is weft.ErrGoexit, a new worker replaces the old one
// when needed, and Wait does not hang.
//
// # Go from inside a task
//
// A task may call Go or TryGo on its own pool, even while Wait is waiting:
// the task that calls is pending, so the pool has not closed. But Go blocks
// while every worker is busy and the channel is full, and a task that waits
// in Go keeps its own worker busy: if every worker does that, none is left
// to free them. Tasks
// that submit more tasks should use [Pool.TryGo] and run the work
// themselves when it refuses, or give the pool enough workers. Wait must
// not be called from a task.
//
// # Cost
//
// Go of a task that does nothing costs about 150ns on a 2-core machine with
// as many workers as cores, where a hand-written pool of goroutines reading
// functions from a channel with room for one per worker costs 200ns, and
// allocates nothing beyond the closure the caller makes. With a closure per
// task and FailFast (panic recovery every Pool has), a task costs about
// 190ns in all, where errgroup with SetLimit, which starts a goroutine per
// task, costs 860ns. A TryGo that finds the pool full costs about 17ns.
//
// A Pool must not be copied. Its methods are safe for concurrent use.
type Pool struct {
	g group[fn]
}

// fn is a Pool's task.
type fn func(context.Context) error

func (f fn) run(ctx context.Context) error { return f(ctx) }
func (fn) order() int                      { return 0 }

// New returns a Pool that runs at most workers tasks at a time, with a
// context derived from ctx. It starts no goroutine: workers start as tasks
// arrive. Call [Pool.Wait] to release them.
//
// A limit of math.MaxInt means no limit; the memory a Pool takes grows with
// its tasks, not with its limit. It panics if workers < 1, or if ctx or an
// option is nil. Its options are [FailFast], [Repanic] and [Buffer].
func New(ctx context.Context, workers int, opts ...PoolOption) *Pool {
	p := new(Pool)
	p.g.init(ctx, "New", "Pool", workers, opts)
	return p
}

// Go runs f on a worker of the pool with the pool's context. If every
// worker is busy and the channel of waiting tasks is full (see [Buffer]),
// it blocks until there is room or the pool's context is done.
//
// It returns nil once f is accepted: from then on f runs, even if the
// pool's context ends before a worker takes it (f then sees it done). It
// returns [context.Cause] of the pool's context if that is done (f then does
// not run, and Wait reports the refusal), and [ErrClosed] once [Pool.Wait]
// has seen every task finish. f's own error goes to Wait. It panics if f is
// nil.
func (p *Pool) Go(f func(ctx context.Context) error) error {
	if f == nil {
		panic("pool: Pool.Go(nil)")
	}
	return p.g.submit(context.Background(), fn(f), true)
}

// GoContext is [Pool.Go] for callers that must bound their own wait for a
// free worker: it also gives up, returning [context.Cause](ctx), when ctx is
// done first, without cancelling the pool or its tasks. f runs with the
// pool's context, not ctx. If ctx is already done, f does not run. Wait
// reports a refusal by ctx as it reports one by the pool's context. It
// panics if ctx or f is nil.
func (p *Pool) GoContext(ctx context.Context, f func(ctx context.Context) error) error {
	if f == nil {
		panic("pool: Pool.GoContext(nil)")
	}
	if ctx == nil {
		panic("pool: Pool.GoContext: nil Context")
	}
	return p.g.submit(ctx, fn(f), true)
}

// TryGo is [Pool.Go] without the wait: it gives f to the pool only if a
// worker or the task channel has room now, and never blocks. It returns nil
// if f was accepted, [ErrFull] where Go would have waited, and otherwise
// the errors Go returns. A refusal is counted in [Stats.Rejected] and, being
// TryGo's answer, not reported by Wait. It panics if f is nil.
func (p *Pool) TryGo(f func(ctx context.Context) error) error {
	if f == nil {
		panic("pool: Pool.TryGo(nil)")
	}
	return p.g.submit(context.Background(), fn(f), false)
}

// Wait blocks until every task given to Go has finished and every worker
// goroutine has exited, then cancels the pool's context and returns the
// tasks' errors: all of them joined with [errors.Join] in the order the
// tasks failed, or with [FailFast] the first error and any panics. If Go or
// GoContext refused a task, it adds an error that counts them and wraps
// the reason the first was refused (the context's cause, matchable with
// [errors.Is]). It returns nil if every task succeeded and none was
// refused. See [Pool] for how cancellation and panics are reported.
//
// Go calls made while Wait waits, from tasks or from other goroutines, are
// accepted as long as a task is still pending; once none is, the pool
// closes and Go returns [ErrClosed]. Calling Wait again returns the same
// error. With [Repanic], Wait panics instead if a task panicked.
func (p *Pool) Wait() error {
	return p.g.wait()
}

// Stats returns a snapshot of the pool's counts; see [Stats] for what each
// one means for a Pool. The workers count their tasks apart, so that
// counting costs them no shared lock; Stats takes a short lock and sums
// every live worker's counts, so its cost grows with the number of
// workers.
func (p *Pool) Stats() Stats {
	return p.g.stats.snapshot()
}
