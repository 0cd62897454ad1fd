package pipeline_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weftgo/weft/pipeline"
)

// The workload: benchItems ints through map(+1) → filter(even) → map(×2) →
// sum. Every benchmark reports ns per item per stage (three stages) next to
// the time of the whole run.
const benchItems = 100_000

var benchInput = func() []int {
	s := make([]int, benchItems)
	for i := range s {
		s[i] = i
	}
	return s
}()

var benchWant = func() int {
	sum := 0
	for _, v := range benchInput {
		if (v+1)%2 == 0 {
			sum += (v + 1) * 2
		}
	}
	return sum
}()

func report(b *testing.B, sum int) {
	b.Helper()
	if sum != benchWant {
		b.Fatalf("sum = %d, want %d", sum, benchWant)
	}
}

func perItemStage(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchItems/3, "ns/item-stage")
}

// handWritten is the floor: one goroutine per stage over channels with the
// given buffer, as users write it, including cancellation.
func handWritten(ctx context.Context, buf int) int {
	src := make(chan int, buf)
	go func() {
		defer close(src)
		for _, v := range benchInput {
			select {
			case src <- v:
			case <-ctx.Done():
				return
			}
		}
	}()
	m1 := make(chan int, buf)
	go func() {
		defer close(m1)
		for v := range src {
			select {
			case m1 <- v + 1:
			case <-ctx.Done():
				return
			}
		}
	}()
	f := make(chan int, buf)
	go func() {
		defer close(f)
		for v := range m1 {
			if v%2 != 0 {
				continue
			}
			select {
			case f <- v:
			case <-ctx.Done():
				return
			}
		}
	}()
	m2 := make(chan int, buf)
	go func() {
		defer close(m2)
		for v := range f {
			select {
			case m2 <- v * 2:
			case <-ctx.Done():
				return
			}
		}
	}()
	sum := 0
	for v := range m2 {
		sum += v
	}
	return sum
}

func BenchmarkHandWrittenUnbuffered(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		report(b, handWritten(context.Background(), 0))
	}
	perItemStage(b)
}

func BenchmarkHandWrittenBuffered64(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		report(b, handWritten(context.Background(), 64))
	}
	perItemStage(b)
}

func runWeft(b *testing.B, workers int, ordered bool, opts ...pipeline.Option) {
	b.Helper()
	b.ReportAllocs()
	ctx := context.Background()
	mapper := pipeline.Map[int, int]
	if !ordered {
		mapper = pipeline.MapUnordered[int, int]
	}
	for b.Loop() {
		s := pipeline.From(ctx, slices.Values(benchInput), opts...)
		m1 := mapper(s, inc, append(opts, pipeline.Concurrency(workers))...)
		f := pipeline.Filter(m1, even, append(opts, pipeline.Concurrency(workers))...)
		m2 := mapper(f, dbl, append(opts, pipeline.Concurrency(workers))...)
		sum, err := pipeline.Reduce(m2, 0, func(acc, v int) (int, error) { return acc + v, nil })
		if err != nil {
			b.Fatal(err)
		}
		report(b, sum)
	}
	perItemStage(b)
}

func BenchmarkWeft(b *testing.B)                  { runWeft(b, 1, true) }
func BenchmarkWeftNoChunk(b *testing.B)           { runWeft(b, 1, true, pipeline.Chunk(1)) }
func BenchmarkWeftWorkers4Ordered(b *testing.B)   { runWeft(b, 4, true) }
func BenchmarkWeftWorkers4Unordered(b *testing.B) { runWeft(b, 4, false) }

// BenchmarkWeftOnEvent is BenchmarkWeftFromSlice with an OnEvent hook that
// does nothing on every stage: the cost of timing and reporting each call.
func BenchmarkWeftOnEvent(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	var calls atomic.Int64
	hook := pipeline.OnEvent(func(e pipeline.Event) {
		if !e.Wait {
			calls.Add(1)
		}
	})
	for b.Loop() {
		s := pipeline.FromSlice(ctx, benchInput)
		m1 := pipeline.Map(s, inc, hook)
		f := pipeline.Filter(m1, even, hook)
		m2 := pipeline.Map(f, dbl, hook)
		sum, err := pipeline.Reduce(m2, 0, func(acc, v int) (int, error) { return acc + v, nil })
		if err != nil {
			b.Fatal(err)
		}
		report(b, sum)
	}
	if want := int64(b.N) * (benchItems + benchItems + benchItems/2); calls.Load() != want {
		b.Fatalf("%d calls reported, want %d", calls.Load(), want)
	}
	perItemStage(b)
}

func BenchmarkWeftFromSlice(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		s := pipeline.FromSlice(ctx, benchInput)
		m1 := pipeline.Map(s, inc)
		f := pipeline.Filter(m1, even)
		m2 := pipeline.Map(f, dbl)
		sum, err := pipeline.Reduce(m2, 0, func(acc, v int) (int, error) { return acc + v, nil })
		if err != nil {
			b.Fatal(err)
		}
		report(b, sum)
	}
	perItemStage(b)
}

// BenchmarkFirstResult times the first result of a burst of 64 items through
// one stage of 5ms work per item: the wait a consumer with a deadline sees.
func BenchmarkFirstResult(b *testing.B) {
	const work = 5 * time.Millisecond
	stage := func(v int) int { time.Sleep(work); return v }
	b.Run("weft", func(b *testing.B) {
		var first time.Duration
		for b.Loop() {
			start := time.Now()
			s := pipeline.Map(pipeline.FromSlice(context.Background(), ints(64)), func(_ context.Context, v int) (int, error) { return stage(v), nil })
			for _, err := range pipeline.All(s) {
				if err != nil {
					b.Fatal(err)
				}
				first += time.Since(start)
				break
			}
		}
		b.ReportMetric(float64(first.Nanoseconds())/float64(b.N), "first-ns")
		b.ReportMetric(0, "ns/op")
	})
	b.Run("handwritten-unbuffered", func(b *testing.B) {
		var first time.Duration
		for b.Loop() {
			start := time.Now()
			ctx, cancel := context.WithCancel(context.Background())
			out := make(chan int)
			go func() {
				defer close(out)
				for i := range 64 {
					select {
					case out <- stage(i):
					case <-ctx.Done():
						return
					}
				}
			}()
			<-out
			first += time.Since(start)
			cancel()
			for range out {
			}
		}
		b.ReportMetric(float64(first.Nanoseconds())/float64(b.N), "first-ns")
		b.ReportMetric(0, "ns/op")
	})
}
