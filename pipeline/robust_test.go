package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/pipeline"
)

// Sizes no pipeline can use are refused by the option itself, naming it,
// before anything starts: never by make inside a running sink, where the
// panic would leak the stages and, through Chan, kill the process.
func TestOversizedOptionsPanicAtConstruction(t *testing.T) {
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"Buffer(MaxInt)", func() { pipeline.Buffer(math.MaxInt) }, fmt.Sprintf("Buffer(%d)", math.MaxInt)},
		{"Buffer(1<<20+1)", func() { pipeline.Buffer(1<<20 + 1) }, "Buffer(1048577)"},
		{"Chunk(MaxInt)", func() { pipeline.Chunk(math.MaxInt) }, fmt.Sprintf("Chunk(%d)", math.MaxInt)},
		{"Concurrency(MaxInt)", func() { pipeline.Concurrency(math.MaxInt) }, fmt.Sprintf("Concurrency(%d)", math.MaxInt)},
		{"Concurrency(65537)", func() { pipeline.Concurrency(65537) }, "Concurrency(65537)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				require.NotNil(t, r, "no panic")
				msg := fmt.Sprint(r)
				assert.True(t, strings.HasPrefix(msg, "pipeline: "), "panic %q", msg)
				assert.Contains(t, msg, tt.want)
			}()
			tt.f()
		})
	}
}

// The largest sizes the options take work, and cost memory for the items
// that move, not for the sizes.
func TestLargestSizesWorkWithoutAllocatingThem(t *testing.T) {
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	big := []pipeline.Option{pipeline.Chunk(1 << 20), pipeline.Buffer(1 << 20)}
	s := pipeline.Map(pipeline.FromSlice(ctx, ints(100), big...), inc, big...)
	s = pipeline.Map(s, inc, append(big, pipeline.Concurrency(64))...)
	var got []int
	for v := range s.Chan() {
		got = append(got, v)
	}
	require.NoError(t, s.Err())
	runtime.ReadMemStats(&after)
	require.Len(t, got, 100)
	for i, v := range got {
		require.Equal(t, i+2, v)
	}
	// A chunk or buffer allocated at its limit would be 8 MiB at least.
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20), "bytes allocated")
}

// Batch's size is a limit, not an allocation: batching by time alone with a
// huge size allocates for the items each batch holds.
func TestBatchAllocatesForItemsNotForSize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gen := pipeline.Generate(context.Background(), func(ctx context.Context, emit func(int) error) error {
			for i := range 30 {
				if i%10 == 0 && i > 0 {
					time.Sleep(time.Second) // cut by maxWait
				}
				if err := emit(i); err != nil {
					return err
				}
			}
			return nil
		})
		batches, err := pipeline.Collect(pipeline.Batch(gen, math.MaxInt, 100*time.Millisecond))
		require.NoError(t, err)
		require.Len(t, batches, 3)
		for _, b := range batches {
			assert.Len(t, b, 10)
			assert.LessOrEqual(t, cap(b), 32, "capacity of a batch of %d", len(b))
		}
	})
}

// FlatMap's emit may be called from goroutines f starts, as Generate's may.
func TestFlatMapEmitIsSafeForConcurrentUse(t *testing.T) {
	const fan = 8
	s := pipeline.FlatMap(pipeline.FromSlice(context.Background(), ints(20)), func(_ context.Context, v int, emit func(int) error) error {
		var wg sync.WaitGroup
		errs := make([]error, fan)
		for i := range fan {
			wg.Go(func() { errs[i] = emit(v) })
		}
		wg.Wait()
		return errors.Join(errs...)
	}, pipeline.Chunk(3), pipeline.Concurrency(2))
	got, err := pipeline.Collect(s)
	require.NoError(t, err)
	require.Len(t, got, 20*fan)
	for i, v := range got {
		require.Equal(t, i/fan, v, "item %d", i) // and in order
	}
}

// An emit kept past the end of its function's call has nowhere to hand its
// item: it says so rather than drop it.
func TestEmitAfterReturnIsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var late func(int) error
		var lateErr error
		callLate := func(_ context.Context, v int) (int, error) {
			synctest.Wait() // the function that was given emit has returned
			lateErr = late(v + 100)
			return v, nil
		}
		got, err := pipeline.Collect(pipeline.Map(pipeline.FlatMap(pipeline.FromSlice(ctx, ints(1)), func(_ context.Context, v int, emit func(int) error) error {
			late = emit
			return emit(v)
		}), callLate))
		require.NoError(t, err)
		assert.Equal(t, []int{0}, got)
		assert.Error(t, lateErr, "FlatMap's emit after f returned")

		got, err = pipeline.Collect(pipeline.Map(pipeline.Generate(ctx, func(_ context.Context, emit func(int) error) error {
			late = emit
			return emit(0)
		}), callLate))
		require.NoError(t, err)
		assert.Equal(t, []int{0}, got)
		assert.Error(t, lateErr, "Generate's emit after gen returned")
	})
}

// slowAsError is a stage error whose As method blocks until released, which
// holds a failing stage between its decision to stop the pipeline and the
// cancellation of the pipeline's context.
type slowAsError struct {
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func newSlowAsError() *slowAsError {
	return &slowAsError{entered: make(chan struct{}), release: make(chan struct{})}
}

func (e *slowAsError) Error() string { return "slow As" }

func (e *slowAsError) As(any) bool {
	e.once.Do(func() { close(e.entered) })
	<-e.release
	return false
}

// emit returns an error for every item it does not hand on, also between
// the pipeline's decision to stop and the cancellation of its context; and
// the generator returning that error is not taken for the pipeline's own
// failure.
func TestEmitReportsAnItemItDropsWhileStopping(t *testing.T) {
	for _, kind := range []string{"Generate", "FlatMap"} {
		t.Run(kind, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				slow := newSlowAsError()
				var refused error
				produce := func(emit func(int) error) error {
					if err := emit(0); err != nil {
						return err
					}
					<-slow.entered // the failing stage has set the stop flag
					refused = emit(1)
					return refused
				}
				var s *pipeline.Stream[int]
				if kind == "Generate" {
					s = pipeline.Generate(context.Background(), func(_ context.Context, emit func(int) error) error {
						return produce(emit)
					}, pipeline.Chunk(1))
				} else {
					s = pipeline.FlatMap(pipeline.FromSlice(context.Background(), ints(1)), func(_ context.Context, _ int, emit func(int) error) error {
						return produce(emit)
					}, pipeline.Chunk(1))
				}
				s = pipeline.Map(s, func(_ context.Context, v int) (int, error) { return v, slow })
				done := make(chan error, 1)
				go func() {
					_, err := pipeline.Collect(s)
					done <- err
				}()
				synctest.Wait()
				close(slow.release)
				err := <-done
				require.Error(t, refused, "emit of an item dropped while stopping")
				var se *pipeline.StageError
				require.ErrorAs(t, err, &se)
				assert.True(t, strings.HasPrefix(se.Stage, "map#"), "failed stage %q", se.Stage)
				assert.ErrorIs(t, err, slow)
			})
		})
	}
}

// The rule when cancellation races completion: a sink that has received
// every item succeeds, even if the context ended after the last item was
// handed on; the cause is returned only when the cancellation cut the
// pipeline short (TestCancelReturnsCause).
func TestSinkThatGotEveryItemIgnoresALateCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n := 0
		err := pipeline.ForEach(pipeline.FromSlice(ctx, ints(3)), func(context.Context, int) error {
			n++
			if n == 3 {
				synctest.Wait() // the source has handed on everything and exited
				cancel()
			}
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 3, n)
	})
}

// Pipelines built from random sizes, the valid and the absurd: building
// either panics naming an option the caller passed, or the pipeline runs and
// delivers every item in order, with no goroutine left when the sink
// returns. A panic on a pipeline goroutine would end the test binary.
func TestPropertySizesNeverCrash(t *testing.T) {
	size := func(label string, lo int) *rapid.Generator[int] {
		return rapid.OneOf(
			rapid.SampledFrom([]int{lo - 1, lo, lo + 1, 64, 1 << 20, 1<<20 + 1, 1 << 24, math.MaxInt, math.MinInt}),
			rapid.IntRange(lo-1, 200),
		)
	}
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 300).Draw(t, "items")
		var passed []string
		draw := func(label string, f func(int) pipeline.Option, g *rapid.Generator[int]) pipeline.Option {
			v := g.Draw(t, label)
			passed = append(passed, fmt.Sprintf("%s(%d)", label, v))
			return f(v)
		}
		workers := rapid.OneOf(rapid.SampledFrom([]int{0, 1, 2, 1<<16 + 1, math.MaxInt, -1}), rapid.IntRange(1, 16))
		build := func() (s *pipeline.Stream[int], batchSize int) {
			src := pipeline.FromSlice(context.Background(), ints(n),
				draw("Chunk", pipeline.Chunk, size("Chunk", 1)), draw("Buffer", pipeline.Buffer, size("Buffer", 0)))
			s = pipeline.Map(src, inc, draw("Concurrency", pipeline.Concurrency, workers),
				draw("Chunk", pipeline.Chunk, size("Chunk", 1)), draw("Buffer", pipeline.Buffer, size("Buffer", 0)))
			s = pipeline.Filter(s, func(context.Context, int) (bool, error) { return true, nil }, draw("Concurrency", pipeline.Concurrency, workers))
			batchSize = size("Batch", 1).Draw(t, "Batch")
			passed = append(passed, fmt.Sprintf("Batch(size %d)", batchSize))
			b := pipeline.Batch(s, batchSize, 0, draw("Chunk", pipeline.Chunk, size("Chunk", 1)))
			return pipeline.FlatMap(b, func(_ context.Context, b []int, emit func(int) error) error {
				for _, v := range b {
					if err := emit(v); err != nil {
						return err
					}
				}
				return nil
			}), batchSize
		}
		var s *pipeline.Stream[int]
		func() {
			defer func() {
				if r := recover(); r != nil {
					msg := fmt.Sprint(r)
					named := false
					for _, p := range passed {
						named = named || strings.Contains(msg, p)
					}
					if !strings.HasPrefix(msg, "pipeline: ") || !named {
						t.Fatalf("construction panicked with %q, naming none of the options passed: %v", msg, passed)
					}
				}
			}()
			s, _ = build()
		}()
		if s == nil {
			return
		}
		var got []int
		if rapid.Bool().Draw(t, "Chan rather than Collect") {
			for v := range s.Chan() {
				got = append(got, v)
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
		} else {
			var err error
			if got, err = pipeline.Collect(s); err != nil {
				t.Fatal(err)
			}
		}
		noLeftover(t)
		if len(got) != n {
			t.Fatalf("got %d items, want %d", len(got), n)
		}
		for i, v := range got {
			if v != i+1 {
				t.Fatalf("item %d = %d, want %d", i, v, i+1)
			}
		}
	})
}

// uncomparableError panics on ==, as an error holding a slice does.
type uncomparableError struct{ fields []string }

func (e uncomparableError) Error() string { return fmt.Sprint("invalid: ", e.fields) }

// Stage errors and cancellation causes of every shape, the uncomparable and
// those whose Is, As or Unwrap panics included, come back through the sink and never crash a pipeline
// goroutine.
func TestPropertyErrorValuesNeverCrash(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		kinds := []func() error{
			func() error { return errors.New("plain") },
			func() error { return uncomparableError{[]string{"a"}} },
			func() error { return fmt.Errorf("wrapped: %w", uncomparableError{[]string{"b"}}) },
			func() error { return errors.Join(uncomparableError{[]string{"c"}}, errors.New("other")) },
			func() error { return &weft.PanicError{Value: "returned, not panicked"} },
			func() error { return context.Canceled },
		}
		for _, m := range hostileMethods {
			kinds = append(kinds, func() error { return &hostileError{method: m} })
		}
		mk := kinds[rapid.IntRange(0, len(kinds)-1).Draw(t, "error kind")]
		n := rapid.IntRange(1, 100).Draw(t, "items")
		at := rapid.IntRange(0, n-1).Draw(t, "failing item")
		byCancel := rapid.Bool().Draw(t, "as the caller's cancellation cause")
		want := mk()
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		o, _, _ := stageOpts(t, "map")
		s := pipeline.Map(source(t, ctx, ints(n)), func(_ context.Context, v int) (int, error) {
			if v != at {
				return v, nil
			}
			if byCancel {
				cancel(want)
				return v, nil
			}
			return v, want
		}, o...)
		var err error
		within(t, func() { _, err = pipeline.Collect(s) })
		noLeftover(t)
		if err == nil {
			if byCancel && at == n-1 {
				return // cancelled with the last item: every item may have arrived
			}
			t.Fatalf("Collect = nil, want %v", want)
		}
		if h, ok := want.(*hostileError); ok {
			// Its methods panic when weft looks into it: it comes back as
			// the caller's cause itself, or with that panic reported.
			var pe *weft.PanicError
			if err != want && (!carries(err, h) || !errors.As(err, &pe)) {
				t.Fatalf("Collect = %#v, want %v with the panic of its %s", err, want, h.method)
			}
			return
		}
		if err.Error() != want.Error() && !strings.HasSuffix(err.Error(), ": "+want.Error()) {
			t.Fatalf("Collect = %v, want %v", err, want)
		}
	})
}
