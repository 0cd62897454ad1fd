package pool_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/weftgo/weft/pool"
)

// Long-lived workers behind a bounded queue: Submit waits while the queue is
// full, and Close stops intake, lets every accepted job finish and joins the
// workers.
func ExampleNewWorkers() {
	ctx := context.Background()
	var mu sync.Mutex
	var sent []string
	w := pool.NewWorkers(ctx, 4, func(ctx context.Context, email string) error {
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, email)
		return nil
	}, pool.Buffer(16))

	for _, to := range []string{"ada@example.com", "grace@example.com", "linus@example.com"} {
		if err := w.Submit(ctx, to); err != nil {
			fmt.Println("not queued:", to, err)
		}
	}
	if err := w.Close(ctx); err != nil {
		fmt.Println("close:", err)
	}
	sort.Strings(sent)
	fmt.Println(sent)
	fmt.Println(errors.Is(w.Submit(ctx, "late@example.com"), pool.ErrClosed))
	// Output:
	// [ada@example.com grace@example.com linus@example.com]
	// true
}

// Stats accounts for every job: each one submitted is in exactly one of
// succeeded, failed, panicked, canceled, dead-lettered, rejected, queued,
// running or waiting.
func ExampleStats() {
	ctx := context.Background()
	w := pool.NewWorkers(ctx, 2, func(ctx context.Context, n int) error {
		if n%3 == 0 {
			return errors.New("multiple of three")
		}
		return nil
	})
	for n := 1; n <= 9; n++ {
		w.Submit(ctx, n)
	}
	w.Close(ctx)
	s := w.Stats()
	fmt.Println("submitted:", s.Submitted, "succeeded:", s.Succeeded, "failed:", s.Failed)
	// Output: submitted: 9 succeeded: 6 failed: 3
}

// A Stats prints as name=value pairs, for a log line.
func ExampleStats_String() {
	p := pool.New(context.Background(), 2)
	for n := 1; n <= 9; n++ {
		p.Go(func(context.Context) error {
			if n%3 == 0 {
				return errors.New("multiple of three")
			}
			return nil
		})
	}
	p.Wait()
	fmt.Println(p.Stats())
	// Output: submitted=9 succeeded=6 failed=3 panicked=0 canceled=0 dead_lettered=0 rejected=0 queued=0 running=0 waiting=0 retried=0 undelivered=0 blocked=0 queue_high_water=0 workers=0
}

// OnDone sees every job that ran to its end, with its outcome: the place to
// count, log or record a histogram.
func ExampleOnDone() {
	ctx := context.Background()
	var mu sync.Mutex
	failed := map[string]error{}
	w := pool.NewWorkers(ctx, 2, func(ctx context.Context, path string) error {
		if path == "/missing" {
			return errors.New("not found")
		}
		return nil
	}, pool.OnDone(func(path string, err error) {
		if err != nil {
			mu.Lock()
			failed[path] = err
			mu.Unlock()
		}
	}))
	for _, p := range []string{"/a", "/missing", "/b"} {
		w.Submit(ctx, p)
	}
	w.Close(ctx)
	fmt.Println(failed)
	// Output: map[/missing:not found]
}
