package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weftgo/weft/pipeline"
)

// read → parse with 4 workers → drop bad rows → batch → write, in a few
// lines, with the order kept and every goroutine joined when ForEach returns.
func Example() {
	ctx := context.Background()
	lines := []string{"1", "2", "x", "3", "4", "5", "6", "7"}

	rows := pipeline.FromSlice(ctx, lines)
	nums := pipeline.Map(rows, func(_ context.Context, s string) (int, error) {
		n, err := strconv.Atoi(s)
		if err != nil {
			return -1, nil // a bad row: dropped by the next stage
		}
		return n, nil
	}, pipeline.Concurrency(4), pipeline.Name("parse"))
	good := pipeline.Filter(nums, func(_ context.Context, n int) (bool, error) { return n >= 0, nil })
	batches := pipeline.Batch(good, 3, time.Second)

	err := pipeline.ForEach(batches, func(_ context.Context, b []int) error {
		fmt.Println("write", b)
		return nil
	})
	fmt.Println("err:", err)
	// Output:
	// write [1 2 3]
	// write [4 5 6]
	// write [7]
	// err: <nil>
}

// The first error fails the pipeline, names the stage and stops every
// stage.
func ExampleStageError() {
	ctx := context.Background()
	s := pipeline.Map(pipeline.FromSlice(ctx, []string{"1", "two", "3"}), func(_ context.Context, s string) (int, error) {
		return strconv.Atoi(s)
	}, pipeline.Name("parse"))
	_, err := pipeline.Collect(s)
	fmt.Println(err)
	var se *pipeline.StageError
	if errors.As(err, &se) {
		fmt.Println("failed stage:", se.Stage)
	}
	// Output:
	// pipeline: stage "parse": strconv.Atoi: parsing "two": invalid syntax
	// failed stage: parse
}

// OnError sends failed items to a dead-letter handler and goes on.
func ExampleOnError() {
	ctx := context.Background()
	var dead []string
	s := pipeline.Map(pipeline.FromSlice(ctx, []string{"1", "two", "3"}), func(_ context.Context, s string) (int, error) {
		return strconv.Atoi(s)
	}, pipeline.OnError(func(_ context.Context, item string, err error) error {
		dead = append(dead, item) // or hand it to a retry.DeadLetter sink
		return nil
	}))
	got, err := pipeline.Collect(s)
	fmt.Println(got, err, "dead:", dead)
	// Output: [1 3] <nil> dead: [two]
}

func ExampleFrom() {
	ctx := context.Background()
	words := pipeline.From(ctx, slices.Values(strings.Fields("the quick brown fox")))
	upper := pipeline.Map(words, func(_ context.Context, w string) (string, error) { return strings.ToUpper(w), nil })
	got, _ := pipeline.Collect(upper)
	fmt.Println(got)
	// Output: [THE QUICK BROWN FOX]
}

// Generate turns a producer that may fail into a source; its error fails the
// pipeline.
func ExampleGenerate() {
	ctx := context.Background()
	pages := pipeline.Generate(ctx, func(ctx context.Context, emit func(int) error) error {
		for page := 1; page <= 3; page++ {
			if err := emit(page); err != nil {
				return err // the pipeline stopped
			}
		}
		return nil
	})
	sum, err := pipeline.Reduce(pages, 0, func(acc, p int) (int, error) { return acc + p, nil })
	fmt.Println(sum, err)
	// Output: 6 <nil>
}

func ExampleFromChan() {
	ch := make(chan int, 3)
	ch <- 1
	ch <- 2
	ch <- 3
	close(ch)
	double := func(_ context.Context, n int) (int, error) { return 2 * n, nil }
	got, _ := pipeline.Collect(pipeline.Map(pipeline.FromChan(context.Background(), ch), double))
	fmt.Println(got)
	// Output: [2 4 6]
}

func ExampleMapUnordered() {
	ctx := context.Background()
	double := func(_ context.Context, n int) (int, error) { return 2 * n, nil }
	// Results come out as workers finish; sort them to print them.
	got, _ := pipeline.Collect(pipeline.MapUnordered(pipeline.FromSlice(ctx, []int{1, 2, 3, 4}), double, pipeline.Concurrency(2)))
	slices.Sort(got)
	fmt.Println(got)
	// Output: [2 4 6 8]
}

func ExampleFlatMap() {
	ctx := context.Background()
	lines := pipeline.FromSlice(ctx, []string{"a b", "c"})
	words := pipeline.FlatMap(lines, func(_ context.Context, line string, emit func(string) error) error {
		for _, w := range strings.Fields(line) {
			if err := emit(w); err != nil {
				return err
			}
		}
		return nil
	})
	got, _ := pipeline.Collect(words)
	fmt.Println(got)
	// Output: [a b c]
}

func ExampleTap() {
	ctx := context.Background()
	count := 0
	s := pipeline.Tap(pipeline.FromSlice(ctx, []int{1, 2, 3}), func(context.Context, int) { count++ })
	got, _ := pipeline.Collect(s)
	fmt.Println(got, "seen:", count)
	// Output: [1 2 3] seen: 3
}

// Breaking out of the loop stops the pipeline and joins its goroutines.
func ExampleAll() {
	ctx := context.Background()
	naturals := pipeline.From(ctx, func(yield func(int) bool) {
		for i := 1; ; i++ {
			if !yield(i) {
				return
			}
		}
	})
	squares := pipeline.Map(naturals, func(_ context.Context, n int) (int, error) { return n * n, nil })
	for sq, err := range pipeline.All(squares) {
		if err != nil {
			fmt.Println(err)
			return
		}
		if sq > 20 {
			break
		}
		fmt.Println(sq)
	}
	// Output:
	// 1
	// 4
	// 9
	// 16
}

// Chan hands a pipeline's output to channel code; Err tells how it ended.
func ExampleStream_Chan() {
	inc := func(_ context.Context, n int) (int, error) { return n + 1, nil }
	s := pipeline.Map(pipeline.FromSlice(context.Background(), []int{1, 2, 3}), inc)
	for v := range s.Chan() {
		fmt.Println(v)
	}
	fmt.Println("err:", s.Err())
	// Output:
	// 2
	// 3
	// 4
	// err: <nil>
}

func ExampleForEach() {
	ctx := context.Background()
	err := pipeline.ForEach(pipeline.FromSlice(ctx, []string{"a", "b"}), func(_ context.Context, s string) error {
		fmt.Println("store", s)
		return nil
	})
	fmt.Println(err)
	// Output:
	// store a
	// store b
	// <nil>
}

func ExampleBatch() {
	ctx := context.Background()
	batches, _ := pipeline.Collect(pipeline.Batch(pipeline.FromSlice(ctx, []int{1, 2, 3, 4, 5}), 2, time.Second))
	fmt.Println(batches)
	// Output: [[1 2] [3 4] [5]]
}

// Collect runs the pipeline and returns its items in order; on failure it
// returns the first error, here a stage's, wrapped with the stage's name.
func ExampleCollect() {
	ctx := context.Background()
	squares, err := pipeline.Collect(pipeline.Map(pipeline.FromSlice(ctx, []int{1, 2, 3}),
		func(_ context.Context, n int) (int, error) { return n * n, nil }))
	fmt.Println(squares, err)

	_, err = pipeline.Collect(pipeline.Map(pipeline.FromSlice(ctx, []string{"1", "x"}),
		func(_ context.Context, s string) (int, error) { return strconv.Atoi(s) },
		pipeline.Name("parse")))
	fmt.Println(err)
	// Output:
	// [1 4 9] <nil>
	// pipeline: stage "parse": strconv.Atoi: parsing "x": invalid syntax
}

// Reduce folds the items into one value on the caller's goroutine, in
// order, without keeping them.
func ExampleReduce() {
	ctx := context.Background()
	words := pipeline.FromSlice(ctx, strings.Fields("to be or not to be"))
	counts, err := pipeline.Reduce(words, map[string]int{}, func(acc map[string]int, w string) (map[string]int, error) {
		acc[w]++
		return acc, nil
	})
	fmt.Println(counts, err)
	// Output: map[be:2 not:1 or:1 to:2] <nil>
}
