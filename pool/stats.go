package pool

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Stats is a snapshot of what a pool has done. Every submission is in
// exactly one outcome, so at every snapshot
//
//	Submitted == Succeeded + Failed + Panicked + Canceled + DeadLettered +
//	             Rejected + Queued + Running + Waiting
//
// The first seven only grow. A [Pool] or [ResultPool] fills only
// Submitted, Succeeded, Failed, Panicked, Rejected, Queued, Running and
// Workers.
type Stats struct {
	// Submitted counts the Go, TryGo, Submit and TrySubmit calls accepted
	// or refused; a Pool counts a Go call from its start, as Queued while
	// it waits.
	Submitted uint64
	// Succeeded counts the tasks or jobs whose function returned nil.
	Succeeded uint64
	// Failed counts those that ended with an error (the last attempt's,
	// the retry policy's, or [weft.ErrGoexit]) that no dead-letter sink
	// took.
	Failed uint64
	// Panicked counts those whose last attempt panicked and that no
	// dead-letter sink took.
	Panicked uint64
	// Canceled counts the jobs Close returned, unrun or interrupted.
	Canceled uint64
	// DeadLettered counts the jobs the dead-letter sink took.
	DeadLettered uint64
	// Rejected counts refused submissions.
	Rejected uint64

	// Queued is the number of tasks or jobs not yet started, including Go
	// calls waiting for room.
	Queued uint64
	// Running is the number running now, including time spent in the
	// dead-letter sink.
	Running uint64
	// Waiting is the number of jobs waiting out a retry delay.
	Waiting uint64

	// Retried counts the retries scheduled.
	Retried uint64
	// Undelivered counts the letters the dead-letter sink refused or
	// panicked on; their jobs are in Failed or Panicked.
	Undelivered uint64
	// Blocked is the number of Submit calls waiting for room, not yet in
	// Submitted.
	Blocked uint64
	// QueueHighWater is the highest Queued has been.
	QueueHighWater uint64
	// Workers is the number of worker goroutines alive now; a Pool's may be
	// a moment out of step with Running.
	Workers uint64
}

// String formats s as name=value pairs in field order: "submitted=9
// succeeded=6 … queue_high_water=4 workers=2".
func (s Stats) String() string {
	return fmt.Sprintf("submitted=%d succeeded=%d failed=%d panicked=%d canceled=%d dead_lettered=%d rejected=%d queued=%d running=%d waiting=%d retried=%d undelivered=%d blocked=%d queue_high_water=%d workers=%d",
		s.Submitted, s.Succeeded, s.Failed, s.Panicked, s.Canceled, s.DeadLettered, s.Rejected,
		s.Queued, s.Running, s.Waiting, s.Retried, s.Undelivered, s.Blocked, s.QueueHighWater, s.Workers)
}

// shard holds the counts of one worker goroutine of a group, written by
// that goroutine alone. A task's start and its success are one atomic add
// each on a word of the worker's own: okBusy is the number of successes
// times two, plus one while a task runs. The rarer outcomes change two
// words, inside a sequence count that readers check, so that a snapshot
// never sees a task both running and finished.
type shard struct {
	okBusy   atomic.Uint64
	seq      atomic.Uint64 // odd while an outcome other than success is recorded
	failed   atomic.Uint64
	panicked atomic.Uint64
	index    int // in groupStats.live; guarded by groupStats.mu
	// Pads the shard to 64 bytes (on 64-bit platforms): a size class whose
	// objects are 64-byte aligned, so each worker's shard has a cache line
	// of its own.
	_ [24]byte
}

// start marks a task as running.
func (s *shard) start() { s.okBusy.Add(1) }

// succeed marks the running task as succeeded.
func (s *shard) succeed() { s.okBusy.Add(1) }

// end marks the running task as ended with the outcome counted by c.
func (s *shard) end(c *atomic.Uint64) {
	s.seq.Add(1)
	c.Add(1)
	s.okBusy.Add(^uint64(0))
	s.seq.Add(1)
}

// counts is the sum of some shards' counts.
type counts struct {
	ok, failed, panicked, running uint64
}

func (c *counts) add(o counts) {
	c.ok += o.ok
	c.failed += o.failed
	c.panicked += o.panicked
	c.running += o.running
}

// read returns s's counts as they were at one instant.
func (s *shard) read() counts {
	for {
		seq := s.seq.Load()
		if seq&1 == 1 {
			// The worker is between the two words of an outcome: a few
			// instructions, unless it was preempted there.
			runtime.Gosched()
			continue
		}
		ob := s.okBusy.Load()
		c := counts{
			ok:       ob >> 1,
			running:  ob & 1,
			failed:   s.failed.Load(),
			panicked: s.panicked.Load(),
		}
		if s.seq.Load() == seq {
			return c
		}
	}
}

// groupStats keeps the counts of a group: one shard per live worker, the
// counts of the workers that have exited, and the submitter's counters.
type groupStats struct {
	submitted atomic.Uint64
	rejected  atomic.Uint64

	mu      sync.Mutex // held only to add, remove or sum shards; never while waiting
	live    []*shard
	retired counts
}

// join registers the shard of a new worker.
func (g *groupStats) join() *shard {
	s := new(shard)
	g.mu.Lock()
	s.index = len(g.live)
	g.live = append(g.live, s)
	g.mu.Unlock()
	return s
}

// leave folds the shard of an exiting worker into the retired counts.
func (g *groupStats) leave(s *shard) {
	g.mu.Lock()
	g.retired.add(s.read())
	last := g.live[len(g.live)-1]
	last.index = s.index
	g.live[s.index] = last
	g.live[len(g.live)-1] = nil
	g.live = g.live[:len(g.live)-1]
	g.mu.Unlock()
}

// snapshot reads the counts in an order that can never show a task twice or
// not at all: the workers' shards first, then the rejections, then the
// submissions. A call to Go is counted as submitted before it can be
// rejected or handed to a worker, so every count read later is at least
// the sum of those read earlier, and Queued, the difference, is never
// negative.
func (g *groupStats) snapshot() Stats {
	g.mu.Lock()
	c := g.retired
	for _, s := range g.live {
		c.add(s.read())
	}
	workers := uint64(len(g.live))
	g.mu.Unlock()
	rejected := g.rejected.Load()
	submitted := g.submitted.Load()
	received := c.ok + c.failed + c.panicked + c.running
	return Stats{
		Submitted: submitted,
		Succeeded: c.ok,
		Failed:    c.failed,
		Panicked:  c.panicked,
		Rejected:  rejected,
		Queued:    submitted - rejected - received,
		Running:   c.running,
		Workers:   workers,
	}
}
