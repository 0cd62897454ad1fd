package fanout

import (
	"context"
	"fmt"

	"github.com/weftgo/weft/internal/catch"
)

// Distributor sends each value of an input to exactly one of its outputs;
// start one with [Distribute]. By default a value goes to whichever consumer
// is ready first. With [RoundRobin] or [ByKey] a slow consumer holds up the
// others once its buffer is full. Its methods are safe for concurrent use.
type Distributor[T any] struct {
	chans []<-chan T
	done  chan struct{}
	err   error // set before done is closed
}

// Distribute starts sending each value received from in to one of n outputs
// and returns at once. Each output holds up to [Buffer] values; by default
// the outputs share one channel holding n times that. A value received when
// ctx ends is dropped. Distribute panics if ctx or in is nil, n < 1, or an
// option applies to [Broadcast] only.
func Distribute[T any](ctx context.Context, in <-chan T, n int, opts ...Option) *Distributor[T] {
	if ctx == nil {
		panic("fanout: Distribute with a nil context")
	}
	if in == nil {
		panic("fanout: Distribute with a nil input channel, which never closes")
	}
	if n < 1 {
		panic(fmt.Sprintf("fanout: Distribute(n=%d): need at least one output", n))
	}
	cfg := newConfig("Distribute", opts)
	d := &Distributor[T]{chans: make([]<-chan T, n), done: make(chan struct{})}
	s := &distribute[T]{ctx: ctx, done: ctx.Done(), in: in}
	if cfg.strategy == firstReady {
		ch := make(chan T, cfg.out.buffer*n)
		for i := range d.chans {
			d.chans[i] = ch
		}
		s.outs = []chan T{ch}
	} else {
		s.outs = make([]chan T, n)
		for i := range s.outs {
			s.outs[i] = make(chan T, cfg.out.buffer)
			d.chans[i] = s.outs[i]
		}
	}
	s.key = typed[func(T) uint64, T](cfg.key, cfg.keyFunc, "Distribute", "ByKey")
	go catch.Guard(s.run, func(err error) {
		for _, ch := range s.outs {
			close(ch)
		}
		d.err = err
		close(d.done)
	})
	return d
}

// Outputs returns a new slice of the n output channels, output i at index i;
// by default they are all the same channel.
func (d *Distributor[T]) Outputs() []<-chan T {
	return append([]<-chan T(nil), d.chans...)
}

// Wait blocks until every output is closed and returns nil if every value
// was sent, [context.Cause] of ctx, or the
// [*github.com/weftgo/weft.PanicError] of a [ByKey] function. It does not
// read the outputs.
func (d *Distributor[T]) Wait() error {
	<-d.done
	return d.err
}

// distribute is the state of the sending goroutine.
type distribute[T any] struct {
	ctx  context.Context
	done <-chan struct{}
	in   <-chan T
	outs []chan T
	key  func(T) uint64 // nil unless ByKey
}

func (s *distribute[T]) run() error {
	n := uint64(len(s.outs))
	next := uint64(0) // the round-robin turn
	for {
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
			}
		}
		if !ok {
			return nil
		}
		var out chan T
		switch {
		case s.key != nil:
			// Called with one output too, so that what the key function
			// does (a panic, a side effect) does not depend on n.
			out = s.outs[s.key(v)%n]
		case n == 1:
			out = s.outs[0]
		default:
			out = s.outs[next]
			if next++; next == n {
				next = 0
			}
		}
		select {
		case out <- v:
			continue
		default:
		}
		select {
		case out <- v:
		case <-s.done:
			return context.Cause(s.ctx)
		}
	}
}
