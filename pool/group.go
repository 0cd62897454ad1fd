package pool

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/internal/catch"
)

// task is what a group runs: a Pool's function, or a ResultPool's function with
// the slot for its value.
type task interface {
	run(ctx context.Context) error
	// order is the task's place in submission order, for sorting errors;
	// tasks that do not keep one return 0.
	order() int
}

// The state word of a group packs the flags and counts that decide when the
// group may close, so that each change is one atomic operation:
//
//	bit 0       closed: intake is shut; no Go call can be accepted any more
//	bit 1       waiting: Wait has been called
//	bits 2-32   live worker goroutines
//	bits 33-63  pending: accepted tasks not yet finished, plus Go calls in
//	            progress
const (
	closedBit  = 1 << 0
	waitingBit = 1 << 1
	liveOne    = 1 << 2
	liveMask   = (1<<31 - 1) << 2
	pendOne    = 1 << 33
)

func pending(s uint64) uint64 { return s >> 33 }
func live(s uint64) uint64    { return s & liveMask >> 2 }

// group is the engine of Pool and ResultPool: up to limit worker goroutines
// that take tasks from a channel, by default with room for 64 tasks.
//
// A Go call starts a new worker with its task while fewer than the limit
// run, and otherwise puts the task in the channel, blocking while it is
// full. So a task waits in the channel only while every worker is running,
// and the first one to finish takes it. Workers exit only when Wait closes
// the channel, or through runtime.Goexit, when another takes the place, so
// no task is ever left in the channel without a worker.
//
// The buffer lets the submitter and the workers run without handing each
// task over in lock step, which would cost a goroutine switch per task.
// With few workers a buffer of one task per worker is not enough for that:
// the submitter fills it, sleeps, and is woken as soon as a worker takes
// one, so switches still come every task or two. Room for 64 lets each side
// run through a stretch of tasks per switch, which halves the cost of a
// small task on a 2-core machine; more room gains little.
type group[T task] struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	done   <-chan struct{} // ctx.Done()
	limit  uint64

	tasks chan T // capacity limit; closed when the group closes
	state atomic.Uint64

	exited chan struct{} // closed when closed and no worker is live
	waited chan struct{} // closed when Wait's result is ready
	once   atomic.Bool   // the first Wait computes the result
	result error
	panic  *weft.PanicError // the first panic, for Repanic

	failFast bool
	repanic  bool
	yield    bool // limit <= GOMAXPROCS when the group was made; see submit

	stats groupStats

	mu       sync.Mutex // guards the error record; never held while waiting
	errs     []taskError
	first    bool             // FailFast: the first error is recorded
	firstPan *weft.PanicError // the first panic
	// Go calls refused for a context that was done, and why the first was:
	// Wait reports them, so that code which ignores Go's error cannot lose
	// a task without a word.
	refused    uint64
	refusedWhy error
}

type taskError struct {
	order int
	err   error
}

// defaultGroupQueue is the room a Pool's or ResultPool's task channel has by
// default, whatever the limit, so that a pool's memory grows with its tasks
// and not with its limit; see [Pool].
const defaultGroupQueue = 64

// maxGroupQueue bounds Buffer for a Pool or ResultPool, whose queue is a
// channel made at once: past a few hundred tasks more room gains nothing,
// and a larger bound would only be memory allocated before any work.
const maxGroupQueue = 1 << 16

// maxWorkers is the most worker goroutines a Pool or ResultPool runs at once:
// what the state word can count. A larger limit is taken as this one, which
// no program reaches.
const maxWorkers = 1<<31 - 1

func (g *group[T]) init(ctx context.Context, ctor, noun string, workers int, opts []PoolOption) {
	if ctx == nil {
		panic(fmt.Sprintf("pool: %s: nil Context", ctor))
	}
	if workers < 1 {
		panic(fmt.Sprintf("pool: %s(workers=%d): need at least one worker", ctor, workers))
	}
	cfg := newPoolConfig(ctor, opts)
	queue := cfg.queue
	if queue < 0 {
		queue = defaultGroupQueue
	}
	if queue > maxGroupQueue {
		panic(fmt.Sprintf("pool: %s: Buffer(%d): a %s allocates its queue up front, and takes at most %d", ctor, queue, noun, maxGroupQueue))
	}
	g.ctx, g.cancel = context.WithCancelCause(ctx)
	g.done = g.ctx.Done()
	g.limit = uint64(min(workers, maxWorkers))
	g.tasks = make(chan T, queue)
	g.exited = make(chan struct{})
	g.waited = make(chan struct{})
	g.failFast = cfg.failFast
	g.repanic = cfg.repanic
	g.yield = workers <= runtime.GOMAXPROCS(0)
	// Room for the workers' counts up to a point, so that starting them
	// does not grow the slice step by step.
	g.stats.live = make([]*shard, 0, min(workers, 16))
}

// submit runs t on a new worker if fewer than the limit run, or puts it in
// the task channel, blocking while that is full until there is room, the
// group's context is done, or ctx is done (Go passes one that never is).
// With block false it never waits.
func (g *group[T]) submit(ctx context.Context, t T, block bool) error {
	g.stats.submitted.Add(1)
	if !block && cap(g.tasks) > 0 && len(g.tasks) == cap(g.tasks) && live(g.state.Load()) == g.limit {
		// Full, as far as a glance can tell: refuse without touching the
		// state word the workers write.
		g.stats.rejected.Add(1)
		return ErrFull
	}
	// Reserve a place among the pending tasks first: while one is
	// reserved the group cannot close (maybeClose sets the closed bit only
	// while none is), so the sends below never meet a closed channel. A
	// reservation taken after the close is given back at once.
	s := g.state.Add(pendOne)
	if s&closedBit != 0 {
		g.stats.rejected.Add(1)
		g.state.Add(^uint64(pendOne - 1))
		return ErrClosed
	}
	select {
	case <-g.done:
		return g.refuse(context.Cause(g.ctx), block)
	default:
	}
	cdone := ctx.Done()
	if cdone != nil && ctx.Err() != nil {
		return g.refuse(context.Cause(ctx), block)
	}
	for ; live(s) < g.limit; s = g.state.Load() {
		if g.state.CompareAndSwap(s, s+liveOne) {
			g.start(t, true)
			return nil
		}
	}
	select {
	case g.tasks <- t:
		return nil
	default:
	}
	if !block {
		return g.refuse(ErrFull, false)
	}
	if g.yield {
		// Yield once before waiting: a worker that is runnable but not
		// running then takes a task and makes room, which costs less
		// than putting this goroutine to sleep in a select and waking it
		// up. Only with no more workers than Ps: with more, the yield
		// puts this goroutine behind every runnable worker, and sleeping
		// until the first of them makes room is quicker.
		runtime.Gosched()
		select {
		case g.tasks <- t:
			return nil
		default:
		}
	}
	if cdone == nil {
		select {
		case g.tasks <- t:
			return nil
		case <-g.done:
			return g.refuse(context.Cause(g.ctx), true)
		}
	}
	select {
	case g.tasks <- t:
		return nil
	case <-g.done:
		return g.refuse(context.Cause(g.ctx), true)
	case <-cdone:
		return g.refuse(context.Cause(ctx), true)
	}
}

// refuse gives back the place a refused Go call reserved and returns err.
// A refusal of Go or GoContext (report true) is kept for Wait first, while
// the reservation still holds the group open; TryGo's is its answer.
func (g *group[T]) refuse(err error, report bool) error {
	g.stats.rejected.Add(1)
	if report {
		g.mu.Lock()
		if g.refused == 0 {
			g.refusedWhy = err
		}
		g.refused++
		g.mu.Unlock()
	}
	g.release(1)
	return err
}

// release ends n pending tasks or Go calls, closing the group if Wait is
// waiting and they were the last.
func (g *group[T]) release(n uint64) {
	s := g.state.Add(^(n*pendOne - 1))
	if pending(s) == 0 && s&waitingBit != 0 {
		g.maybeClose()
	}
}

// maybeClose closes the group if Wait has been called and nothing is
// pending. Setting the closed bit only while pending is zero is what makes
// it safe to close the task channel: no Go call holds a reservation, and
// none can take one from now on.
func (g *group[T]) maybeClose() {
	for {
		s := g.state.Load()
		if pending(s) != 0 || s&waitingBit == 0 || s&closedBit != 0 {
			return
		}
		if g.state.CompareAndSwap(s, s|closedBit) {
			close(g.tasks)
			if live(s) == 0 {
				close(g.exited)
			}
			return
		}
	}
}

// start runs a worker goroutine that has been counted as live, with t as
// its first task if first is true.
func (g *group[T]) start(t T, first bool) {
	sh := g.stats.join()
	go g.work(sh, t, first)
}

// work is the loop of a worker goroutine.
//
// Two savings on the path of a task that succeeds, which together halve the
// atomic operations a worker makes per task: when the next task is already
// in the channel, the previous task's success and the next one's start are
// one add to the worker's shard; and the places of tasks that succeeded are
// given back to the pending count in one go, just before the worker waits
// for the channel. Giving them back late can only delay the group's
// closing, which needs the channel to be empty anyway.
func (g *group[T]) work(sh *shard, t T, first bool) {
	var (
		owed   uint64 // tasks that succeeded and are still counted as pending
		normal bool
		ok     bool
	)
	defer func() {
		if owed > 0 {
			g.release(owed)
		}
		g.stats.leave(sh)
		if !normal && g.state.Load()&closedBit == 0 {
			// A task called runtime.Goexit, which is ending this
			// goroutine. Tasks may be waiting in the channel for it, so
			// another takes its place, and the live count stays.
			var zero T
			g.start(zero, false)
			return
		}
		if s := g.state.Add(^uint64(liveOne - 1)); s&closedBit != 0 && live(s) == 0 {
			close(g.exited)
		}
	}()
	if !first {
		if t, ok = <-g.tasks; !ok {
			normal = true
			return
		}
	}
	sh.start()
	for g.run(sh, &t, &owed) {
		// t panicked, and is counted: on with the next task.
		if owed > 0 {
			g.release(owed)
			owed = 0
		}
		if t, ok = <-g.tasks; !ok {
			normal = true
			return
		}
		sh.start()
	}
	normal = true
}

// run runs *t, which sh counts as started, and the tasks after it, until
// the channel closes (it returns false) or a task panics (it returns true,
// the panic counted). It keeps the running task in *t, for the worker to
// see if that task ends the goroutine with runtime.Goexit.
//
// Every accepted task runs, even when the context ended before a worker
// took it (it then sees the context done), as errgroup runs every function
// its Go accepted: a task accepted is never dropped unrun.
//
// One deferred recovery covers every task the loop runs, so that a task
// costs no closure and no deferred call of its own; a panic ends the loop,
// and the worker starts it again.
func (g *group[T]) run(sh *shard, t *T, owed *uint64) (panicked bool) {
	var perr error
	returned := true // false while a task runs
	defer func() {
		if !returned {
			// The task panicked, or called runtime.Goexit (perr is then
			// weft.ErrGoexit, and the goroutine goes on exiting).
			pe, _ := perr.(*weft.PanicError)
			g.fail(sh, *t, perr, pe)
			panicked = true
		}
	}()
	defer catch.Recover(&perr, &returned)
	for {
		returned = false
		err := (*t).run(g.ctx)
		returned = true
		if err == nil {
			*owed++
			select {
			case next, ok := <-g.tasks:
				if ok {
					*t = next
					sh.okBusy.Add(2) // the success, and the next start
					continue
				}
			default:
			}
			sh.succeed()
		} else {
			// An error the task returned is never a panic, even a
			// *weft.PanicError (a nested pool's, say).
			g.fail(sh, *t, err, nil)
		}
		if *owed > 0 {
			g.release(*owed)
			*owed = 0
		}
		next, ok := <-g.tasks
		if !ok {
			return false
		}
		*t = next
		sh.start()
	}
}

// fail counts a task that ended with err, pe if it panicked, and keeps the
// error for Wait.
func (g *group[T]) fail(sh *shard, t T, err error, pe *weft.PanicError) {
	g.record(t.order(), err, pe)
	if pe != nil {
		sh.end(&sh.panicked)
	} else {
		sh.end(&sh.failed)
	}
	g.release(1)
}

// record keeps a task's error for Wait, and with FailFast cancels the group
// on the first one.
func (g *group[T]) record(order int, err error, pe *weft.PanicError) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if pe != nil && g.firstPan == nil {
		g.firstPan = pe
	}
	if !g.failFast {
		g.errs = append(g.errs, taskError{order, err})
		return
	}
	switch {
	case !g.first:
		g.first = true
		g.errs = append(g.errs, taskError{order, err})
		// Cancelling under g.mu makes the first error recorded the
		// context's cause, unless the context had ended already (its
		// parent was cancelled). It calls no user code, and nothing here
		// compares err with anything: == panics on some error values.
		g.cancel(err)
	case pe != nil:
		// A panic is a bug that must not vanish behind the first error.
		g.errs = append(g.errs, taskError{order, err})
	}
}

// wait closes intake once nothing is pending, waits for every worker to
// exit, and returns the joined errors. Later calls wait for the first and
// return the same.
func (g *group[T]) wait() error {
	if !g.once.CompareAndSwap(false, true) {
		<-g.waited
		return g.outcome()
	}
	for {
		s := g.state.Load()
		if g.state.CompareAndSwap(s, s|waitingBit) {
			break
		}
	}
	g.maybeClose()
	<-g.exited
	g.result = g.collect()
	g.cancel(nil)
	close(g.waited)
	return g.outcome()
}

func (g *group[T]) outcome() error {
	if g.repanic && g.panic != nil {
		panic(g.panic)
	}
	return g.result
}

// collect builds Wait's error. Every worker has exited, and no Go call
// holds a reservation.
func (g *group[T]) collect() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.panic = g.firstPan
	errs := g.errs
	if len(errs) == 0 && g.refused == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b taskError) int { return a.order - b.order })
	out := make([]error, 0, len(errs)+1)
	for _, e := range errs {
		out = append(out, e.err)
	}
	if g.refused > 0 {
		out = append(out, &refusedError{n: g.refused, cause: g.refusedWhy})
	}
	if len(out) == 1 {
		return out[0]
	}
	return errors.Join(out...)
}

// refusedError is the part of Wait's error that reports Go calls refused
// because a context was done. It unwraps to the reason the first was, so
// errors.Is(err, context.Canceled) holds after a cancellation.
type refusedError struct {
	n     uint64
	cause error
}

func (e *refusedError) Error() string {
	return fmt.Sprintf("pool: %s refused: %v", plural(int(min(e.n, 1<<62)), "task", "tasks"), e.cause)
}

func (e *refusedError) Unwrap() error { return e.cause }
