package pipeline_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/weftgo/weft/pipeline"
)

// A result is handed on the moment it is ready while the next stage waits:
// behind a slow single worker over a fast source, the first result arrives
// after one item's work, not after a chunk's.
func TestFirstResultAfterOneItem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		s := pipeline.Map(pipeline.FromSlice(context.Background(), ints(64)), func(_ context.Context, v int) (int, error) {
			time.Sleep(5 * time.Millisecond)
			return v, nil
		})
		var arrived []time.Duration
		for v, err := range pipeline.All(s) {
			require.NoError(t, err)
			arrived = append(arrived, time.Since(start))
			_ = v
		}
		require.Len(t, arrived, 64)
		for i, d := range arrived {
			require.Equal(t, time.Duration(i+1)*5*time.Millisecond, d, "result %d", i)
		}
	})
}

// Batch's maxWait runs from the moment the first item of a batch was
// produced by the stage before it, and a partial batch leaves at maxWait
// while that stage is still busy producing more.
func TestBatchMaxWaitHoldsBehindSlowStage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const work = 7 * time.Millisecond
		const wait = 50 * time.Millisecond
		s := pipeline.Map(pipeline.FromSlice(context.Background(), ints(41)), func(_ context.Context, v int) (time.Time, error) {
			time.Sleep(work)
			return time.Now(), nil
		})
		var sizes []int
		err := pipeline.ForEach(pipeline.Batch(s, 10, wait), func(_ context.Context, b []time.Time) error {
			sizes = append(sizes, len(b))
			if len(b) < 10 && b[0].Add(wait).After(time.Now()) {
				// Only the last batch, cut by the end of the input,
				// may leave before its wait.
				return nil
			}
			if len(b) < 10 {
				assert.Equal(t, wait, time.Since(b[0]), "partial batch of %d left %v after its first item", len(b), time.Since(b[0]))
			} else {
				assert.LessOrEqual(t, time.Since(b[0]), wait, "full batch")
			}
			return nil
		})
		require.NoError(t, err)
		// Items at 7, 14, ..., 287ms: a batch opened at 7ms leaves at 57ms
		// with the 8 items made by 56ms, and so on; the last item leaves
		// alone when the input ends.
		assert.Equal(t, []int{8, 8, 8, 8, 8, 1}, sizes)
	})
}

// After the caller cancels, no stage function starts a call: each worker
// finishes at most the call it is in.
func TestCancelStopsEveryWorkerWithinOneCall(t *testing.T) {
	for _, workers := range []int{1, 4} {
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var calls, late atomic.Int64
				s := pipeline.Map(pipeline.FromSlice(ctx, ints(1000)), func(ctx context.Context, v int) (int, error) {
					calls.Add(1)
					if ctx.Err() != nil {
						late.Add(1)
					}
					time.Sleep(time.Millisecond)
					return v, nil
				}, pipeline.Concurrency(workers))
				done := make(chan error, 1)
				go func() { done <- pipeline.ForEach(s, func(context.Context, int) error { return nil }) }()
				time.Sleep(2*time.Millisecond + time.Millisecond/2) // each worker is in its third call
				cancel()
				require.ErrorIs(t, <-done, context.Canceled)
				assert.Zero(t, late.Load(), "calls started with the context already cancelled")
				assert.Equal(t, int64(3*workers), calls.Load(), "calls")
			})
		})
	}
}

// A cancel made by a stage function itself is seen before that worker's
// next call.
func TestCancelSeenBeforeNextCall(t *testing.T) {
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var late atomic.Int64
			s := pipeline.Map(pipeline.FromSlice(ctx, ints(10_000)), func(ctx context.Context, v int) (int, error) {
				if ctx.Err() != nil {
					late.Add(1)
				}
				if v == 100 {
					cancel()
				}
				return v, nil
			}, pipeline.Concurrency(workers))
			_, err := pipeline.Collect(s)
			require.ErrorIs(t, err, context.Canceled)
			// Another worker may have passed its check just before the
			// cancel; the one that cancelled never calls again.
			assert.LessOrEqual(t, late.Load(), int64(workers-1), "calls started with the context already cancelled")
		})
	}
}

type timed struct {
	id   int
	made time.Time
}

// For random chains of stages with random workers, chunks, buffers and
// per-item durations, on fake time: an item that finds the pipeline idle
// reaches the sink exactly the sum of its own durations after it was made,
// so no item ever waits in a hand-off while the next stage is idle; and in
// a burst through stages that keep order, the first item does the same,
// though every worker is then busy with the items behind it.
func TestPropertyNoItemWaitsForAnIdleStage(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		nStages := rapid.IntRange(1, 4).Draw(rt, "stages")
		n := rapid.IntRange(1, 40).Draw(rt, "items")
		burst := rapid.Bool().Draw(rt, "burst")
		kinds := make([]int, nStages)
		opts := make([][]pipeline.Option, nStages)
		dur := make([][]time.Duration, nStages)
		for i := range nStages {
			// In a burst, MapUnordered may let a later item overtake the
			// first, which then rightly waits for it: bursts run through
			// stages that keep order.
			kinds[i] = rapid.SampledFrom([]int{0, 1, 2, 3}).Draw(rt, fmt.Sprint("kind ", i))
			if burst && kinds[i] == 1 {
				kinds[i] = 0
			}
			opts[i] = []pipeline.Option{
				pipeline.Concurrency(rapid.IntRange(1, 4).Draw(rt, fmt.Sprint("workers ", i))),
				pipeline.Chunk(rapid.IntRange(1, 64).Draw(rt, fmt.Sprint("chunk ", i))),
				pipeline.Buffer(rapid.IntRange(0, 64).Draw(rt, fmt.Sprint("buffer ", i))),
			}
			dur[i] = make([]time.Duration, n)
			for j := range n {
				dur[i][j] = time.Duration(rapid.IntRange(0, 10).Draw(rt, "ms")) * time.Millisecond
			}
		}
		var failure string
		synctest.Test(t, func(t *testing.T) {
			// Spaced items are made 50ms apart, more than any chain takes.
			s := pipeline.Generate(context.Background(), func(ctx context.Context, emit func(timed) error) error {
				for i := range n {
					if !burst && i > 0 {
						time.Sleep(50 * time.Millisecond)
					}
					if err := emit(timed{i, time.Now()}); err != nil {
						return err
					}
				}
				return nil
			})
			for i := range nStages {
				work := func(v timed) { time.Sleep(dur[i][v.id]) }
				switch kinds[i] {
				case 0:
					s = pipeline.Map(s, func(_ context.Context, v timed) (timed, error) { work(v); return v, nil }, opts[i]...)
				case 1:
					s = pipeline.MapUnordered(s, func(_ context.Context, v timed) (timed, error) { work(v); return v, nil }, opts[i]...)
				case 2:
					s = pipeline.Filter(s, func(_ context.Context, v timed) (bool, error) { work(v); return true, nil }, opts[i]...)
				default:
					s = pipeline.FlatMap(s, func(_ context.Context, v timed, emit func(timed) error) error { work(v); return emit(v) }, opts[i]...)
				}
			}
			err := pipeline.ForEach(s, func(_ context.Context, v timed) error {
				if failure != "" || burst && v.id != 0 {
					return nil
				}
				var want time.Duration
				for i := range nStages {
					want += dur[i][v.id]
				}
				if got := time.Since(v.made); got != want {
					failure = fmt.Sprintf("item %d reached the sink %v after it was made, want %v (%v)", v.id, got, want, durs(dur, v.id))
				}
				return nil
			})
			if err != nil {
				failure = err.Error()
			}
		})
		if failure != "" {
			rt.Fatal(failure)
		}
	})
}

func durs(dur [][]time.Duration, id int) []time.Duration {
	var out []time.Duration
	for i := range dur {
		out = append(out, dur[i][id])
	}
	return out
}

// The in-flight bound, in items: a stage runs ahead of a consumer that has
// stopped by at most its output buffer rounded up to whole chunks, plus the
// chunk it is filling and the one the consumer holds.
func TestPropertyInFlightBoundInItems(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		chunk := rapid.IntRange(1, 70).Draw(rt, "chunk")
		buffer := rapid.IntRange(0, 200).Draw(rt, "buffer")
		slow := rapid.Bool().Draw(rt, "slow items")
		bound := ((buffer+chunk-1)/chunk + 2) * chunk
		var calls int
		synctest.Test(t, func(t *testing.T) {
			s := pipeline.Map(pipeline.FromSlice(context.Background(), ints(1000)), func(_ context.Context, v int) (int, error) {
				calls++
				if slow {
					time.Sleep(time.Millisecond)
				}
				return v, nil
			}, pipeline.Chunk(chunk), pipeline.Buffer(buffer))
			for range pipeline.All(s) {
				time.Sleep(time.Hour) // the consumer stops on its first item
				synctest.Wait()
				break
			}
		})
		if calls > bound {
			rt.Fatalf("the stage ran %d items ahead of a stopped consumer, want at most %d", calls, bound)
		}
	})
}
