package pool

// This file owns a worker goroutine's life: its loop, taking the next job
// or going idle, running one attempt of a job, and settling the job's
// outcome (success, retry, dead letter, failure) with the OnDone hook.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/internal/catch"
	"github.com/weftgo/weft/retry"
)

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

// spawn starts a worker goroutine with it as its first job.
func (w *Workers[J]) spawn(it item[J]) {
	w.live++
	wk := &worker[J]{wake: make(chan wakeup[J], 1)}
	go w.work(wk, it)
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
		it := wt.it // before the send, after which wt is its Submit's again
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

// attempt is one attempt of a job on a worker. It lives in the frame of
// run, on every job's way to the handler: keep it small (see settle).
type attempt[J any] struct {
	it item[J]
	// ctx is the job's context as the hook returned it at Started, before
	// any attempt timeout: the handler's parent, and the retry policy's.
	ctx context.Context
	// With a hook: when the attempt started, since the epoch, and once
	// the handler has returned, how long it ran.
	took   time.Duration
	n      int                // the attempt's number, 1 for the first
	cancel context.CancelFunc // the attempt timeout's, if begin set one
	st     retry.State
	start  time.Time // with needsClock: when it started
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
		if w.hook != nil {
			w.unrunEvent(it, context.Cause(w.ctx))
		}
		return false
	}
	// Set field by field: a composite literal would be built in a
	// temporary of its own in this frame, and copied.
	var a attempt[J]
	a.it, a.ctx, a.n = it, it.context(w.ctx), 1
	if w.needsClock {
		a.start = time.Now()
	}
	if w.hasPolicy {
		if it.x != nil && it.x.retry != nil {
			a.st = *it.x.retry
		} else {
			a.st = w.policy.Start(a.start)
		}
		a.n = a.st.Attempts() + 1
	}
	returned := false
	catch.Guard(func() error {
		ctx := a.ctx
		if w.hook != nil || w.hasPolicy {
			// Inside the guard: a panic or runtime.Goexit in the hook
			// ends the attempt as one in the handler would.
			ctx = w.begin(&a)
		}
		err := w.handle(ctx, it.job)
		returned = true
		return err
	}, func(err error) {
		// Also runs when the handler calls runtime.Goexit, with
		// weft.ErrGoexit, while the worker goroutine unwinds.
		succeeded = w.settle(&a, err, !returned)
	})
	return succeeded
}

// begin starts a's attempt: it tells the hook, and gives the attempt the
// policy's timeout, which settle cancels. It returns the handler's context.
//
// Not inlined, and neither are the hooks' helpers: their frames, an Event
// and the timeout's, are gone before the handler runs, while in the frames
// on a job's way to the handler they would grow the stack every worker
// keeps (see settle).
//
//go:noinline
func (w *Workers[J]) begin(a *attempt[J]) context.Context {
	if w.hook != nil {
		a.took = time.Since(w.epoch)
		ctx := w.hook(a.ctx, Event[J]{Kind: Started, Job: a.it.job, Attempt: a.n, Wait: a.took - a.it.x.at})
		if ctx != nil {
			a.ctx = ctx
		}
	}
	if !w.hasPolicy {
		return a.ctx
	}
	var ctx context.Context
	ctx, a.cancel = a.st.Context(a.ctx)
	return ctx
}

// settle decides what becomes of a job after an attempt: success, a retry,
// the dead-letter sink, or a final failure, and counts it.
//
// The success path is kept apart from the rest, and small: a worker's stack
// grows to hold the deepest call it has made, and never shrinks back while
// the worker lives, so the frames a job passes through on its way to
// success decide what every idle worker costs.
//
// It returns true for a success it leaves for the worker to count, which it
// does when no hook must be told once the success is counted. recovered is
// true when err is a panic recovered from the handler, or weft.ErrGoexit for
// a handler that called runtime.Goexit; the same values returned by the
// handler are errors like any other.
func (w *Workers[J]) settle(a *attempt[J], err error, recovered bool) bool {
	if a.cancel != nil {
		a.cancel()
	}
	if w.hook != nil {
		a.took = time.Since(w.epoch) - a.took
	}
	if err != nil {
		w.settleFailure(a, err, recovered)
		return false
	}
	if w.hasPolicy {
		a.st.Next(a.ctx, nil, time.Now()) // feeds the policy's budget
	}
	if w.onDone == nil && w.hook == nil {
		return true
	}
	w.mu.Lock()
	w.st.running--
	w.st.succeeded++
	w.admit() // the room it held is free, though this worker runs the hooks
	w.mu.Unlock()
	if w.hook != nil {
		w.ended(a, Succeeded, nil, 0)
	}
	if w.onDone != nil {
		w.notify(a.it.job, nil)
	}
	return false
}

// settleFailure is settle for an attempt that did not succeed.
func (w *Workers[J]) settleFailure(a *attempt[J], err error, recovered bool) {
	it, st := a.it, &a.st
	var now time.Time
	if w.needsClock {
		now = time.Now()
	}
	_, isPanic := err.(*weft.PanicError)
	isPanic = isPanic && recovered
	final := err
	kind := Failed
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
			w.end(a, kind, final, refused)
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
			delay, gaveUp = st.Next(a.ctx, e, now)
			return nil
		}); perr != nil {
			gaveUp, isPanic = errors.Join(err, perr), true
		} else if gaveUp == nil {
			settled = true
			if w.hook != nil {
				// Before the job can come back: an attempt's Ended
				// precedes the next one's Started.
				w.ended(a, Retried, err, delay)
			}
			if w.delay(it, st, delay) && w.hook != nil {
				w.unrunEvent(it, w.cause)
			}
			return
		}
		final = gaveUp
	}
	if isPanic {
		kind = Panicked
	}
	if w.sink == nil {
		// A job cut short by a hard stop goes back to the caller in
		// Interrupted, unless it panicked: that is a bug to report, not
		// a job to run again.
		if w.ctx.Err() != nil && !isPanic {
			kind = Canceled
		}
		settled = true
		w.end(a, kind, final, nil)
		return
	}
	l := retry.Letter[J]{Item: it.job, Err: final, Attempts: 1, First: a.start, Last: now}
	if w.hasPolicy {
		l.Attempts, l.First, l.Last = st.Attempts(), st.First(), st.Last()
	}
	refused = &l
	dlErr := catch.Call(func() error {
		return w.sink.DeadLetter(context.WithoutCancel(a.ctx), l)
	})
	settled = true
	if dlErr == nil {
		w.end(a, DeadLettered, final, nil)
		return
	}
	l.Err = errors.Join(final, fmt.Errorf("pool: dead letter not kept: %w", dlErr))
	w.end(a, kind, l.Err, &l)
}

// end counts a job's final outcome and calls the hooks.
func (w *Workers[J]) end(a *attempt[J], kind Outcome, err error, refused *retry.Letter[J]) {
	job := a.it.job
	w.mu.Lock()
	w.st.running--
	switch kind {
	case Failed:
		w.st.failed++
	case Panicked:
		w.st.panicked++
	case DeadLettered:
		w.st.deadLettered++
	case Canceled:
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
	w.admit() // the room it held is free, though this worker runs the hooks
	w.mu.Unlock()
	if w.hook != nil {
		w.ended(a, kind, err, 0)
	}
	if w.onDone != nil && kind != Canceled {
		w.notify(job, err)
	}
}

// notify calls the OnDone hook, keeping a panic in it for Close.
func (w *Workers[J]) notify(job J, err error) {
	if perr := catch.Call(func() error { w.onDone(job, err); return nil }); perr != nil {
		w.keep(perr)
	}
}

// ended tells the hook that a's attempt ended with o.
//
//go:noinline
func (w *Workers[J]) ended(a *attempt[J], o Outcome, err error, delay time.Duration) {
	w.event(a.ctx, Event[J]{Kind: Ended, Job: a.it.job, Attempt: a.n, Run: a.took, Outcome: o, Delay: delay, Err: err})
}

// unrunEvent tells the hook that Close returns it unrun, for cause.
//
//go:noinline
func (w *Workers[J]) unrunEvent(it item[J], cause error) {
	ctx := it.context(w.ctx)
	n := 0
	if it.x != nil && it.x.retry != nil {
		n = it.x.retry.Attempts()
	}
	w.event(ctx, Event[J]{Kind: Unrun, Job: it.job, Attempt: n, Outcome: Canceled, Err: cause})
}

// event calls the OnEvent hook, keeping a panic in it for Close.
func (w *Workers[J]) event(ctx context.Context, e Event[J]) {
	if perr := catch.Call(func() error { w.hook(ctx, e); return nil }); perr != nil {
		w.keep(perr)
	}
}

// keep keeps a hook's panic for Close.
func (w *Workers[J]) keep(perr error) {
	w.mu.Lock()
	if len(w.panics) < maxKept {
		w.panics = append(w.panics, perr)
	} else {
		w.omittedPanics++
	}
	w.mu.Unlock()
}
