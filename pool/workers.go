package pool

// This file owns the Workers type: its state under one lock, NewWorkers and
// Stats. Its concerns live beside it: intake (workers_submit.go), the queue
// and admission (workers_queue.go), a worker's loop and a job's outcome
// (workers_run.go), idle workers (workers_idle.go), resizing
// (workers_resize.go), retry scheduling (workers_retry.go) and the close
// protocol (workers_close.go).

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weftgo/weft/retry"
)

// Workers is a long-lived pool of goroutines that run one handler over jobs
// of type J from a bounded queue, such as a message queue's consumer. It
// holds at most its limit plus its [Buffer] of jobs, running, queued or
// waiting to retry (briefly more after [Workers.Resize] lowers the limit).
// Handlers run with the Workers' context, not the submitter's, and must
// return when it is done, or [Workers.Close] cannot return.
type Workers[J any] struct {
	// The bound on jobs holds however they fail. With PropagateValues a
	// handler's context also carries the submitter's values, never its
	// cancellation; OnEvent reports every job's submission, attempts and end.
	//
	// A job that arrives while a worker is idle goes straight to it; otherwise,
	// if fewer workers run than the limit, a new worker starts with it;
	// otherwise it waits in the queue, whose bound counts the queued jobs and
	// those waiting out a retry delay. Submit calls that find the queue full
	// wait first come, first served. Right after Resize lowers the limit, the
	// jobs already running may hold more than the bound until they end.
	//
	// A job through Submit and a worker allocates nothing: a Submit that has to
	// wait reuses a small record kept from an earlier wait, and makes one only
	// while another Submit is waiting too. A retry adds a timer and, on the
	// first, the job's retry state; PropagateValues or a hook, one small
	// record per job (extra). An idle worker holds its goroutine and a
	// few hundred bytes of heap, and nothing once an idle timeout has passed.

	handle     func(context.Context, J) error
	ctx        context.Context // the jobs' context: done at a hard stop
	cancel     context.CancelCauseFunc
	policy     retry.Policy
	hasPolicy  bool
	sink       retry.DeadLetter[J]
	onDone     func(J, error)
	hook       func(context.Context, Event[J]) context.Context
	values     bool      // PropagateValues
	epoch      time.Time // with a hook: what item.at counts from
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

// item is a job and, out of line, what it carries beyond itself: nil until
// its first failure under a retry policy, or from the start under
// PropagateValues or a hook. A job without them is two words through the
// queue and the frames of its worker.
type item[J any] struct {
	job J
	x   *extra
}

// extra is what a job carries beyond itself.
type extra struct {
	retry *retry.State  // nil until the first failure under a policy
	ctx   jobContext    // the job's context, if ctx.sub is set
	at    time.Duration // with a hook: when it entered the queue, since the epoch
}

// context returns the job's context: its own, or the Workers'.
func (it *item[J]) context(pool context.Context) context.Context {
	if it.x != nil && it.x.ctx.sub != nil {
		return &it.x.ctx
	}
	return pool
}

// NewWorkers returns a Workers that runs handle on each submitted job, on at
// most workers goroutines at once, with a context derived from ctx. It
// panics if workers < 1, if ctx, handle or an option is nil, or if a
// [DeadLetter], [OnDone] or [OnEvent] option is for another job type than J.
func NewWorkers[J any](ctx context.Context, workers int, handle func(ctx context.Context, job J) error, opts ...WorkersOption) *Workers[J] {
	if ctx == nil {
		panic("pool: NewWorkers: nil Context")
	}
	if workers < 1 {
		panic(fmt.Sprintf("pool: NewWorkers(workers=%d): need at least one worker", workers))
	}
	if handle == nil {
		panic("pool: NewWorkers: nil handler")
	}
	cfg := newWorkersConfig(opts)
	w := &Workers[J]{
		handle:    handle,
		policy:    cfg.policy,
		hasPolicy: cfg.hasPolicy,
		sink:      deadLetter[J](cfg),
		onDone:    onDone[J](cfg),
		hook:      onEvent[J](cfg),
		values:    cfg.values,
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
	if w.hook != nil {
		w.epoch = time.Now()
	}
	w.ctx, w.cancel = context.WithCancelCause(ctx)
	return w
}

// Stats returns a snapshot of the pool's counts, all taken at one instant.
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
