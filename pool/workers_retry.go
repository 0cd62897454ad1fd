package pool

// This file owns retry scheduling: a failed job waiting out its delay on a
// timer, holding no worker, and its return to the queue when the timer
// fires, or to Close's unrun jobs if the pool was stopped meanwhile.

import (
	"time"

	"github.com/weftgo/weft/retry"
)

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

// delay puts a failed job to wait for its retry on a timer. It returns true
// if the pool was stopped while the attempt ran: the job is then returned
// unrun.
func (w *Workers[J]) delay(it item[J], st *retry.State, d time.Duration) (unrun bool) {
	if it.x == nil {
		it.x = new(extra)
	}
	if it.x.retry == nil {
		it.x.retry = new(retry.State)
	}
	*it.x.retry = *st
	w.mu.Lock()
	defer w.mu.Unlock()
	w.st.running--
	w.st.retried++
	if w.state == stopped {
		w.st.canceled++
		w.unrun = append(w.unrun, it.job)
		return true
	}
	w.st.waiting++
	w.delays++
	dj := &delayed[J]{it: it, due: time.Now().Add(d), seq: w.delays}
	w.retrying[dj] = struct{}{}
	dj.timer = time.AfterFunc(d, func() { w.retryDue(dj) })
	return false
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
		return // a stop returned it unrun, and told the hook
	}
	// Not stopped: a stop takes every job in retrying, and delay adds none
	// once stopped.
	if w.hook != nil {
		dj.it.x.at = time.Since(w.epoch)
	}
	w.place(dj.it, true)
	w.admit()
}
