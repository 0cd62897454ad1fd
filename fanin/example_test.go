package fanin_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/weftgo/weft/fanin"
	"github.com/weftgo/weft/pipeline"
)

// source returns a channel that yields vs and closes, as a producer would.
func source[T any](vs ...T) <-chan T {
	ch := make(chan T)
	go func() {
		defer close(ch)
		for _, v := range vs {
			ch <- v
		}
	}()
	return ch
}

// Two log streams read as one. Each stream's lines keep their order; how the
// streams interleave depends on when lines arrive.
func ExampleMerge() {
	ctx := context.Background()
	web := source("web: GET /", "web: GET /cart", "web: POST /checkout")
	jobs := source("jobs: nightly report", "jobs: cache warm-up")

	var fromWeb, fromJobs []string
	for line := range fanin.Merge(ctx, web, jobs) { // ends when both close
		if strings.HasPrefix(line, "web") {
			fromWeb = append(fromWeb, line)
		} else {
			fromJobs = append(fromJobs, line)
		}
	}
	fmt.Println(fromWeb)
	fmt.Println(fromJobs)
	// Output:
	// [web: GET / web: GET /cart web: POST /checkout]
	// [jobs: nightly report jobs: cache warm-up]
}

// A Merger takes inputs while it runs: here one channel per partition,
// added as partitions are assigned. The consumer ranges over the output from
// the start; it ends once Close is called and every partition is drained.
func ExampleMerger() {
	ctx := context.Background()
	m := fanin.NewMerger[int](ctx)

	go func() {
		for p := range 3 {
			offsets := source(p*100, p*100+1, p*100+2)
			if err := m.Add(offsets); err != nil {
				fmt.Println(err)
			}
		}
		m.Close() // no more partitions
	}()

	total, n := 0, 0
	for off := range m.Out() {
		total += off
		n++
	}
	fmt.Println(n, "offsets, total", total)
	fmt.Println(m.Add(filled(7))) // too late
	// Output:
	// 9 offsets, total 909
	// fanin: add after Close
}

// Buffer lets the input goroutines run ahead of a consumer that is busy:
// here the producer hands over all its values before anybody reads the
// output. Without the buffer its second send would wait for the consumer.
func ExampleBuffer() {
	m := fanin.NewMerger[string](context.Background(), fanin.Buffer(3))
	in := make(chan string)
	_ = m.Add(in)
	m.Close()

	for _, v := range []string{"a", "b", "c"} {
		in <- v
	}
	close(in)
	fmt.Println("producer done")
	fmt.Println(drain(m.Out()))
	// Output:
	// producer done
	// [a b c]
}

// Events from three shards, each sorted by time, merged into one timeline.
// The two events at 12:00:02 keep the order of their shards.
func ExampleMergeSorted() {
	type event struct {
		at   string
		what string
	}
	byTime := func(a, b event) int { return cmp.Compare(a.at, b.at) }
	ctx := context.Background()
	s := fanin.MergeSorted(ctx, byTime,
		source(event{"12:00:01", "shard 0: login"}, event{"12:00:02", "shard 0: view"}),
		source(event{"12:00:00", "shard 1: login"}, event{"12:00:02", "shard 1: buy"}),
		source(event{"12:00:03", "shard 2: logout"}),
	)
	for e := range s.Out() {
		fmt.Println(e.at, e.what)
	}
	fmt.Println("err:", s.Err())
	// Output:
	// 12:00:00 shard 1: login
	// 12:00:01 shard 0: login
	// 12:00:02 shard 0: view
	// 12:00:02 shard 1: buy
	// 12:00:03 shard 2: logout
	// err: <nil>
}

// Err tells why the output closed: here the context was cancelled with a
// cause while the merge waited for its input's next value.
func ExampleSorted() {
	ctx, cancel := context.WithCancelCause(context.Background())
	feed := make(chan int) // a live feed that is never closed
	s := fanin.MergeSorted(ctx, cmp.Compare[int], feed)

	feed <- 1
	fmt.Println(<-s.Out())
	cancel(errors.New("feed paused"))
	fmt.Println(drain(s.Out()))
	fmt.Println("err:", s.Err())
	// Output:
	// 1
	// []
	// err: feed paused
}

// An input that is not sorted stops the merge with an UnsortedError: what
// was already emitted is in order, nothing after it would be.
func ExampleUnsortedError() {
	s := fanin.MergeSorted(context.Background(), cmp.Compare[int], filled(1, 4, 2), filled(3, 5))
	fmt.Println(drain(s.Out()))
	var ue *fanin.UnsortedError
	if err := s.Err(); errors.As(err, &ue) {
		fmt.Println(err)
		fmt.Println("unsorted input:", ue.Input)
	}
	// Output:
	// [1 3 4]
	// fanin: input 0 of MergeSorted is not sorted
	// unsorted input: 0
}

// Pipelines hand their output to fanin with Stream.Chan, and take a merged
// channel back with pipeline.FromChan.
func ExampleMerge_pipeline() {
	ctx := context.Background()
	double := func(_ context.Context, v int) (int, error) { return 2 * v, nil }
	evens := pipeline.Map(pipeline.FromSlice(ctx, []int{1, 2, 3}), double)
	odds := pipeline.FromSlice(ctx, []int{1, 3, 5})

	merged := pipeline.FromChan(ctx, fanin.Merge(ctx, evens.Chan(), odds.Chan()))
	all, err := pipeline.Collect(merged)
	slices.Sort(all)
	fmt.Println(all, err, evens.Err(), odds.Err())
	// Output: [1 2 3 4 5 6] <nil> <nil> <nil>
}
