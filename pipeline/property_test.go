package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/pipeline"
	"pgregory.net/rapid"
)

// stageOpts draws the options of one stage and returns them with its
// workers and buffer.
func stageOpts(t *rapid.T, label string) ([]pipeline.Option, int, int) {
	w := rapid.IntRange(1, 4).Draw(t, label+" workers")
	b := rapid.IntRange(0, 8).Draw(t, label+" buffer")
	c := rapid.IntRange(1, 16).Draw(t, label+" chunk")
	return []pipeline.Option{pipeline.Concurrency(w), pipeline.Buffer(b), pipeline.Chunk(c)}, w, b
}

// source draws one of the four sources over in.
func source(t *rapid.T, ctx context.Context, in []int) *pipeline.Stream[int] {
	b := rapid.IntRange(0, 8).Draw(t, "source buffer")
	c := rapid.IntRange(1, 16).Draw(t, "source chunk")
	opts := []pipeline.Option{pipeline.Buffer(b), pipeline.Chunk(c)}
	switch rapid.IntRange(0, 3).Draw(t, "source") {
	case 0:
		return pipeline.FromSlice(ctx, in, opts...)
	case 1:
		return pipeline.From(ctx, slices.Values(in), opts...)
	case 2:
		ch := make(chan int, len(in))
		for _, v := range in {
			ch <- v
		}
		close(ch)
		return pipeline.FromChan(ctx, ch, opts...)
	default:
		return pipeline.Generate(ctx, func(ctx context.Context, emit func(int) error) error {
			for _, v := range in {
				if err := emit(v); err != nil {
					return err
				}
			}
			return nil
		}, opts...)
	}
}

// Map, Filter and FlatMap give what their sequential forms give, in order,
// and MapUnordered a permutation of it, for any workers, buffers, chunk
// sizes and source.
func TestPropertyStagesMatchSequential(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := rapid.SliceOfN(rapid.IntRange(-1000, 1000), 0, 300).Draw(t, "input")
		mod := rapid.IntRange(1, 5).Draw(t, "filter modulus")
		unordered := rapid.Bool().Draw(t, "MapUnordered")
		ctx := context.Background()

		var want []int
		for _, v := range in {
			v = v*3 + 1
			if v%mod != 0 {
				continue
			}
			for range v & 3 {
				want = append(want, v)
			}
		}

		o1, _, _ := stageOpts(t, "map")
		o2, _, _ := stageOpts(t, "filter")
		o3, _, _ := stageOpts(t, "flatmap")
		mapper := pipeline.Map[int, int]
		if unordered {
			mapper = pipeline.MapUnordered[int, int]
		}
		s := mapper(source(t, ctx, in), func(_ context.Context, v int) (int, error) { return v*3 + 1, nil }, o1...)
		s = pipeline.Filter(s, func(_ context.Context, v int) (bool, error) { return v%mod == 0, nil }, o2...)
		s = pipeline.FlatMap(s, func(_ context.Context, v int, emit func(int) error) error {
			for range v & 3 {
				if err := emit(v); err != nil {
					return err
				}
			}
			return nil
		}, o3...)
		got, err := pipeline.Collect(s)
		if err != nil {
			t.Fatal(err)
		}
		noLeftover(t)
		if unordered {
			slices.Sort(got)
			slices.Sort(want)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got %v\nwant %v", got, want)
		}
	})
}

// Batches concatenate to the input, none is empty or longer than size, and
// in a synctest bubble no batch goes out later than maxWait after its first
// item arrived.
func TestPropertyBatch(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		gaps := rapid.SliceOfN(rapid.IntRange(0, 30), 0, 60).Draw(rt, "gaps in ms")
		size := rapid.IntRange(1, 10).Draw(rt, "size")
		maxWait := time.Duration(rapid.IntRange(0, 40).Draw(rt, "maxWait ms")) * time.Millisecond
		var failure string
		synctest.Test(t, func(t *testing.T) {
			type item struct {
				i  int
				at time.Time
			}
			gen := pipeline.Generate(context.Background(), func(ctx context.Context, emit func(item) error) error {
				for i, g := range gaps {
					time.Sleep(time.Duration(g) * time.Millisecond)
					if err := emit(item{i, time.Now()}); err != nil {
						return err
					}
				}
				return nil
			})
			next := 0
			err := pipeline.ForEach(pipeline.Batch(gen, size, maxWait), func(_ context.Context, b []item) error {
				if len(b) == 0 || len(b) > size {
					failure = fmt.Sprintf("batch of %d items, size %d", len(b), size)
				}
				for _, it := range b {
					if it.i != next {
						failure = fmt.Sprintf("item %d where %d was due", it.i, next)
					}
					next++
				}
				if wait := time.Since(b[0].at); maxWait > 0 && wait > maxWait {
					failure = fmt.Sprintf("batch went out %v after its first item, maxWait %v", wait, maxWait)
				}
				return nil
			})
			if err != nil {
				failure = err.Error()
			}
			if next != len(gaps) && failure == "" {
				failure = fmt.Sprintf("%d items out of %d", next, len(gaps))
			}
		})
		if failure != "" {
			rt.Fatal(failure)
		}
	})
}

// An error at a random item of a random stage: the sink returns exactly
// that error, nothing is left running, and at most (workers + buffers) more
// items are processed after it.
//
// It runs in a synctest bubble with stage functions that take time, so that
// "after" is exact: the runtime may preempt the failing goroutine between
// its error and the moment the other workers are told, but the bubble's clock
// does not move while it is runnable, so the others cannot start more than
// one item each meanwhile.
func TestPropertyErrorInjection(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 300).Draw(rt, "items")
		failStage := rapid.IntRange(0, 2).Draw(rt, "failing stage")
		failAt := rapid.IntRange(0, n-1).Draw(rt, "failing item")
		var took [3]time.Duration
		for i := range took {
			took[i] = time.Duration(rapid.IntRange(1, 100).Draw(rt, fmt.Sprint("stage ", i, " µs per item"))) * time.Microsecond
		}
		total := 0
		opts := make([][]pipeline.Option, 3)
		for i := range opts {
			var w, b int
			opts[i], w, b = stageOpts(rt, fmt.Sprint("stage ", i))
			total += w + b
		}
		var failure string
		synctest.Test(t, func(t *testing.T) {
			boom := fmt.Errorf("boom at %d", failAt)
			var calls, atError atomic.Int64
			body := func(stage int, v int) error {
				calls.Add(1)
				time.Sleep(took[stage])
				if stage == failStage && v == failAt {
					atError.Store(calls.Load())
					return boom
				}
				return nil
			}
			ctx := context.Background()
			s := pipeline.Map(pipeline.FromSlice(ctx, ints(n)), func(_ context.Context, v int) (int, error) { return v, body(0, v) }, opts[0]...)
			s = pipeline.Filter(s, func(_ context.Context, v int) (bool, error) { return true, body(1, v) }, opts[1]...)
			s = pipeline.MapUnordered(s, func(_ context.Context, v int) (int, error) { return v, body(2, v) }, opts[2]...)
			_, err := pipeline.Collect(s)
			switch after := calls.Load() - atError.Load(); {
			case !errors.Is(err, boom):
				failure = fmt.Sprintf("Collect = %v, want %v", err, boom)
			case after > int64(total):
				failure = fmt.Sprintf("%d items processed after the error, want at most %d (workers + buffers)", after, total)
			}
		})
		if failure != "" {
			rt.Fatal(failure)
		}
	})
}

// A panic at a random item comes back as *weft.PanicError with its value.
func TestPropertyPanic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 200).Draw(t, "items")
		at := rapid.IntRange(0, n-1).Draw(t, "panicking item")
		o, _, _ := stageOpts(t, "map")
		s := pipeline.Map(source(t, context.Background(), ints(n)), func(_ context.Context, v int) (int, error) {
			if v == at {
				panic(v)
			}
			return v, nil
		}, o...)
		_, err := pipeline.Collect(s)
		noLeftover(t)
		var pe *weft.PanicError
		if !errors.As(err, &pe) || pe.Value != at {
			t.Fatalf("Collect = %v, want *weft.PanicError(%d)", err, at)
		}
	})
}

// A cancel at a random point: the sink returns the cause and nothing is left
// running.
func TestPropertyCancel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 500).Draw(t, "items")
		cancelAfter := rapid.IntRange(0, n).Draw(t, "cancel after")
		cause := errors.New("caller gave up")
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		o, _, _ := stageOpts(t, "map")
		s := pipeline.Map(source(t, ctx, ints(n)), inc, o...)
		seen := 0
		err := pipeline.ForEach(s, func(context.Context, int) error {
			seen++
			if seen == cancelAfter {
				cancel(cause)
			}
			return nil
		})
		noLeftover(t)
		switch {
		case cancelAfter == n && err == nil:
			// The cancel came with the last item: a sink that got every
			// item may have succeeded.
		case cancelAfter > 0 && cancelAfter <= n:
			if !errors.Is(err, cause) {
				t.Fatalf("ForEach = %v after a cancel at item %d, want %v", err, cancelAfter, cause)
			}
		default:
			if err != nil {
				t.Fatalf("ForEach = %v without a cancel", err)
			}
		}
	})
}

// Breaking out of All at a random point leaves nothing running and no stage
// function is called after the loop ends.
func TestPropertyAllBreak(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 500).Draw(t, "items")
		breakAt := rapid.IntRange(0, n-1).Draw(t, "break at")
		var calls atomic.Int64
		o, _, _ := stageOpts(t, "map")
		s := pipeline.Map(source(t, context.Background(), ints(n)), func(_ context.Context, v int) (int, error) {
			calls.Add(1)
			return v, nil
		}, o...)
		for v, err := range pipeline.All(s) {
			if err != nil {
				t.Fatal(err)
			}
			if v == breakAt {
				break
			}
		}
		// No pipeline goroutine is left, so no stage function can run
		// after the loop.
		noLeftover(t)
		if c := calls.Load(); c > int64(n) {
			t.Fatalf("stage ran %d times for %d items", c, n)
		}
	})
}

// The concurrency of a stage never exceeds its workers.
func TestPropertyConcurrencyBound(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 300).Draw(t, "items")
		o, w, _ := stageOpts(t, "map")
		var running, peak atomic.Int32
		f := func(_ context.Context, v int) error {
			r := running.Add(1)
			defer running.Add(-1)
			for {
				p := peak.Load()
				if r <= p || peak.CompareAndSwap(p, r) {
					break
				}
			}
			return nil
		}
		unordered := rapid.Bool().Draw(t, "ForEach rather than Map")
		var err error
		if unordered {
			err = pipeline.ForEach(source(t, context.Background(), ints(n)), f, o...)
		} else {
			_, err = pipeline.Collect(pipeline.Map(source(t, context.Background(), ints(n)), func(ctx context.Context, v int) (int, error) {
				return v, f(ctx, v)
			}, o...))
		}
		if err != nil {
			t.Fatal(err)
		}
		if p := peak.Load(); int(p) > w {
			t.Fatalf("%d calls at once with %d workers", p, w)
		}
	})
}
