package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/pipeline"
)

// eventLog records the events of OnEvent hooks, from any goroutine.
type eventLog struct {
	mu     sync.Mutex
	events []pipeline.Event
}

func (l *eventLog) hook(e pipeline.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) get() []pipeline.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// A scripted run: each call of the function takes 1s, the consumer 1.5s per
// item, and there is no buffer, so the second item waits 0.5s for the
// consumer; the third fails and goes to OnError. The hook sees each call,
// with its exact time and what it handed on, and the wait.
func TestOnEventSeesEveryCallAndWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log eventLog
		boom := errors.New("boom")
		in := pipeline.FromSlice(t.Context(), []int{1, 2, 3, 4})
		out := pipeline.Map(in, func(_ context.Context, v int) (int, error) {
			time.Sleep(time.Second)
			if v == 3 {
				return 0, boom
			}
			return v * 10, nil
		}, pipeline.Name("parse"), pipeline.Buffer(0), pipeline.Chunk(1), pipeline.OnEvent(log.hook),
			pipeline.OnError(func(context.Context, int, error) error { return nil }))
		var got []int
		err := pipeline.ForEach(out, func(_ context.Context, v int) error {
			time.Sleep(1500 * time.Millisecond)
			got = append(got, v)
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, []int{10, 20, 40}, got)
		assert.Equal(t, []pipeline.Event{
			{Stage: "parse", Took: time.Second, Out: 1},
			{Stage: "parse", Took: time.Second, Out: 1},
			{Stage: "parse", Wait: true, Took: 500 * time.Millisecond},
			{Stage: "parse", Took: time.Second, Err: boom},
			{Stage: "parse", Took: time.Second, Out: 1},
		}, log.get())
	})
}

// FlatMap's events count what each call emitted, and a call's time leaves
// out its waits for the consumer, which are reported after it. ForEach's
// events hand on nothing, and a stage without a Name is named by its kind
// and position.
func TestOnEventFlatMapWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log eventLog
		in := pipeline.FromSlice(t.Context(), []int{0, 1, 2})
		fm := pipeline.FlatMap(in, func(_ context.Context, v int, emit func(int) error) error {
			for i := range v {
				time.Sleep(time.Second)
				if err := emit(v*10 + i); err != nil {
					return err
				}
			}
			return nil
		}, pipeline.Buffer(0), pipeline.Chunk(1), pipeline.OnEvent(log.hook))
		err := pipeline.ForEach(fm, func(context.Context, int) error {
			time.Sleep(3 * time.Second)
			return nil
		}, pipeline.Name("sink"), pipeline.OnEvent(log.hook))
		require.NoError(t, err)
		byStage := map[string][]pipeline.Event{}
		for _, e := range log.get() {
			byStage[e.Stage] = append(byStage[e.Stage], e)
		}
		// 10 goes out at 1s to an idle sink, busy until 4s; 20, ready at
		// 2s, waits until then; 21, ready at 5s, until 7s.
		assert.Equal(t, []pipeline.Event{
			{Stage: "flatmap#2", Out: 0},
			{Stage: "flatmap#2", Took: time.Second, Out: 1},
			{Stage: "flatmap#2", Took: 2 * time.Second, Out: 2},
			{Stage: "flatmap#2", Wait: true, Took: 2 * time.Second},
			{Stage: "flatmap#2", Wait: true, Took: 2 * time.Second},
		}, byStage["flatmap#2"])
		assert.Equal(t, []pipeline.Event{
			{Stage: "sink", Took: 3 * time.Second}, {Stage: "sink", Took: 3 * time.Second}, {Stage: "sink", Took: 3 * time.Second},
		}, byStage["sink"])
	})
}

// Filter's events count the items it kept, Tap's every item.
func TestOnEventFilterAndTap(t *testing.T) {
	var log eventLog
	in := pipeline.FromSlice(t.Context(), []int{1, 2, 3})
	kept := pipeline.Filter(in, func(_ context.Context, v int) (bool, error) { return v != 2, nil },
		pipeline.Name("filter"), pipeline.OnEvent(log.hook))
	tapped := pipeline.Tap(kept, func(context.Context, int) {}, pipeline.Name("tap"), pipeline.OnEvent(log.hook))
	got, err := pipeline.Collect(tapped)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 3}, got)
	var outs []string
	for _, e := range withoutWaits(log.get()) {
		outs = append(outs, fmt.Sprintf("%s:%d", e.Stage, e.Out))
	}
	slices.Sort(outs)
	assert.Equal(t, []string{"filter:0", "filter:1", "filter:1", "tap:1", "tap:1"}, outs)
}

// withoutWaits returns the call events of events.
func withoutWaits(events []pipeline.Event) []pipeline.Event {
	return slices.DeleteFunc(slices.Clone(events), func(e pipeline.Event) bool { return e.Wait })
}

// A panic in the hook fails the pipeline as a panic in the stage's function
// would, naming the stage.
func TestOnEventPanicFailsThePipeline(t *testing.T) {
	in := pipeline.FromSlice(t.Context(), ints(100))
	out := pipeline.Map(in, inc, pipeline.Name("parse"), pipeline.OnEvent(func(e pipeline.Event) {
		if e.Out == 1 {
			panic("hook bug")
		}
	}))
	_, err := pipeline.Collect(out)
	var se *pipeline.StageError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "parse", se.Stage)
	var pe *weft.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "hook bug", pe.Value)
}

// A stage function's error is in its event, and fails the pipeline as
// without a hook.
func TestOnEventSeesTheErrorThatFailsThePipeline(t *testing.T) {
	var log eventLog
	boom := errors.New("boom")
	in := pipeline.FromSlice(t.Context(), []int{1, 2, 3})
	out := pipeline.Map(in, func(_ context.Context, v int) (int, error) {
		if v == 2 {
			return 0, boom
		}
		return v, nil
	}, pipeline.OnEvent(log.hook))
	_, err := pipeline.Collect(out)
	require.ErrorIs(t, err, boom)
	calls := withoutWaits(log.get())
	require.Len(t, calls, 2)
	assert.Equal(t, 1, calls[0].Out)
	assert.Equal(t, boom, calls[1].Err)
}

func TestOnEventMisuse(t *testing.T) {
	assert.PanicsWithValue(t, "pipeline: OnEvent(nil)", func() { pipeline.OnEvent(nil) })
	assert.PanicsWithValue(t, "pipeline: FromSlice: option OnEvent does not apply: it has no per-item function", func() {
		pipeline.FromSlice(t.Context(), ints(1), pipeline.OnEvent(func(pipeline.Event) {}))
	})
}

// For any stage kind, workers, buffer, chunk size and failures (turned
// aside by OnError or not), the hook sees one call event per call of the
// function, the failed ones with their error, also a call that failed only
// because the pipeline stopped; on success the items its
// events handed on are the items the next stage received; every duration is
// non-negative.
func TestPropertyOnEventAgreesWithTheItems(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		in := ints(rapid.IntRange(0, 300).Draw(t, "items"))
		opts, _, _ := stageOpts(t, "stage")
		failEvery := rapid.IntRange(0, 7).Draw(t, "fail every")
		handled := rapid.Bool().Draw(t, "OnError")
		var log eventLog
		opts = append(opts, pipeline.OnEvent(log.hook), pipeline.Name("s"))
		if handled {
			opts = append(opts, pipeline.OnError(func(context.Context, int, error) error { return nil }))
		}
		var calls, failed atomic.Int64
		fails := func(v int) bool { return failEvery > 0 && v%failEvery == failEvery-1 }
		boom := errors.New("boom")
		src := source(t, t.Context(), in)
		var out *pipeline.Stream[int]
		switch kind := rapid.IntRange(0, 4).Draw(t, "kind"); kind {
		case 0, 1:
			f := func(_ context.Context, v int) (int, error) {
				calls.Add(1)
				if fails(v) {
					failed.Add(1)
					return 0, boom
				}
				return v, nil
			}
			if kind == 0 {
				out = pipeline.Map(src, f, opts...)
			} else {
				out = pipeline.MapUnordered(src, f, opts...)
			}
		case 2:
			out = pipeline.Filter(src, func(_ context.Context, v int) (bool, error) {
				calls.Add(1)
				if fails(v) {
					failed.Add(1)
					return false, boom
				}
				return v%3 != 0, nil
			}, opts...)
		case 3:
			out = pipeline.FlatMap(src, func(_ context.Context, v int, emit func(int) error) error {
				calls.Add(1)
				if fails(v) {
					failed.Add(1)
					return boom
				}
				for i := range v % 3 {
					if err := emit(i); err != nil {
						// The pipeline stopped after another call failed:
						// this call fails too, with emit's error.
						failed.Add(1)
						return err
					}
				}
				return nil
			}, opts...)
		default:
			var got atomic.Int64
			err := pipeline.ForEach(src, func(_ context.Context, v int) error {
				calls.Add(1)
				if fails(v) {
					failed.Add(1)
					return boom
				}
				got.Add(1)
				return nil
			}, opts...)
			checkEvents(t, log.get(), calls.Load(), failed.Load(), err, -1)
			return
		}
		got, err := pipeline.Collect(out)
		checkEvents(t, log.get(), calls.Load(), failed.Load(), err, len(got))
	})
}

// checkEvents checks events against the calls and failures of a stage's
// function and, when the pipeline succeeded and received is not -1, the
// items the next stage received.
func checkEvents(t *rapid.T, events []pipeline.Event, calls, failed int64, err error, received int) {
	var n, nerr, out int64
	for _, e := range events {
		if e.Took < 0 || e.Stage != "s" {
			t.Fatalf("event %+v: negative time or wrong stage", e)
		}
		if e.Wait {
			if e.Out != 0 || e.Err != nil {
				t.Fatalf("wait event %+v has items or an error", e)
			}
			continue
		}
		n++
		out += int64(e.Out)
		if e.Err != nil {
			nerr++
		}
	}
	if n != calls || nerr != failed {
		t.Fatalf("%d call events, %d with an error; want %d calls, %d failed", n, nerr, calls, failed)
	}
	if err == nil && received >= 0 && out != int64(received) {
		t.Fatalf("events handed on %d items, the next stage received %d", out, received)
	}
}
