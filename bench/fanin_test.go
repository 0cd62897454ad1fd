package bench

import (
	"context"
	"reflect"
	"sync"
	"testing"

	"github.com/weftgo/weft/fanin"
)

const (
	faninProducers = 8
	faninPer       = 12_500 // ints per producer
)

// faninImpl merges ins into one stream and returns the sum of its values.
type faninImpl struct {
	name  string
	merge func(ctx context.Context, ins []<-chan int) int
}

var faninImpls = []faninImpl{
	// floor-goroutines: a goroutine per input forwarding into one channel
	// with fanin.DefaultBuffer room, closed once they are all done: what
	// Merge does, written out.
	{"floor-goroutines", func(_ context.Context, ins []<-chan int) int {
		out := make(chan int, fanin.DefaultBuffer)
		var wg sync.WaitGroup
		wg.Add(len(ins))
		for _, in := range ins {
			go func() {
				defer wg.Done()
				for v := range in {
					out <- v
				}
			}()
		}
		go func() { wg.Wait(); close(out) }()
		sum := 0
		for v := range out {
			sum += v
		}
		return sum
	}},
	// floor-select: no goroutines; the consumer waits on every input at
	// once with reflect.Select, dropping inputs as they close.
	{"floor-select", func(_ context.Context, ins []<-chan int) int {
		cases := make([]reflect.SelectCase, len(ins))
		for i, in := range ins {
			cases[i] = reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(in)}
		}
		sum := 0
		for len(cases) > 0 {
			i, v, ok := reflect.Select(cases)
			if !ok {
				cases = append(cases[:i], cases[i+1:]...)
				continue
			}
			sum += int(v.Int())
		}
		return sum
	}},
	// weft: fanin.Merge.
	{"weft", func(ctx context.Context, ins []<-chan int) int {
		sum := 0
		for v := range fanin.Merge(ctx, ins...) {
			sum += v
		}
		return sum
	}},
}

// faninRun starts the producers, each sending faninPer ints on a channel
// with room for 64, merges them with im, and waits for the producers.
func faninRun(ctx context.Context, im faninImpl) int {
	ins := make([]<-chan int, faninProducers)
	var wg sync.WaitGroup
	wg.Add(faninProducers)
	for p := range faninProducers {
		ch := make(chan int, 64)
		ins[p] = ch
		go func() {
			defer wg.Done()
			defer close(ch)
			for i := range faninPer {
				ch <- p*faninPer + i
			}
		}()
	}
	sum := im.merge(ctx, ins)
	wg.Wait()
	return sum
}

// BenchmarkFanin merges faninProducers producers of faninPer ints each into
// a sum.
func BenchmarkFanin(b *testing.B) {
	noCurve(b)
	ctx := context.Background()
	for _, im := range faninImpls {
		b.Run("producers="+itoa(faninProducers)+"/impl="+im.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				faninRun(ctx, im)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*faninProducers*faninPer), "ns/item")
		})
	}
}

// TestAgreeFanin checks that every implementation sums every value.
func TestAgreeFanin(t *testing.T) {
	n := faninProducers * faninPer
	want := n * (n - 1) / 2
	for _, im := range faninImpls {
		if got := faninRun(context.Background(), im); got != want {
			t.Errorf("impl=%s: sum = %d, want %d", im.name, got, want)
		}
	}
}
