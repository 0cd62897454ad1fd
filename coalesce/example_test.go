package coalesce_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/weftgo/weft/coalesce"
)

// A writer appends to a buffer and notifies; the flusher wakes once for the
// whole burst and flushes everything that is there.
func ExampleSignal() {
	var (
		mu     sync.Mutex
		buffer []string
	)
	sig := coalesce.NewSignal()

	// A burst of events arrives before the flusher gets to run.
	for _, line := range []string{"a", "b", "c"} {
		mu.Lock()
		buffer = append(buffer, line)
		mu.Unlock()
		sig.Notify() // never blocks; the three calls leave one wake-up
	}

	flush := func() {
		mu.Lock()
		batch := buffer
		buffer = nil
		mu.Unlock()
		fmt.Println("flush", batch)
	}

	ctx := context.Background()
	if err := sig.Wait(ctx); err == nil {
		flush()
	}
	fmt.Println("still pending:", sig.Pending())
	// Output:
	// flush [a b c]
	// still pending: false
}

// A watcher that was busy while the config changed three times sees only the
// newest config, then waits for the next change.
func ExampleLatest() {
	type Config struct{ Replicas int }
	cfg := coalesce.NewLatest[Config]()
	cfg.Set(Config{Replicas: 1})
	cfg.Set(Config{Replicas: 2})
	cfg.Set(Config{Replicas: 3})

	ctx := context.Background()
	c, seen, _ := cfg.Next(ctx, 0)
	fmt.Printf("version %d: %+v\n", seen, c)

	done := make(chan struct{})
	go func() {
		defer close(done)
		c, v, _ := cfg.Next(ctx, seen) // blocks until the next Set
		fmt.Printf("version %d: %+v\n", v, c)
	}()
	cfg.Set(Config{Replicas: 5})
	<-done
	// Output:
	// version 3: {Replicas:3}
	// version 4: {Replicas:5}
}

// Changed lets a reader wait for a new value next to other channels.
func ExampleLatest_Changed() {
	leader := coalesce.NewLatest[string]()
	stop := make(chan struct{})

	go func() {
		leader.Set("node-a")
		leader.Set("node-b")
		close(stop)
	}()

	var seen uint64
	for {
		select {
		case <-leader.Changed(seen):
			var name string
			name, seen = leader.Load()
			_ = name // react to the new leader here
		case <-stop:
			name, v := leader.Load()
			fmt.Println("final leader:", name, "version", v)
			return
		}
	}
	// Output:
	// final leader: node-b version 2
}
