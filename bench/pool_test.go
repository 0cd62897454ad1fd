package bench

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"
	concpool "github.com/sourcegraph/conc/pool"
	"github.com/weftgo/weft/pool"
	"golang.org/x/sync/errgroup"
)

// poolTasks is the number of tasks one operation of BenchmarkPool submits
// and waits for.
const poolTasks = 10_000

// poolWork is the body of a task: it computes a value for task i, which the
// task writes to its own slot so that the work is observable.
type poolWork struct {
	name string
	fn   func(i int) uint64
}

var poolWorks = []poolWork{
	// none: the task only writes its slot.
	{"none", func(i int) uint64 { return uint64(i) + 1 }},
	// arith: about 200 ns of integer arithmetic (see arithIters).
	{"arith", func(i int) uint64 { return arith(uint64(i), arithIters) }},
}

type poolLimit struct {
	name string
	n    func() int
}

var poolLimits = []poolLimit{
	{"2xprocs", procsLimit},
	{"64", func() int { return 64 }},
}

// poolImpl is one way to run poolTasks tasks with at most limit at a time.
// prepare does what a user does once (build a long-lived pool, and the task
// closures, which every implementation gets ready-made so that allocs/op
// counts only what the pool itself allocates) and returns one operation,
// which submits every task and waits for them all, and a cleanup.
type poolImpl struct {
	name    string
	prepare func(ctx context.Context, limit int, task func(i int)) (op func() error, cleanup func())
}

func noCleanup() {}

// taskFuncs makes the workload's closures ahead of the timer, one per task,
// each calling task with its index and then done, if done is not nil (the
// pools without a batch wait end each task with a WaitGroup's Done).
func taskFuncs(task func(int), done func()) []func() {
	fs := make([]func(), poolTasks)
	for i := range fs {
		if done == nil {
			fs[i] = func() { task(i) }
		} else {
			fs[i] = func() { task(i); done() }
		}
	}
	return fs
}

var poolImpls = []poolImpl{
	// floor-channel64: limit goroutines started per operation, reading
	// funcs from a channel with room for max(limit, 64), joined with a
	// WaitGroup. This is the bounded pool everyone writes by hand, with
	// the room a weft Pool has by default, and the floor the ratios are
	// taken against.
	{"floor-channel64", func(_ context.Context, limit int, task func(int)) (func() error, func()) {
		return floorChannel(limit, max(limit, 64), taskFuncs(task, nil)), noCleanup
	}},
	// floor-channel: the same with room for limit funcs only, as the
	// hand-written pool is often written.
	{"floor-channel", func(_ context.Context, limit int, task func(int)) (func() error, func()) {
		return floorChannel(limit, limit, taskFuncs(task, nil)), noCleanup
	}},
	// floor-goroutines: a goroutine per task and a WaitGroup, no limit
	// (the same code for every limit).
	{"floor-goroutines", func(_ context.Context, _ int, task func(int)) (func() error, func()) {
		var wg sync.WaitGroup
		fs := taskFuncs(task, wg.Done)
		return func() error {
			wg.Add(len(fs))
			for _, f := range fs {
				go f()
			}
			wg.Wait()
			return nil
		}, noCleanup
	}},
	// weft: a Pool lives for one batch (Wait closes it), so each operation
	// makes one, as the package's docs show.
	{"weft", func(ctx context.Context, limit int, task func(int)) (func() error, func()) {
		fs := make([]func(context.Context) error, poolTasks)
		for i := range fs {
			fs[i] = func(context.Context) error { task(i); return nil }
		}
		return func() error {
			p := pool.New(ctx, limit)
			for _, f := range fs {
				if err := p.Go(f); err != nil {
					return err
				}
			}
			return p.Wait()
		}, noCleanup
	}},
	// weft-workers: weft's long-lived pool, a Workers made once per
	// benchmark (Close at its end) whose handler runs the task; like ants,
	// it has no batch wait, so each task ends with wg.Done. Submit blocks
	// while its queue (2 × limit, the default) is full.
	{"weft-workers", func(ctx context.Context, limit int, task func(int)) (func() error, func()) {
		w := pool.NewWorkers(ctx, limit, func(_ context.Context, f func()) error {
			f()
			return nil
		})
		var wg sync.WaitGroup
		fs := taskFuncs(task, wg.Done)
		return func() error {
				wg.Add(len(fs))
				for _, f := range fs {
					if err := w.Submit(ctx, f); err != nil {
						return err
					}
				}
				wg.Wait()
				return nil
			}, func() {
				if err := w.Close(ctx); err != nil {
					panic(err)
				}
			}
	}},
	// errgroup: a Group with SetLimit per operation; it starts a goroutine
	// per task and Go blocks while limit of them run.
	{"errgroup", func(_ context.Context, limit int, task func(int)) (func() error, func()) {
		fs := make([]func() error, poolTasks)
		for i := range fs {
			fs[i] = func() error { task(i); return nil }
		}
		return func() error {
			var g errgroup.Group
			g.SetLimit(limit)
			for _, f := range fs {
				g.Go(f)
			}
			return g.Wait()
		}, noCleanup
	}},
	// ants: a pool is meant to be long-lived, so one is made per benchmark
	// and released at its end; ants has no batch wait, so each task ends
	// with wg.Done, as ants' own examples do. Submit blocks while the pool
	// is full (ants' default).
	{"ants", func(_ context.Context, limit int, task func(int)) (func() error, func()) {
		p, err := ants.NewPool(limit)
		if err != nil {
			panic(err)
		}
		var wg sync.WaitGroup
		fs := taskFuncs(task, wg.Done)
		return func() error {
				wg.Add(len(fs))
				for _, f := range fs {
					if err := p.Submit(f); err != nil {
						return err
					}
				}
				wg.Wait()
				return nil
			}, func() {
				if err := p.ReleaseTimeout(10 * time.Second); err != nil {
					panic(err)
				}
			}
	}},
	// pond: one pool made per benchmark (StopAndWait at its end) and
	// reused, tasks submitted with Go, pond's fire-and-forget submission
	// (no future per task), and a WaitGroup for the batch, as for ants.
	// pond queues tasks without bound by default, so Go never blocks.
	{"pond", func(_ context.Context, limit int, task func(int)) (func() error, func()) {
		p := pond.NewPool(limit)
		var wg sync.WaitGroup
		fs := taskFuncs(task, wg.Done)
		return func() error {
			wg.Add(len(fs))
			for _, f := range fs {
				if err := p.Go(f); err != nil {
					return err
				}
			}
			wg.Wait()
			return nil
		}, p.StopAndWait
	}},
	// pond-group: the same reused pool, and a task group per operation,
	// as pond's README does for "a group of related tasks": Submit makes a
	// future per task, and Wait returns the first error.
	{"pond-group", func(_ context.Context, limit int, task func(int)) (func() error, func()) {
		p := pond.NewPool(limit)
		fs := taskFuncs(task, nil)
		return func() error {
			g := p.NewGroup()
			for _, f := range fs {
				g.Submit(f)
			}
			return g.Wait()
		}, p.StopAndWait
	}},
	// conc: pool.New().WithMaxGoroutines per operation; Wait closes it.
	{"conc", func(_ context.Context, limit int, task func(int)) (func() error, func()) {
		fs := taskFuncs(task, nil)
		return func() error {
			p := concpool.New().WithMaxGoroutines(limit)
			for _, f := range fs {
				p.Go(f)
			}
			p.Wait()
			return nil
		}, noCleanup
	}},
}

// floorChannel returns the hand-written bounded pool: an operation starts
// limit goroutines reading funcs from a channel with room for room, sends
// them fs, closes the channel and waits for the goroutines.
func floorChannel(limit, room int, fs []func()) func() error {
	return func() error {
		ch := make(chan func(), room)
		var wg sync.WaitGroup
		wg.Add(limit)
		for range limit {
			go func() {
				defer wg.Done()
				for f := range ch {
					f()
				}
			}()
		}
		for _, f := range fs {
			ch <- f
		}
		close(ch)
		wg.Wait()
		return nil
	}
}

// BenchmarkPool submits poolTasks tiny tasks and waits for all of them;
// ns/task is ns/op divided by poolTasks.
func BenchmarkPool(b *testing.B) {
	ctx := context.Background()
	for _, w := range poolWorks {
		for _, l := range poolLimits {
			for _, im := range poolImpls {
				b.Run(fmt.Sprintf("work=%s/limit=%s/impl=%s", w.name, l.name, im.name), func(b *testing.B) {
					slots := make([]uint64, poolTasks)
					op, cleanup := im.prepare(ctx, l.n(), func(i int) { slots[i] = w.fn(i) })
					defer cleanup()
					b.ReportAllocs()
					for b.Loop() {
						if err := op(); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*poolTasks), "ns/task")
				})
			}
		}
	}
}

// TestAgreePool runs every pool implementation once on each workload and
// checks that every task wrote its slot.
func TestAgreePool(t *testing.T) {
	ctx := context.Background()
	for _, w := range poolWorks {
		var want uint64
		for i := range poolTasks {
			want += w.fn(i)
		}
		for _, l := range poolLimits {
			for _, im := range poolImpls {
				name := fmt.Sprintf("work=%s/limit=%s/impl=%s", w.name, l.name, im.name)
				slots := make([]uint64, poolTasks)
				op, cleanup := im.prepare(ctx, l.n(), func(i int) { slots[i] = w.fn(i) })
				err := op()
				cleanup()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				var got uint64
				for _, v := range slots {
					got += v
				}
				if got != want {
					t.Errorf("%s: checksum = %d, want %d", name, got, want)
				}
			}
		}
	}
}
