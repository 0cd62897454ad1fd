package bench

import (
	"context"
	"sync"
	"testing"

	"github.com/weftgo/weft/fanout"
)

const (
	fanoutValues = 100_000
	fanoutN      = 4 // consumers of BenchmarkBroadcast, workers of BenchmarkDistribute
)

// fanoutImpl spreads the values of in over fanoutN outputs, sums each
// output on a goroutine of its own (consumeAll), and returns the total once
// the consumers and the implementation are done.
type fanoutImpl struct {
	name string
	run  func(ctx context.Context, in <-chan int) (int, error)
}

// consumeAll runs a consumer summing each of outs, and returns the total.
func consumeAll(outs []<-chan int) int {
	sums := make([]int, len(outs))
	var wg sync.WaitGroup
	wg.Add(len(outs))
	for i, out := range outs {
		go func() {
			defer wg.Done()
			s := 0
			for v := range out {
				s += v
			}
			sums[i] = s
		}()
	}
	wg.Wait()
	total := 0
	for _, s := range sums {
		total += s
	}
	return total
}

var broadcastImpls = []fanoutImpl{
	// floor: one goroutine sends each value to the fanoutN outputs in
	// turn, each with fanout.DefaultBuffer room.
	{"floor", func(_ context.Context, in <-chan int) (int, error) {
		chans := make([]chan int, fanoutN)
		outs := make([]<-chan int, fanoutN)
		for i := range chans {
			chans[i] = make(chan int, fanout.DefaultBuffer)
			outs[i] = chans[i]
		}
		go func() {
			for v := range in {
				for _, c := range chans {
					c <- v
				}
			}
			for _, c := range chans {
				close(c)
			}
		}()
		return consumeAll(outs), nil
	}},
	// weft: fanout.Broadcast with its default policy (Block).
	{"weft", func(ctx context.Context, in <-chan int) (int, error) {
		bc := fanout.Broadcast(ctx, in, fanoutN)
		sum := consumeAll(bc.Outputs())
		return sum, bc.Wait()
	}},
}

var distributeImpls = []fanoutImpl{
	// floor: fanoutN goroutines reading the input channel itself, which
	// is what "first ready" means with no goroutine in between.
	{"floor", func(_ context.Context, in <-chan int) (int, error) {
		outs := make([]<-chan int, fanoutN)
		for i := range outs {
			outs[i] = in
		}
		return consumeAll(outs), nil
	}},
	// weft: fanout.Distribute with its default strategy (first ready).
	{"weft", func(ctx context.Context, in <-chan int) (int, error) {
		d := fanout.Distribute(ctx, in, fanoutN)
		sum := consumeAll(d.Outputs())
		return sum, d.Wait()
	}},
}

// fanoutRun feeds fanoutValues ints to im through a channel with room for
// 64.
func fanoutRun(ctx context.Context, im fanoutImpl) (int, error) {
	in := make(chan int, 64)
	go func() {
		defer close(in)
		for i := range fanoutValues {
			in <- i
		}
	}()
	return im.run(ctx, in)
}

func benchFanout(b *testing.B, prefix string, impls []fanoutImpl) {
	noCurve(b)
	ctx := context.Background()
	for _, im := range impls {
		b.Run(prefix+"/impl="+im.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := fanoutRun(ctx, im); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*fanoutValues), "ns/item")
		})
	}
}

// BenchmarkBroadcast delivers fanoutValues values to each of fanoutN
// consumers.
func BenchmarkBroadcast(b *testing.B) {
	benchFanout(b, "consumers="+itoa(fanoutN), broadcastImpls)
}

// BenchmarkDistribute spreads fanoutValues values over fanoutN workers.
func BenchmarkDistribute(b *testing.B) {
	benchFanout(b, "workers="+itoa(fanoutN), distributeImpls)
}

// TestAgreeFanout checks that Broadcast delivers every value to every
// consumer and Distribute every value to one.
func TestAgreeFanout(t *testing.T) {
	sum := fanoutValues * (fanoutValues - 1) / 2
	tests := []struct {
		area  string
		impls []fanoutImpl
		want  int
	}{
		{"broadcast", broadcastImpls, fanoutN * sum},
		{"distribute", distributeImpls, sum},
	}
	for _, tt := range tests {
		for _, im := range tt.impls {
			got, err := fanoutRun(context.Background(), im)
			if err != nil {
				t.Fatalf("%s impl=%s: %v", tt.area, im.name, err)
			}
			if got != tt.want {
				t.Errorf("%s impl=%s: sum = %d, want %d", tt.area, im.name, got, tt.want)
			}
		}
	}
}
