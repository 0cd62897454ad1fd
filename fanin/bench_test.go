package fanin_test

import (
	"cmp"
	"context"
	"reflect"
	"sync"
	"testing"

	"github.com/weftgo/weft/fanin"
)

// The workload of the merge benchmarks: 8 inputs of 12,500 ints each, filled
// and closed before the clock starts, merged into one channel that the
// benchmark goroutine sums. Every benchmark reports ns per value next to the
// time of the whole merge.
//
// The floors: a goroutine-per-input merge as people write it by hand, with
// an unbuffered output as they usually do and with the buffer Merge has
// (Merge must reach at least 0.9× the throughput of both), and a
// reflect.Select loop on one goroutine (Merge must be faster).
const (
	benchInputs = 8
	benchEach   = 12_500
	benchTotal  = benchInputs * benchEach
	benchSum    = benchInputs * (benchEach - 1) * benchEach / 2
)

func benchChans(b *testing.B) []<-chan int {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	ins := make([]<-chan int, benchInputs)
	for i := range ins {
		ch := make(chan int, benchEach)
		for v := range benchEach {
			ch <- v
		}
		close(ch)
		ins[i] = ch
	}
	return ins
}

func sum(b *testing.B, out <-chan int) {
	s := 0
	for v := range out {
		s += v
	}
	if s != benchSum {
		b.Fatalf("sum = %d, want %d", s, benchSum)
	}
}

func perValue(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchTotal, "ns/value")
}

// handMerge is the floor: one goroutine per input, a WaitGroup and a
// goroutine that closes the output, as the Go blog's pipelines article
// writes it, with an output buffer of the given size.
func handMerge(ctx context.Context, buffer int, ins ...<-chan int) <-chan int {
	out := make(chan int, buffer)
	var wg sync.WaitGroup
	for _, in := range ins {
		wg.Go(func() {
			for v := range in {
				select {
				case out <- v:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

// reflectMerge is the other floor: one goroutine that selects over every
// input with reflect.Select.
func reflectMerge(ctx context.Context, ins ...<-chan int) <-chan int {
	out := make(chan int)
	go func() {
		defer close(out)
		cases := []reflect.SelectCase{{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())}}
		for _, in := range ins {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(in)})
		}
		for len(cases) > 1 {
			i, v, ok := reflect.Select(cases)
			switch {
			case i == 0:
				return
			case !ok:
				cases = append(cases[:i], cases[i+1:]...)
				continue
			}
			select {
			case out <- int(v.Int()):
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

func benchMerge(b *testing.B, merge func(context.Context, ...<-chan int) <-chan int) {
	b.ReportAllocs()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for b.Loop() {
		sum(b, merge(ctx, benchChans(b)...))
	}
	perValue(b)
}

func BenchmarkMerge(b *testing.B) { benchMerge(b, fanin.Merge[int]) }
func BenchmarkMergeFloorHand(b *testing.B) {
	benchMerge(b, func(ctx context.Context, ins ...<-chan int) <-chan int { return handMerge(ctx, 0, ins...) })
}
func BenchmarkMergeFloorHandBuffered(b *testing.B) {
	benchMerge(b, func(ctx context.Context, ins ...<-chan int) <-chan int {
		return handMerge(ctx, fanin.DefaultBuffer, ins...)
	})
}
func BenchmarkMergeFloorReflect(b *testing.B) { benchMerge(b, reflectMerge) }

// A Merger with an unbuffered output, next to the floor written the same
// way: what the default buffer buys.
func BenchmarkMergerUnbuffered(b *testing.B) {
	benchMerge(b, func(ctx context.Context, ins ...<-chan int) <-chan int {
		m := fanin.NewMerger[int](ctx, fanin.Buffer(0))
		for _, in := range ins {
			if err := m.Add(in); err != nil {
				b.Fatal(err)
			}
		}
		m.Close()
		return m.Out()
	})
}

// MergeSorted of the same inputs: each value costs a heap step and a hand-off
// on one goroutine.
func BenchmarkMergeSorted(b *testing.B) {
	benchMerge(b, func(ctx context.Context, ins ...<-chan int) <-chan int {
		return fanin.MergeSorted(ctx, cmp.Compare[int], ins...).Out()
	})
}
