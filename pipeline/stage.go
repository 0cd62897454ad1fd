package pipeline

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// kernel runs a stage's function over items, emitting the results. It
// returns how many items it finished and, if it stopped before the end, the
// error of the item at that index, or errHalted if the pipeline stopped.
type kernel[T, R any] func(ctx context.Context, items []T, e *emitter[R]) (int, error)

// errHalted reports that the pipeline stopped while a kernel ran; the cause
// is elsewhere.
var errHalted = errors.New("pipeline: halted")

// stage builds a stage that runs k over the items of in.
func stage[T, R any](in *Stream[T], kind string, opts []Option, ordered bool, k kernel[T, R]) *Stream[R] {
	in.consume()
	cfg := newConfig(opts, kind, true)
	sc := in.sc
	return newStream(sc, kind, cfg, func(out *Stream[R]) func() <-chan *chunk[R] {
		h := handler[T](cfg, out.name)
		return func() <-chan *chunk[R] {
			src := in.start()
			ch := make(chan *chunk[R], cfg.channelCap())
			r := &runner[T, R]{sc: sc, in: in, src: src, out: out, ch: ch, k: k, h: h, onEvent: cfg.onEvent}
			if cfg.workers == 1 {
				r.e = r.newEmitter()
				r.e.setLocked(true) // until tune has measured the items
				out.steal = r.e.steal
				sc.goStage(out.name, r.single, func() {
					out.complete.Store(r.finished.Load() == 1)
					close(ch)
				})
				return ch
			}
			r.workers = cfg.workers
			r.claiming = make(chan struct{}, 1)
			if ordered {
				r.turns = make([]chan struct{}, cfg.workers)
				for i := range r.turns {
					r.turns[i] = make(chan struct{}, 1)
				}
				r.turns[0] <- struct{}{}
			}
			// Workers start on demand (see claim), so that memory grows with
			// the work, not with n. Only a running worker starts another,
			// so running reaches zero once, after the last of them.
			var running atomic.Int32
			r.spawn = func() {
				r.started++
				running.Add(1)
				sc.goStage(out.name, r.worker, func() {
					if running.Add(-1) == 0 {
						out.complete.Store(r.finished.Load() == int32(r.started))
						close(ch)
					}
				})
			}
			r.spawn()
			return ch
		}
	})
}

// runner is the state of one running stage.
type runner[T, R any] struct {
	sc  *scope
	in  *Stream[T]
	src <-chan *chunk[T]
	out *Stream[R]
	ch  chan *chunk[R]
	k   kernel[T, R]
	h   func(context.Context, T, error) error
	e   *emitter[R] // the emitter of a stage with one worker
	// onEvent is the stage's OnEvent hook, or nil.
	onEvent func(Event)

	// With more than one worker, workers claim shares of the input chunks.
	workers int
	// Ordered: the token for claim seq sits in turns[seq%workers]. A result
	// ready early waits for the claims before it, so the reorder window is
	// one claim per worker.
	turns []chan struct{}
	// claiming is held (a value in it) by the worker that is claiming. It
	// is a channel rather than a mutex because its holder may wait for
	// input: waiting on a channel, the others stay durably blocked, which
	// keeps pipelines usable inside testing/synctest bubbles.
	claiming chan struct{}
	// spawn starts one more worker; started counts them, up to workers.
	// Both are used under the claim lock, or before the first worker runs.
	spawn   func()
	started int
	// waiting counts the workers in claim that have not taken the claim
	// lock yet: idle ones, which make a new worker needless.
	waiting  atomic.Int32
	cur      *chunk[T]    // the chunk being handed out
	pos      int          // the first item of cur not claimed yet
	seq      uint64       // the sequence number of the next claim
	perItem  atomic.Int64 // a running mean of the ns one item takes
	finished atomic.Int32 // workers that handed on all their output
}

// process runs the kernel on items, handing failed items to the error
// handler. It returns false when the stage must end, with the error to fail
// it, if any.
func (r *runner[T, R]) process(items []T, e *emitter[R]) (bool, error) {
	ctx := r.sc.ctx
	for len(items) > 0 {
		n, err := r.k(ctx, items, e)
		if err == nil {
			return true, nil
		}
		if err == errHalted || r.sc.stopped() && !e.failedHere {
			// The pipeline stopped, perhaps with the function returning
			// the context's error: the cause is elsewhere.
			return false, nil
		}
		if r.h != nil {
			err = r.h(ctx, items[n], err)
		}
		if err != nil {
			// Fail here rather than on the way out of the goroutine, so
			// that the other stages stop as soon as possible.
			r.sc.fail(r.out.name, err)
			return false, nil
		}
		items = items[n+1:]
	}
	return true, nil
}

// single is the loop of a stage with one worker.
func (r *runner[T, R]) single() error {
	e := r.e
	e.failFast = r.h == nil
	for {
		c, ok := r.in.next(r.src)
		if !ok {
			break
		}
		// Timing costs as much as a few cheap items: a stage that runs
		// unlocked measures one chunk in eight.
		timed := e.locked || e.timing()
		var start time.Time
		if timed {
			start = time.Now()
		}
		more, err := r.process(c.items, e)
		if !more {
			return err
		}
		if timed {
			e.tune(time.Since(start), len(c.items))
		}
		r.in.pool.put(c)
		// Keep filling the chunk while more input is already queued.
		if len(r.src) == 0 && !r.flush(e) {
			return nil
		}
	}
	r.end(e)
	return nil
}

// newEmitter returns an emitter for a worker of the stage.
func (r *runner[T, R]) newEmitter() *emitter[R] {
	e := newEmitter(r.sc, r.out, r.ch)
	if r.onEvent != nil {
		e.ob = &observer{hook: r.onEvent, stage: r.out.name}
	}
	return e
}

// flush hands on what e holds, as e.flush does, and reports the waits for
// the consumer that took.
func (r *runner[T, R]) flush(e *emitter[R]) bool {
	ok := e.flush()
	if e.ob != nil {
		e.ob.report()
	}
	return ok
}

// end hands on what a worker holds once its input has ended, and counts the
// worker complete if the input was: an upstream stage that stopped early
// closes its output too.
func (r *runner[T, R]) end(e *emitter[R]) {
	if r.in.drained(r.src) && r.flush(e) {
		r.finished.Add(1)
	}
}

// worker is the loop of each worker of a stage with several.
func (r *runner[T, R]) worker() error {
	e := r.newEmitter()
	e.failFast = r.h == nil
	e.hold = r.turns != nil
	var idle func() bool // unordered: hand on the output before waiting
	if r.turns == nil {
		idle = func() bool { return r.flush(e) }
	}
	for {
		c, lo, hi, seq, ok := r.claim(idle)
		if !ok {
			break
		}
		start := time.Now()
		more, err := r.process(c.items[lo:hi], e)
		if !more {
			return err
		}
		r.observe(time.Since(start)-e.blocked, hi-lo) // waits for the consumer are no item's cost
		e.blocked = 0
		r.release(c)
		if r.turns == nil {
			// Slow items go on one claim at a time: a consumer must not
			// wait for the next slow call. Cheap ones while input is queued
			// gather into chunks.
			if (r.slow() || len(r.src) == 0) && !r.flush(e) {
				return nil
			}
			continue
		}
		// Ordered: hand on this claim's output after every earlier claim's.
		select {
		case <-r.turns[seq%uint64(r.workers)]:
		case <-r.sc.ctx.Done():
			return nil
		}
		if !r.flush(e) {
			return nil
		}
		r.turns[(seq+1)%uint64(r.workers)] <- struct{}{}
	}
	r.end(e)
	return nil
}

// claimTarget is how long a claim should keep a worker busy: long enough that
// the cost of claiming is small beside it, short enough to spread a chunk of
// slow items over the workers.
const claimTarget = 20 * time.Microsecond

// slow reports whether the stage's items are slow enough that holding a
// result for the next call would cost its consumer noticeable time. Before
// the first measure, it assumes so.
func (r *runner[T, R]) slow() bool {
	per := r.perItem.Load()
	return per == 0 || per >= int64(slowItem)
}

// observe folds the time a claim of n items took into the mean per item.
func (r *runner[T, R]) observe(d time.Duration, n int) {
	if n == 0 || d <= 0 {
		return // a reading of zero is the clock's resolution, not a measure
	}
	per := int64(d)/int64(n) + 1
	old := r.perItem.Load()
	if old == 0 || per < old {
		// Falls at once, rises slowly: a claim stretched by preemption
		// must not make a stage of cheap items claim and hand on one
		// item at a time for long.
		r.perItem.Store(per)
		return
	}
	r.perItem.Store(old + (per-old)/4)
}

// claim takes the next share of input for a worker: as many items as take
// about claimTarget, by the running measure, and at least one. Cheap items
// are claimed a chunk at a time; slow ones one by one, so that no worker is
// idle while another holds items it has not started. It returns false when
// the input is exhausted or the pipeline stopped.
//
// If it may have to wait, for input or for the claim lock (which a worker
// waiting for input holds), claim first calls idle (when not nil) without
// the lock: a worker that saw input queued, and so kept its output to add
// more, may find that another worker took it, and must not sit on finished
// items while the source is quiet.
func (r *runner[T, R]) claim(idle func() bool) (c *chunk[T], lo, hi int, seq uint64, ok bool) {
	r.waiting.Add(1)
	locked := false
	defer func() {
		if !locked {
			r.waiting.Add(-1)
		}
	}()
	for {
		select {
		case r.claiming <- struct{}{}:
		default:
			// Another worker holds the claim lock, and may be waiting
			// for input with it: hand on the output before waiting too.
			if idle != nil {
				if !idle() {
					return nil, 0, 0, 0, false
				}
				idle = nil
			}
			select {
			case r.claiming <- struct{}{}:
			case <-r.sc.ctx.Done():
				return nil, 0, 0, 0, false
			}
		}
		if idle == nil || r.cur != nil || len(r.src) > 0 {
			break
		}
		<-r.claiming
		if !idle() {
			return nil, 0, 0, 0, false
		}
		idle = nil // handed on: now wait for input
	}
	r.waiting.Add(-1)
	locked = true
	defer func() { <-r.claiming }()
	if r.cur == nil {
		// Waiting here with the lock held is what the other workers would
		// do anyway: there is nothing to claim until a chunk arrives.
		if r.cur, ok = r.in.next(r.src); !ok {
			return nil, 0, 0, 0, false
		}
		r.pos = 0
		r.cur.claims.Store(1) // held while cur is being handed out
	}
	c = r.cur
	left := len(c.items) - r.pos
	n := 1 // no measure yet: start small
	if per := r.perItem.Load(); per > 0 {
		n = int(max(1, min(int64(claimTarget)/per, int64(left))))
	}
	lo, hi = r.pos, r.pos+n
	r.pos = hi
	c.claims.Add(1)
	if r.pos == len(c.items) {
		r.cur = nil
		r.release(c)
	}
	seq = r.seq
	r.seq++
	// Items are left for another claim and no worker is idle to take
	// them: start one more, if the stage may.
	if r.started < r.workers && r.waiting.Load() == 0 && (r.cur != nil || len(r.src) > 0) {
		r.spawn()
	}
	return c, lo, hi, seq, true
}

// release marks a claim on c as processed, recycling c after its last one.
func (r *runner[T, R]) release(c *chunk[T]) {
	if c.claims.Add(-1) == 0 {
		r.in.pool.put(c)
	}
}
