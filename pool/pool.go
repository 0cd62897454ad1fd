package pool

import "context"

// Pool runs tasks on at most a fixed number of goroutines and collects their
// errors: errgroup.Group with a limit, but with workers that are reused, a
// Go that stops waiting when the pool's context is done, and panics returned
// as errors. Create one with [New], start tasks with [Pool.Go], and call
// [Pool.Wait] once all are started.
//
// Every task gets the pool's context, derived from New's and cancelled by
// [FailFast]'s first error and when Wait returns. A task that submits more
// tasks should call [Pool.TryGo], which never waits, and must not call
// Wait.
type Pool struct {
	// While fewer workers run than the limit, Go starts a worker goroutine with
	// its task; after that it puts the task in a channel, which the first
	// worker to finish takes. A Pool of n workers thus starts n goroutines over
	// its life, reused task after task (more only when a task ends its worker
	// with runtime.Goexit and another takes its place).
	//
	// The channel has room for 64 tasks by default, whatever n is: that room
	// lets the caller of Go and the workers each run through many tasks per
	// goroutine switch instead of handing tasks over one at a time. The cost of
	// a Pool is mostly the runtime's: handing a task to a goroutine over a
	// channel, and waking one that waits. bench_test.go measures it against a
	// hand-written channel pool and errgroup.

	g group[fn]
}

// fn is a Pool's task.
type fn func(context.Context) error

func (f fn) run(ctx context.Context) error { return f(ctx) }
func (fn) order() int                      { return 0 }

// New returns a Pool that runs at most workers tasks at a time, with a
// context derived from ctx. It starts workers only as tasks arrive, and
// [Pool.Wait] joins them. Its options are [FailFast], [Repanic] and
// [Buffer]; it panics if workers < 1, or if ctx or an option is nil.
func New(ctx context.Context, workers int, opts ...PoolOption) *Pool {
	p := new(Pool)
	p.g.init(ctx, "New", "Pool", workers, opts)
	return p
}

// Go runs f on a worker with the pool's context, waiting while every worker
// is busy and the buffer is full. It returns nil once f is accepted, and f
// then runs even if the context ends before a worker takes it;
// [context.Cause] of the pool's context once that is done, a refusal Wait
// reports too; and [ErrClosed] once Wait has seen every task finish. f's own
// error goes to Wait. It panics if f is nil.
func (p *Pool) Go(f func(ctx context.Context) error) error {
	if f == nil {
		panic("pool: Pool.Go(nil)")
	}
	return p.g.submit(context.Background(), fn(f), true)
}

// GoContext is [Pool.Go] that also gives up when ctx is done before f is
// accepted, returning [context.Cause](ctx), without cancelling the pool;
// Wait reports that refusal too. f runs with the pool's context, not ctx. It
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

// Wait blocks until every task has finished and every worker has exited,
// cancels the pool's context, and returns the tasks' errors joined with
// [errors.Join] in the order they failed (with [FailFast], the first error
// and any panics). If Go or GoContext refused tasks, it adds an error that
// counts them and wraps the first one's reason. Go calls made while Wait
// waits are accepted while a task is still pending. Calling Wait again
// returns the same error. With [Repanic], Wait panics instead if a task
// panicked.
func (p *Pool) Wait() error {
	return p.g.wait()
}

// Stats returns a snapshot of the pool's counts; see [Stats]. Its cost grows
// with the number of live workers.
func (p *Pool) Stats() Stats {
	// The workers count their tasks apart, so that counting costs them no
	// shared lock; Stats takes a short lock and sums every live worker's
	// counts.
	return p.g.stats.snapshot()
}
