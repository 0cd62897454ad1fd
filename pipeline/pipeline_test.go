package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/pipeline"
)

func TestSourcesAndSinks(t *testing.T) {
	ctx := context.Background()
	in := ints(1000)
	sources := map[string]func() *pipeline.Stream[int]{
		"FromSlice": func() *pipeline.Stream[int] { return pipeline.FromSlice(ctx, in) },
		"From":      func() *pipeline.Stream[int] { return pipeline.From(ctx, slices.Values(in)) },
		"FromChan": func() *pipeline.Stream[int] {
			ch := make(chan int, 10)
			go func() {
				defer close(ch)
				for _, v := range in {
					ch <- v
				}
			}()
			return pipeline.FromChan(ctx, ch)
		},
		"Generate": func() *pipeline.Stream[int] {
			return pipeline.Generate(ctx, func(ctx context.Context, emit func(int) error) error {
				for _, v := range in {
					if err := emit(v); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	for name, source := range sources {
		t.Run(name+"/Collect", func(t *testing.T) {
			got, err := pipeline.Collect(source())
			if err != nil || !slices.Equal(got, in) {
				t.Fatalf("Collect = %d items, %v; want %d items in order", len(got), err, len(in))
			}
			noLeftover(t)
		})
		t.Run(name+"/Reduce", func(t *testing.T) {
			sum, err := pipeline.Reduce(source(), 0, func(acc, v int) (int, error) { return acc + v, nil })
			if want := 999 * 1000 / 2; sum != want || err != nil {
				t.Fatalf("Reduce = %d, %v, want %d, nil", sum, err, want)
			}
		})
		t.Run(name+"/All", func(t *testing.T) {
			var got []int
			for v, err := range pipeline.All(source()) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, v)
			}
			if !slices.Equal(got, in) {
				t.Fatalf("All yielded %d items, want %d in order", len(got), len(in))
			}
		})
		t.Run(name+"/Chan", func(t *testing.T) {
			s := source()
			var got []int
			for v := range s.Chan() {
				got = append(got, v)
			}
			if err := s.Err(); err != nil || !slices.Equal(got, in) {
				t.Fatalf("Chan gave %d items, Err %v; want %d items in order", len(got), err, len(in))
			}
		})
		t.Run(name+"/ForEach", func(t *testing.T) {
			var sum atomic.Int64
			err := pipeline.ForEach(source(), func(_ context.Context, v int) error {
				sum.Add(int64(v))
				return nil
			}, pipeline.Concurrency(3))
			if want := int64(999 * 1000 / 2); sum.Load() != want || err != nil {
				t.Fatalf("ForEach summed %d, %v, want %d, nil", sum.Load(), err, want)
			}
		})
	}
}

func TestEmptyInput(t *testing.T) {
	got, err := pipeline.Collect(pipeline.Map(pipeline.FromSlice(context.Background(), []int(nil)), inc))
	if len(got) != 0 || err != nil {
		t.Fatalf("Collect(empty) = %v, %v", got, err)
	}
	batches, err := pipeline.Collect(pipeline.Batch(pipeline.FromSlice(context.Background(), []int{}), 3, time.Second))
	if len(batches) != 0 || err != nil {
		t.Fatalf("Batch(empty) = %v, %v, want no batch", batches, err)
	}
}

func TestStagesKeepOrder(t *testing.T) {
	ctx := context.Background()
	in := ints(5000)
	for _, w := range []int{1, 2, 5} {
		s := pipeline.FromSlice(ctx, in, pipeline.Chunk(7))
		m := pipeline.Map(s, inc, pipeline.Concurrency(w))
		f := pipeline.Filter(m, even, pipeline.Concurrency(w))
		fm := pipeline.FlatMap(f, func(_ context.Context, v int, emit func(string) error) error {
			for i := range v % 3 {
				if err := emit(fmt.Sprint(v, "/", i)); err != nil {
					return err
				}
			}
			return nil
		}, pipeline.Concurrency(w))
		var tapped atomic.Int32
		tp := pipeline.Tap(fm, func(context.Context, string) { tapped.Add(1) }, pipeline.Concurrency(w))
		got, err := pipeline.Collect(tp)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, v := range in {
			v++
			if v%2 != 0 {
				continue
			}
			for i := range v % 3 {
				want = append(want, fmt.Sprint(v, "/", i))
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("workers=%d: got %d items, want %d in order", w, len(got), len(want))
		}
		if int(tapped.Load()) != len(want) {
			t.Fatalf("Tap saw %d items, want %d", tapped.Load(), len(want))
		}
	}
}

func TestMapUnorderedIsPermutation(t *testing.T) {
	in := ints(3000)
	got, err := pipeline.Collect(pipeline.MapUnordered(pipeline.FromSlice(context.Background(), in), dbl, pipeline.Concurrency(4)))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	for i, v := range got {
		if v != 2*i {
			t.Fatalf("sorted output[%d] = %d, want %d", i, v, 2*i)
		}
	}
}

func TestStageErrorNamesStage(t *testing.T) {
	boom := errors.New("boom")
	fail := func(_ context.Context, v int) (int, error) {
		if v == 500 {
			return 0, boom
		}
		return v, nil
	}
	tests := []struct {
		opts []pipeline.Option
		want string
	}{
		{[]pipeline.Option{pipeline.Name("parse")}, `pipeline: stage "parse": boom`},
		{nil, `pipeline: stage "map#2": boom`},
		{[]pipeline.Option{pipeline.Concurrency(3), pipeline.Name("w")}, `pipeline: stage "w": boom`},
	}
	for _, tt := range tests {
		_, err := pipeline.Collect(pipeline.Map(pipeline.FromSlice(context.Background(), ints(1000)), fail, tt.opts...))
		var se *pipeline.StageError
		if !errors.Is(err, boom) || !errors.As(err, &se) || err.Error() != tt.want {
			t.Errorf("Collect error = %v, want %q", err, tt.want)
		}
		noLeftover(t)
	}
}

func TestPanicBecomesPanicError(t *testing.T) {
	s := pipeline.Map(pipeline.FromSlice(context.Background(), ints(100)), func(_ context.Context, v int) (int, error) {
		if v == 42 {
			panic("bad row")
		}
		return v, nil
	}, pipeline.Name("parse"))
	_, err := pipeline.Collect(s)
	var pe *weft.PanicError
	if !errors.As(err, &pe) || pe.Value != "bad row" {
		t.Fatalf("Collect = %v, want a *weft.PanicError", err)
	}
	if !strings.HasPrefix(err.Error(), `pipeline: stage "parse": `) {
		t.Fatalf("error %q does not name the stage", err)
	}
}

func TestPanicInSourceAndSink(t *testing.T) {
	seq := func(yield func(int) bool) { panic("source") }
	_, err := pipeline.Collect(pipeline.From(context.Background(), iter.Seq[int](seq)))
	var pe *weft.PanicError
	if !errors.As(err, &pe) || pe.Value != "source" {
		t.Fatalf("panicking source: %v", err)
	}
	_, err = pipeline.Reduce(pipeline.FromSlice(context.Background(), ints(10)), 0, func(int, int) (int, error) { panic("sink") })
	if !errors.As(err, &pe) || pe.Value != "sink" || !strings.Contains(err.Error(), `"reduce"`) {
		t.Fatalf("panicking Reduce: %v", err)
	}
	noLeftover(t)
}

func TestGoexitInStage(t *testing.T) {
	_, err := pipeline.Collect(pipeline.Map(pipeline.FromSlice(context.Background(), ints(10)), func(context.Context, int) (int, error) {
		runtime.Goexit()
		return 0, nil
	}))
	if !errors.Is(err, weft.ErrGoexit) {
		t.Fatalf("Collect = %v, want weft.ErrGoexit", err)
	}
}

func TestOnErrorDeadLetters(t *testing.T) {
	var dead []int
	s := pipeline.Map(pipeline.FromSlice(context.Background(), ints(20)), func(_ context.Context, v int) (int, error) {
		if v%5 == 0 {
			return 0, fmt.Errorf("bad %d", v)
		}
		return v, nil
	}, pipeline.OnError(func(_ context.Context, v int, err error) error {
		dead = append(dead, v)
		return nil
	}))
	got, err := pipeline.Collect(s)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 5, 10, 15}; !slices.Equal(dead, want) {
		t.Fatalf("dead letters %v, want %v", dead, want)
	}
	if len(got) != 16 {
		t.Fatalf("got %d good items, want 16", len(got))
	}
}

func TestOnErrorHandlerFailure(t *testing.T) {
	full := errors.New("dead-letter queue full")
	s := pipeline.Filter(pipeline.FromSlice(context.Background(), ints(20)), func(_ context.Context, v int) (bool, error) {
		return false, errors.New("bad")
	}, pipeline.OnError(func(context.Context, int, error) error { return full }))
	if _, err := pipeline.Collect(s); !errors.Is(err, full) {
		t.Fatalf("Collect = %v, want %v", err, full)
	}
}

func TestForEachErrorAndHandler(t *testing.T) {
	boom := errors.New("boom")
	err := pipeline.ForEach(pipeline.FromSlice(context.Background(), ints(100)), func(_ context.Context, v int) error {
		if v == 50 {
			return boom
		}
		return nil
	}, pipeline.Name("write"))
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), `"write"`) {
		t.Fatalf("ForEach = %v", err)
	}
	var handled atomic.Int32
	err = pipeline.ForEach(pipeline.FromSlice(context.Background(), ints(100)), func(_ context.Context, v int) error {
		return boom
	}, pipeline.Concurrency(4), pipeline.OnError(func(context.Context, int, error) error {
		handled.Add(1)
		return nil
	}))
	if err != nil || handled.Load() != 100 {
		t.Fatalf("ForEach with handler = %v, handled %d, want nil, 100", err, handled.Load())
	}
}

func TestCancelReturnsCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errShutdown := errors.New("shutdown")
		ctx, cancel := context.WithCancelCause(context.Background())
		gen := pipeline.Generate(ctx, func(ctx context.Context, emit func(int) error) error {
			for i := 0; ; i++ {
				if err := emit(i); err != nil {
					return err
				}
				time.Sleep(time.Millisecond)
			}
		})
		var seen atomic.Int32
		done := make(chan error, 1)
		go func() {
			done <- pipeline.ForEach(pipeline.Map(gen, inc), func(context.Context, int) error {
				seen.Add(1)
				return nil
			})
		}()
		time.Sleep(50 * time.Millisecond)
		cancel(errShutdown)
		if err := <-done; !errors.Is(err, errShutdown) {
			t.Fatalf("ForEach = %v, want %v", err, errShutdown)
		}
		if seen.Load() == 0 {
			t.Fatal("nothing reached the sink before the cancel")
		}
		noLeftover(t)
	})
}

func TestCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := pipeline.Collect(pipeline.Map(pipeline.FromSlice(ctx, ints(1000)), inc))
	if !errors.Is(err, context.Canceled) || got != nil {
		t.Fatalf("Collect = %d items, %v, want none and context.Canceled", len(got), err)
	}
}

func TestGenerateError(t *testing.T) {
	errRead := errors.New("read failed")
	s := pipeline.Generate(context.Background(), func(ctx context.Context, emit func(int) error) error {
		emit(1)
		return errRead
	}, pipeline.Name("read"))
	_, err := pipeline.Collect(s)
	if !errors.Is(err, errRead) || !strings.Contains(err.Error(), `"read"`) {
		t.Fatalf("Collect = %v, want %v naming stage read", err, errRead)
	}
}

// An item produced alone reaches the sink without waiting for a chunk to
// fill, even when the generator then blocks for a long time.
func TestLoneItemIsNotHeldBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		feed := make(chan int)
		sources := []*pipeline.Stream[int]{
			pipeline.Generate(ctx, func(ctx context.Context, emit func(int) error) error {
				for {
					select {
					case v := <-feed:
						if err := emit(v); err != nil {
							return err
						}
					case <-ctx.Done():
						return nil
					}
				}
			}),
		}
		chanFeed := make(chan int)
		sources = append(sources, pipeline.FromChan(ctx, chanFeed))
		for i, src := range sources {
			out := pipeline.Map(pipeline.Filter(pipeline.Map(src, inc), even), dbl).Chan()
			feeds := []chan int{feed, chanFeed}
			for _, v := range []int{1, 3, 5} {
				feeds[i] <- v
				synctest.Wait()
				select {
				case got := <-out:
					if got != (v+1)*2 {
						t.Fatalf("source %d: got %d, want %d", i, got, (v+1)*2)
					}
				default:
					t.Fatalf("source %d: item %d held back in the pipeline", i, v)
				}
			}
		}
		cancel()
		synctest.Wait()
	})
}

func TestBatch(t *testing.T) {
	got, err := pipeline.Collect(pipeline.Batch(pipeline.FromSlice(context.Background(), ints(10)), 4, 0))
	want := [][]int{{0, 1, 2, 3}, {4, 5, 6, 7}, {8, 9}}
	if err != nil || len(got) != len(want) {
		t.Fatalf("Batch = %v, %v, want %v", got, err, want)
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Fatalf("batch %d = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestBatchMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Items at 0, 10ms, 20ms, then a pause, then two more: with maxWait
		// 50ms the first batch is cut at 50ms holding three items.
		at := []time.Duration{0, 10, 20, 200, 210}
		gen := pipeline.Generate(context.Background(), func(ctx context.Context, emit func(time.Time) error) error {
			start := time.Now()
			for _, d := range at {
				time.Sleep(time.Until(start.Add(d * time.Millisecond)))
				if err := emit(time.Now()); err != nil {
					return err
				}
			}
			return nil
		})
		start := time.Now()
		var sizes []int
		var waits []time.Duration
		err := pipeline.ForEach(pipeline.Batch(gen, 100, 50*time.Millisecond), func(_ context.Context, b []time.Time) error {
			sizes = append(sizes, len(b))
			waits = append(waits, time.Since(b[0]))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(sizes, []int{3, 2}) {
			t.Fatalf("batch sizes %v, want [3 2]", sizes)
		}
		if waits[0] != 50*time.Millisecond {
			t.Fatalf("first batch went out %v after its first item, want 50ms", waits[0])
		}
		// The last batch opens at 200ms and is cut when the input ends at
		// 210ms, before its maxWait.
		if waits[1] != 10*time.Millisecond {
			t.Fatalf("last batch went out %v after its first item, want 10ms", waits[1])
		}
		if total := time.Since(start); total != 210*time.Millisecond {
			t.Fatalf("pipeline took %v, want 210ms", total)
		}
	})
}

func TestMisuse(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"Concurrency(0)", func() { pipeline.Concurrency(0) }, "Concurrency(0)"},
		{"Buffer(-1)", func() { pipeline.Buffer(-1) }, "Buffer(-1)"},
		{"Chunk(0)", func() { pipeline.Chunk(0) }, "Chunk(0)"},
		{"OnError(nil)", func() { pipeline.OnError[int](nil) }, "OnError(nil)"},
		{"nil option", func() { pipeline.FromSlice(ctx, ints(1), nil) }, "nil Option"},
		{"Concurrency on a source", func() { pipeline.FromSlice(ctx, ints(1), pipeline.Concurrency(8)) }, "FromSlice: option Concurrency does not apply"},
		{"OnError on a source", func() {
			pipeline.Generate(ctx, func(context.Context, func(int) error) error { return nil }, pipeline.OnError(func(context.Context, int, error) error { return nil }))
		}, "Generate: option OnError does not apply"},
		{"Concurrency on From", func() { pipeline.From(ctx, slices.Values(ints(1)), pipeline.Concurrency(2)) }, "From: option Concurrency"},
		{"Concurrency on FromChan", func() { pipeline.FromChan(ctx, make(chan int), pipeline.Concurrency(2)) }, "FromChan: option Concurrency"},
		{"Concurrency on Batch", func() { pipeline.Batch(pipeline.FromSlice(ctx, ints(1)), 1, 0, pipeline.Concurrency(2)) }, "Batch: option Concurrency"},
		{"Batch size", func() { pipeline.Batch(pipeline.FromSlice(ctx, ints(1)), 0, 0) }, "Batch(size 0)"},
		{"Batch wait", func() { pipeline.Batch(pipeline.FromSlice(ctx, ints(1)), 1, -1) }, "Batch(maxWait -1ns)"},
		{"nil ctx", func() {
			//lint:ignore SA1012 the nil context is the misuse under test
			pipeline.FromSlice(nil, ints(1))
		}, "nil context"},
		{"nil seq", func() { pipeline.From[int](ctx, nil) }, "nil sequence"},
		{"nil chan", func() { pipeline.FromChan[int](ctx, nil) }, "nil channel"},
		{"nil gen", func() { pipeline.Generate[int](ctx, nil) }, "nil function"},
		{"nil map", func() { pipeline.Map[int, int](pipeline.FromSlice(ctx, ints(1)), nil) }, "nil function"},
		{"nil filter", func() { pipeline.Filter(pipeline.FromSlice(ctx, ints(1)), nil) }, "nil function"},
		{"nil flatmap", func() { pipeline.FlatMap[int, int](pipeline.FromSlice(ctx, ints(1)), nil) }, "nil function"},
		{"nil tap", func() { pipeline.Tap(pipeline.FromSlice(ctx, ints(1)), nil) }, "nil function"},
		{"nil foreach", func() { pipeline.ForEach(pipeline.FromSlice(ctx, ints(1)), nil) }, "nil function"},
		{"nil reduce", func() { pipeline.Reduce[int, int](pipeline.FromSlice(ctx, ints(1)), 0, nil) }, "nil function"},
		{"nil stream", func() { pipeline.Collect[int](nil) }, "nil Stream"},
		{"Err before Chan", func() { pipeline.FromSlice(ctx, ints(1)).Err() }, "before Chan"},
		{"handler type", func() {
			pipeline.Map(pipeline.FromSlice(ctx, ints(1)), inc, pipeline.OnError(func(context.Context, string, error) error { return nil }))
		}, "does not match"},
		{"consumed twice", func() {
			s := pipeline.FromSlice(ctx, ints(1))
			pipeline.Map(s, inc)
			pipeline.Map(s, inc)
		}, "consumed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if msg := fmt.Sprint(r); r == nil || !strings.HasPrefix(msg, "pipeline: ") || !strings.Contains(msg, tt.want) {
					t.Fatalf("panic %v, want one containing %q", r, tt.want)
				}
			}()
			tt.f()
		})
	}
}

func TestAllBreakStopsPipeline(t *testing.T) {
	var calls atomic.Int64
	s := pipeline.Map(pipeline.From(context.Background(), func(yield func(int) bool) {
		for i := 0; ; i++ {
			if !yield(i) {
				return
			}
		}
	}), func(_ context.Context, v int) (int, error) {
		calls.Add(1)
		return v, nil
	}, pipeline.Concurrency(3))
	for v, err := range pipeline.All(s) {
		if err != nil {
			t.Fatal(err)
		}
		if v == 1000 {
			break
		}
	}
	// No pipeline goroutine is left, so no stage function runs after the
	// loop.
	noLeftover(t)
}

// endlessStream is a pipeline with a worker stage that never ends on its
// own.
func endlessStream() *pipeline.Stream[int] {
	src := pipeline.From(context.Background(), func(yield func(int) bool) {
		for i := 0; yield(i); i++ {
		}
	})
	return pipeline.Map(src, func(_ context.Context, v int) (int, error) { return v, nil }, pipeline.Concurrency(2))
}

// A panic in the body of a range over All reaches the loop unchanged: a
// range-over-func iterator must not swallow or replace it. The pipeline is
// stopped and joined on the way.
func TestAllBodyPanicPassesThrough(t *testing.T) {
	var got any
	func() {
		defer func() { got = recover() }()
		for v, err := range pipeline.All(endlessStream()) {
			if err != nil {
				t.Fatal(err)
			}
			if v == 100 {
				panic("boom")
			}
		}
	}()
	if got != "boom" {
		t.Fatalf("recovered %T %v, want the loop body's panic \"boom\"", got, got)
	}
	noLeftover(t)
}

// runtime.Goexit in a sink's function (t.FailNow in a test helper) stops
// and joins the pipeline before the goroutine exits.
func TestGoexitInSinkJoinsPipeline(t *testing.T) {
	sinks := map[string]func(*pipeline.Stream[int]){
		"all": func(s *pipeline.Stream[int]) {
			for v := range pipeline.All(s) {
				if v == 100 {
					runtime.Goexit()
				}
			}
		},
		"reduce": func(s *pipeline.Stream[int]) {
			pipeline.Reduce(s, 0, func(acc, v int) (int, error) {
				if v == 100 {
					runtime.Goexit()
				}
				return acc + v, nil
			})
		},
	}
	for name, sink := range sinks {
		t.Run(name, func(t *testing.T) {
			exited := make(chan struct{})
			go func() {
				defer close(exited)
				sink(endlessStream())
			}()
			<-exited
			noLeftover(t)
		})
	}
}

func TestAllYieldsErrorLast(t *testing.T) {
	boom := errors.New("boom")
	s := pipeline.Map(pipeline.FromSlice(context.Background(), ints(10)), func(_ context.Context, v int) (int, error) {
		if v == 5 {
			return 0, boom
		}
		return v, nil
	})
	seq := pipeline.All(s)
	var errs []error
	for _, err := range seq {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) != 1 || !errors.Is(errs[0], boom) {
		t.Fatalf("errors yielded: %v, want one wrapping boom", errs)
	}
	for _, err := range seq {
		if err == nil || !strings.Contains(err.Error(), "twice") {
			t.Fatalf("second range yielded %v, want an error", err)
		}
	}
}

// A consumer of Chan that stops reading cancels the context; the pipeline
// stops and Err reports the cause.
func TestChanCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := pipeline.FromSlice(ctx, ints(10000))
	ch := s.Chan()
	<-ch
	cancel()
	if err := s.Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Err = %v, want context.Canceled", err)
	}
	for range ch {
	}
}

// A stream that is built and never consumed starts nothing.
func TestUnconsumedStreamStartsNothing(t *testing.T) {
	_ = pipeline.Map(pipeline.FromSlice(context.Background(), ints(10)), inc, pipeline.Concurrency(4))
	noLeftover(t)
}

func TestWorkersBoundConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var running, peak atomic.Int32
		slow := func(_ context.Context, v int) (int, error) {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			running.Add(-1)
			return v, nil
		}
		start := time.Now()
		got, err := pipeline.Collect(pipeline.Map(pipeline.FromSlice(context.Background(), ints(64)), slow, pipeline.Concurrency(8)))
		if err != nil || len(got) != 64 {
			t.Fatal(len(got), err)
		}
		if p := peak.Load(); p != 8 {
			t.Fatalf("peak concurrency %d, want 8", p)
		}
		// 64 slow items over 8 workers: a chunk of slow items must be spread.
		if d := time.Since(start); d > 16*time.Millisecond {
			t.Fatalf("64 items of 1ms on 8 workers took %v, want at most 16ms", d)
		}
	})
}

// MapUnordered with several workers hands on every finished result while
// the source is quiet: a source that sends a burst and then waits for its
// results (request and response over FromChan) is never left waiting for a
// result a worker holds. A worker that kept its output because it saw input
// queued, which another worker then took, must not wait on with it.
func TestMapUnorderedDeliversWhileSourceIsQuiet(t *testing.T) {
	const workers = 4
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := make(chan int, 16)
	out := pipeline.MapUnordered(pipeline.FromChan(ctx, ch, pipeline.Chunk(1)), func(_ context.Context, v int) (int, error) {
		time.Sleep(100 * time.Microsecond)
		return v, nil
	}, pipeline.Concurrency(workers))
	results := out.Chan()
	defer func() {
		cancel()
		for range results {
		}
	}()
	for burst := range 300 {
		for i := range workers + 1 {
			ch <- burst*(workers+1) + i
		}
		timeout := time.After(5 * time.Second)
		for got := 0; got < workers+1; got++ {
			select {
			case <-results:
			case <-timeout:
				t.Fatalf("burst %d: %d of %d results delivered while the source waits for them", burst, got, workers+1)
			}
		}
	}
}

// A panic in a stage function is reported even when the caller cancelled
// the pipeline first: a bug does not hide behind the cancellation.
func TestPanicAfterCancelIsReported(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := pipeline.Map(pipeline.FromSlice(ctx, ints(10)), func(_ context.Context, v int) (int, error) {
		if v == 5 {
			cancel()
			panic("bug")
		}
		return v, nil
	})
	_, err := pipeline.Collect(s)
	var pe *weft.PanicError
	if !errors.As(err, &pe) || pe.Value != "bug" {
		t.Fatalf("Collect = %v, want the stage's panic", err)
	}
}
