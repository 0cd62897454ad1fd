package fanin

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrClosed is returned by [Merger.Add] after [Merger.Close].
var ErrClosed = errors.New("fanin: add after Close")

// Merge returns a channel that carries every value received from every
// input, each input's values in their order, and is closed once every input
// is closed or as soon as ctx is done. With no inputs it returns a closed
// channel.
//
// Merge starts one goroutine per input. Each one forwards its input until
// the input is closed or ctx is done; the output is closed after the last of
// them has made its last send. The output holds [DefaultBuffer] values; the
// consumer must read it to the end or cancel ctx (see the package rules).
// Each value costs a receive and a send, which the goroutines try without
// blocking first, so that no goroutine parks while inputs and consumer keep
// up. The repository's docs/benchmarks.md compares Merge with hand-written
// merges.
//
// Merge panics if ctx or an input is nil. For another buffer or inputs that
// arrive later, use a [Merger].
func Merge[T any](ctx context.Context, ins ...<-chan T) <-chan T {
	if ctx == nil {
		panic("fanin: Merge with a nil context")
	}
	for i, in := range ins {
		if in == nil {
			panic(fmt.Sprintf("fanin: Merge: input %d is a nil channel, which never closes", i))
		}
	}
	// Close is called at once, so the output closes when the inputs end and
	// no watcher of ctx is needed: the goroutines see ctx themselves.
	m := newMerger[T](ctx, DefaultBuffer, false)
	for _, in := range ins {
		if m.Add(in) != nil {
			break // ctx is done: the output closes without reading the inputs
		}
	}
	m.Close()
	return m.out
}

// Merger merges inputs that arrive while it runs: a channel per client, per
// partition or per subscription, added with [Merger.Add] and read from one
// output, [Merger.Out]. Each input's values come out in their order; values
// of different inputs interleave as they arrive. A channel added twice is
// read by two goroutines, and its order is lost.
//
// The output is closed exactly once: after [Merger.Close] has been called
// and every input added before it has been read to its end, or as soon as
// ctx is done, whichever comes first. Until then it stays open even while no
// input is active, so a consumer can range over it while inputs come and go.
//
// A Merger runs one goroutine per input, which ends when its input is closed
// or ctx is done; the output is closed after the last of them has made its
// last send. The consumer must read the output until it is closed or cancel
// ctx. A Merger that is neither closed nor cancelled keeps its output open
// for good; it holds no goroutine while it has no inputs.
//
// A Merger is safe for concurrent use. Create it with [New].
type Merger[T any] struct {
	ctx context.Context
	out chan T
	// stop deregisters the watcher that closes an idle Merger's output when
	// ctx is done; nil when nothing watches.
	stop func() bool

	mu       sync.Mutex
	active   int  // input goroutines running
	closed   bool // Close was called
	ended    bool // ctx is done
	finished bool // out is closed
}

// New returns a Merger with no inputs whose output closes when ctx is done
// or after [Merger.Close] once its inputs are drained. Its output holds
// [DefaultBuffer] values unless [Buffer] says otherwise. New starts no
// goroutine; it panics if ctx is nil.
func New[T any](ctx context.Context, opts ...Option) *Merger[T] {
	if ctx == nil {
		panic("fanin: New with a nil context")
	}
	cfg := newConfig(opts)
	return newMerger[T](ctx, cfg.buffer, true)
}

func newMerger[T any](ctx context.Context, buffer int, watch bool) *Merger[T] {
	m := &Merger[T]{ctx: ctx, out: make(chan T, buffer)}
	if watch && ctx.Done() != nil {
		stop := context.AfterFunc(ctx, m.ctxDone)
		// If ctxDone has run already, finish found no stop to call, and
		// none is needed.
		m.mu.Lock()
		m.stop = stop
		m.mu.Unlock()
	}
	return m
}

// Add starts forwarding the values of in to the output, on a goroutine that
// ends when in is closed or ctx is done. It returns [ErrClosed] after
// [Merger.Close], and [context.Cause] of ctx once ctx is done; in either
// case in is not read. Add never blocks on the channels. It panics if in is
// nil, a channel that never closes.
func (m *Merger[T]) Add(in <-chan T) error {
	if in == nil {
		panic("fanin: Merger.Add(nil): a nil channel never closes")
	}
	ctxErr := m.ctx.Err() // user code: not under the lock
	m.mu.Lock()
	switch {
	case m.closed:
		m.mu.Unlock()
		return ErrClosed
	case m.ended || ctxErr != nil:
		m.mu.Unlock()
		return context.Cause(m.ctx)
	}
	m.active++
	m.mu.Unlock()
	go m.forward(in)
	return nil
}

// Out returns the output channel. Every call returns the same channel.
func (m *Merger[T]) Out() <-chan T {
	return m.out
}

// Close tells the Merger that no more inputs will be added: the output
// closes once every input added so far has been read to its end, at once if
// there are none. Close does not wait for that and does not close the
// inputs. Later calls to [Merger.Add] return [ErrClosed]; calling Close again
// does nothing.
func (m *Merger[T]) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	m.closed = true
	if m.active == 0 {
		m.finish()
	}
}

// forward copies in to the output until in is closed or ctx is done. Each
// channel operation is tried without blocking first: a select with one case
// and a default costs a fraction of one that also waits on ctx.
func (m *Merger[T]) forward(in <-chan T) {
	ctx, out := m.ctx, m.out
	done := ctx.Done()
	cancelled := false
	defer func() { m.exit(cancelled) }()
	for {
		var v T
		var ok bool
		select {
		case v, ok = <-in:
		default:
			select {
			case v, ok = <-in:
			case <-done:
				cancelled = true
				return
			}
		}
		if !ok {
			return
		}
		select {
		case out <- v:
		default:
			select {
			case out <- v:
			case <-done:
				cancelled = true
				return
			}
		}
		// With inputs and consumer always ready the selects above never
		// wait, so they would not notice ctx: ask it once per value.
		if done != nil && ctx.Err() != nil {
			cancelled = true
			return
		}
	}
}

// exit accounts for a goroutine that has stopped forwarding and closes the
// output if it was the last one and no more are coming.
func (m *Merger[T]) exit(cancelled bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.active--
	if cancelled {
		m.ended = true
	}
	if m.active == 0 && (m.closed || m.ended) {
		m.finish()
	}
}

// ctxDone runs once ctx is done, to close the output of a Merger that has no
// input goroutine left to do it.
func (m *Merger[T]) ctxDone() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ended = true
	if m.active == 0 {
		m.finish()
	}
}

// finish closes the output once. m.mu must be held.
func (m *Merger[T]) finish() {
	if m.finished {
		return
	}
	m.finished = true
	close(m.out)
	if m.stop != nil {
		// Never waits for ctxDone, so it is safe under m.mu.
		m.stop()
	}
}
