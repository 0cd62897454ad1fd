package pool

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/internal/catch"
	"github.com/weftgo/weft/retry"
)

// Workers is a long-lived pool of worker goroutines that run one handler
// over jobs of type J taken from a bounded queue: the consumer behind a
// message queue, a webhook sender, a thumbnailer. Producers [Workers.Submit]
// jobs and are held back while the queue is full; [Workers.Close] stops
// intake, drains what was accepted and joins every goroutine; every job
// ends in exactly one outcome that [Workers.Stats] counts.
//
//	w := pool.NewWorkers(ctx, 8, send,
//		pool.WithRetry(retry.New(retry.Attempts(5))),
//		pool.WithDeadLetter[Email](deadLetters),
//	)
//	for e := range emails {
//		if err := w.Submit(ctx, e); err != nil {
//			break
//		}
//	}
//	err := w.Close(shutdownCtx) // drains; on timeout returns the jobs that never ran
//
// # Workers and the queue
//
// A job that arrives while a worker is idle goes straight to it; otherwise,
// if fewer workers are running than the limit, a new worker starts with it;
// otherwise it waits in the queue, whose bound (2 × workers by default, see
// [WithQueue]) counts the queued jobs and those waiting out a retry delay.
// When the queue is full, Submit blocks, first come first served, until
// there is room or its context is done, and [Workers.TrySubmit] refuses.
// In all, a Workers holds at most the limit plus the queue's bound of jobs,
// running, queued or waiting to retry, however its jobs fail: while jobs
// waiting to retry fill that room, a new job waits for it even when a
// worker is idle. (Right after [Workers.Resize] lowers the limit, the jobs
// already running may hold more, until they end.)
// [Workers.Resize] changes the limit at run time, and with [IdleTimeout]
// workers that have waited long enough for a job exit, down to none. A
// limit or a queue of math.MaxInt means no bound.
//
// # Retries and dead letters
//
// With [WithRetry], a job whose handler fails is retried as its
// [retry.Policy] decides: the job keeps its [retry.State], waits out the
// delay on a timer without holding a worker, and goes back to the end of
// the queue. Jobs the policy gives up on, jobs that fail without a policy,
// jobs that panic and jobs that fail because the pool was stopped while
// they ran go to the [WithDeadLetter] sink if there is one, with their
// error chain and attempts. A letter the sink refuses is counted, passed to
// the [OnDone] hook, and returned by Close. A panic in the handler is
// recovered (the worker goes on with the next job) and is not retried: it
// is a bug, not a bad day. A handler that calls runtime.Goexit ends its
// worker, which is replaced if jobs are waiting; its job fails with
// weft.ErrGoexit.
//
// # Stopping
//
// Close stops intake at once: Submit returns [ErrClosed] from then on, and
// the Submit calls that were waiting for room return it too. Close then
// waits until the queue is empty, every running job has finished and every
// job waiting to retry has had its retries, or until its context is done.
// In the second case it stops the rest: it cancels the context of the jobs
// that are running, takes the queued jobs and those waiting to retry off
// the pool, waits for the running jobs' handlers to return, and returns the
// jobs that never ran, and those that were interrupted, in a
// [*CloseError]. No job is dropped without being returned or counted.
//
// The same happens if the context given to [NewWorkers] is done: no job
// starts after that, Submit fails with its cause, and Close, which must
// still be called, returns the jobs that did not run at once. Handlers must
// return when their context is done, or Close cannot return.
//
// # Cost
//
// A job costs about 270ns through Submit and a worker on a 2-core machine,
// and allocates nothing: a Submit that has to wait for room reuses a small
// record kept from an earlier wait, and makes one only while another Submit
// is waiting too. A retry adds a timer and, on the first, the job's retry
// state. TrySubmit on a full queue costs about 30ns. An idle worker
// holds its goroutine (a stack of 2KB or more, as the runtime sizes it)
// and about 400 bytes of heap, and nothing once an idle timeout
// has passed.
//
// A Workers must not be copied. Its methods are safe for concurrent use.
type Workers[J any] struct {
	handle     func(context.Context, J) error
	ctx        context.Context // the jobs' context: done at a hard stop
	cancel     context.CancelCauseFunc
	policy     retry.Policy
	hasPolicy  bool
	sink       retry.DeadLetter[J]
	onDone     func(J, error)
	idle       time.Duration
	needsClock bool // a policy or a sink wants the times of attempts
	done       chan struct{}

	mu        sync.Mutex // guards what follows; never held while waiting or running user code
	st        stats
	state     int
	capacity  int
	limit     int
	live      int // worker goroutines that have not exited
	leaving   int // of those, the ones told to exit
	queue     ring[item[J]]
	idlers    workerList[J]
	waiters   waiterList[J]
	spare     atomic.Pointer[waiter[J]] // a waiter kept for reuse
	retrying  map[*delayed[J]]struct{}
	delays    uint64 // delays begun, to order them
	unrun     []J
	late      []J // handed to a worker, found the stop before starting; guarded by mu
	interrupt []J
	refused   []retry.Letter[J] // the first maxKept
	panics    []error           // the first maxKept
	// Refused letters and hook panics past the first maxKept, counted only,
	// so that a Workers' memory does not grow with the jobs it has run.
	omittedLetters, omittedPanics int
	cause                         error // what cut the drain short
	finished                      bool  // done is closed
}

// The states of a Workers.
const (
	open     = iota
	draining // Close has been called
	stopped  // the drain was cut short, or the context was done
)

// stats are the counts behind [Stats], all changed under Workers.mu.
type stats struct {
	submitted, succeeded, failed, panicked, canceled, deadLettered, rejected uint64
	queued, running, waiting, retried, undelivered, blocked, highWater       uint64
}

// item is a job with its retry state, nil until its first failure.
type item[J any] struct {
	job   J
	retry *retry.State
}

// worker is a worker goroutine's handle for being woken while idle.
type worker[J any] struct {
	wake       chan wakeup[J] // capacity 1: one job, or the word to exit
	prev, next *worker[J]     // in the idle list
	idle       bool
	leaving    bool
	timer      *time.Timer
}

type wakeup[J any] struct {
	it   item[J]
	exit bool
}

// waiter is a Submit call waiting for room.
type waiter[J any] struct {
	job        J
	ch         chan error // capacity 1: nil when admitted, or ErrClosed
	decided    bool
	prev, next *waiter[J]
}

// delayed is a job waiting out a retry delay.
type delayed[J any] struct {
	it    item[J]
	timer *time.Timer
	due   time.Time // when it is to come back
	seq   uint64    // when it began waiting, in the order of all delays
	// Its timer had fired when a stop took the job back: its retryDue is
	// on its way, and only has to take it off retrying. Guarded by mu.
	taken bool
}

// NewWorkers returns a Workers that runs handle on each submitted job, on at
// most workers goroutines at once, with a context derived from ctx. It
// starts no goroutine: workers start as jobs arrive. Call [Workers.Close]
// to release them.
//
// A limit of math.MaxInt means no limit, and so does a queue of
// math.MaxInt; the memory a Workers takes grows with its jobs, not with its
// limits. It panics if workers < 1, if ctx or handle is nil, or if an option
// does not apply to a Workers or is for another job type. The options that
// apply are [WithQueue], [IdleTimeout], [WithRetry], [WithDeadLetter] and
// [OnDone].
func NewWorkers[J any](ctx context.Context, workers int, handle func(ctx context.Context, job J) error, opts ...Option) *Workers[J] {
	if ctx == nil {
		panic("pool: NewWorkers: nil Context")
	}
	if workers < 1 {
		panic(fmt.Sprintf("pool: NewWorkers(workers=%d): need at least one worker", workers))
	}
	if handle == nil {
		panic("pool: NewWorkers: nil handler")
	}
	cfg := newConfig("NewWorkers", "Workers", forWorkers, opts)
	w := &Workers[J]{
		handle:    handle,
		policy:    cfg.policy,
		hasPolicy: cfg.hasPolicy,
		sink:      deadLetter[J](cfg),
		onDone:    onDone[J](cfg),
		idle:      cfg.idle,
		done:      make(chan struct{}),
		capacity:  cfg.queue,
		limit:     workers,
		retrying:  make(map[*delayed[J]]struct{}),
	}
	if w.capacity < 0 {
		w.capacity = addSat(workers, workers)
	}
	w.needsClock = w.hasPolicy || w.sink != nil
	w.ctx, w.cancel = context.WithCancelCause(ctx)
	return w
}

// Submit adds job to the pool. If the queue is full it blocks, behind any
// Submit calls that were waiting before it, until there is room, ctx is
// done, or the pool is closed or stopped.
//
// It returns nil once the job is accepted: from then on it ends in one of
// the outcomes counted by [Stats]. It returns [context.Cause](ctx) if ctx is
// done first (also when ctx is already done on entry), [ErrClosed] once
// Close has been called, and the cause of the pool's own context once that
// is done. A refused job is the caller's to keep. It panics if ctx is nil.
func (w *Workers[J]) Submit(ctx context.Context, job J) error {
	if ctx == nil {
		panic("pool: Workers.Submit: nil Context")
	}
	if ctx.Err() != nil {
		w.mu.Lock()
		w.reject()
		w.mu.Unlock()
		return context.Cause(ctx)
	}
	w.mu.Lock()
	for yielded := false; ; yielded = true {
		if err := w.closedErr(); err != nil {
			w.reject()
			w.mu.Unlock()
			return err
		}
		if !w.waiters.empty() {
			break // behind the Submit calls already waiting
		}
		if w.place(item[J]{job: job}, false) {
			w.mu.Unlock()
			return nil
		}
		if yielded {
			break
		}
		// Full. Yield once before queueing up to wait: a worker that is
		// runnable but not running then takes a job and makes room,
		// which costs less than a waiter and putting this goroutine to
		// sleep and waking it.
		w.mu.Unlock()
		runtime.Gosched()
		w.mu.Lock()
	}
	wt := w.spare.Swap(nil)
	if wt == nil {
		wt = &waiter[J]{ch: make(chan error, 1)}
	}
	wt.job, wt.decided = job, false
	w.waiters.push(wt)
	w.st.blocked++
	w.mu.Unlock()

	var err error
	select {
	case err = <-wt.ch:
		w.recycle(wt)
		return err
	case <-ctx.Done():
		err = context.Cause(ctx)
	case <-w.ctx.Done():
		err = context.Cause(w.ctx)
	}
	w.mu.Lock()
	if wt.decided {
		// Admitted or refused while giving up: that decision stands.
		w.mu.Unlock()
		err = <-wt.ch
		w.recycle(wt)
		return err
	}
	w.waiters.remove(wt)
	w.st.blocked--
	w.reject()
	w.mu.Unlock()
	w.recycle(wt)
	return err
}

// recycle keeps wt, which no one refers to any more and whose channel is
// empty, for the next Submit that has to wait, so that a submitter that
// often finds the queue full does not allocate each time.
func (w *Workers[J]) recycle(wt *waiter[J]) {
	var zero J
	wt.job = zero
	w.spare.Store(wt)
}

// TrySubmit adds job to the pool if it can do so without waiting. It
// returns nil if the job was accepted, [ErrFull] if there is no room (or
// Submit calls are already waiting for it), [ErrClosed] once Close has
// been called, and the cause of the pool's context once that is done.
func (w *Workers[J]) TrySubmit(job J) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.closedErr(); err != nil {
		w.reject()
		return err
	}
	if w.waiters.empty() && w.place(item[J]{job: job}, false) {
		return nil
	}
	w.reject()
	return ErrFull
}

// closedErr returns why the pool takes no more jobs, or nil.
func (w *Workers[J]) closedErr() error {
	if w.state != open {
		return ErrClosed
	}
	if w.ctx.Err() != nil {
		return context.Cause(w.ctx)
	}
	return nil
}

func (w *Workers[J]) reject() {
	w.st.submitted++
	w.st.rejected++
}

// place finds a home for a job: an idle worker, a new worker, or the
// queue. A new job (retry false) is counted as submitted; a retry is counted
// in waiting, and its place in the queue may go beyond the capacity, which
// it held while it waited. It returns false if the job must wait for room.
func (w *Workers[J]) place(it item[J], retry bool) bool {
	if !retry && w.full() {
		return false
	}
	switch {
	case w.queue.len() > 0 || w.stopping():
		// Jobs are already waiting for a worker, or none may start: keep
		// the order.
	case !w.idlers.empty():
		wk := w.idlers.pop()
		wk.idle = false
		wk.wake <- wakeup[J]{it: it} // never blocks: an idle worker's channel is empty
		w.entered(retry)
		w.st.running++
		return true
	case w.live-w.leaving < w.limit:
		w.entered(retry)
		w.st.running++
		w.spawn(it)
		return true
	}
	if !retry && w.queue.len()+int(w.st.waiting) >= w.capacity {
		return false
	}
	w.entered(retry)
	w.queue.push(it)
	w.st.queued++
	w.st.highWater = max(w.st.highWater, w.st.queued)
	w.startQueued()
	return true
}

// full reports whether the pool holds as many jobs as it may: the limit
// plus the queue's bound, counting the running jobs, the queued ones and
// those waiting out a retry delay. A new job may not come in then, even to
// a free worker, or jobs that fail and wait would pile up without bound.
// A running job that fails and waits changes nothing here, so whether a
// new job comes in never depends on which of two workers got there first.
// w.mu must be held.
func (w *Workers[J]) full() bool {
	return w.queue.len()+int(w.st.running)+int(w.st.waiting) >= addSat(w.limit, w.capacity)
}

// addSat returns a+b for a, b >= 0, or math.MaxInt if that overflows: a
// limit or a queue of math.MaxInt means no bound, and must not wrap round
// into one that refuses every job.
func addSat(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// entered counts a job entering the pool, or coming back from a retry
// delay.
func (w *Workers[J]) entered(retry bool) {
	if retry {
		w.st.waiting--
	} else {
		w.st.submitted++
	}
}

// stopping reports whether no job may start: the pool was stopped or its
// context is done.
func (w *Workers[J]) stopping() bool {
	return w.state == stopped || w.ctx.Err() != nil
}

// spawn starts a worker goroutine with it as its first job.
func (w *Workers[J]) spawn(it item[J]) {
	w.live++
	wk := &worker[J]{wake: make(chan wakeup[J], 1)}
	go w.work(wk, it)
}

// admit starts workers for queued jobs while fewer than the limit run, and
// lets in waiting Submit calls while there is room. Called whenever a worker
// or room may have appeared. w.mu must be held.
func (w *Workers[J]) admit() {
	w.startQueued()
	for !w.waiters.empty() && w.closedErr() == nil {
		wt := w.waiters.front()
		if !w.place(item[J]{job: wt.job}, false) {
			break
		}
		w.waiters.remove(wt)
		w.st.blocked--
		wt.decided = true
		wt.ch <- nil
	}
}

// startQueued hands queued jobs to idle or new workers while there are any.
// w.mu must be held.
func (w *Workers[J]) startQueued() {
	// No worker is idle while jobs are queued: a worker goes idle only when
	// the queue is empty, and a job goes to an idle worker before the
	// queue. So a queued job needs a new worker.
	for w.queue.len() > 0 && !w.stopping() {
		if w.live-w.leaving >= w.limit {
			break
		}
		w.st.queued--
		w.st.running++
		w.spawn(w.queue.pop())
	}
}

// work is the loop of a worker goroutine.
func (w *Workers[J]) work(wk *worker[J], it item[J]) {
	defer w.exit(wk)
	for {
		succeeded := w.run(it)
		var ok bool
		if it, ok = w.next(wk, succeeded); !ok {
			return
		}
	}
}

// exit is a worker goroutine's last act, on a normal exit and when the
// handler called runtime.Goexit.
func (w *Workers[J]) exit(wk *worker[J]) {
	if wk.timer != nil {
		wk.timer.Stop()
	}
	w.mu.Lock()
	w.live--
	if wk.leaving {
		w.leaving--
	}
	// A worker that left through runtime.Goexit may have left jobs behind
	// in the queue with no one to run them.
	w.admit()
	w.checkDone()
	w.mu.Unlock()
}

// next returns the worker's next job, or false when it must exit. If
// succeeded is true, the worker's last job succeeded and is still counted
// as running: next counts it under the same lock.
func (w *Workers[J]) next(wk *worker[J], succeeded bool) (item[J], bool) {
	w.mu.Lock()
	if succeeded {
		w.st.running--
		w.st.succeeded++
	}
	for yielded := false; ; yielded = true {
		if it, ok, decided := w.take(wk); decided {
			w.mu.Unlock()
			return it, ok
		}
		if yielded || w.limit > runtime.GOMAXPROCS(0) {
			break
		}
		// Yield once before going idle: a submitter that is runnable but
		// not running then adds a job, which this worker takes at once
		// instead of sleeping and being woken for it, a goroutine switch
		// saved. Only with no more workers than Ps: with more, the
		// others are there to take it.
		w.mu.Unlock()
		runtime.Gosched()
		w.mu.Lock()
	}
	w.idlers.push(wk)
	wk.idle = true
	w.mu.Unlock()
	return w.idleWait(wk)
}

// take is next's decision with w.mu held: the next job, or that the worker
// must exit (ok false), when decided is true; when it is false, the worker
// has nothing to do and may go idle.
func (w *Workers[J]) take(wk *worker[J]) (it item[J], ok, decided bool) {
	switch {
	case w.stopping() || w.live-w.leaving > w.limit:
		w.leave(wk)
		return item[J]{}, false, true
	case w.queue.len() > 0:
		it := w.queue.pop()
		w.st.queued--
		w.st.running++
		w.admit()
		return it, true, true
	case !w.waiters.empty() && w.closedErr() == nil && !w.full():
		// Submit calls wait although the queue is empty, because jobs
		// waiting to retry hold its room: this worker is free, so it takes
		// the first one's job.
		wt := w.waiters.front()
		w.waiters.remove(wt)
		w.st.blocked--
		w.st.submitted++
		w.st.running++
		it := item[J]{job: wt.job} // before the send, after which wt is its Submit's again
		wt.decided = true
		wt.ch <- nil
		return it, true, true
	case w.state == draining:
		// Nothing left to take; a job coming back from a retry delay
		// starts a worker of its own.
		w.leave(wk)
		return item[J]{}, false, true
	}
	return item[J]{}, false, false
}

// idleWait waits, as an idle worker, to be given a job or told to exit, or
// for the idle timeout or the pool's context to end it.
func (w *Workers[J]) idleWait(wk *worker[J]) (item[J], bool) {
	var timeout <-chan time.Time
	if w.idle > 0 {
		if wk.timer == nil {
			wk.timer = time.NewTimer(w.idle)
		} else {
			wk.timer.Reset(w.idle)
		}
		timeout = wk.timer.C
	}
	select {
	case m := <-wk.wake:
		return m.it, !m.exit
	case <-timeout:
	case <-w.ctx.Done():
	}
	w.mu.Lock()
	if wk.idle {
		w.idlers.remove(wk)
		wk.idle = false
		w.leave(wk)
		w.mu.Unlock()
		return item[J]{}, false
	}
	// Woken while timing out: the wake-up is already in the channel.
	w.mu.Unlock()
	m := <-wk.wake
	return m.it, !m.exit
}

// leave marks a worker as told to exit. w.mu must be held.
func (w *Workers[J]) leave(wk *worker[J]) {
	wk.leaving = true
	w.leaving++
}

// dismiss tells idle workers to exit while more than n are running, or all
// of them if n < 0. w.mu must be held.
func (w *Workers[J]) dismiss(n int) {
	for !w.idlers.empty() && (n < 0 || w.live-w.leaving > n) {
		wk := w.idlers.pop()
		wk.idle = false
		w.leave(wk)
		wk.wake <- wakeup[J]{exit: true}
	}
}

// run runs one attempt of a job and settles its outcome, except that of a
// success it reports, which the worker counts as it takes the next job: one
// lock per job saved on the busiest path.
func (w *Workers[J]) run(it item[J]) (succeeded bool) {
	if w.ctx.Err() != nil {
		// Handed to this worker just before the pool's context ended: it
		// has not started, and does not start now. It goes back unrun.
		w.mu.Lock()
		w.st.running--
		w.st.canceled++
		w.late = append(w.late, it.job)
		w.mu.Unlock()
		return false
	}
	var (
		st    retry.State
		start time.Time
	)
	if w.needsClock {
		start = time.Now()
	}
	ctx := w.ctx
	if w.hasPolicy {
		if it.retry != nil {
			st = *it.retry
		} else {
			st = w.policy.Start(start)
		}
		var cancel context.CancelFunc
		ctx, cancel = st.Context(ctx)
		defer cancel()
	}
	returned := false
	catch.Guard(func() error {
		err := w.handle(ctx, it.job)
		returned = true
		return err
	}, func(err error) {
		// Also runs when the handler calls runtime.Goexit, with
		// weft.ErrGoexit, while the worker goroutine unwinds.
		succeeded = w.settle(it, &st, start, err, !returned)
	})
	return succeeded
}

// outcome is how a job ended.
type outcome int

const (
	failed outcome = iota
	panicked
	deadLettered
	canceled
)

// settle decides what becomes of a job after an attempt: success, a retry,
// the dead-letter sink, or a final failure, and counts it.
//
// The success path is kept apart from the rest, and small: a worker's stack
// grows to hold the deepest call it has made, and never shrinks back while
// the worker lives, so the frames a job passes through on its way to
// success decide what every idle worker costs.
//
// It returns true for a success it leaves for the worker to count, which it
// does when no OnDone hook must be told once the success is counted.
// recovered is true when err is a panic recovered from the handler, or
// weft.ErrGoexit for a handler that called runtime.Goexit; the same values
// returned by the handler are errors like any other.
func (w *Workers[J]) settle(it item[J], st *retry.State, start time.Time, err error, recovered bool) bool {
	if err != nil {
		w.settleFailure(it, st, start, err, recovered)
		return false
	}
	if w.hasPolicy {
		st.Next(w.ctx, nil, time.Now()) // feeds the policy's budget
	}
	if w.onDone == nil {
		return true
	}
	w.mu.Lock()
	w.st.running--
	w.st.succeeded++
	w.admit() // the room it held is free, though this worker runs the hook
	w.mu.Unlock()
	w.notify(it.job, nil)
	return false
}

// settleFailure is settle for an attempt that did not succeed.
func (w *Workers[J]) settleFailure(it item[J], st *retry.State, start time.Time, err error, recovered bool) {
	var now time.Time
	if w.needsClock {
		now = time.Now()
	}
	_, isPanic := err.(*weft.PanicError)
	isPanic = isPanic && recovered
	final := err
	kind := failed
	var refused *retry.Letter[J]
	settled := false
	defer func() {
		if !settled {
			// A retry hook or the sink called runtime.Goexit: the worker
			// goroutine is exiting, and the job is counted on its way out,
			// its letter kept as undelivered if there is a sink.
			final = errors.Join(final, weft.ErrGoexit)
			if refused == nil && w.sink != nil {
				refused = &retry.Letter[J]{Item: it.job, Attempts: st.Attempts(), First: st.First(), Last: st.Last()}
			}
			if refused != nil {
				refused.Err = final
			}
			w.end(it.job, kind, final, refused)
		}
	}()
	if w.hasPolicy {
		e := err
		if recovered {
			// A panic or a runtime.Goexit is a bug, never retried.
			e = retry.Permanent(err)
		}
		var delay time.Duration
		var gaveUp error
		// The policy's RetryIf, OnRetry and backoff are user code too: a
		// panic in one ends the job with it, rather than the process.
		if perr := catch.Call(func() error {
			delay, gaveUp = st.Next(w.ctx, e, now)
			return nil
		}); perr != nil {
			gaveUp, isPanic = errors.Join(err, perr), true
		} else if gaveUp == nil {
			settled = true
			w.delay(it, st, delay)
			return
		}
		final = gaveUp
	}
	if isPanic {
		kind = panicked
	}
	if w.sink == nil {
		// A job cut short by a hard stop goes back to the caller in
		// Interrupted, unless it panicked: that is a bug to report, not
		// a job to run again.
		if w.ctx.Err() != nil && !isPanic {
			kind = canceled
		}
		settled = true
		w.end(it.job, kind, final, nil)
		return
	}
	l := retry.Letter[J]{Item: it.job, Err: final, Attempts: 1, First: start, Last: now}
	if w.hasPolicy {
		l.Attempts, l.First, l.Last = st.Attempts(), st.First(), st.Last()
	}
	refused = &l
	dlErr := catch.Call(func() error {
		return w.sink.DeadLetter(context.WithoutCancel(w.ctx), l)
	})
	settled = true
	if dlErr == nil {
		w.end(it.job, deadLettered, final, nil)
		return
	}
	l.Err = errors.Join(final, fmt.Errorf("pool: dead letter not kept: %w", dlErr))
	w.end(it.job, kind, l.Err, &l)
}

// end counts a job's final outcome and calls the OnDone hook.
func (w *Workers[J]) end(job J, kind outcome, err error, refused *retry.Letter[J]) {
	w.mu.Lock()
	w.st.running--
	switch kind {
	case failed:
		w.st.failed++
	case panicked:
		w.st.panicked++
	case deadLettered:
		w.st.deadLettered++
	case canceled:
		w.st.canceled++
		w.interrupt = append(w.interrupt, job)
	}
	if refused != nil {
		w.st.undelivered++
		if len(w.refused) < maxKept {
			w.refused = append(w.refused, *refused)
		} else {
			w.omittedLetters++
		}
	}
	w.admit() // the room it held is free, though this worker runs the hook
	w.mu.Unlock()
	if w.onDone != nil && kind != canceled {
		w.notify(job, err)
	}
}

// notify calls the OnDone hook, keeping a panic in it for Close.
func (w *Workers[J]) notify(job J, err error) {
	if perr := catch.Call(func() error { w.onDone(job, err); return nil }); perr != nil {
		w.mu.Lock()
		if len(w.panics) < maxKept {
			w.panics = append(w.panics, perr)
		} else {
			w.omittedPanics++
		}
		w.mu.Unlock()
	}
}

// delay puts a failed job to wait for its retry on a timer.
func (w *Workers[J]) delay(it item[J], st *retry.State, d time.Duration) {
	if it.retry == nil {
		it.retry = new(retry.State)
	}
	*it.retry = *st
	w.mu.Lock()
	defer w.mu.Unlock()
	w.st.running--
	w.st.retried++
	if w.state == stopped {
		// Stopped while the attempt ran: the job is returned unrun.
		w.st.canceled++
		w.unrun = append(w.unrun, it.job)
		return
	}
	w.st.waiting++
	w.delays++
	dj := &delayed[J]{it: it, due: time.Now().Add(d), seq: w.delays}
	w.retrying[dj] = struct{}{}
	dj.timer = time.AfterFunc(d, func() { w.retryDue(dj) })
}

// retryDue brings a job back from its retry delay.
func (w *Workers[J]) retryDue(dj *delayed[J]) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.retrying[dj]; !ok {
		return // taken off the pool by a stop
	}
	delete(w.retrying, dj)
	if dj.taken {
		w.checkDone()
		return // a stop returned it unrun
	}
	if w.state == stopped {
		w.st.waiting--
		w.st.canceled++
		w.unrun = append(w.unrun, dj.it.job)
		w.checkDone()
		return
	}
	w.place(dj.it, true)
	w.admit()
}

// Resize sets the most workers that may run at once. Growing starts workers
// at once for jobs that are queued; shrinking tells idle workers to exit at
// once and busy ones to exit after their current job, so no job is
// interrupted. math.MaxInt means no limit. It never blocks. It panics if
// n < 1.
func (w *Workers[J]) Resize(n int) {
	if n < 1 {
		panic(fmt.Sprintf("pool: Resize(%d): need at least one worker", n))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.limit = n
	w.admit()
	w.dismiss(n)
}

// Close stops intake, drains the pool and waits for its goroutines to exit.
//
// From the moment Close is called, Submit and TrySubmit return
// [ErrClosed], and so do the Submit calls that were waiting for room. Close
// then waits until every queued job has run, every running job has
// finished, and every job waiting out a retry delay has had its retries, as
// the policy decides; then every worker has exited, and Close returns nil.
//
// If ctx is done first, or the context the Workers was made with, Close
// stops the pool: it cancels the running jobs' context (with the context's
// cause), takes the queued jobs and those waiting to retry off the pool
// (they do not run), waits for the running handlers to return and the
// workers to exit, and returns a [*CloseError] with the jobs that never
// ran and those interrupted. A CloseError also reports letters the
// dead-letter sink refused and panics in the OnDone hook, even when the
// drain completed. Close returns nil when nothing was lost: when the drain
// completed, and also when the context ended but every job it cancelled
// succeeded anyway, or there was none.
//
// Close may be called more than once, from any goroutine but the pool's own
// (a handler or an OnDone hook that called it would wait for itself): every
// call waits for the pool to stop (and stops it if its own ctx is done
// first), but only the first returns the CloseError; the others return
// [ErrClosed]. It
// panics if ctx is nil, before it changes anything.
func (w *Workers[J]) Close(ctx context.Context) error {
	if ctx == nil {
		panic("pool: Workers.Close: nil Context")
	}
	w.mu.Lock()
	first := w.state == open
	if first {
		w.state = draining
		for !w.waiters.empty() {
			wt := w.waiters.front()
			w.waiters.remove(wt)
			w.st.blocked--
			w.reject()
			wt.decided = true
			wt.ch <- ErrClosed
		}
		if w.queue.len() == 0 {
			w.dismiss(-1)
		}
		w.checkDone()
	}
	w.mu.Unlock()

	select {
	case <-w.done:
		// Already drained: a context that is also done changes nothing.
	case <-w.ctx.Done():
		// Stopped before Close: its own ctx did not cut anything short.
		w.stop(context.Cause(w.ctx))
	default:
		select {
		case <-w.done:
		case <-ctx.Done():
			w.stop(context.Cause(ctx))
		case <-w.ctx.Done():
			w.stop(context.Cause(w.ctx))
		}
	}
	<-w.done
	if !first {
		return ErrClosed
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cause == nil && w.ctx.Err() != nil {
		// The pool's own context ended before Close was called.
		w.cause = context.Cause(w.ctx)
	}
	w.cancel(ErrClosed)                  // releases the context; no handler is running
	w.unrun = append(w.unrun, w.late...) // after the queued and the delayed jobs
	w.late = nil
	if len(w.unrun) == 0 && len(w.interrupt) == 0 && len(w.refused) == 0 && len(w.panics) == 0 {
		// Nothing was lost, even if the context ended: the jobs it
		// cancelled succeeded anyway, or there were none.
		return nil
	}
	return &CloseError[J]{
		Cause:          w.cause,
		Unrun:          w.unrun,
		Interrupted:    w.interrupt,
		Undelivered:    w.refused,
		Panics:         w.panics,
		OmittedLetters: w.omittedLetters,
		OmittedPanics:  w.omittedPanics,
	}
}

// stop cuts the drain short: no job starts from now on, the queued jobs and
// those waiting to retry are taken off the pool, and the running ones are
// cancelled with cause.
func (w *Workers[J]) stop(cause error) {
	w.mu.Lock()
	if w.state == stopped {
		w.mu.Unlock()
		return
	}
	w.state = stopped
	w.cause = cause
	for w.queue.len() > 0 {
		w.unrun = append(w.unrun, w.queue.pop().job)
		w.st.queued--
		w.st.canceled++
	}
	var stopped []*delayed[J]
	for dj := range w.retrying {
		if dj.timer.Stop() {
			delete(w.retrying, dj)
		} else {
			// Its timer has fired and retryDue waits for the lock: the
			// job comes back unrun here, in its due order, and retryDue
			// only takes it off retrying, so that Close waits for it.
			dj.taken = true
		}
		stopped = append(stopped, dj)
	}
	slices.SortFunc(stopped, func(a, b *delayed[J]) int {
		return cmp.Or(a.due.Compare(b.due), cmp.Compare(a.seq, b.seq))
	})
	for _, dj := range stopped {
		w.unrun = append(w.unrun, dj.it.job)
		w.st.waiting--
		w.st.canceled++
	}
	w.dismiss(-1)
	w.checkDone()
	w.mu.Unlock()
	w.cancel(cause)
}

// checkDone closes done once the pool has been closed and nothing is left:
// no worker, no queued job, no job waiting to retry. w.mu must be held.
func (w *Workers[J]) checkDone() {
	if w.finished || w.state == open || w.live > 0 || w.queue.len() > 0 || len(w.retrying) > 0 {
		return
	}
	w.finished = true
	close(w.done)
}

// Stats returns a snapshot of the pool's counts, all taken at one instant:
// the conservation law of [Stats] holds for every snapshot. It takes the
// pool's lock for a few nanoseconds.
func (w *Workers[J]) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.st
	return Stats{
		Submitted:      s.submitted,
		Succeeded:      s.succeeded,
		Failed:         s.failed,
		Panicked:       s.panicked,
		Canceled:       s.canceled,
		DeadLettered:   s.deadLettered,
		Rejected:       s.rejected,
		Queued:         s.queued,
		Running:        s.running,
		Waiting:        s.waiting,
		Retried:        s.retried,
		Undelivered:    s.undelivered,
		Blocked:        s.blocked,
		QueueHighWater: s.highWater,
		Workers:        uint64(w.live),
	}
}

// ring is a FIFO queue in a circular buffer that grows as needed.
type ring[T any] struct {
	buf  []T
	head int
	n    int
}

func (r *ring[T]) len() int { return r.n }

func (r *ring[T]) push(v T) {
	if r.n == len(r.buf) {
		buf := make([]T, max(8, 2*len(r.buf)))
		k := copy(buf, r.buf[r.head:])
		copy(buf[k:], r.buf[:r.head])
		r.buf, r.head = buf, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = v
	r.n++
}

func (r *ring[T]) pop() T {
	var zero T
	v := r.buf[r.head]
	r.buf[r.head] = zero
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return v
}

// workerList is a list of idle workers, most recently idle first, so that
// the ones idle longest reach their timeout.
type workerList[J any] struct{ head *worker[J] }

func (l *workerList[J]) empty() bool { return l.head == nil }

func (l *workerList[J]) push(wk *worker[J]) {
	wk.prev, wk.next = nil, l.head
	if l.head != nil {
		l.head.prev = wk
	}
	l.head = wk
}

func (l *workerList[J]) pop() *worker[J] {
	wk := l.head
	l.remove(wk)
	return wk
}

func (l *workerList[J]) remove(wk *worker[J]) {
	if wk.prev != nil {
		wk.prev.next = wk.next
	} else {
		l.head = wk.next
	}
	if wk.next != nil {
		wk.next.prev = wk.prev
	}
	wk.prev, wk.next = nil, nil
}

// waiterList is the FIFO list of Submit calls waiting for room.
type waiterList[J any] struct{ head, tail *waiter[J] }

func (l *waiterList[J]) empty() bool       { return l.head == nil }
func (l *waiterList[J]) front() *waiter[J] { return l.head }

func (l *waiterList[J]) push(wt *waiter[J]) {
	wt.prev, wt.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = wt
	} else {
		l.head = wt
	}
	l.tail = wt
}

func (l *waiterList[J]) remove(wt *waiter[J]) {
	if wt.prev != nil {
		wt.prev.next = wt.next
	} else {
		l.head = wt.next
	}
	if wt.next != nil {
		wt.next.prev = wt.prev
	} else {
		l.tail = wt.prev
	}
	wt.prev, wt.next = nil, nil
}
