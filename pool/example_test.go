package pool_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/pool"
)

// At most three tasks run at once; Wait joins every error, and a panic
// comes back as an error too.
func ExamplePool() {
	ctx := context.Background()
	p := pool.New(ctx, 3)
	var total atomic.Int64
	for _, s := range []string{"1", "2", "three", "4"} {
		err := p.Go(func(ctx context.Context) error {
			n, err := strconv.Atoi(s)
			if err != nil {
				return err
			}
			total.Add(int64(n))
			return nil
		})
		if err != nil {
			break // the pool's context is done
		}
	}
	p.Go(func(context.Context) error { panic("a bug") })

	err := p.Wait()
	fmt.Println("total:", total.Load())
	var ne *strconv.NumError
	fmt.Println("bad number:", errors.As(err, &ne))
	var pe *weft.PanicError
	fmt.Println("panic:", errors.As(err, &pe), pe.Value)
	// Output:
	// total: 7
	// bad number: true
	// panic: true a bug
}

// With FailFast the first error cancels the pool's context: the other
// tasks see it as their context's cause and stop, and Wait returns it.
func ExampleFailFast() {
	p := pool.New(context.Background(), 2, pool.FailFast(true))
	started := make(chan struct{})
	p.Go(func(ctx context.Context) error {
		close(started)
		<-ctx.Done() // a long task that honours cancellation
		fmt.Println("stopped by:", context.Cause(ctx))
		return ctx.Err()
	})
	<-started
	p.Go(func(context.Context) error { return errors.New("disk full") })
	fmt.Println("Wait:", p.Wait())
	// Output:
	// stopped by: disk full
	// Wait: disk full
}

// TryGo never blocks: on a full pool it returns ErrFull, and the caller
// may do the work itself.
func ExamplePool_TryGo() {
	p := pool.New(context.Background(), 1, pool.Buffer(1))
	release := make(chan struct{})
	p.Go(func(context.Context) error { <-release; return nil }) // the worker
	p.Go(func(context.Context) error { return nil })            // the one place in the queue
	err := p.TryGo(func(context.Context) error { return nil })
	fmt.Println("full:", errors.Is(err, pool.ErrFull))
	close(release)
	p.Wait()
	fmt.Printf("%+v\n", p.Stats().Rejected)
	// Output:
	// full: true
	// 1
}

// ResultPool returns the values in submission order, whatever order the
// tasks finish in: one value per task Go accepted. Had Go refused one (its
// context ended), Wait would report that too.
func ExampleResultPool() {
	r := pool.NewResultPool[string](context.Background(), 4)
	for _, word := range strings.Fields("the quick brown fox") {
		err := r.Go(func(context.Context) (string, error) {
			time.Sleep(time.Duration(len(word)) * time.Millisecond) // longer words finish later
			return strings.ToUpper(word), nil
		})
		if err != nil {
			break // the pool's context is done: no later word would be taken
		}
	}
	words, err := r.Wait()
	fmt.Println(words, err)
	// Output: [THE QUICK BROWN FOX] <nil>
}

// A Go that the pool refuses because its context is done is not lost
// without a word, even when the caller ignores Go's error: Wait reports it.
func ExamplePool_Wait() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := pool.New(ctx, 2)
	for i := range 4 {
		if i == 2 {
			cancel() // say, the request was abandoned
		}
		p.Go(func(context.Context) error { return nil })
	}
	err := p.Wait()
	fmt.Println(err)
	fmt.Println("canceled:", errors.Is(err, context.Canceled))
	// Output:
	// pool: 2 tasks refused: context canceled
	// canceled: true
}

// Map is the simplest way to process a slice with a few workers: results
// in order, the first error stops the rest.
func ExampleMap() {
	ctx := context.Background()
	lengths, err := pool.Map(ctx, 4, []string{"a", "bb", "ccc"}, func(_ context.Context, s string) (int, error) {
		return len(s), nil
	})
	fmt.Println(lengths, err)

	_, err = pool.Map(ctx, 4, []string{"1", "x", "3"}, func(_ context.Context, s string) (int, error) {
		return strconv.Atoi(s)
	})
	fmt.Println(err)
	// Output:
	// [1 2 3] <nil>
	// strconv.Atoi: parsing "x": invalid syntax
}

// Close with a deadline: the jobs still queued when it passes come back
// unrun, the running one is cancelled and comes back interrupted, so none
// is lost.
func ExampleWorkers_Close() {
	ctx := context.Background()
	w := pool.NewWorkers(ctx, 1, func(ctx context.Context, job string) error {
		select {
		case <-time.After(time.Hour): // a slow job
			return nil
		case <-ctx.Done(): // the pool was stopped
			return ctx.Err()
		}
	})
	for _, job := range []string{"a", "b", "c"} {
		w.Submit(ctx, job)
	}

	shutdown, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	err := w.Close(shutdown)
	var ce *pool.CloseError[string]
	if errors.As(err, &ce) {
		fmt.Println("unrun:", ce.Unrun, "interrupted:", ce.Interrupted)
	}
	fmt.Println(err)
	fmt.Println("deadline:", errors.Is(err, context.DeadlineExceeded))
	// Output:
	// unrun: [b c] interrupted: [a]
	// pool: close: 2 jobs unrun, 1 interrupted: context deadline exceeded
	// deadline: true
}

// Submit holds producers back while the queue is full; TrySubmit refuses
// instead, for producers that would rather shed load.
func ExampleWorkers_TrySubmit() {
	ctx := context.Background()
	release := make(chan struct{})
	w := pool.NewWorkers(ctx, 1, func(context.Context, int) error { <-release; return nil }, pool.Buffer(1))
	fmt.Println(w.TrySubmit(1)) // runs
	fmt.Println(w.TrySubmit(2)) // queued
	fmt.Println(w.TrySubmit(3)) // refused
	close(release)
	fmt.Println(w.Close(ctx))
	s := w.Stats()
	fmt.Println("succeeded:", s.Succeeded, "rejected:", s.Rejected)
	// Output:
	// <nil>
	// <nil>
	// pool: queue full
	// <nil>
	// succeeded: 2 rejected: 1
}
