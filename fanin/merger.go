package fanin

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrClosed is returned by [Merger.Add] after [Merger.Close].
var ErrClosed = errors.New("fanin: add after Close")

// Merge returns a channel of every value from every input, closed once
// every input is closed or as soon as ctx is done. It starts one goroutine
// per input; the output holds [DefaultBuffer] values. Merge panics if ctx or
// an input is nil.
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

// Merger merges inputs added while it runs ([Merger.Add]) into one output
// ([Merger.Out]), with one goroutine per input. The output stays open while
// inputs come and go, and is closed once [Merger.Close] has been called and
// every input is drained, or as soon as ctx is done. A Merger is safe for
// concurrent use; create it with [NewMerger].
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

// NewMerger returns a Merger with no inputs, whose output holds [DefaultBuffer]
// values unless [Buffer] says otherwise. It panics if ctx is nil.
func NewMerger[T any](ctx context.Context, opts ...Option) *Merger[T] {
	if ctx == nil {
		panic("fanin: NewMerger with a nil context")
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

// Add starts a goroutine that forwards in to the output until in is closed
// or ctx is done, and returns without waiting. It returns [ErrClosed] after
// [Merger.Close] and [context.Cause] of ctx once ctx is done, and then does
// not read in. Add panics if in is nil.
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

// Out returns the output channel, the same on every call.
func (m *Merger[T]) Out() <-chan T {
	return m.out
}

// Close says no more inputs will be added: the output closes once every
// input added so far is drained. Close does not wait for that and does not
// close the inputs; a second Close does nothing.
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
// and a default costs a fraction of one that also waits on ctx, so no
// goroutine parks while inputs and consumer keep up. BenchmarkMerge sets
// this beside the usual hand-written merge, buffered and unbuffered.
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
