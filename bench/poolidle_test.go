package bench

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"
	concpool "github.com/sourcegraph/conc/pool"
	"github.com/weftgo/weft/pool"
)

// idleWorkers is the number of workers BenchmarkPoolIdle makes each pool
// start.
const idleWorkers = 10_000

// idleImpl is a pool that can be made to start n workers. start makes the
// pool, submits n copies of task (each blocks until all n have started, so
// the pool must run them on n workers at once) and returns the call that
// shuts the pool down.
type idleImpl struct {
	name  string
	start func(ctx context.Context, n int, task func()) (stop func() error, err error)
}

var idleImpls = []idleImpl{
	// floor-channel: n goroutines blocked on receiving from one channel,
	// the least an idle worker can hold.
	{"floor-channel", func(_ context.Context, n int, task func()) (func() error, error) {
		ch := make(chan func())
		var wg sync.WaitGroup
		wg.Add(n)
		for range n {
			go func() {
				defer wg.Done()
				for f := range ch {
					f()
				}
			}()
		}
		for range n {
			ch <- task
		}
		return func() error { close(ch); wg.Wait(); return nil }, nil
	}},
	// weft: a Pool keeps its workers until Wait.
	{"weft", func(ctx context.Context, n int, task func()) (func() error, error) {
		p := pool.New(ctx, n)
		for range n {
			if err := p.Go(func(context.Context) error { task(); return nil }); err != nil {
				return nil, err
			}
		}
		return p.Wait, nil
	}},
	// weft-workers: a long-lived Workers keeps its workers until Close
	// (no IdleTimeout).
	{"weft-workers", func(ctx context.Context, n int, task func()) (func() error, error) {
		w := pool.NewWorkers(ctx, n, func(context.Context, int) error { task(); return nil })
		for i := range n {
			if err := w.Submit(ctx, i); err != nil {
				return nil, err
			}
		}
		return func() error { return w.Close(ctx) }, nil
	}},
	// ants: idle workers wait on their own channel until the purge
	// goroutine retires them (after 1s by default, later than the reading
	// is taken).
	{"ants", func(_ context.Context, n int, task func()) (func() error, error) {
		p, err := ants.NewPool(n)
		if err != nil {
			return nil, err
		}
		for range n {
			if err := p.Submit(task); err != nil {
				return nil, err
			}
		}
		return func() error { return p.ReleaseTimeout(10 * time.Second) }, nil
	}},
	// pond: a worker exits as soon as the queue is empty, so an idle pond
	// pool holds no goroutines; its number is what the pool keeps besides.
	{"pond", func(_ context.Context, n int, task func()) (func() error, error) {
		p := pond.NewPool(n)
		for range n {
			p.Submit(task)
		}
		return func() error { p.StopAndWait(); return nil }, nil
	}},
	// conc: workers range over the pool's task channel until Wait.
	{"conc", func(_ context.Context, n int, task func()) (func() error, error) {
		p := concpool.New().WithMaxGoroutines(n)
		for range n {
			p.Go(task)
		}
		return func() error { p.Wait(); return nil }, nil
	}},
}

// idleRun makes im start n workers, lets them all finish their tasks, and
// calls measure while they are idle, before shutting the pool down.
func idleRun(im idleImpl, n int, measure func()) error {
	var started, finished sync.WaitGroup
	started.Add(n)
	finished.Add(n)
	release := make(chan struct{})
	task := func() {
		started.Done()
		<-release
		finished.Done()
	}
	stop, err := im.start(context.Background(), n, task)
	if err != nil {
		close(release)
		return err
	}
	started.Wait()
	close(release)
	finished.Wait()
	// finished.Done is the task's last act: its worker may still be on its
	// way back to waiting. Yield so that most have got there.
	runtime.Gosched()
	measure()
	return stop()
}

// inUse returns the bytes of heap spans and goroutine stacks in use, after
// a full collection.
func inUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse + ms.StackInuse)
}

// BenchmarkPoolIdle reports the memory a pool of idleWorkers workers holds
// while they are idle, as B/worker: HeapInuse+StackInuse after a GC, minus
// the same reading taken before the pool was made, over idleWorkers. Each
// iteration makes, fills, measures and shuts down one pool; ns/op is that
// whole cycle, two forced GCs included, and means little. A stack freed by
// an earlier iteration and not yet returned to the heap can make a reading
// low; the median over iterations is the number to read.
func BenchmarkPoolIdle(b *testing.B) {
	noCurve(b)
	for _, im := range idleImpls {
		b.Run("workers="+itoa(idleWorkers)+"/impl="+im.name, func(b *testing.B) {
			b.ReportAllocs()
			var total float64
			for b.Loop() {
				before := inUse()
				err := idleRun(im, idleWorkers, func() {
					total += float64(inUse() - before)
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(total/float64(b.N)/idleWorkers, "B/worker")
		})
	}
}

// TestAgreePoolIdle checks that every implementation runs all its tasks at
// once and shuts down cleanly. It uses fewer workers than the benchmark, to
// stay under the race detector's limit of 8128 goroutines.
func TestAgreePoolIdle(t *testing.T) {
	const n = 1000
	for _, im := range idleImpls {
		measured := false
		if err := idleRun(im, n, func() { measured = true }); err != nil {
			t.Errorf("impl=%s: %v", im.name, err)
		}
		if !measured {
			t.Errorf("impl=%s: never idle", im.name)
		}
	}
}
