package pool

import "context"

// Pool runs tasks on at most a fixed number of goroutines and collects their
// errors, as errgroup.Group with a limit does. Create one with [New], start
// tasks with [Pool.Go], and call [Pool.Wait] once all are started. Every task
// gets the pool's context, cancelled by [FailFast]'s first error and when
// Wait returns.
type Pool struct {
	// Unlike errgroup.Group, workers are reused, Go stops waiting when the
	// pool's context is done, and panics come back as errors. A task that
	// submits more tasks should call TryGo, which never waits (see the
	// package rules).
	//
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
// context derived from ctx. It panics if workers < 1, or if ctx or an option
// is nil.
func New(ctx context.Context, workers int, opts ...PoolOption) *Pool {
	p := new(Pool)
	p.g.init(ctx, "New", "Pool", workers, opts)
	return p
}

// Go runs f on a worker with the pool's context, waiting while every worker
// is busy and the [Buffer] is full; f's error goes to Wait. It returns nil
// once f is accepted (f then runs even if the context ends first),
// [context.Cause] of the pool's context once that is done (a refusal Wait
// reports too), or [ErrClosed]. It panics if f is nil.
func (p *Pool) Go(f func(ctx context.Context) error) error {
	if f == nil {
		panic("pool: Pool.Go(nil)")
	}
	return p.g.submit(context.Background(), fn(f), true)
}

// GoContext is [Pool.Go] that also gives up when ctx is done before f is
// accepted, returning [context.Cause](ctx) without cancelling the pool; Wait
// reports that refusal too. f runs with the pool's context, not ctx. It
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

// TryGo is [Pool.Go] without the wait: it returns [ErrFull] where Go would
// have waited, and otherwise what Go returns. Wait does not report its
// refusals. It panics if f is nil.
func (p *Pool) TryGo(f func(ctx context.Context) error) error {
	// f is accepted only if a worker or the task channel has room now.
	if f == nil {
		panic("pool: Pool.TryGo(nil)")
	}
	return p.g.submit(context.Background(), fn(f), false)
}

// Wait blocks until every task has finished and every worker has exited
// (Go calls made meanwhile are accepted while a task is pending), then
// cancels the pool's context. It returns the tasks' errors joined in the
// order they failed (see [FailFast] and [Repanic]), plus an error that counts
// the Go and GoContext calls refused and wraps the first one's reason.
// Calling it again returns the same error; a task must not call it, which
// would wait for itself.
func (p *Pool) Wait() error {
	return p.g.wait()
}

// Stats returns a snapshot of the pool's counts.
func (p *Pool) Stats() Stats {
	// Its cost grows with the number of live workers.
	// The workers count their tasks apart, so that counting costs them no
	// shared lock; Stats takes a short lock and sums every live worker's
	// counts.
	return p.g.stats.snapshot()
}
