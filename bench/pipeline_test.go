package bench

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"testing"

	"github.com/sourcegraph/conc/stream"
	"github.com/weftgo/weft/pipeline"
)

// pipeItems is the number of ints one operation of BenchmarkPipeline sends
// through map(+1) → filter(even) → map(×2) → sum.
const pipeItems = 100_000

// pipeBuffer is the room of every channel of the hand-written floors: the
// same as a weft stage's default output buffer (64, though weft's holds
// chunks of items).
const pipeBuffer = 64

// pipeResult is what the sink of every pipeline computes: the sum, and
// whether the items arrived in input order (every output is larger than the
// one before it, since the stages are monotonic). An unordered
// implementation may set inOrder to false; an ordered one must not.
type pipeResult struct {
	sum     int
	last    int
	inOrder bool
}

func (r *pipeResult) add(v int) {
	if v <= r.last {
		r.inOrder = false
	}
	r.last = v
	r.sum += v
}

func newPipeResult() pipeResult { return pipeResult{last: -1, inOrder: true} }

// The three stage functions, shared by every implementation.
func plus1(v int) int  { return v + 1 }
func even(v int) bool  { return v%2 == 0 }
func times2(v int) int { return v * 2 }
func count(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

// pipeImpl is one pipeline implementation for a given number of workers per
// stage and order.
type pipeImpl struct {
	name string
	run  func(ctx context.Context, workers int) (pipeResult, error)
}

// pipeImpls returns the implementations for an order ("ordered" or
// "unordered").
func pipeImpls(order string) []pipeImpl {
	ordered := order == "ordered"
	impls := []pipeImpl{
		// floor: hand-written channels carrying one item each. With one
		// worker a stage is one goroutine and order is kept for free;
		// with more, see pipeFloorOrdered and pipeFloorUnordered.
		{"floor", func(_ context.Context, workers int) (pipeResult, error) {
			switch {
			case workers == 1:
				return pipeFloorSerial(), nil
			case ordered:
				return pipeFloorOrdered(workers), nil
			default:
				return pipeFloorUnordered(workers), nil
			}
		}},
		// weft: the same three stages with pipeline.Workers, Map for
		// ordered and MapUnordered for unordered. Filter has no
		// unordered form, so it keeps order in both.
		{"weft", func(ctx context.Context, workers int) (pipeResult, error) {
			mapf := pipeline.Map[int, int]
			if !ordered {
				mapf = pipeline.MapUnordered[int, int]
			}
			w := pipeline.Workers(workers)
			s := pipeline.From(ctx, count(pipeItems))
			s = mapf(s, func(_ context.Context, v int) (int, error) { return plus1(v), nil }, w)
			s = pipeline.Filter(s, func(_ context.Context, v int) (bool, error) { return even(v), nil }, w)
			s = mapf(s, func(_ context.Context, v int) (int, error) { return times2(v), nil }, w)
			return pipeline.Reduce(s, newPipeResult(), func(r pipeResult, v int) (pipeResult, error) {
				r.add(v)
				return r, nil
			})
		}},
	}
	if ordered {
		// conc: conc/stream runs tasks on N goroutines and their
		// callbacks one at a time in submission order, but has no
		// stages to chain. It is mapped as one stream whose task does all
		// three steps for an item and returns a callback that adds the
		// result to the sum. That makes one hand-off per item where the
		// others make one per stage, and one task and one callback
		// closure per item. It has no unordered form.
		impls = append(impls, pipeImpl{"conc", func(_ context.Context, workers int) (pipeResult, error) {
			r := newPipeResult()
			s := stream.New().WithMaxGoroutines(workers)
			for i := range pipeItems {
				s.Go(func() stream.Callback {
					v := plus1(i)
					if !even(v) {
						return func() {}
					}
					v = times2(v)
					return func() { r.add(v) }
				})
			}
			s.Wait()
			return r, nil
		}})
	}
	return impls
}

// pipeSource sends 0..pipeItems-1 on a new channel and closes it.
func pipeSource() <-chan int {
	out := make(chan int, pipeBuffer)
	go func() {
		defer close(out)
		for i := range pipeItems {
			out <- i
		}
	}()
	return out
}

// pipeFloorSerial is the one-worker floor: a goroutine per stage, a channel
// between each two, the sink on the caller's goroutine.
func pipeFloorSerial() pipeResult {
	src := pipeSource()
	a := make(chan int, pipeBuffer)
	go func() {
		defer close(a)
		for v := range src {
			a <- plus1(v)
		}
	}()
	f := make(chan int, pipeBuffer)
	go func() {
		defer close(f)
		for v := range a {
			if even(v) {
				f <- v
			}
		}
	}()
	m := make(chan int, pipeBuffer)
	go func() {
		defer close(m)
		for v := range f {
			m <- times2(v)
		}
	}()
	r := newPipeResult()
	for v := range m {
		r.add(v)
	}
	return r
}

// stage runs workers goroutines of f from in to a new channel, which the
// last of them to finish closes. f sends what it emits with out.
func stage[T, R any](workers int, in <-chan T, f func(v T, out chan<- R)) <-chan R {
	out := make(chan R, pipeBuffer)
	var wg sync.WaitGroup
	wg.Add(workers)
	for range workers {
		go func() {
			defer wg.Done()
			for v := range in {
				f(v, out)
			}
		}()
	}
	go func() { wg.Wait(); close(out) }()
	return out
}

// pipeFloorUnordered is the multi-worker unordered floor: each stage is
// workers goroutines reading the same input channel.
func pipeFloorUnordered(workers int) pipeResult {
	a := stage(workers, pipeSource(), func(v int, out chan<- int) { out <- plus1(v) })
	f := stage(workers, a, func(v int, out chan<- int) {
		if even(v) {
			out <- v
		}
	})
	m := stage(workers, f, func(v int, out chan<- int) { out <- times2(v) })
	r := newPipeResult()
	for v := range m {
		r.add(v)
	}
	return r
}

// seqItem is an item of the ordered floor: its place in the input, its
// value, and whether the filter kept it.
type seqItem struct {
	seq  int
	v    int
	keep bool
}

// pipeFloorOrdered is the multi-worker ordered floor. The source tags each
// item with its sequence number; every stage runs workers goroutines that
// do not care about order; and the sink puts items back in order once, with
// a window indexed by sequence number. The filter marks items rather than
// dropping them, so that the sink knows their place. Restoring order once
// at the end is cheaper than after every stage, which is what a
// hand-written ordered pipeline would do.
func pipeFloorOrdered(workers int) pipeResult {
	src := make(chan seqItem, pipeBuffer)
	go func() {
		defer close(src)
		for i := range pipeItems {
			src <- seqItem{seq: i, v: i, keep: true}
		}
	}()
	a := stage(workers, src, func(it seqItem, out chan<- seqItem) { it.v = plus1(it.v); out <- it })
	f := stage(workers, a, func(it seqItem, out chan<- seqItem) { it.keep = even(it.v); out <- it })
	m := stage(workers, f, func(it seqItem, out chan<- seqItem) {
		if it.keep {
			it.v = times2(it.v)
		}
		out <- it
	})
	r := newPipeResult()
	var w reorder
	for it := range m {
		w.put(it)
		for {
			it, ok := w.next()
			if !ok {
				break
			}
			if it.keep {
				r.add(it.v)
			}
		}
	}
	return r
}

// reorder hands out items in sequence order from a growing ring.
type reorder struct {
	ring []seqItem
	full []bool
	head int // the sequence number to hand out next
}

func (w *reorder) put(it seqItem) {
	for it.seq-w.head >= len(w.ring) {
		w.grow()
	}
	i := it.seq % len(w.ring)
	w.ring[i], w.full[i] = it, true
}

func (w *reorder) grow() {
	n := max(2*len(w.ring), 256)
	ring, full := make([]seqItem, n), make([]bool, n)
	for i, ok := range w.full {
		if ok {
			it := w.ring[i]
			ring[it.seq%n], full[it.seq%n] = it, true
		}
	}
	w.ring, w.full = ring, full
}

func (w *reorder) next() (seqItem, bool) {
	if len(w.ring) == 0 {
		return seqItem{}, false
	}
	i := w.head % len(w.ring)
	if !w.full[i] {
		return seqItem{}, false
	}
	w.full[i] = false
	w.head++
	return w.ring[i], true
}

var pipeWorkers = []int{1, 4}

// BenchmarkPipeline sends pipeItems ints through three stages and a sum;
// ns/item is ns/op divided by pipeItems.
func BenchmarkPipeline(b *testing.B) {
	ctx := context.Background()
	for _, workers := range pipeWorkers {
		for _, order := range []string{"ordered", "unordered"} {
			for _, im := range pipeImpls(order) {
				b.Run(fmt.Sprintf("workers=%d/order=%s/impl=%s", workers, order, im.name), func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if _, err := im.run(ctx, workers); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pipeItems), "ns/item")
				})
			}
		}
	}
}

// TestAgreePipeline runs every implementation once and checks the sum, and
// the order of the ordered ones.
func TestAgreePipeline(t *testing.T) {
	want := 0
	for i := range pipeItems {
		if v := plus1(i); even(v) {
			want += times2(v)
		}
	}
	ctx := context.Background()
	for _, workers := range pipeWorkers {
		for _, order := range []string{"ordered", "unordered"} {
			for _, im := range pipeImpls(order) {
				name := fmt.Sprintf("workers=%d/order=%s/impl=%s", workers, order, im.name)
				r, err := im.run(ctx, workers)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if r.sum != want {
					t.Errorf("%s: sum = %d, want %d", name, r.sum, want)
				}
				if order == "ordered" && !r.inOrder {
					t.Errorf("%s: items out of order", name)
				}
			}
		}
	}
}
