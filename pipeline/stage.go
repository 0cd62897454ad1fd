package pipeline

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// emitter collects a stage's output items into chunks and hands them on.
//
// A chunk goes out when it is full, and when the stage has no more input
// ready: a consumer never waits for a chunk to fill while the producer itself
// waits, and a producer that is ahead sends full chunks. This keeps the
// latency of a lone item at one hop per stage while a busy pipeline pays one
// channel operation per chunk instead of one per item.
type emitter[T any] struct {
	sc   *scope
	out  chan *chunk[T]
	pool *chunkPool[T]
	size int
	cur  *chunk[T]

	// hold keeps every chunk until flush, for ordered stages whose output
	// must wait for its turn.
	hold bool
	// hungry, when set, is raised by a consumer that waits for input; the
	// emitter then hands on what it has at once. For sources that cannot
	// tell when they are about to block.
	hungry *atomic.Bool
	held   []*chunk[T]

	emitFn func(T) error // add in the form FlatMap hands to user code
	// emitMu makes emitFn safe for concurrent use, and guards calling,
	// which is true while FlatMap's function runs.
	emitMu  sync.Mutex
	calling bool

	// failFast is set when the stage has no error handler: an error from
	// its function stops the pipeline.
	failFast bool
}

// failed is called by a kernel the moment the stage function returns an
// error. Without an error handler that error will fail the pipeline, so the
// other workers are told to stop now, before the error is wrapped and
// recorded: it bounds the items processed after a failure.
func (e *emitter[T]) failed() {
	if e.failFast {
		e.sc.halt.Store(true)
	}
}

func newEmitter[T any](sc *scope, s *Stream[T], out chan *chunk[T]) *emitter[T] {
	return &emitter[T]{sc: sc, out: out, pool: s.pool, size: s.chunk}
}

// buf returns the chunk being filled, with room for at least one item.
func (e *emitter[T]) buf() *chunk[T] {
	if e.cur == nil {
		e.cur = e.pool.get(e.size)
	}
	return e.cur
}

// full hands on the chunk being filled, which has reached the chunk size. It
// returns false if the pipeline stopped while it waited for the consumer.
func (e *emitter[T]) full() bool {
	c := e.cur
	e.cur = nil
	if e.hold {
		e.held = append(e.held, c)
		return true
	}
	return send(e.sc, e.out, c)
}

// add queues v for the consumer. It returns false if the pipeline stopped
// while add waited for the consumer.
func (e *emitter[T]) add(v T) bool {
	c := e.buf()
	c.items = append(c.items, v)
	if len(c.items) >= e.size || e.hungry != nil && len(e.out) == 0 && e.hungry.Load() {
		return e.full()
	}
	return true
}

// flush hands on everything queued. It returns false if the pipeline stopped
// first.
func (e *emitter[T]) flush() bool {
	for i, c := range e.held {
		e.held[i] = nil
		if !send(e.sc, e.out, c) {
			e.held = e.held[:0]
			return false
		}
	}
	e.held = e.held[:0]
	if e.cur == nil || len(e.cur.items) == 0 {
		return true
	}
	c := e.cur
	e.cur = nil
	return send(e.sc, e.out, c)
}

// emit returns add in the form FlatMap hands to user code: safe for
// concurrent use, and refusing items once the function it was given to has
// returned (see call).
func (e *emitter[T]) emit() func(T) error {
	if e.emitFn == nil {
		e.emitFn = func(v T) error {
			e.emitMu.Lock()
			if !e.calling {
				e.emitMu.Unlock()
				return errEmitAfterReturn
			}
			ok := !e.sc.halted() && e.add(v)
			e.emitMu.Unlock()
			if !ok {
				return e.sc.cause()
			}
			return nil
		}
	}
	return e.emitFn
}

// call runs f with emit open, and closes it when f returns, so that an emit
// from a goroutine f left behind cannot race the stage handing on its output.
func (e *emitter[T]) call(f func() error) error {
	e.emitMu.Lock()
	e.calling = true
	e.emitMu.Unlock()
	defer func() {
		e.emitMu.Lock()
		e.calling = false
		e.emitMu.Unlock()
	}()
	return f()
}

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
			r := &runner[T, R]{sc: sc, in: in, src: src, out: out, ch: ch, k: k, h: h}
			if cfg.workers == 1 {
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
			var running atomic.Int32
			running.Store(int32(cfg.workers))
			for range cfg.workers {
				sc.goStage(out.name, r.worker, func() {
					if running.Add(-1) == 0 {
						out.complete.Store(r.finished.Load() == int32(cfg.workers))
						close(ch)
					}
				})
			}
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

	// With more than one worker, workers claim shares of the input chunks.
	workers int
	turns   []chan struct{} // ordered: the token for claim seq sits in turns[seq%workers]
	// claiming is held (a value in it) by the worker that is claiming. It
	// is a channel rather than a mutex because its holder may wait for
	// input: waiting on a channel, the others stay durably blocked, which
	// keeps pipelines usable inside testing/synctest bubbles.
	claiming chan struct{}
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
		if err == errHalted || r.sc.stopped() {
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
			r.sc.fail(stageError(r.out.name, err))
			return false, nil
		}
		items = items[n+1:]
	}
	return true, nil
}

// single is the loop of a stage with one worker.
func (r *runner[T, R]) single() error {
	e := newEmitter(r.sc, r.out, r.ch)
	e.failFast = r.h == nil
	for {
		c, ok := r.in.next(r.src)
		if !ok {
			break
		}
		more, err := r.process(c.items, e)
		if !more {
			return err
		}
		r.in.pool.put(c)
		// Keep filling the chunk while more input is already queued.
		if len(r.src) == 0 && !e.flush() {
			return nil
		}
	}
	r.end(e)
	return nil
}

// end hands on what a worker holds once its input has ended, and counts the
// worker complete if the input was: an upstream stage that stopped early
// closes its output too.
func (r *runner[T, R]) end(e *emitter[R]) {
	if r.in.drained(r.src) && e.flush() {
		r.finished.Add(1)
	}
}

// worker is the loop of each worker of a stage with several.
func (r *runner[T, R]) worker() error {
	e := newEmitter(r.sc, r.out, r.ch)
	e.failFast = r.h == nil
	e.hold = r.turns != nil
	var idle func() bool // unordered: hand on the output before waiting
	if r.turns == nil {
		idle = e.flush
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
		r.observe(time.Since(start), hi-lo)
		r.release(c)
		if r.turns == nil {
			if len(r.src) == 0 && !e.flush() {
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
		if !e.flush() {
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

// observe folds the time a claim of n items took into the mean per item.
func (r *runner[T, R]) observe(d time.Duration, n int) {
	if n == 0 {
		return
	}
	per := int64(d) / int64(n)
	old := r.perItem.Load()
	if old == 0 {
		r.perItem.Store(per + 1)
		return
	}
	r.perItem.Store(old + (per-old)/4)
}

// claim takes the next share of input for a worker. Cheap items are claimed
// a whole chunk at a time; slow items in shares of what is left divided by
// the workers, so that a chunk of slow items is spread over idle workers and
// shares shrink as it runs out (guided self-scheduling). It returns false
// when the input is exhausted or the pipeline stopped.
//
// If it may have to wait, for input or for the claim lock (which a worker
// waiting for input holds), claim first calls idle (when not nil) without
// the lock: a worker that saw input queued, and so kept its output to add
// more, may find that another worker took it, and must not sit on finished
// items while the source is quiet.
func (r *runner[T, R]) claim(idle func() bool) (c *chunk[T], lo, hi int, seq uint64, ok bool) {
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
	n := (left + r.workers - 1) / r.workers
	if per := r.perItem.Load(); per > 0 {
		n = max(n, int(int64(claimTarget)/per))
	} else {
		n = max(n, 1) // no measure yet: start small
	}
	n = min(n, left)
	lo, hi = r.pos, r.pos+n
	r.pos = hi
	c.claims.Add(1)
	if r.pos == len(c.items) {
		r.cur = nil
		r.release(c)
	}
	seq = r.seq
	r.seq++
	return c, lo, hi, seq, true
}

// release marks a claim on c as processed, recycling c after its last one.
func (r *runner[T, R]) release(c *chunk[T]) {
	if c.claims.Add(-1) == 0 {
		r.in.pool.put(c)
	}
}
