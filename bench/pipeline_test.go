package bench

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
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
		// floor-chunked: hand-written channels carrying chunks of up to
		// pipeChunk items, as weft's stages do, with room for one chunk
		// (weft's default buffer). Each stage works on a chunk in place,
		// the filter drops the items it rejects, and the sink hands the
		// chunks back to the source for reuse. See pipeFloorChunked.
		{"floor-chunked", func(_ context.Context, workers int) (pipeResult, error) {
			return pipeFloorChunked(workers, ordered), nil
		}},
		// floor-items: hand-written channels carrying one item each, with
		// room for pipeBuffer items. With one worker a stage is one
		// goroutine and order is kept for free; with more, see
		// pipeFloorOrdered and pipeFloorUnordered.
		{"floor-items", func(_ context.Context, workers int) (pipeResult, error) {
			switch {
			case workers == 1:
				return pipeFloorSerial(), nil
			case ordered:
				return pipeFloorOrdered(workers), nil
			default:
				return pipeFloorUnordered(workers), nil
			}
		}},
		// weft: the same three stages with pipeline.Concurrency, Map for
		// ordered and MapUnordered for unordered. Filter has no
		// unordered form, so it keeps order in both.
		{"weft", func(ctx context.Context, workers int) (pipeResult, error) {
			mapf := pipeline.Map[int, int]
			if !ordered {
				mapf = pipeline.MapUnordered[int, int]
			}
			w := pipeline.Concurrency(workers)
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

// seqItem is an item of the ordered floor: its place in the input and its
// value.
type seqItem struct {
	seq int
	v   int
}

// pipeFloorOrdered is the multi-worker ordered floor with one item per
// channel operation. The source tags each item with its sequence number;
// every stage runs workers goroutines that do not care about order; and the
// sink puts items back in order once, with a window indexed by sequence
// number. Restoring order once at the end is cheaper than after every
// stage. The filter drops the items it rejects and marks their sequence
// numbers in a bitset, so that the sink does not wait for them: after the
// last stage has closed its output, every mark is visible to the sink.
func pipeFloorOrdered(workers int) pipeResult {
	src := make(chan seqItem, pipeBuffer)
	go func() {
		defer close(src)
		for i := range pipeItems {
			src <- seqItem{seq: i, v: i}
		}
	}()
	dropped := make([]atomic.Uint64, (pipeItems+63)/64)
	a := stage(workers, src, func(it seqItem, out chan<- seqItem) { it.v = plus1(it.v); out <- it })
	f := stage(workers, a, func(it seqItem, out chan<- seqItem) {
		if even(it.v) {
			out <- it
			return
		}
		dropped[it.seq/64].Or(1 << (it.seq % 64))
	})
	m := stage(workers, f, func(it seqItem, out chan<- seqItem) { it.v = times2(it.v); out <- it })
	r := newPipeResult()
	var w reorder[int]
	drain := func() {
		for {
			if v, ok := w.next(); ok {
				r.add(v)
			} else if h := w.head; h < pipeItems && dropped[h/64].Load()&(1<<(h%64)) != 0 {
				w.skip()
			} else {
				return
			}
		}
	}
	for it := range m {
		w.put(it.seq, it.v)
		drain()
	}
	drain()
	return r
}

// pipeChunk is the most items a chunk of floor-chunked holds: weft's
// default Chunk.
const pipeChunk = 64

// seqChunk is a chunk of floor-chunked: its place among the chunks (for the
// ordered floor) and its items.
type seqChunk struct {
	seq   int
	items *[]int
}

// pipeFloorChunked is the chunked floor. The source cuts the input into
// chunks of pipeChunk items; each stage runs workers goroutines that change
// a chunk in place (the filter keeps the items it accepts at the front and
// shortens the chunk) and pass it on, on channels with room for one chunk;
// the sink sums the items and puts each chunk back in a sync.Pool for the
// source to reuse. With more than one worker and ordered, the sink puts
// chunks back in order by their sequence numbers before summing; a chunk
// the filter emptied still goes through, so the sink never waits for it.
func pipeFloorChunked(workers int, ordered bool) pipeResult {
	var chunks sync.Pool
	src := make(chan seqChunk, 1)
	go func() {
		defer close(src)
		seq := 0
		for lo := 0; lo < pipeItems; lo += pipeChunk {
			c, _ := chunks.Get().(*[]int)
			if c == nil {
				c = new(make([]int, 0, pipeChunk))
			}
			*c = (*c)[:0]
			for i := lo; i < min(lo+pipeChunk, pipeItems); i++ {
				*c = append(*c, i)
			}
			src <- seqChunk{seq, c}
			seq++
		}
	}()
	chunkStage := func(in <-chan seqChunk, f func(items []int) []int) <-chan seqChunk {
		out := make(chan seqChunk, 1)
		var wg sync.WaitGroup
		wg.Add(workers)
		for range workers {
			go func() {
				defer wg.Done()
				for c := range in {
					*c.items = f(*c.items)
					out <- c
				}
			}()
		}
		go func() { wg.Wait(); close(out) }()
		return out
	}
	a := chunkStage(src, func(items []int) []int {
		for i, v := range items {
			items[i] = plus1(v)
		}
		return items
	})
	f := chunkStage(a, func(items []int) []int {
		kept := items[:0]
		for _, v := range items {
			if even(v) {
				kept = append(kept, v)
			}
		}
		return kept
	})
	m := chunkStage(f, func(items []int) []int {
		for i, v := range items {
			items[i] = times2(v)
		}
		return items
	})
	r := newPipeResult()
	sum := func(c *[]int) {
		for _, v := range *c {
			r.add(v)
		}
		chunks.Put(c)
	}
	if workers == 1 || !ordered {
		for c := range m {
			sum(c.items)
		}
		return r
	}
	var w reorder[*[]int]
	for c := range m {
		w.put(c.seq, c.items)
		for {
			c, ok := w.next()
			if !ok {
				break
			}
			sum(c)
		}
	}
	return r
}

// reorder hands out values in sequence order from a growing ring.
type reorder[T any] struct {
	ring []T
	full []bool
	head int // the sequence number to hand out next
}

// put stores v, whose sequence number is seq (at least head).
func (w *reorder[T]) put(seq int, v T) {
	for seq-w.head >= len(w.ring) {
		w.grow()
	}
	i := seq % len(w.ring)
	w.ring[i], w.full[i] = v, true
}

func (w *reorder[T]) grow() {
	n := max(2*len(w.ring), 256)
	ring, full := make([]T, n), make([]bool, n)
	for k := range len(w.ring) {
		seq := w.head + k
		if i := seq % len(w.ring); w.full[i] {
			ring[seq%n], full[seq%n] = w.ring[i], true
		}
	}
	w.ring, w.full = ring, full
}

// next hands out the value at head, if it has arrived.
func (w *reorder[T]) next() (T, bool) {
	var zero T
	if len(w.ring) == 0 {
		return zero, false
	}
	i := w.head % len(w.ring)
	if !w.full[i] {
		return zero, false
	}
	v := w.ring[i]
	w.ring[i], w.full[i] = zero, false
	w.head++
	return v, true
}

// skip moves head past a sequence number that will never arrive.
func (w *reorder[T]) skip() { w.head++ }

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
