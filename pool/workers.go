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

// Workers is a long-lived pool of worker goroutines that run one handler
// over jobs of type J taken from a bounded queue: the consumer behind a
// message queue, a webhook sender, a thumbnailer. Producers [Workers.Submit]
// jobs and are held back while the queue is full; [Workers.Close] stops
// intake, drains what was accepted and joins every goroutine; every job
// ends in exactly one outcome that [Workers.Stats] counts.
//
//	w := pool.NewWorkers(ctx, 8, send,
//		pool.Retry(retry.New(retry.Attempts(5))),
//		pool.DeadLetter[Email](deadLetters),
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
// [Buffer]) counts the queued jobs and those waiting out a retry delay.
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
// With [Retry], a job whose handler fails is retried as its
// [retry.Policy] decides: the job keeps its [retry.State], waits out the
// delay on a timer without holding a worker, and goes back to the end of
// the queue. Jobs the policy gives up on, jobs that fail without a policy,
// jobs that panic and jobs that fail because the pool was stopped while
// they ran go to the [DeadLetter] sink if there is one, with their
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

// NewWorkers returns a Workers that runs handle on each submitted job, on at
// most workers goroutines at once, with a context derived from ctx. It
// starts no goroutine: workers start as jobs arrive. Call [Workers.Close]
// to release them.
//
// A limit of math.MaxInt means no limit, and so does a queue of
// math.MaxInt; the memory a Workers takes grows with its jobs, not with its
// limits. It panics if workers < 1, if ctx, handle or an option is nil, or
// if a [DeadLetter] or [OnDone] option is for another job type than J. Its
// options are [Buffer], [IdleTimeout], [Retry], [DeadLetter] and [OnDone].
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
