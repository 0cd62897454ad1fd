package fanout_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/weftgo/weft/fanout"
)

// source returns a closed channel holding vs.
func source[T any](vs ...T) <-chan T { return filled(vs...) }

// Every consumer sees every value, in order.
func ExampleBroadcast() {
	ctx := context.Background()
	b := fanout.Broadcast(ctx, source("created", "paid", "shipped"), 2)
	outs := b.Outputs()

	var wg sync.WaitGroup
	var audit, search []string
	wg.Go(func() {
		for ev := range outs[0] {
			audit = append(audit, ev)
		}
	})
	wg.Go(func() {
		for ev := range outs[1] {
			search = append(search, ev)
		}
	})
	wg.Wait()
	fmt.Println("audit: ", audit)
	fmt.Println("search:", search)
	fmt.Println("err:", b.Wait())
	// Output:
	// audit:  [created paid shipped]
	// search: [created paid shipped]
	// err: <nil>
}

// A consumer that only wants the newest values keeps a small ring of them
// and never holds up the sender. Here nobody reads until the input is over.
func ExampleOnFull() {
	ctx := context.Background()
	b := fanout.Broadcast(ctx, source(1, 2, 3, 4, 5, 6, 7), 1,
		fanout.OnFull(fanout.DropOldest), fanout.Buffer(3))
	_ = b.Wait() // the sender never waits for this consumer
	fmt.Println(drain(b.Outputs()[0]), "dropped:", b.Dropped(0))
	// Output: [5 6 7] dropped: 4
}

// A durable writer must see everything; a live dashboard may miss values.
// ForOutput gives the dashboard its own policy.
func ExampleForOutput() {
	ctx := context.Background()
	b := fanout.Broadcast(ctx, source("a", "b", "c", "d", "e"), 2,
		fanout.Buffer(5), // room for everything: nobody reads until the end
		fanout.ForOutput(1, fanout.OnFull(fanout.DropNewest), fanout.Buffer(2)),
	)
	_ = b.Wait()
	outs := b.Outputs()
	fmt.Println("writer:   ", drain(outs[0]), "dropped", b.Dropped(0))
	fmt.Println("dashboard:", drain(outs[1]), "dropped", b.Dropped(1))
	// Output:
	// writer:    [a b c d e] dropped 0
	// dashboard: [a b] dropped 3
}

// OnDrop sees every value an output misses: count it, sample it, log it.
func ExampleOnDrop() {
	ctx := context.Background()
	missed := map[int][]string{}
	b := fanout.Broadcast(ctx, source("t1", "t2", "t3", "t4"), 1,
		fanout.OnFull(fanout.DropNewest), fanout.Buffer(1),
		fanout.OnDrop(func(output int, tick string) {
			missed[output] = append(missed[output], tick) // runs on the sender
		}),
	)
	_ = b.Wait()
	fmt.Println("got", drain(b.Outputs()[0]), "missed", missed[0])
	// Output: got [t1] missed [t2 t3 t4]
}

// A consumer whose own context ends unsubscribes, and the others carry on.
func ExampleBroadcaster_Unsubscribe() {
	ctx := context.Background()
	in := make(chan int)
	b := fanout.Broadcast(ctx, in, 2, fanout.Buffer(0))
	outs := b.Outputs()

	var wg sync.WaitGroup
	var stayed, left []int
	wg.Go(func() {
		for v := range outs[0] {
			stayed = append(stayed, v)
		}
	})
	wg.Go(func() {
		clientCtx, hangUp := context.WithCancel(context.Background())
		defer hangUp()
		stop := context.AfterFunc(clientCtx, func() { b.Unsubscribe(1) })
		defer stop()
		for v := range outs[1] {
			left = append(left, v)
			if len(left) == 2 {
				hangUp() // the client went away
				break
			}
		}
	})
	for v := range 5 {
		in <- v
	}
	close(in)
	wg.Wait()
	fmt.Println("stayed:", stayed, "left after:", left, "err:", b.Wait())
	// Output: stayed: [0 1 2 3 4] left after: [0 1] err: <nil>
}

// Workers take jobs as they are free: the default strategy.
func ExampleDistribute() {
	ctx := context.Background()
	d := fanout.Distribute(ctx, source(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 3)

	var mu sync.Mutex
	total, jobs := 0, 0
	var wg sync.WaitGroup
	for _, out := range d.Outputs() {
		wg.Go(func() {
			for job := range out {
				mu.Lock()
				total += job
				jobs++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	fmt.Println(jobs, "jobs, total", total, "err:", d.Wait())
	// Output: 10 jobs, total 55 err: <nil>
}

// RoundRobin deals values out in turn.
func ExampleRoundRobin() {
	ctx := context.Background()
	d := fanout.Distribute(ctx, source("a", "b", "c", "d", "e"), 2, fanout.RoundRobin())
	for i, got := range drainAll(d.Outputs()) {
		fmt.Println(i, got)
	}
	// Output:
	// 0 [a c e]
	// 1 [b d]
}

// ByKey sends one account's events to one worker, so they are applied in
// order while accounts are processed in parallel.
func ExampleByKey() {
	type event struct {
		account string
		seq     int
	}
	var events []event
	for seq := range 12 {
		events = append(events, event{[]string{"alice", "bob", "carol"}[seq%3], seq})
	}
	ctx := context.Background()
	d := fanout.Distribute(ctx, source(events...), 2, fanout.ByKey(func(e event) string { return e.account }))

	var mu sync.Mutex
	applied := map[string][]int{}
	var wg sync.WaitGroup
	for _, out := range d.Outputs() {
		wg.Go(func() {
			for e := range out {
				mu.Lock()
				applied[e.account] = append(applied[e.account], e.seq)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	accounts := make([]string, 0, len(applied))
	for a := range applied {
		accounts = append(accounts, a)
	}
	sort.Strings(accounts)
	for _, a := range accounts {
		fmt.Println(a, applied[a])
	}
	// Output:
	// alice [0 3 6 9]
	// bob [1 4 7 10]
	// carol [2 5 8 11]
}

// Gather returns one result per call, in call order, however they finish.
func ExampleGather() {
	ctx := context.Background()
	price := func(p int) func(context.Context) (int, error) {
		return func(context.Context) (int, error) { return p, nil }
	}
	res, err := fanout.Gather(ctx,
		fanout.Required("base", time.Second, price(100)),
		fanout.Required("tax", time.Second, price(20)),
		fanout.Optional("discount", 50*time.Millisecond, price(-15)),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	total := 0
	for _, r := range res {
		fmt.Println(r.Name, r.Status, r.Value)
		total += r.Value
	}
	fmt.Println("total", total, "degraded", res.Degraded())
	// Output:
	// base ok 100
	// tax ok 20
	// discount ok -15
	// total 105 degraded false
}

// An optional call that fails leaves the error nil and the results
// degraded.
func ExampleOptional() {
	ctx := context.Background()
	res, err := fanout.Gather(ctx,
		fanout.Required("stock", 0, func(context.Context) (int, error) { return 7, nil }),
		fanout.Optional("reviews", 0, func(context.Context) (int, error) { return 0, errors.New("reviews: 503") }),
	)
	fmt.Println(err, res.Degraded(), res[1].Status, res[1].Err)
	// Output: <nil> true failed reviews: 503
}

// A required call that fails cancels the others, and the error names it.
func ExampleCallError() {
	ctx := context.Background()
	slow := func(ctx context.Context) (string, error) {
		<-ctx.Done() // cancelled when "auth" fails
		return "", ctx.Err()
	}
	errDenied := errors.New("token expired")
	res, err := fanout.Gather(ctx,
		fanout.Required("auth", 0, func(context.Context) (string, error) { return "", errDenied }),
		fanout.Required("search", 0, slow),
	)
	fmt.Println(err)
	var ce *fanout.CallError
	fmt.Println(errors.As(err, &ce), ce.Name, errors.Is(err, errDenied))
	fmt.Println("search:", res[1].Status)
	// Output:
	// fanout: required call "auth" failed: token expired
	// true auth true
	// search: canceled
}

// Required and Optional build a Call; the struct can be written out too.
func ExampleRequired() {
	user := func(context.Context) (string, error) { return "ada", nil }
	a := fanout.Required("user", 100*time.Millisecond, user)
	b := fanout.Call[string]{Name: "user", Fn: user, Timeout: 100 * time.Millisecond}
	fmt.Println(a.Name, a.Timeout, a.Optional, b.Optional)

	res, err := fanout.Gather(context.Background(), a)
	fmt.Println(res[0].Value, err)
	// Output:
	// user 100ms false false
	// ada <nil>
}

// The fastest mirror answers; the others are cancelled before First
// returns.
func ExampleFirst() {
	ctx := context.Background()
	mirror := func(name string, delay time.Duration) func(context.Context) (string, error) {
		return func(ctx context.Context) (string, error) {
			select {
			case <-time.After(delay):
				return name, nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
	}
	v, err := fanout.First(ctx, mirror("eu", time.Second), mirror("us", 0), mirror("ap", time.Second))
	fmt.Println(v, err)
	// Output: us <nil>
}

// A request to a replica that hangs is hedged by a second one after 50 ms.
func ExampleHedged() {
	ctx := context.Background()
	var mu sync.Mutex
	attempts := 0
	get := func(ctx context.Context) (string, error) {
		mu.Lock()
		attempts++
		n := attempts
		mu.Unlock()
		if n == 1 {
			<-ctx.Done() // the first replica hangs until cancelled
			return "", ctx.Err()
		}
		return fmt.Sprintf("answer from attempt %d", n), nil
	}
	v, err := fanout.Hedged(ctx, 50*time.Millisecond, get, get, get)
	fmt.Println(v, err)
	fmt.Println("attempts:", attempts)
	// Output:
	// answer from attempt 2 <nil>
	// attempts: 2
}

// Buffer sets how far the sender may run ahead of each consumer.
func ExampleBuffer() {
	ctx := context.Background()
	in := make(chan int)
	b := fanout.Broadcast(ctx, in, 1, fanout.Buffer(3))
	for v := range 3 {
		in <- v // the sender takes these though nobody reads yet
	}
	close(in)
	fmt.Println(drain(b.Outputs()[0]), b.Wait())
	// Output: [0 1 2] <nil>
}

// Results are in call order, whatever order the calls finish in.
func ExampleResults() {
	ctx := context.Background()
	wait := func(d time.Duration, v string) func(context.Context) (string, error) {
		return func(context.Context) (string, error) { time.Sleep(d); return v, nil }
	}
	res, _ := fanout.Gather(ctx,
		fanout.Required("slow", 0, wait(30*time.Millisecond, "first")),
		fanout.Required("fast", 0, wait(0, "second")),
	)
	for _, r := range res {
		fmt.Println(r.Name, r.Value)
	}
	// Output:
	// slow first
	// fast second
}

// Wait tells why a Broadcaster stopped: here its context was cancelled with
// a cause while the input was still open. Every output is closed by then.
func ExampleBroadcaster() {
	ctx, cancel := context.WithCancelCause(context.Background())
	in := make(chan string) // a feed that never closes
	b := fanout.Broadcast(ctx, in, 2)
	in <- "tick"
	cancel(errors.New("shutting down"))
	fmt.Println("err:", b.Wait())
	for i, out := range b.Outputs() {
		fmt.Println("output", i, drain(out))
	}
	// Output:
	// err: shutting down
	// output 0 [tick]
	// output 1 [tick]
}

// By default the outputs of a Distributor are one shared channel, which
// every worker reads; Wait reports the end once the input is drained.
func ExampleDistributor() {
	d := fanout.Distribute(context.Background(), source("a", "b", "c"), 2)
	outs := d.Outputs()
	fmt.Println("shared:", outs[0] == outs[1])
	fmt.Println(drain(outs[0]), d.Wait())
	// Output:
	// shared: true
	// [a b c] <nil>
}

// A Call can be written out as a struct; Optional marks it as one the
// answer can do without.
func ExampleCall() {
	ads := fanout.Call[string]{
		Name:     "ads",
		Fn:       func(context.Context) (string, error) { return "", errors.New("ads: timeout") },
		Timeout:  20 * time.Millisecond,
		Optional: true,
	}
	res, err := fanout.Gather(context.Background(), ads)
	fmt.Println(err, res.Degraded(), res[0].Status)
	// Output: <nil> true failed
}

// Policies print as text.
func ExampleFullPolicy() {
	fmt.Println(fanout.Block, "|", fanout.DropNewest, "|", fanout.DropOldest)
	// Output: block | drop newest | drop oldest
}

// Each Result says how its call ended; Status prints as text.
func ExampleStatus() {
	hang := func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	res, _ := fanout.Gather(context.Background(),
		fanout.Optional("fast", 0, func(context.Context) (int, error) { return 1, nil }),
		fanout.Optional("slow", 10*time.Millisecond, hang),
		fanout.Optional("buggy", 0, func(context.Context) (int, error) { panic("nil map") }),
	)
	for _, r := range res {
		fmt.Printf("%s: %v\n", r.Name, r.Status)
	}
	// Output:
	// fast: ok
	// slow: timed out
	// buggy: panicked
}

// A Result carries the call's value, error, status and how long it ran.
func ExampleResult() {
	res, _ := fanout.Gather(context.Background(),
		fanout.Optional("quote", 0, func(context.Context) (float64, error) {
			return 0, errors.New("quote: market closed")
		}),
	)
	r := res[0]
	fmt.Println(r.Name, r.Optional, r.Value, r.Status, r.Err, r.Duration >= 0)
	// Output: quote true 0 failed quote: market closed true
}
