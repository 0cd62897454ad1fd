package fanout

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/weftgo/weft/internal/catch"
)

// Broadcaster sends every value of an input to each of its outputs, in
// order; start one with [Broadcast]. With [Block] (the default) the slowest
// consumer sets the pace of all once its buffer is full; with [DropNewest]
// or [DropOldest] it misses values instead, counted by
// [Broadcaster.Dropped]. Its methods are safe for concurrent use.
type Broadcaster[T any] struct {
	outs  []output[T]
	chans []<-chan T

	// pending is raised by Unsubscribe; the sender looks at it before each
	// value, and wake interrupts it when it waits.
	pending atomic.Bool
	wake    chan struct{}

	done chan struct{}
	err  error // set before done is closed
}

type output[T any] struct {
	ch      chan T
	policy  FullPolicy
	dropped atomic.Uint64
	gone    atomic.Bool // unsubscribed
	closed  bool        // ch is closed; owned by the sending goroutine
}

// Broadcast starts sending every value received from in to n outputs and
// returns at once. Options set each output's [Buffer] and [OnFull] policy,
// for all outputs or, with [ForOutput], for one. Broadcast panics if ctx or
// in is nil, n < 1, an option applies to [Distribute] only, or [DropOldest]
// has a buffer of 0.
func Broadcast[T any](ctx context.Context, in <-chan T, n int, opts ...Option) *Broadcaster[T] {
	if ctx == nil {
		panic("fanout: Broadcast with a nil context")
	}
	if in == nil {
		panic("fanout: Broadcast with a nil input channel, which never closes")
	}
	if n < 1 {
		panic(fmt.Sprintf("fanout: Broadcast(n=%d): need at least one output", n))
	}
	cfg := newConfig("Broadcast", opts)
	onDrop := typed[func(int, T), T](cfg.onDrop, cfg.onDrop, "Broadcast", "OnDrop")
	for i := range cfg.perOutput {
		if i >= n {
			panic(fmt.Sprintf("fanout: Broadcast(n=%d): ForOutput(%d) names an output it does not have", n, i))
		}
	}
	b := &Broadcaster[T]{
		outs:  make([]output[T], n),
		chans: make([]<-chan T, n),
		wake:  make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
	for i := range b.outs {
		oc := cfg.out.merge(cfg.perOutput[i])
		if oc.policy == DropOldest && oc.buffer == 0 {
			panic(fmt.Sprintf("fanout: Broadcast: output %d: OnFull(DropOldest) needs a Buffer of at least 1", i))
		}
		o := &b.outs[i]
		o.ch = make(chan T, oc.buffer)
		o.policy = oc.policy
		b.chans[i] = o.ch
	}
	s := &broadcast[T]{b: b, ctx: ctx, done: ctx.Done(), in: in, onDrop: onDrop}
	go catch.Guard(s.run, func(err error) {
		for i := range b.outs {
			if o := &b.outs[i]; !o.closed {
				close(o.ch)
			}
		}
		b.err = err
		close(b.done)
	})
	return b
}

// Outputs returns a new slice of the n output channels, output i at index i.
func (b *Broadcaster[T]) Outputs() []<-chan T {
	return append([]<-chan T(nil), b.chans...)
}

// Unsubscribe says the consumer of output i has gone: nothing more is sent
// to it or waited for, and its channel is closed soon after, its buffered
// values still readable. Unsubscribe never blocks; a second call does
// nothing. It panics if there is no output i.
//
//	stop := context.AfterFunc(consumerCtx, func() { b.Unsubscribe(i) })
//	defer stop()
func (b *Broadcaster[T]) Unsubscribe(i int) {
	if i < 0 || i >= len(b.outs) {
		panic(fmt.Sprintf("fanout: Broadcaster.Unsubscribe(%d) with %d outputs", i, len(b.outs)))
	}
	if b.outs[i].gone.Swap(true) {
		return
	}
	b.pending.Store(true)
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Dropped returns how many values output i has missed under a drop policy;
// values not sent after Unsubscribe do not count. It panics if there is no
// output i.
func (b *Broadcaster[T]) Dropped(i int) uint64 {
	if i < 0 || i >= len(b.outs) {
		panic(fmt.Sprintf("fanout: Broadcaster.Dropped(%d) with %d outputs", i, len(b.outs)))
	}
	return b.outs[i].dropped.Load()
}

// Wait blocks until every output is closed and returns nil if the input was
// drained or every output unsubscribed, [context.Cause] of ctx, or the
// [*github.com/weftgo/weft.PanicError] of an [OnDrop] hook. It does not read
// the outputs.
func (b *Broadcaster[T]) Wait() error {
	<-b.done
	return b.err
}

// broadcast is the state of the sending goroutine.
type broadcast[T any] struct {
	b      *Broadcaster[T]
	ctx    context.Context
	done   <-chan struct{}
	in     <-chan T
	onDrop func(int, T)
	live   []int // outputs not known to be closed
	dirty  bool  // live holds closed outputs
}

func (s *broadcast[T]) run() error {
	b := s.b
	s.live = make([]int, len(b.outs))
	for i := range s.live {
		s.live[i] = i
	}
	for {
		if b.pending.Load() {
			s.closeGone()
		}
		if s.dirty && s.compact() {
			return nil // nobody is listening any more
		}
		// With an input and consumers that are always ready nothing below
		// waits, so nothing would notice ctx: ask it once per value.
		if s.done != nil && s.ctx.Err() != nil {
			return context.Cause(s.ctx)
		}
		var v T
		var ok bool
		select {
		case v, ok = <-s.in:
		default:
			select {
			case v, ok = <-s.in:
			case <-s.done:
				return context.Cause(s.ctx)
			case <-b.wake:
				continue
			}
		}
		if !ok {
			return nil
		}
		for _, i := range s.live {
			o := &b.outs[i]
			if o.closed || o.gone.Load() {
				// Unsubscribed, maybe while this value was going out (its
				// channel is closed later): it gets nothing more, not even
				// a drop.
				continue
			}
			// Each send is tried without blocking first, so that with
			// buffers the sender moves values without waiting for
			// consumers to be scheduled; docs/benchmarks.md sets this
			// beside a hand-written broadcaster with the same buffers.
			switch o.policy {
			case Block:
				select {
				case o.ch <- v:
					continue
				default:
				}
				if err := s.wait(o, v); err != nil {
					return err
				}
			case DropNewest:
				select {
				case o.ch <- v:
				default:
					s.drop(i, v)
				}
			case DropOldest:
				// No lock: a consumer that reads just as the buffer is
				// found full may leave room this drop did not need; every
				// drop is still counted and reported.
				// The hook may unsubscribe this very output: from then on
				// it gets nothing, not even the value being written.
				for sent := false; !sent && !o.gone.Load(); {
					select {
					case o.ch <- v:
						sent = true
					default:
						// Make room: the consumer may take the oldest
						// value first, and then the send succeeds.
						select {
						case old := <-o.ch:
							s.drop(i, old)
						default:
						}
					}
				}
			}
		}
	}
}

// wait sends v to a Block output that is full, giving up if ctx ends or the
// output unsubscribes meanwhile.
func (s *broadcast[T]) wait(o *output[T], v T) error {
	for {
		select {
		case o.ch <- v:
			return nil
		case <-s.done:
			return context.Cause(s.ctx)
		case <-s.b.wake:
			s.closeGone()
			if o.closed {
				return nil
			}
		}
	}
}

// closeGone closes the outputs that have unsubscribed. It leaves the live
// list as it is, because the caller may be ranging over it.
func (s *broadcast[T]) closeGone() {
	b := s.b
	b.pending.Store(false)
	for _, i := range s.live {
		if o := &b.outs[i]; !o.closed && o.gone.Load() {
			o.closed = true
			close(o.ch)
			s.dirty = true
		}
	}
}

// compact drops closed outputs from the live list and reports whether none
// is left.
func (s *broadcast[T]) compact() bool {
	s.dirty = false
	live := s.live[:0]
	for _, i := range s.live {
		if !s.b.outs[i].closed {
			live = append(live, i)
		}
	}
	s.live = live
	return len(live) == 0
}

func (s *broadcast[T]) drop(i int, v T) {
	s.b.outs[i].dropped.Add(1)
	if s.onDrop != nil {
		s.onDrop(i, v)
	}
}
