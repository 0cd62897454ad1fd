package pool_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weftgo/weft/pool"
	"golang.org/x/sync/errgroup"
)

// The floors are what a careful user writes by hand; each pool benchmark
// is read as a ratio to the floor beside it.

var benchSink atomic.Int64

func nop(context.Context) error { return nil }

// BenchmarkFloorChannelPool: GOMAXPROCS goroutines reading functions from a
// buffered channel, closed and joined at the end; no errors, no panics, no
// cancellation.
func BenchmarkFloorChannelPool(b *testing.B) {
	b.ReportAllocs()
	n := runtime.GOMAXPROCS(0)
	tasks := make(chan func(context.Context) error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for f := range tasks {
				_ = f(context.Background())
			}
		})
	}
	for b.Loop() {
		tasks <- nop
	}
	close(tasks)
	wg.Wait()
}

// BenchmarkFloorChannelPool64: the floor with the room a Pool has by
// default, 64 tasks, so that the two differ in nothing but the pool.
func BenchmarkFloorChannelPool64(b *testing.B) {
	b.ReportAllocs()
	tasks := make(chan func(context.Context) error, 64)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for f := range tasks {
				_ = f(context.Background())
			}
		})
	}
	for b.Loop() {
		tasks <- nop
	}
	close(tasks)
	wg.Wait()
}

// BenchmarkPoolGo: the same trivial task through Pool.Go with as many
// workers as cores, Wait included.
func BenchmarkPoolGo(b *testing.B) {
	b.ReportAllocs()
	p := pool.New(context.Background(), runtime.GOMAXPROCS(0))
	for b.Loop() {
		if err := p.Go(nop); err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Wait(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPoolGoFailFast: a closure per task, as callers write them, in a
// FailFast pool (panics are always recovered).
func BenchmarkPoolGoFailFast(b *testing.B) {
	b.ReportAllocs()
	p := pool.New(context.Background(), runtime.GOMAXPROCS(0), pool.FailFast(true))
	i := 0
	for b.Loop() {
		i++
		if err := p.Go(func(context.Context) error {
			benchSink.Store(int64(i))
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Wait(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkErrgroupSetLimit: the FailFast benchmark's workload through
// errgroup.WithContext with SetLimit, which starts a goroutine per task.
func BenchmarkErrgroupSetLimit(b *testing.B) {
	b.ReportAllocs()
	g, _ := errgroup.WithContext(context.Background())
	g.SetLimit(runtime.GOMAXPROCS(0))
	i := 0
	for b.Loop() {
		i++
		g.Go(func() error {
			benchSink.Store(int64(i))
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkPoolTryGoFull: TryGo on a pool whose only worker is busy and
// whose channel is full.
func BenchmarkPoolTryGoFull(b *testing.B) {
	b.ReportAllocs()
	p := pool.New(context.Background(), 1)
	release := make(chan struct{})
	for p.TryGo(func(context.Context) error { <-release; return nil }) == nil {
		// the worker, then every place in the channel
	}
	for b.Loop() {
		if p.TryGo(nop) == nil {
			b.Fatal("TryGo accepted a task on a full pool")
		}
	}
	close(release)
	if err := p.Wait(); err != nil {
		b.Fatal(err)
	}
}

const resultTasks = 100_000

func square(v int) func(context.Context) (int, error) {
	return func(context.Context) (int, error) { return v * v, nil }
}

var squares = func() []func(context.Context) (int, error) {
	fs := make([]func(context.Context) (int, error), resultTasks)
	for i := range fs {
		fs[i] = square(i)
	}
	return fs
}()

// BenchmarkResultPoolOrdered: 100,000 tasks through ResultPool, values in
// submission order.
func BenchmarkResultPoolOrdered(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		r := pool.NewResultPool[int](context.Background(), runtime.GOMAXPROCS(0))
		for _, f := range squares {
			if err := r.Go(f); err != nil {
				b.Fatal(err)
			}
		}
		out, err := r.Wait()
		if err != nil || len(out) != resultTasks || out[resultTasks-1] != (resultTasks-1)*(resultTasks-1) {
			b.Fatalf("Wait = %d values, %v", len(out), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/resultTasks, "ns/task")
}

// BenchmarkResultsUnordered: the same tasks through a Pool whose tasks
// append their values to a shared slice under a mutex, in completion order:
// what collecting costs without order.
func BenchmarkResultsUnordered(b *testing.B) {
	b.ReportAllocs()
	tasks := make([]func(context.Context) error, resultTasks)
	var (
		mu  sync.Mutex
		out []int
	)
	for i, f := range squares {
		tasks[i] = func(ctx context.Context) error {
			v, err := f(ctx)
			mu.Lock()
			out = append(out, v)
			mu.Unlock()
			return err
		}
	}
	for b.Loop() {
		out = nil
		p := pool.New(context.Background(), runtime.GOMAXPROCS(0))
		for _, t := range tasks {
			if err := p.Go(t); err != nil {
				b.Fatal(err)
			}
		}
		if err := p.Wait(); err != nil || len(out) != resultTasks {
			b.Fatalf("Wait = %d values, %v", len(out), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/resultTasks, "ns/task")
}

const mapItems = 100_000

var mapInput = func() []int {
	s := make([]int, mapItems)
	for i := range s {
		s[i] = i
	}
	return s
}()

func double(_ context.Context, v int) (int, error) { return 2 * v, nil }

// BenchmarkFloorAtomicIndex: GOMAXPROCS goroutines claiming one index at a
// time from an atomic counter and writing results in place, stopping at
// the first error: the floor for Map.
func BenchmarkFloorAtomicIndex(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		out := make([]int, len(mapInput))
		var (
			next   atomic.Int64
			failed atomic.Bool
			wg     sync.WaitGroup
		)
		for range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				for !failed.Load() {
					i := int(next.Add(1) - 1)
					if i >= len(mapInput) {
						return
					}
					v, err := double(ctx, mapInput[i])
					if err != nil {
						failed.Store(true)
						return
					}
					out[i] = v
				}
			})
		}
		wg.Wait()
		if out[mapItems-1] != 2*(mapItems-1) {
			b.Fatal("wrong result")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/mapItems, "ns/item")
}

// BenchmarkMap: Map over the same slice.
func BenchmarkMap(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		out, err := pool.Map(ctx, runtime.GOMAXPROCS(0), mapInput, double)
		if err != nil || out[mapItems-1] != 2*(mapItems-1) {
			b.Fatal("wrong result", err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/mapItems, "ns/item")
}

// BenchmarkErrgroupMap: the Map workload as errgroup users write it, a
// closure per item: the cost Map avoids.
func BenchmarkErrgroupMap(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		out := make([]int, len(mapInput))
		g, ctx := errgroup.WithContext(context.Background())
		g.SetLimit(runtime.GOMAXPROCS(0))
		for i, v := range mapInput {
			g.Go(func() error {
				r, err := double(ctx, v)
				out[i] = r
				return err
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/mapItems, "ns/item")
}

// BenchmarkWorkersSubmit: jobs through Submit and GOMAXPROCS workers with
// the default queue, Close included.
func BenchmarkWorkersSubmit(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	w := pool.NewWorkers(ctx, runtime.GOMAXPROCS(0), func(_ context.Context, j int) error {
		benchSink.Store(int64(j))
		return nil
	})
	j := 0
	for b.Loop() {
		j++
		if err := w.Submit(ctx, j); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkWorkersTrySubmitFull: TrySubmit on a Workers whose worker is busy
// and whose queue is full.
func BenchmarkWorkersTrySubmitFull(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	release := make(chan struct{})
	w := pool.NewWorkers(ctx, 1, func(context.Context, int) error { <-release; return nil }, pool.Buffer(1))
	for range 2 {
		if err := w.Submit(ctx, 0); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if err := w.TrySubmit(1); !errors.Is(err, pool.ErrFull) {
			b.Fatal(err)
		}
	}
	close(release)
	if err := w.Close(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkIdleWorkerMemory reports the memory an idle Workers goroutine
// holds: its stack, and the heap of the runtime's goroutine record and the
// pool's own state. The stack is whatever the runtime gives a new goroutine
// (2KB at least; more when its adaptive start has seen larger stacks, as in
// test binaries: run with GODEBUG=adaptivestackstart=0 to see the minimum),
// and the job's path keeps it there. The measurement is taken once; the
// loop only satisfies the benchmark harness.
func BenchmarkIdleWorkerMemory(b *testing.B) {
	stack, heap := idleWorkerBytes(b, 10_000)
	for b.Loop() {
	}
	b.ReportMetric(stack, "stack-B/idle-worker")
	b.ReportMetric(heap, "heap-B/idle-worker")
}

// idleWorkerBytes starts n workers, leaves them idle, and returns the stack
// and heap bytes they hold each, as the runtime measures them.
func idleWorkerBytes(tb testing.TB, n int) (stack, heap float64) {
	tb.Helper()
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	started := make(chan struct{})
	var count atomic.Int64
	w := pool.NewWorkers(ctx, n, func(context.Context, int) error {
		if count.Add(1) == int64(n) {
			close(started)
		}
		<-started
		return nil
	}, pool.Buffer(0))
	for i := range n {
		if err := w.Submit(ctx, i); err != nil {
			tb.Fatal(err)
		}
	}
	<-started
	for w.Stats().Running > 0 {
		time.Sleep(time.Millisecond)
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := w.Stats().Workers; got != uint64(n) {
		tb.Fatalf("Workers = %d, want %d idle workers", got, n)
	}
	stack = float64(after.StackInuse-before.StackInuse) / float64(n)
	heap = float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
	if err := w.Close(ctx); err != nil {
		tb.Fatal(err)
	}
	return stack, heap
}

// BenchmarkWorkersSubmitOnEvent is BenchmarkWorkersSubmit with an OnEvent
// hook that does nothing: the cost of the events themselves.
func BenchmarkWorkersSubmitOnEvent(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	w := pool.NewWorkers(ctx, runtime.GOMAXPROCS(0), func(_ context.Context, j int) error {
		benchSink.Store(int64(j))
		return nil
	}, pool.OnEvent(func(ctx context.Context, _ pool.Event[int]) context.Context { return ctx }))
	j := 0
	for b.Loop() {
		j++
		if err := w.Submit(ctx, j); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkWorkersSubmitPropagateValues is BenchmarkWorkersSubmit with
// PropagateValues, from a context that carries a value.
func BenchmarkWorkersSubmitPropagateValues(b *testing.B) {
	b.ReportAllocs()
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, 1)
	w := pool.NewWorkers(ctx, runtime.GOMAXPROCS(0), func(ctx context.Context, j int) error {
		if ctx.Value(key{}) != nil {
			benchSink.Store(int64(j))
		}
		return nil
	}, pool.PropagateValues(true))
	j := 0
	for b.Loop() {
		j++
		if err := w.Submit(ctx, j); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		b.Fatal(err)
	}
}
