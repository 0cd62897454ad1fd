package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/weftgo/weft/pipeline"
)

// Concurrency(3) runs three calls of the stage's function at once: here each
// call waits until all three have started, which one worker could never
// reach. The results still come out in input order.
func ExampleConcurrency() {
	ctx := context.Background()
	var started sync.WaitGroup
	started.Add(3)
	squares := pipeline.Map(pipeline.FromSlice(ctx, []int{1, 2, 3}), func(_ context.Context, n int) (int, error) {
		started.Done()
		started.Wait() // returns once three calls are running
		return n * n, nil
	}, pipeline.Concurrency(3))
	got, err := pipeline.Collect(squares)
	fmt.Println(got, err)
	// Output: [1 4 9] <nil>
}

// Buffer(0), with chunks of one item, keeps a fast producer in step with a
// slow consumer: it makes the next frame, then waits in emit until the
// encoder takes it, so it is never more than that one frame ahead.
func ExampleBuffer() {
	ctx := context.Background()
	var made atomic.Int64
	frames := pipeline.Generate(ctx, func(ctx context.Context, emit func(int) error) error {
		for i := 1; i <= 5; i++ {
			made.Add(1)
			if err := emit(i); err != nil {
				return err
			}
		}
		return nil
	}, pipeline.Buffer(0), pipeline.Chunk(1))

	ahead := int64(0)
	err := pipeline.ForEach(frames, func(_ context.Context, frame int) error {
		ahead = max(ahead, made.Load()-int64(frame)) // the encoding of frame
		return nil
	})
	fmt.Println("producer at most one frame ahead:", ahead <= 1, err)
	// Output: producer at most one frame ahead: true <nil>
}

// Chunk(256) lets a source of many cheap items hand them on 256 at a time
// while its consumer is busy; an item never waits for a chunk to fill.
func ExampleChunk() {
	ctx := context.Background()
	nums := make([]int, 1000)
	for i := range nums {
		nums[i] = i + 1
	}
	sum, err := pipeline.Reduce(pipeline.FromSlice(ctx, nums, pipeline.Chunk(256)), 0,
		func(acc, n int) (int, error) { return acc + n, nil })
	fmt.Println(sum, err)
	// Output: 500500 <nil>
}

// A stage without Name is named after its kind and position in errors.
func ExampleName() {
	ctx := context.Background()
	parse := func(_ context.Context, s string) (int, error) { return strconv.Atoi(s) }

	_, err := pipeline.Collect(pipeline.Map(pipeline.FromSlice(ctx, []string{"x"}), parse))
	fmt.Println(err)
	_, err = pipeline.Collect(pipeline.Map(pipeline.FromSlice(ctx, []string{"x"}), parse, pipeline.Name("parse")))
	fmt.Println(err)
	// Output:
	// pipeline: stage "map#2": strconv.Atoi: parsing "x": invalid syntax
	// pipeline: stage "parse": strconv.Atoi: parsing "x": invalid syntax
}

// Options are values: a set can be kept and shared, and an option given
// later overrides one of the same kind given earlier.
func ExampleOption() {
	ctx := context.Background()
	common := []pipeline.Option{pipeline.Concurrency(2), pipeline.Name("stage")}
	fail := func(context.Context, int) (int, error) { return 0, errors.New("boom") }

	s := pipeline.Map(pipeline.FromSlice(ctx, []int{1}), fail, append(common, pipeline.Name("resize"))...)
	_, err := pipeline.Collect(s)
	fmt.Println(err)
	// Output: pipeline: stage "resize": boom
}

// Building a pipeline starts nothing: the source's function first runs
// when the sink does.
func ExampleStream() {
	ctx := context.Background()
	s := pipeline.Generate(ctx, func(ctx context.Context, emit func(string) error) error {
		fmt.Println("source runs")
		return emit("item")
	})
	fmt.Println("built")
	got, err := pipeline.Collect(s)
	fmt.Println(got, err)
	// Output:
	// built
	// source runs
	// [item] <nil>
}

// Err tells, once the channel is closed, why it closed: here a stage failed.
func ExampleStream_Err() {
	ctx := context.Background()
	s := pipeline.Map(pipeline.FromSlice(ctx, []string{"1", "2", "x"}), func(_ context.Context, s string) (int, error) {
		return strconv.Atoi(s)
	}, pipeline.Name("parse"))
	for range s.Chan() {
		// use the items
	}
	fmt.Println(s.Err())
	// Output: pipeline: stage "parse": strconv.Atoi: parsing "x": invalid syntax
}

// OnEvent reports each call of a stage's function and each wait for the
// consumer: here it counts the items in and out of a stage and its errors,
// as a metrics exporter would, while OnError sets the failed items aside.
func ExampleOnEvent() {
	ctx := context.Background()
	var in, out, failed atomic.Int64
	nums := pipeline.Map(pipeline.FromSlice(ctx, []string{"1", "x", "3"}),
		func(_ context.Context, s string) (int, error) { return strconv.Atoi(s) },
		pipeline.Name("parse"),
		pipeline.OnEvent(func(e pipeline.Event) {
			if e.Wait {
				return // a histogram of e.Took would show a slow consumer
			}
			in.Add(1)
			out.Add(int64(e.Out))
			if e.Err != nil {
				failed.Add(1)
			}
		}),
		pipeline.OnError(func(context.Context, string, error) error { return nil }))
	got, err := pipeline.Collect(nums)
	fmt.Println(got, err)
	fmt.Printf("parse: in=%d out=%d errors=%d\n", in.Load(), out.Load(), failed.Load())
	// Output:
	// [1 3] <nil>
	// parse: in=3 out=2 errors=1
}
