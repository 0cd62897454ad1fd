package pool

// This file owns idle workers: the list they wait in, most recently idle
// first, and the wait itself, which ends with a job, the word to exit, the
// idle timeout, or the end of the pool's context.

import (
	"time"
)

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
