package pool

// This file owns the intake of a Workers: Submit and TrySubmit, the
// refusals they count, and the FIFO list of Submit calls waiting for room.

import (
	"context"
	"runtime"
	"time"
)

// waiter is a Submit call waiting for room.
type waiter[J any] struct {
	it         item[J]
	ch         chan error // capacity 1: nil when admitted, or ErrClosed
	decided    bool
	prev, next *waiter[J]
}

// Submit adds job to the pool, waiting while the queue is full, first come
// first served; ctx bounds only that wait, not the job (see
// [PropagateValues]). It returns nil once the job is accepted; otherwise
// [context.Cause](ctx), [ErrClosed] once Close has been called, or the cause
// of the pool's own context once that is done, and the job is the caller's
// to keep. It panics if ctx is nil.
func (w *Workers[J]) Submit(ctx context.Context, job J) error {
	if ctx == nil {
		panic("pool: Workers.Submit: nil Context")
	}
	if w.hook != nil || w.values {
		return w.submitWith(ctx, job)
	}
	return w.submit(ctx, item[J]{job: job})
}

// submitWith is Submit with a hook to call or a context to keep.
func (w *Workers[J]) submitWith(ctx context.Context, job J) error {
	it := item[J]{job: job, x: new(extra)}
	if w.values {
		it.x.ctx = newJobContext(w.ctx, ctx)
	}
	if w.hook == nil {
		return w.submit(ctx, it)
	}
	it.x.at = time.Since(w.epoch)
	w.event(ctx, Event[J]{Kind: Submitted, Job: job})
	err := w.submit(ctx, it)
	if err != nil {
		w.event(ctx, Event[J]{Kind: Unrun, Job: job, Outcome: Rejected, Err: err})
	}
	return err
}

// submit is Submit for a job it has made an item of.
func (w *Workers[J]) submit(ctx context.Context, it item[J]) error {
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
		if w.place(it, false) {
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
	wt.it, wt.decided = it, false
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
	wt.it = item[J]{}
	w.spare.Store(wt)
}

// TrySubmit is [Workers.Submit] without the wait: it returns [ErrFull] where
// Submit would wait (including behind Submit calls already waiting), and
// otherwise what Submit returns.
func (w *Workers[J]) TrySubmit(job J) error {
	if w.hook != nil {
		return w.trySubmitWith(job)
	}
	// trySubmit spelled out: the call costs a refusal a tenth of its time.
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

// trySubmitWith is TrySubmit with a hook to call.
func (w *Workers[J]) trySubmitWith(job J) error {
	ctx := context.Background()
	w.event(ctx, Event[J]{Kind: Submitted, Job: job})
	err := w.trySubmit(item[J]{job: job, x: &extra{at: time.Since(w.epoch)}})
	if err != nil {
		w.event(ctx, Event[J]{Kind: Unrun, Job: job, Outcome: Rejected, Err: err})
	}
	return err
}

func (w *Workers[J]) trySubmit(it item[J]) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.closedErr(); err != nil {
		w.reject()
		return err
	}
	if w.waiters.empty() && w.place(it, false) {
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

// waiterList is the FIFO list of Submit calls waiting for room.
type waiterList[J any] struct{ head, tail *waiter[J] }

func (l *waiterList[J]) empty() bool { return l.head == nil }

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
