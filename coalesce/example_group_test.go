package coalesce_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/coalesce"
)

// userCache keeps loaded users; the Flight makes sure a burst of misses for
// one id runs one load, not one per request. The Flight caches nothing
// itself, so the loaded value is put in the cache before the waiters return.
type userCache struct {
	mu     sync.RWMutex
	users  map[int]string
	loads  coalesce.Flight[int, string]
	loader func(ctx context.Context, id int) (string, error)
}

func (c *userCache) Get(ctx context.Context, id int) (string, error) {
	c.mu.RLock()
	name, ok := c.users[id]
	c.mu.RUnlock()
	if ok {
		return name, nil
	}
	return c.loads.Do(ctx, id, func(ctx context.Context) (string, error) {
		name, err := c.loader(ctx, id)
		if err != nil {
			return "", err
		}
		c.mu.Lock()
		c.users[id] = name
		c.mu.Unlock()
		return name, nil
	})
}

// Cache-stampede protection: 100 concurrent requests miss the cache for the
// same user and the slow loader runs once.
func ExampleFlight() {
	var dbQueries atomic.Int32
	cache := &userCache{
		users: map[int]string{},
		loader: func(ctx context.Context, id int) (string, error) {
			dbQueries.Add(1)
			time.Sleep(50 * time.Millisecond) // a slow query
			return fmt.Sprintf("user-%d", id), nil
		},
	}

	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			// Each request has its own deadline; if it gives up, the load
			// goes on for the others.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := cache.Get(ctx, 42); err != nil {
				fmt.Println(err)
			}
		})
	}
	wg.Wait()
	name, _ := cache.Get(context.Background(), 42) // a cache hit
	fmt.Println(name, "loaded with", dbQueries.Load(), "query")
	// Output: user-42 loaded with 1 query
}

// DoChan waits for a shared call next to other events, here a shutdown.
func ExampleFlight_DoChan() {
	var g coalesce.Flight[string, string]
	shutdown := make(chan struct{})

	refresh := func(ctx context.Context) (string, error) { return "token-2", nil }
	select {
	case r := <-g.DoChan(context.Background(), "auth-token", refresh):
		if r.Err != nil {
			fmt.Println("refresh failed:", r.Err)
			return
		}
		fmt.Println("new token:", r.Value)
	case <-shutdown:
		fmt.Println("shutting down")
	}
	// Output: new token: token-2
}

// NewFlight makes a Flight with options; without any it is the same as a
// zero Flight.
func ExampleNewFlight() {
	g := coalesce.NewFlight[string, int]()
	n, err := g.Do(context.Background(), "answer", func(context.Context) (int, error) { return 42, nil })
	fmt.Println(n, err)
	// Output: 42 <nil>
}

// Two callers ask for the same key while the load runs: both get one
// Result, and Shared says the execution served more than one caller.
func ExampleResult() {
	var g coalesce.Flight[string, string]
	release := make(chan struct{})
	load := func(context.Context) (string, error) {
		<-release
		return "v1", nil
	}
	first := g.DoChan(context.Background(), "config", load)
	second := g.DoChan(context.Background(), "config", load) // joins the first
	close(release)
	for _, ch := range []<-chan coalesce.Result[string]{first, second} {
		r := <-ch
		fmt.Println(r.Value, r.Err, r.Shared)
	}
	// Output:
	// v1 <nil> true
	// v1 <nil> true
}

// DoResult tells a caller whether it shared the execution with others.
func ExampleFlight_DoResult() {
	var g coalesce.Flight[string, int]
	r := g.DoResult(context.Background(), "answer", func(context.Context) (int, error) { return 42, nil })
	fmt.Println(r.Value, r.Err, r.Shared)
	// Output: 42 <nil> false
}

// OnPanic receives a panic that no caller is left to receive: here the only
// caller gives up before the load panics. A panic that a caller waits for
// goes to that caller as its error instead.
func ExampleOnPanic() {
	reported := make(chan string, 1)
	g := coalesce.NewFlight[string, int](coalesce.OnPanic(func(key string, pe *weft.PanicError) {
		reported <- fmt.Sprintf("load of %q panicked: %v", key, pe.Value)
	}))

	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	res := g.DoChan(ctx, "config", func(ctx context.Context) (int, error) {
		close(started)
		<-ctx.Done() // the caller has left
		panic("nil map")
	})
	<-started
	cancel()
	fmt.Println("caller:", (<-res).Err)
	fmt.Println("hook:", <-reported)
	// Output:
	// caller: context canceled
	// hook: load of "config" panicked: nil map
}

// A call from fn for the key fn is loading would wait on itself: it fails
// at once with ErrCycle.
func ExampleErrCycle() {
	var g coalesce.Flight[string, int]
	v, err := g.Do(context.Background(), "a", func(ctx context.Context) (int, error) {
		_, err := g.Do(ctx, "a", func(context.Context) (int, error) { return 0, nil })
		fmt.Println("inner:", errors.Is(err, coalesce.ErrCycle))
		return 1, nil
	})
	fmt.Println("outer:", v, err)
	// Output:
	// inner: true
	// outer: 1 <nil>
}

// OnDone counts executions and the callers they served: here three callers
// share one load.
func ExampleOnDone() {
	done := make(chan string, 1)
	g := coalesce.NewFlight[string, int](coalesce.OnDone(func(key string, callers int, err error) {
		done <- fmt.Sprintf("%s: 1 execution, %d callers, err %v", key, callers, err)
	}))
	release := make(chan struct{})
	first := g.DoChan(context.Background(), "config", func(ctx context.Context) (int, error) {
		<-release
		return 42, nil
	})
	second := g.DoChan(context.Background(), "config", nil) // joins: fn is not run
	third := g.DoChan(context.Background(), "config", nil)
	close(release)
	fmt.Println((<-first).Value, (<-second).Value, (<-third).Value)
	fmt.Println(<-done)
	// Output:
	// 42 42 42
	// config: 1 execution, 3 callers, err <nil>
}
