package pool

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
)

// ResultPool is a [Pool] whose tasks return a value: [ResultPool.Wait]
// returns the values in submission order, whatever order the tasks finished
// in. With several goroutines calling Go, that is the order in which their
// calls took their places, before each waited for a worker. For a slice
// known in advance, [Map] is simpler and faster.
type ResultPool[R any] struct {
	// Everything Pool's doc says about workers, waiting, cancellation and
	// panics holds for a ResultPool.
	//
	// Each accepted task gets the next place in submission order when Go is
	// called, and writes its value straight into that place when it finishes:
	// no sorting, and no lock shared by the workers. The places are kept in
	// blocks that are never moved, so growing the store never copies values
	// that workers may be writing; Wait copies them once into the slice it
	// returns. A refused Go call takes no place. Memory is that of the values,
	// plus one copy of them during Wait. Ordered collection thus costs no more
	// than tasks appending to a shared slice under a mutex
	// (BenchmarkResultPoolOrdered against BenchmarkResultsUnordered).

	g group[resultTask[R]]

	mu     sync.Mutex // guards the store; held only to take or give back a place
	blocks [][]R
	cur    []R   // the block being filled
	off    int   // the next free place in cur
	n      int   // places taken
	holes  []int // places given back out of order
	out    []R   // the values, once Wait has collected them
	ready  bool

	// A Go call between taking its place and learning whether the group
	// accepted its task is unsettled; Wait must not collect until none
	// is, or it would take a refused task's place for a value. closing
	// (set under mu) stops new places from being taken, and the call that
	// settles the last one then closes settled.
	unsettled atomic.Int64
	closing   atomic.Bool
	settled   chan struct{}
	once      sync.Once
}

// resultTask is a ResultPool's task: the function and the place for its value.
type resultTask[R any] struct {
	f    func(context.Context) (R, error)
	slot *R
	idx  int
}

func (t resultTask[R]) run(ctx context.Context) error {
	v, err := t.f(ctx)
	*t.slot = v
	return err
}

func (t resultTask[R]) order() int { return t.idx }

// Blocks start small, for pools of a few tasks, and double up to a size at
// which one allocation per block costs nothing per task.
const (
	firstBlock = 16
	maxBlock   = 8192
)

// NewResultPool is [New] for a ResultPool, and panics as New does.
func NewResultPool[R any](ctx context.Context, workers int, opts ...PoolOption) *ResultPool[R] {
	r := new(ResultPool[R])
	r.g.init(ctx, "NewResultPool", "ResultPool", workers, opts)
	return r
}

// Go runs f as [Pool.Go] does, and keeps its value for [ResultPool.Wait] at
// the next place in submission order. It returns what Pool.Go returns; a
// refused f takes no place. It panics if f is nil.
func (r *ResultPool[R]) Go(f func(ctx context.Context) (R, error)) error {
	if f == nil {
		panic("pool: ResultPool.Go(nil)")
	}
	return r.submit(context.Background(), f, true)
}

// GoContext is [ResultPool.Go] that also gives up when ctx is done, as
// [Pool.GoContext] does. It panics if ctx or f is nil.
func (r *ResultPool[R]) GoContext(ctx context.Context, f func(ctx context.Context) (R, error)) error {
	if f == nil {
		panic("pool: ResultPool.GoContext(nil)")
	}
	if ctx == nil {
		panic("pool: ResultPool.GoContext: nil Context")
	}
	return r.submit(ctx, f, true)
}

// TryGo is [ResultPool.Go] without the wait, as [Pool.TryGo] is; a refused f
// takes no place. It panics if f is nil.
func (r *ResultPool[R]) TryGo(f func(ctx context.Context) (R, error)) error {
	if f == nil {
		panic("pool: ResultPool.TryGo(nil)")
	}
	return r.submit(context.Background(), f, false)
}

func (r *ResultPool[R]) submit(ctx context.Context, f func(context.Context) (R, error), block bool) error {
	slot, idx := r.take()
	err := r.g.submit(ctx, resultTask[R]{f, slot, idx}, block)
	if idx < 0 {
		return err // refused: Wait had begun collecting
	}
	if err != nil {
		r.giveBack(idx)
	}
	r.settle()
	return err
}

// settle ends the unsettled state of a Go call that took a place.
func (r *ResultPool[R]) settle() {
	if r.unsettled.Add(-1) == 0 && r.closing.Load() {
		r.once.Do(func() { close(r.settled) })
	}
}

// take returns the next place in submission order, or none once Wait has
// begun collecting the values, when the group refuses every task.
func (r *ResultPool[R]) take() (*R, int) {
	r.mu.Lock()
	if r.closing.Load() {
		r.mu.Unlock()
		return nil, -1
	}
	r.unsettled.Add(1)
	if r.off == len(r.cur) {
		size := firstBlock
		if len(r.cur) > 0 {
			size = min(2*len(r.cur), maxBlock)
		}
		r.cur = make([]R, size)
		r.blocks = append(r.blocks, r.cur)
		r.off = 0
	}
	slot, idx := &r.cur[r.off], r.n
	r.off++
	r.n++
	r.mu.Unlock()
	return slot, idx
}

// giveBack returns the place of a refused task. Its slot was never written.
func (r *ResultPool[R]) giveBack(idx int) {
	r.mu.Lock()
	if idx == r.n-1 && r.off > 0 {
		// The last place taken, in the block being filled, as it is with
		// one submitter: reuse it.
		r.n--
		r.off--
	} else {
		r.holes = append(r.holes, idx)
	}
	r.mu.Unlock()
}

// Wait blocks as [Pool.Wait] does and returns one value per accepted task,
// in submission order: what the task returned, even with an error, or R's
// zero value if it panicked. Its error is [Pool.Wait]'s, but with the tasks'
// errors joined in submission order, so a nil error means one value per Go
// call. Calling Wait again returns the same slice and error.
func (r *ResultPool[R]) Wait() ([]R, error) {
	err := r.g.wait()
	r.mu.Lock()
	if !r.closing.Load() {
		r.settled = make(chan struct{})
		r.closing.Store(true)
	}
	r.mu.Unlock()
	// The group is closed, so every unsettled Go call is about to learn
	// that it was refused, or is returning from being accepted.
	if r.unsettled.Load() != 0 {
		<-r.settled
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.ready {
		r.out = r.collect()
		r.ready = true
	}
	return r.out, err
}

// collect copies the values out of the blocks, leaving out the holes.
func (r *ResultPool[R]) collect() []R {
	slices.Sort(r.holes)
	out := make([]R, 0, r.n-len(r.holes))
	idx, holes := 0, r.holes
	for _, b := range r.blocks {
		if idx >= r.n {
			break
		}
		b = b[:min(len(b), r.n-idx)]
		for len(holes) > 0 && holes[0] < idx+len(b) {
			h := holes[0] - idx
			out = append(out, b[:h]...)
			b = b[h+1:]
			idx += h + 1
			holes = holes[1:]
		}
		out = append(out, b...)
		idx += len(b)
	}
	r.blocks, r.cur, r.holes = nil, nil, nil
	return out
}

// Stats returns a snapshot of the pool's counts.
func (r *ResultPool[R]) Stats() Stats {
	return r.g.stats.snapshot()
}
