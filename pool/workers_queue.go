package pool

// This file owns the queue of a Workers and admission to it: where a job
// goes (an idle worker, a new worker, or the queue), the bound that keeps
// the pool from holding more than its limit and queue allow, and the
// moves that start queued jobs and let waiting Submit calls in when room
// appears.

import (
	"math"
)

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

// admit starts workers for queued jobs while fewer than the limit run, and
// lets in waiting Submit calls while there is room. Called whenever a worker
// or room may have appeared. w.mu must be held.
func (w *Workers[J]) admit() {
	w.startQueued()
	for !w.waiters.empty() && w.closedErr() == nil {
		wt := w.waiters.front()
		if !w.place(wt.it, false) {
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
