package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/weftgo/weft/breaker"
	"github.com/weftgo/weft/retry"
)

// Calls go through Run; after three failures in a row the breaker opens and
// rejects calls without making them.
func ExampleBreaker_Run() {
	b := breaker.New(breaker.ConsecutiveFailures(3), breaker.OpenFor(30*time.Second))
	ctx := context.Background()
	ping := func(ctx context.Context) error { return errors.New("connection refused") }

	for i := range 5 {
		err := b.Run(ctx, ping)
		fmt.Printf("call %d: %v (open: %v)\n", i+1, err, errors.Is(err, breaker.ErrOpen))
	}
	fmt.Println("state:", b.State())
	// Output:
	// call 1: connection refused (open: false)
	// call 2: connection refused (open: false)
	// call 3: connection refused (open: false)
	// call 4: breaker: circuit open (open: true)
	// call 5: breaker: circuit open (open: true)
	// state: open
}

// Do returns the call's value; a panic in the call comes back as an error and
// counts as a failure.
func ExampleDo() {
	b := breaker.New(breaker.Name("prices"))
	ctx := context.Background()

	price, err := breaker.Do(ctx, b, func(ctx context.Context) (float64, error) {
		return 9.99, nil
	})
	fmt.Println(price, err)

	_, err = breaker.Do(ctx, b, func(ctx context.Context) (float64, error) {
		var prices []float64 // the feed returned no rows
		return prices[0], nil
	})
	fmt.Println(err)
	fmt.Println("consecutive failures:", b.Stats().ConsecutiveFailures)
	// Output:
	// 9.99 <nil>
	// weft: panic: runtime error: index out of range [0] with length 0
	// consecutive failures: 1
}

// transport guards an http.RoundTripper with a breaker. The call cannot be
// wrapped in a function the breaker runs, so it uses the two-step form:
// Allow, then report. A 5xx response is a failure although RoundTrip
// returned no error.
type transport struct {
	next http.RoundTripper
	b    *breaker.Breaker
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ticket, err := t.b.Allow()
	if err != nil {
		return nil, err // rejected: the request is not sent
	}
	resp, err := t.next.RoundTrip(req)
	switch {
	case err != nil:
		ticket.Done(err) // classified: the caller's cancellation is ignored
	case resp.StatusCode >= 500:
		ticket.Report(breaker.Failure)
	default:
		ticket.Report(breaker.Success)
	}
	return resp, err
}

// roundTripFunc stands in for a real transport.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func ExampleBreaker_Allow() {
	sent := 0
	backend := roundTripFunc(func(*http.Request) (*http.Response, error) {
		sent++
		return &http.Response{StatusCode: 503, Body: io.NopCloser(strings.NewReader(""))}, nil
	})
	client := &http.Client{Transport: &transport{
		next: backend,
		b:    breaker.New(breaker.Name("api"), breaker.ConsecutiveFailures(2)),
	}}

	for range 4 {
		resp, err := client.Get("http://api.example/items")
		if err != nil {
			fmt.Println("error:", errors.Is(err, breaker.ErrOpen), err)
			continue
		}
		resp.Body.Close()
		fmt.Println("status:", resp.StatusCode)
	}
	fmt.Println("requests sent:", sent)
	// Output:
	// status: 503
	// status: 503
	// error: true Get "http://api.example/items": breaker: circuit open: api
	// error: true Get "http://api.example/items": breaker: circuit open: api
	// requests sent: 2
}

// A call that succeeds but takes longer than the threshold counts as slow;
// when half the calls in the window are slow, the breaker opens, though
// every caller got its result.
func ExampleSlowCall() {
	b := breaker.New(
		breaker.CountWindow(10),
		breaker.MinCalls(4),
		breaker.SlowCall(20*time.Millisecond, 0.5),
	)
	ctx := context.Background()
	for i, d := range []time.Duration{0, 30 * time.Millisecond, 0, 30 * time.Millisecond} {
		v, err := breaker.Do(ctx, b, func(ctx context.Context) (string, error) {
			time.Sleep(d)
			return "ok", nil
		})
		fmt.Printf("call %d: %s %v\n", i+1, v, err)
	}
	s := b.Stats()
	fmt.Println("state:", s.State)
	// Output:
	// call 1: ok <nil>
	// call 2: ok <nil>
	// call 3: ok <nil>
	// call 4: ok <nil>
	// state: open
}

// The listener sees every change in order and may call back into the
// breaker: here it logs the change with the breaker's state and stats.
func ExampleOnStateChange() {
	var b *breaker.Breaker
	b = breaker.New(
		breaker.Name("db"),
		breaker.ConsecutiveFailures(1),
		breaker.OnStateChange(func(e breaker.Event) {
			fmt.Printf("%v; state now %v, rejected so far %d\n", e, b.State(), b.Stats().Rejected)
		}),
	)
	b.Run(context.Background(), func(context.Context) error { return errors.New("timeout") })
	b.Run(context.Background(), func(context.Context) error { return nil }) // rejected
	b.Reset()
	// Output:
	// db: closed → open (consecutive failures); state now open, rejected so far 0
	// db: open → closed (reset); state now closed, rejected so far 1
}

// ForceOpen takes a dependency out of service until Reset, for maintenance
// or from an operator's switch.
func ExampleBreaker_ForceOpen() {
	b := breaker.New()
	b.ForceOpen()
	err := b.Run(context.Background(), func(context.Context) error { return nil })
	var oe *breaker.OpenError
	fmt.Println(errors.As(err, &oe) && oe.Forced, err)
	b.Reset()
	fmt.Println(b.Run(context.Background(), func(context.Context) error { return nil }))
	// Output:
	// true breaker: circuit open (forced)
	// <nil>
}

// An open circuit is not retried. With the retry outside the breaker, each
// attempt asks the breaker first; once it opens, its error says when to come
// back (through RetryAfter, which package retry reads without importing
// breaker), and the policy stops instead of spinning on refusals.
func Example_retry() {
	b := breaker.New(breaker.ConsecutiveFailures(2))
	policy := retry.New(retry.Attempts(5), retry.Constant(0))
	ctx := context.Background()

	calls := 0
	err := retry.Run(ctx, policy, func(ctx context.Context) error {
		return b.Run(ctx, func(ctx context.Context) error {
			calls++
			return errors.New("unavailable")
		})
	})

	var re *retry.Error
	errors.As(err, &re)
	fmt.Println("calls made:", calls)
	fmt.Println("attempts:", re.Attempts)
	fmt.Println("not retried:", errors.Is(err, retry.ErrNotRetryable))
	fmt.Println("last error:", re.Last)
	// Output:
	// calls made: 2
	// attempts: 3
	// not retried: true
	// last error: breaker: circuit open
}

// A classifier decides what counts: here a "not found" answer is a success
// (the dependency answered), and anything else falls back on the default.
func ExampleClassify() {
	errNotFound := errors.New("not found")
	b := breaker.New(
		breaker.ConsecutiveFailures(2),
		breaker.Classify(func(err error) breaker.Outcome {
			if errors.Is(err, errNotFound) {
				return breaker.Success
			}
			return breaker.DefaultOutcome(err)
		}),
	)
	ctx := context.Background()
	for _, err := range []error{errNotFound, errNotFound, context.Canceled, errors.New("timeout")} {
		b.Run(ctx, func(context.Context) error { return err })
	}
	fmt.Println(b.State(), "after", b.Stats().ConsecutiveFailures, "failure")
	// Output:
	// closed after 1 failure
}

// Stats reports the window a rate rule looks at.
func ExampleBreaker_Stats() {
	b := breaker.New(breaker.CountWindow(100), breaker.FailureRate(0.5), breaker.MinCalls(20))
	ctx := context.Background()
	for i := range 10 {
		b.Run(ctx, func(context.Context) error {
			if i%3 == 0 {
				return errors.New("failed")
			}
			return nil
		})
	}
	s := b.Stats()
	fmt.Printf("%v: %d successes, %d failures\n", s.State, s.Successes, s.Failures)
	// Output:
	// closed: 6 successes, 4 failures
}

// The default breaker: five failures in a row open it for five seconds.
func ExampleBreaker() {
	b := breaker.New()
	for range 5 {
		b.Run(context.Background(), func(context.Context) error { return errors.New("down") })
	}
	fmt.Println(b.State(), b.Stats().OpenRemaining > 4*time.Second)
	// Output:
	// open true
}
