package otel_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"pgregory.net/rapid"

	weftotel "github.com/weftgo/weft/otel"
	"github.com/weftgo/weft/pipeline"
)

// A scripted run: each call of parse takes 1s, the third fails and is set
// aside by OnError; keep drops the first item and is instant; the sink takes
// 3s per item and there is no buffer, so keep's second item, ready at 4s,
// waits 1s for it. The sink, with no hook, records nothing.
func TestStageMetricsOfAScriptedRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tel := newTelemetry()
		in := pipeline.FromSlice(t.Context(), []int{1, 2, 3, 4})
		out := pipeline.Map(in, func(_ context.Context, v int) (int, error) {
			time.Sleep(time.Second)
			if v == 3 {
				return 0, errors.New("bad row")
			}
			return v * 10, nil
		}, append(weftotel.Stage("parse", tel.opts...), pipeline.Buffer(0), pipeline.Chunk(1),
			pipeline.OnError(func(context.Context, int, error) error { return nil }))...)
		kept := pipeline.Filter(out, func(_ context.Context, v int) (bool, error) { return v > 10, nil },
			append(weftotel.Stage("keep", tel.opts...), pipeline.Buffer(0))...)
		err := pipeline.ForEach(kept, func(context.Context, int) error {
			time.Sleep(3 * time.Second)
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, []string{
			"weft.pipeline.blocked.duration histogram s {weft.pipeline.stage=keep} count=1 sum=1",
			"weft.pipeline.errors counter {error} {weft.pipeline.stage=parse} 1",
			"weft.pipeline.item.duration histogram s {outcome=error,weft.pipeline.stage=parse} count=1 sum=1",
			"weft.pipeline.item.duration histogram s {outcome=ok,weft.pipeline.stage=keep} count=3 sum=0",
			"weft.pipeline.item.duration histogram s {outcome=ok,weft.pipeline.stage=parse} count=3 sum=3",
			"weft.pipeline.items.out counter {item} {weft.pipeline.stage=keep} 2",
			"weft.pipeline.items.out counter {item} {weft.pipeline.stage=parse} 3",
		}, tel.metrics(t))
		assert.Empty(t, tel.spans(), "a stage makes no spans")
	})
}

// For any number of items, failures and workers, the exported counts agree
// with the stage function's calls and failures and with the items the next
// stage received.
func TestPropertyStageMetricsAgreeWithTheItems(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(0, 200).Draw(rt, "items")
		failEvery := rapid.IntRange(0, 5).Draw(rt, "fail every")
		workers := rapid.IntRange(1, 4).Draw(rt, "workers")
		tel := newTelemetry()
		calls, failed := 0, 0
		items := make([]int, n)
		for i := range items {
			items[i] = i
			calls++
			if failEvery > 0 && i%failEvery == 0 {
				failed++
			}
		}
		out := pipeline.FlatMap(pipeline.FromSlice(context.Background(), items), func(_ context.Context, v int, emit func(int) error) error {
			if failEvery > 0 && v%failEvery == 0 {
				return errors.New("x")
			}
			for range v % 3 {
				if err := emit(v); err != nil {
					return err
				}
			}
			return nil
		}, append(weftotel.Stage("s", tel.opts...), pipeline.Concurrency(workers),
			pipeline.OnError(func(context.Context, int, error) error { return nil }))...)
		got, err := pipeline.Collect(out)
		require.NoError(rt, err)
		var wantLines []string
		if failed > 0 {
			wantLines = append(wantLines,
				fmt.Sprintf("weft.pipeline.errors counter {error} {weft.pipeline.stage=s} %d", failed),
				fmt.Sprintf("weft.pipeline.item.duration {outcome=error,weft.pipeline.stage=s} count=%d", failed))
		}
		if calls > failed {
			wantLines = append(wantLines, fmt.Sprintf("weft.pipeline.item.duration {outcome=ok,weft.pipeline.stage=s} count=%d", calls-failed))
		}
		if len(got) > 0 {
			wantLines = append(wantLines, fmt.Sprintf("weft.pipeline.items.out counter {item} {weft.pipeline.stage=s} %d", len(got)))
		}
		var gotLines []string
		for _, l := range tel.metrics(rt) {
			var name, kind, unit, attrs, rest string
			_, _ = fmt.Sscan(l, &name, &kind, &unit, &attrs, &rest)
			switch name {
			case "weft.pipeline.item.duration":
				gotLines = append(gotLines, name+" "+attrs+" "+rest)
			case "weft.pipeline.errors", "weft.pipeline.items.out":
				gotLines = append(gotLines, l)
			}
		}
		assert.ElementsMatch(rt, wantLines, gotLines)
	})
}

func ExampleStage() {
	reader := sdkmetric.NewManualReader()
	mp := weftotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))

	rows := pipeline.FromSlice(context.Background(), []string{"1", "x", "3"})
	nums := pipeline.Map(rows, func(_ context.Context, s string) (int, error) { return strconv.Atoi(s) },
		append(weftotel.Stage("parse", mp), pipeline.OnError(func(context.Context, string, error) error { return nil }))...)
	sum, err := pipeline.Reduce(nums, 0, func(acc, v int) (int, error) { return acc + v, nil })
	fmt.Println(sum, err)

	printSums(reader)
	// Output:
	// 4 <nil>
	// weft.pipeline.item.duration {outcome=error,weft.pipeline.stage=parse} count 1
	// weft.pipeline.item.duration {outcome=ok,weft.pipeline.stage=parse} count 2
	// weft.pipeline.items.out {weft.pipeline.stage=parse} 2
	// weft.pipeline.errors {weft.pipeline.stage=parse} 1
}
