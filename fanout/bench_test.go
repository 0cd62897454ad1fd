package fanout_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/weftgo/weft/fanout"
)

// Broadcast: 100,000 ints from a channel filled before the clock starts, to
// 4 consumers that sum what they get, with the Block policy. The floor is a
// broadcaster written by hand: one goroutine that sends each value to each
// output in turn, with a select on ctx, and closes the outputs at the end.
// Broadcast must reach at least 0.9× its throughput with the same buffers:
// DefaultBuffer, and none.
const (
	bcastValues  = 100_000
	bcastOutputs = 4
	bcastSum     = (bcastValues - 1) * bcastValues / 2
)

func bcastInput(b *testing.B) <-chan int {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	ch := make(chan int, bcastValues)
	for v := range bcastValues {
		ch <- v
	}
	close(ch)
	return ch
}

// consume sums every output on a goroutine of its own and checks the sums.
func consume(b *testing.B, outs []<-chan int) {
	var wg sync.WaitGroup
	sums := make([]int, len(outs))
	for i, out := range outs {
		wg.Go(func() {
			for v := range out {
				sums[i] += v
			}
		})
	}
	wg.Wait()
	for i, s := range sums {
		if s != bcastSum {
			b.Fatalf("output %d summed %d, want %d", i, s, bcastSum)
		}
	}
}

func handBroadcast(ctx context.Context, in <-chan int, n, buffer int) []<-chan int {
	outs := make([]chan int, n)
	ro := make([]<-chan int, n)
	for i := range outs {
		outs[i] = make(chan int, buffer)
		ro[i] = outs[i]
	}
	go func() {
		defer func() {
			for _, o := range outs {
				close(o)
			}
		}()
		for v := range in {
			for _, o := range outs {
				select {
				case o <- v:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return ro
}

func perValue(b *testing.B, values int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(values), "ns/value")
}

func benchBroadcast(b *testing.B, buffer int) {
	b.ReportAllocs()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for b.Loop() {
		bc := fanout.Broadcast(ctx, bcastInput(b), bcastOutputs, fanout.Buffer(buffer))
		consume(b, bc.Outputs())
		if err := bc.Wait(); err != nil {
			b.Fatal(err)
		}
	}
	perValue(b, bcastValues)
}

func benchHandBroadcast(b *testing.B, buffer int) {
	b.ReportAllocs()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for b.Loop() {
		consume(b, handBroadcast(ctx, bcastInput(b), bcastOutputs, buffer))
	}
	perValue(b, bcastValues)
}

func BenchmarkBroadcastBlock(b *testing.B)           { benchBroadcast(b, fanout.DefaultBuffer) }
func BenchmarkBroadcastBlockFloorHand(b *testing.B)  { benchHandBroadcast(b, fanout.DefaultBuffer) }
func BenchmarkBroadcastBlockUnbuffered(b *testing.B) { benchBroadcast(b, 0) }
func BenchmarkBroadcastBlockUnbufferedFloorHand(b *testing.B) {
	benchHandBroadcast(b, 0)
}

// Distribute of the same input to 4 consumers, each value to one.
func BenchmarkDistribute(b *testing.B) {
	for _, bm := range []struct {
		name string
		opt  fanout.Option
	}{
		{"FirstReady", fanout.Buffer(fanout.DefaultBuffer)},
		{"RoundRobin", fanout.RoundRobin()},
		{"ByKey", fanout.ByKey(func(v int) int { return v })},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				d := fanout.Distribute(ctx, bcastInput(b), bcastOutputs, bm.opt)
				var wg sync.WaitGroup
				var mu sync.Mutex
				total := 0
				for _, out := range d.Outputs() {
					wg.Go(func() {
						s := 0
						for v := range out {
							s += v
						}
						mu.Lock()
						total += s
						mu.Unlock()
					})
				}
				wg.Wait()
				if total != bcastSum {
					b.Fatalf("sum %d, want %d", total, bcastSum)
				}
			}
			perValue(b, bcastValues)
		})
	}
}

// Gather of 3 calls that answer at once: the cost of Gather itself. The
// calls are made before the loop, so every allocation counted is Gather's;
// the floor is one per call.
func BenchmarkGather3(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	calls := []fanout.Call[int]{
		fanout.Required("profile", 0, func(context.Context) (int, error) { return 1, nil }),
		fanout.Required("cart", 0, func(context.Context) (int, error) { return 2, nil }),
		fanout.Optional("recommendations", 150*time.Millisecond, func(context.Context) (int, error) { return 3, nil }),
	}
	for b.Loop() {
		res, err := fanout.Gather(ctx, calls...)
		if err != nil || res[2].Value != 3 {
			b.Fatal(res, err)
		}
	}
	if allocs := testing.AllocsPerRun(100, func() { _, _ = fanout.Gather(ctx, calls...) }); allocs > float64(len(calls)) {
		b.Fatalf("Gather of %d calls: %v allocations, want at most one per call", len(calls), allocs)
	}
}

// Gather of 3 calls that watch their context, under a cancellable request
// context and with a timeout: each call's context makes its Done channel,
// and Gather sets up its one timer and its one watcher of ctx.
func BenchmarkGather3Watching(b *testing.B) {
	b.ReportAllocs()
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	call := func(v int) func(context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			default:
				return v, nil
			}
		}
	}
	calls := []fanout.Call[int]{
		fanout.Required("profile", 0, call(1)),
		fanout.Required("cart", 0, call(2)),
		fanout.Optional("recommendations", 150*time.Millisecond, call(3)),
	}
	for b.Loop() {
		res, err := fanout.Gather(ctx, calls...)
		if err != nil || res[2].Value != 3 {
			b.Fatal(res, err)
		}
	}
}

// handGather is what Gather replaces: a context per call from
// context.WithTimeout or WithCancel, a WaitGroup, and a results slice.
func handGather(ctx context.Context, calls []fanout.Call[int]) ([]int, []error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	vals := make([]int, len(calls))
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() {
			cctx, ccancel := ctx, context.CancelFunc(func() {})
			if c.Timeout > 0 {
				cctx, ccancel = context.WithTimeout(ctx, c.Timeout)
			}
			defer ccancel()
			vals[i], errs[i] = c.Fn(cctx)
			if errs[i] != nil && !c.Optional {
				cancel()
			}
		})
	}
	wg.Wait()
	return vals, errs
}

func BenchmarkGather3WatchingFloorHand(b *testing.B) {
	b.ReportAllocs()
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	call := func(v int) func(context.Context) (int, error) {
		return func(ctx context.Context) (int, error) {
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			default:
				return v, nil
			}
		}
	}
	calls := []fanout.Call[int]{
		fanout.Required("profile", 0, call(1)),
		fanout.Required("cart", 0, call(2)),
		fanout.Optional("recommendations", 150*time.Millisecond, call(3)),
	}
	for b.Loop() {
		vals, _ := handGather(ctx, calls)
		if vals[2] != 3 {
			b.Fatal(vals)
		}
	}
}

// First of 3 calls that answer at once.
func BenchmarkFirst3(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	f := func(context.Context) (int, error) { return 1, nil }
	for b.Loop() {
		if v, err := fanout.First(ctx, f, f, f); v != 1 || err != nil {
			b.Fatal(v, err)
		}
	}
}
