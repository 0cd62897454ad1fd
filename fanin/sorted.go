package fanin

import (
	"context"
	"fmt"

	"github.com/weftgo/weft/internal/catch"
)

// Sorted is a running merge started by [MergeSorted]; [Sorted.Err] tells how
// it ended.
type Sorted[T any] struct {
	out  chan T
	done chan struct{}
	err  error // set before done is closed
}

// UnsortedError is the error [Sorted.Err] returns when an input gave a value
// that sorts before the one it gave just before; the merge stops there.
type UnsortedError struct {
	// Input is the position of the input among MergeSorted's arguments.
	Input int
}

// Error returns "fanin: input N of MergeSorted is not sorted".
func (e *UnsortedError) Error() string {
	return fmt.Sprintf("fanin: input %d of MergeSorted is not sorted", e.Input)
}

// MergeSorted merges inputs each sorted by cmp (as for [slices.SortFunc])
// into one sorted output on one goroutine, and returns at once. The merge is
// stable: equal values keep the order of their inputs' positions. It needs
// the next value of every open input, so it runs at the pace of the slowest.
// MergeSorted panics if ctx, cmp or an input is nil.
func MergeSorted[T any](ctx context.Context, cmp func(a, b T) int, ins ...<-chan T) *Sorted[T] {
	if ctx == nil {
		panic("fanin: MergeSorted with a nil context")
	}
	if cmp == nil {
		panic("fanin: MergeSorted with a nil cmp function")
	}
	for i, in := range ins {
		if in == nil {
			panic(fmt.Sprintf("fanin: MergeSorted: input %d is a nil channel, which never closes", i))
		}
	}
	s := &Sorted[T]{out: make(chan T, DefaultBuffer), done: make(chan struct{})}
	m := &sortedMerge[T]{ctx: ctx, done: ctx.Done(), cmp: cmp, ins: ins, out: s.out}
	go catch.Guard(m.run, func(err error) {
		s.err = err
		close(s.out)
		close(s.done)
	})
	return s
}

// Out returns the output channel, the same on every call.
func (s *Sorted[T]) Out() <-chan T {
	return s.out
}

// Err blocks until the output is closed and says why: nil when every input
// was merged to its end, [context.Cause] of ctx, an [*UnsortedError], or a
// [*github.com/weftgo/weft.PanicError] when cmp panicked.
func (s *Sorted[T]) Err() error {
	<-s.done
	return s.err
}

type sortedMerge[T any] struct {
	ctx  context.Context
	done <-chan struct{}
	cmp  func(a, b T) int
	ins  []<-chan T
	out  chan<- T
	// heap keeps one value per open input: each value costs O(log k)
	// comparisons for k inputs, plus one to check that its input is sorted.
	heap []head[T]
}

// head is the next value of input in, waiting in the heap.
type head[T any] struct {
	v  T
	in int
}

func (m *sortedMerge[T]) run() error {
	m.heap = make([]head[T], 0, len(m.ins))
	for i, in := range m.ins {
		v, ok, err := m.recv(in)
		if err != nil {
			return err
		}
		if ok {
			m.heap = append(m.heap, head[T]{v, i})
		}
	}
	for i := len(m.heap)/2 - 1; i >= 0; i-- {
		m.down(i)
	}
	for len(m.heap) > 0 {
		top := m.heap[0]
		if err := m.send(top.v); err != nil {
			return err
		}
		v, ok, err := m.recv(m.ins[top.in])
		if err != nil {
			return err
		}
		if ok {
			if m.cmp(v, top.v) < 0 {
				return &UnsortedError{Input: top.in}
			}
			// The input's next value replaces its last one at the top and
			// sinks: one pass down instead of a pop and a push.
			m.heap[0].v = v
		} else {
			last := len(m.heap) - 1
			m.heap[0] = m.heap[last]
			m.heap[last] = head[T]{} // let the value be collected
			m.heap = m.heap[:last]
		}
		m.down(0)
	}
	return nil
}

// less orders heads by value, and equal values by input position, which is
// what makes the merge stable.
func (m *sortedMerge[T]) less(a, b *head[T]) bool {
	if c := m.cmp(a.v, b.v); c != 0 {
		return c < 0
	}
	return a.in < b.in
}

// down moves the head at i down the heap until neither child is less.
func (m *sortedMerge[T]) down(i int) {
	h := m.heap
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && m.less(&h[r], &h[l]) {
			c = r
		}
		if !m.less(&h[c], &h[i]) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

func (m *sortedMerge[T]) recv(in <-chan T) (T, bool, error) {
	select {
	case v, ok := <-in:
		return v, ok, nil
	default:
	}
	select {
	case v, ok := <-in:
		return v, ok, nil
	case <-m.done:
		var zero T
		return zero, false, context.Cause(m.ctx)
	}
}

func (m *sortedMerge[T]) send(v T) error {
	if m.done != nil && m.ctx.Err() != nil {
		return context.Cause(m.ctx)
	}
	select {
	case m.out <- v:
		return nil
	default:
	}
	select {
	case m.out <- v:
		return nil
	case <-m.done:
		return context.Cause(m.ctx)
	}
}
