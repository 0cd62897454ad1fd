package pool

// This file owns resizing: Resize, and telling workers to exit when the
// limit falls, idle ones at once and busy ones after their current job.

import (
	"fmt"
)

// Resize sets the most workers that may run at once, without blocking;
// shrinking interrupts no job, as busy workers exit after their current one.
// It panics if n < 1.
func (w *Workers[J]) Resize(n int) {
	// Growing starts workers at once for the jobs that are queued; shrinking
	// tells idle workers to exit at once. math.MaxInt means no limit (package
	// rules).
	if n < 1 {
		panic(fmt.Sprintf("pool: Resize(%d): need at least one worker", n))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.limit = n
	w.admit()
	w.dismiss(n)
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
