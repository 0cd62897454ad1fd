package pool

// This file owns the close protocol: Close, which stops intake and drains;
// stop, which cuts the drain short and takes the waiting jobs back; and
// checkDone, which decides when nothing is left and Close may return.

import (
	"cmp"
	"context"
	"slices"
)

// Close stops intake (Submit calls, even those waiting for room, and
// TrySubmit return [ErrClosed]), waits until every queued job has run and
// every retry is done, joins every goroutine, and returns nil if nothing was
// lost. If ctx or the Workers' own context is done first, it cancels the
// running jobs' context with its cause, waits for their handlers, and
// returns a [*CloseError] saying what did not finish. A handler or hook must
// not call Close, which would wait for itself; it panics if ctx is nil.
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
	// Unrun is in queue order, then the jobs that waited to retry in the
	// order they were due, then any handed to a worker as the stop came.
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
	var gone []item[J] // for the hook
	for w.queue.len() > 0 {
		it := w.queue.pop()
		w.unrun = append(w.unrun, it.job)
		w.st.queued--
		w.st.canceled++
		if w.hook != nil {
			gone = append(gone, it)
		}
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
		if w.hook != nil {
			gone = append(gone, dj.it)
		}
	}
	w.dismiss(-1)
	w.checkDone()
	w.mu.Unlock()
	w.cancel(cause)
	for _, it := range gone {
		w.unrunEvent(it, cause)
	}
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
