package fanout

import (
	"context"
	"fmt"

	"github.com/weftgo/weft/internal/catch"
)

// Distributor sends each value of an input channel to exactly one of its
// outputs: a work splitter for parallel consumers. Start one with
// [Distribute].
//
// By default a value goes to whichever consumer is ready first: all outputs
// are then the same channel, which each consumer reads, so a slow consumer
// simply takes fewer values. [RoundRobin] deals the values out in turn, and
// [ByKey] sends all values with one key to one output, in input order; with
// those two a consumer that falls behind holds up the others once its buffer
// is full.
//
// One goroutine does the sending. It ends, closing every output, when the
// input is closed and every value has been sent, when ctx is done, or when
// the ByKey function panics; [Distributor.Wait] waits for it and says which.
// Values still in an output's buffer then stay readable before the close.
// Every consumer must read its output until it is closed, or have ctx
// cancelled.
//
// The methods of a Distributor are safe for concurrent use.
type Distributor[T any] struct {
	chans []<-chan T
	done  chan struct{}
	err   error // set before done is closed
}

// Distribute starts sending each value received from in to one of n
// outputs and returns at once. Each output holds up to [Buffer] values
// (default [DefaultBuffer]); with the default strategy the n outputs share
// one channel holding n times that.
//
// Every value received from in is sent to exactly one output, unless ctx
// ends first: the value in hand at that moment is dropped, and the values
// still in in stay there, since the input is the caller's.
//
// Distribute panics if ctx or in is nil, if n < 1, on an option that
// applies to [Broadcast] only, and on a [ByKey] function for another element
// type.
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

// Outputs returns the n output channels, output i at index i. The slice is
// the caller's; the channels are the same on every call. With the default
// strategy every element is the same channel.
func (d *Distributor[T]) Outputs() []<-chan T {
	return append([]<-chan T(nil), d.chans...)
}

// Wait blocks until the sending goroutine has exited and every output is
// closed, and returns nil if the input was closed and every value was sent,
// [context.Cause] of ctx if ctx was done first, or a *weft.PanicError if the
// ByKey function panicked.
//
// Wait does not read the outputs: calling it on a goroutine that should read
// one deadlocks once that output's buffer is full.
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
