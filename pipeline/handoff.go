package pipeline

import (
	"sync"
	"sync/atomic"
	"time"
)

// emitter collects a producer's output items into chunks and hands them on.
//
// The hand-off is demand-driven, as in the LMAX Disruptor's smart batching:
// a chunk goes out when it is full, when the consumer waits for input (it
// raises hungry before it parks), and when the producer runs out of input
// itself. So an item is held back only while the consumer is still busy
// with earlier ones: chunks are large under load, and a lone item travels
// alone.
//
// What hungry cannot cover is a consumer that goes idle while the producer
// is inside a slow call of its function: the producer sees the flag only
// after the call. A stage whose items are slow therefore fills its chunk
// under a mutex (locked), and the consumer takes the partly filled chunk
// itself (steal) rather than wait. The mutex costs some 20ns per item,
// nothing beside a slow function; a stage whose items are cheap drops it
// (see tune) and holds an item for at most one cheap call.
type emitter[T any] struct {
	sc   *scope
	out  chan *chunk[T]
	pool *chunkPool[T]
	size int
	cur  *chunk[T]

	// hungry is raised by the consumer while it waits for input.
	hungry *atomic.Bool
	// stamp makes every chunk record when its first item was produced,
	// for a Batch downstream.
	stamp bool

	// mu guards cur while locked is set, so that the consumer may steal
	// it. locked is changed by the producer only, under mu.
	mu     sync.Mutex
	locked bool
	// plain is !locked && !stamp, for put's fast path.
	plain bool
	// fast counts the items in a row measured cheap, for tune; blocked is
	// the time spent waiting for the consumer since tune last ran, which
	// says nothing of the items' cost.
	fast    int
	blocked time.Duration

	// hold keeps every chunk until flush, for ordered stages whose output
	// must wait for its turn.
	hold bool
	held []*chunk[T]

	emitFn func(T) error // put in the form FlatMap hands to user code
	// emitMu makes emitFn safe for concurrent use, and guards calling,
	// which is true while FlatMap's function runs.
	emitMu  sync.Mutex
	calling bool

	// failFast is set when the stage has no error handler: an error from
	// its function stops the pipeline.
	failFast   bool
	failedHere bool

	// ticks counts the chunks of an unlocked stage, for timing; here, where
	// it fills the padding after the flags.
	ticks uint32

	// ob is set when the stage has an OnEvent hook; a pointer, so that the
	// emitters of stages without one stay small.
	ob *observer
}

func newEmitter[T any](sc *scope, s *Stream[T], out chan *chunk[T]) *emitter[T] {
	return &emitter[T]{sc: sc, out: out, pool: s.pool, size: s.chunk, hungry: &s.hungry, stamp: s.stamp, plain: !s.stamp}
}

// failed is called by a kernel the moment the stage function returns an
// error. Without an error handler that error will fail the pipeline, so the
// other workers are told to stop now, before the error is wrapped and
// recorded: it bounds the items processed after a failure. failedHere
// tells process that the cancellation is this error's, not its cause.
func (e *emitter[T]) failed() {
	if e.failFast {
		e.failedHere = true
		e.sc.cancel(errStopping)
	}
}

// full hands on the chunk being filled. It returns false if the pipeline
// stopped while it waited for the consumer.
func (e *emitter[T]) full() bool {
	c := e.cur
	e.cur = nil
	if e.hold {
		e.held = append(e.held, c)
		return true
	}
	return e.send(c)
}

// send hands c to the consumer, or returns false if the pipeline stops
// first, keeping account of the time it waits.
func (e *emitter[T]) send(c *chunk[T]) bool {
	select {
	case e.out <- c:
		return true
	default:
	}
	start := time.Now()
	ok := false
	select {
	case e.out <- c:
		ok = true
	case <-e.sc.ctx.Done():
	}
	d := time.Since(start)
	e.blocked += d
	if e.ob != nil {
		e.ob.waits = append(e.ob.waits, d)
	}
	return ok
}

// add queues v for the consumer, handing the chunk on if it is full or the
// consumer waits. It returns false if the pipeline stopped while add waited
// for the consumer. With locked set, the caller holds mu.
func (e *emitter[T]) add(v T) bool {
	c := e.cur
	if c == nil {
		c = e.pool.get(e.size)
		e.cur = c
	}
	if e.stamp && len(c.items) == 0 {
		c.born = time.Now()
	}
	c.items = append(c.items, v)
	if len(c.items) >= e.size {
		return e.full()
	}
	if e.hungry.Load() && len(e.out) == 0 {
		// The consumer waits: this chunk wakes it. Until it is awake and
		// busy, items gather again rather than follow one by one.
		e.hungry.Store(false)
		return e.full()
	}
	return true
}

// put is add for a producer that may be locked. Its first lines are the
// common case, small enough to be inlined into the kernels: room in the
// chunk, no lock, no stamp, no consumer waiting.
func (e *emitter[T]) put(v T) bool {
	if e.plain {
		if c := e.cur; c != nil && e.room() {
			c.items = append(c.items, v)
			return true
		}
	}
	return e.putSlow(v)
}

// room reports whether put may append to cur without a look at anything
// else: the chunk has room for more than one item, and the consumer is not
// waiting. The consumer is asked every eighth item only, since its flag
// shares a cache line it writes; a cheap item waits eight calls at most.
func (e *emitter[T]) room() bool {
	n := len(e.cur.items)
	return n+1 < e.size && (n&7 != 0 || !e.hungry.Load())
}

func (e *emitter[T]) putSlow(v T) bool {
	if !e.locked {
		return e.add(v)
	}
	e.mu.Lock()
	ok := e.add(v)
	e.mu.Unlock()
	if ok && e.hungry.Load() {
		// The consumer may have gone hungry while we held the lock, and
		// failed to steal: it raised the flag before it tried the lock,
		// so we see it here, after letting go. Hand on now.
		e.mu.Lock()
		if e.cur != nil && len(e.cur.items) > 0 && len(e.out) == 0 {
			ok = e.full()
		}
		e.mu.Unlock()
	}
	return ok
}

// steal takes the partly filled chunk for a consumer that would otherwise
// wait, or returns nil. It never waits for the lock: a producer holding it
// is adding an item, and sees the consumer hungry once it lets go.
func (e *emitter[T]) steal() *chunk[T] {
	if !e.mu.TryLock() {
		return nil
	}
	defer e.mu.Unlock()
	// A chunk sent before the lock was taken must be received first, to
	// keep the order.
	if !e.locked || e.cur == nil || len(e.cur.items) == 0 || len(e.out) > 0 {
		return nil
	}
	c := e.cur
	e.cur = nil
	return c
}

// flush hands on everything queued. It returns false if the pipeline stopped
// first.
func (e *emitter[T]) flush() bool {
	if e.locked {
		e.mu.Lock()
		defer e.mu.Unlock()
	}
	for i, c := range e.held {
		e.held[i] = nil
		if !e.send(c) {
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
	return e.send(c)
}

// Thresholds for tune: an item slower than slowItem makes a stage lock its
// chunk; fastRun cheap items in a row let it go back.
const (
	slowItem = 2 * time.Microsecond
	fastRun  = 256
)

// tune sets locked from the time the last n items took: slow items make a
// consumer's wait for the end of a call costly, cheap ones make the mutex
// the larger cost. A stage starts locked, having measured nothing.
func (e *emitter[T]) tune(d time.Duration, n int) {
	d -= e.blocked
	e.blocked = 0
	if n == 0 || d <= 0 {
		return // a reading of zero is the clock's resolution, not a measure
	}
	if d >= slowItem*time.Duration(n) {
		e.fast = 0
		if !e.locked {
			e.setLocked(true)
		}
		return
	}
	e.fast += n
	if e.locked && e.fast >= fastRun {
		e.setLocked(false)
	}
}

// timing reports whether an unlocked stage measures this chunk.
func (e *emitter[T]) timing() bool {
	e.ticks++
	return e.ticks%8 == 0
}

// setLocked sets locked; only the producer calls it.
func (e *emitter[T]) setLocked(locked bool) {
	e.mu.Lock()
	e.locked = locked
	e.plain = !locked && !e.stamp
	e.mu.Unlock()
}

// emit returns put in the form FlatMap hands to user code: safe for
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
			ok := !e.sc.stopped() && e.put(v)
			if ok && e.ob != nil {
				e.ob.emitted++
			}
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
