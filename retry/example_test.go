package retry_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/weftgo/weft/retry"
)

// instant is a policy without waits, so that the examples run at once and
// print the same every time. Real policies keep a backoff.
var instant = retry.New(retry.Attempts(3), retry.Constant(0))

var errUnavailable = errors.New("service unavailable")

func ExampleDo() {
	calls := 0
	fetch := func(ctx context.Context) (string, error) {
		calls++
		if calls < 3 {
			return "", errUnavailable
		}
		return "hello", nil
	}

	v, err := retry.Do(context.Background(), instant, fetch)
	fmt.Println(v, err, calls)
	// Output: hello <nil> 3
}

// A call that keeps failing ends with an *Error that says why the policy
// gave up and keeps the last error.
func ExampleRun() {
	err := retry.Run(context.Background(), instant, func(ctx context.Context) error {
		return errUnavailable
	})
	fmt.Println(err)
	fmt.Println(errors.Is(err, retry.ErrExhausted), errors.Is(err, errUnavailable))

	var re *retry.Error
	if errors.As(err, &re) {
		fmt.Println(re.Attempts, re.Last)
	}
	// Output:
	// retry: attempts exhausted after 3 attempts: service unavailable
	// true true
	// 3 service unavailable
}

// The for-loop form suits bodies that do not fit in a function literal.
func ExampleLoop() {
	loop := instant.Loop(context.Background())
	for a := range loop.Attempts() {
		var err error
		if a.Number() < 2 {
			err = errUnavailable
		}
		fmt.Println("attempt", a.Number(), err)
		if a.Done(err) {
			break
		}
	}
	fmt.Println("result:", loop.Err())
	// Output:
	// attempt 1 service unavailable
	// attempt 2 <nil>
	// result: <nil>
}

// Errors that another attempt cannot fix are marked Permanent; the call
// ends at once, and the marker does not reach the caller.
func ExamplePermanent() {
	errNotFound := errors.New("not found")
	calls := 0
	err := retry.Run(context.Background(), instant, func(ctx context.Context) error {
		calls++
		return retry.Permanent(errNotFound)
	})
	fmt.Println(err)
	fmt.Println(calls, errors.Is(err, retry.ErrNotRetryable), errors.Is(err, errNotFound))
	// Output:
	// retry: not retryable after 1 attempt: not found
	// 1 true true
}

// After asks for a specific delay, as a server's Retry-After does: the
// policy waits that long, or for its backoff's delay if that is longer.
func ExampleAfter() {
	errTooMany := errors.New("429 too many requests")
	policy := instant.With(retry.OnRetry(func(attempt int, err error, delay time.Duration) {
		fmt.Printf("attempt %d: %v; retrying in %v\n", attempt, err, delay)
	}))
	calls := 0
	err := retry.Run(context.Background(), policy, func(ctx context.Context) error {
		calls++
		if calls == 1 {
			return retry.After(errTooMany, time.Millisecond)
		}
		return nil
	})
	fmt.Println(err, calls)
	// Output:
	// attempt 1: 429 too many requests; retrying in 1ms
	// <nil> 2
}

// A Budget shared by every call to a dependency stops retries when too many
// attempts fail. Here a bucket of 4 tokens allows one retry, then refuses.
func ExampleBudget() {
	budget := retry.NewBudget(4, 0.1)
	policy := instant.With(retry.WithBudget(budget))
	failing := func(ctx context.Context) error { return errUnavailable }

	for range 2 {
		fmt.Println(retry.Run(context.Background(), policy, failing))
	}
	fmt.Println(budget.Stats())
	// Output:
	// retry: budget exhausted after 2 attempts: service unavailable
	// retry: budget exhausted after 1 attempt: service unavailable
	// tokens=1 max_tokens=4 retries=1 refused=2
}

// Items the policy gives up on go to a dead-letter sink with their error
// and history; the item is never dropped silently.
func ExampleProcess() {
	sink := retry.DeadLetterFunc[string](func(ctx context.Context, l retry.Letter[string]) error {
		fmt.Printf("dead letter: %q: %v\n", l.Item, l.Err)
		return nil
	})
	send := func(ctx context.Context, msg string) error {
		if msg == "poison" {
			return retry.Permanent(errors.New("cannot parse"))
		}
		return nil
	}

	for _, msg := range []string{"ok", "poison"} {
		err := retry.Process(context.Background(), instant, msg, send, sink)
		fmt.Println(msg, "->", err != nil)
	}
	// Output:
	// ok -> false
	// dead letter: "poison": retry: not retryable after 1 attempt: cannot parse
	// poison -> true
}

// State makes the policy's decisions without sleeping, for a worker that
// puts a failed job back on a queue with a delay instead of waiting.
func ExampleState() {
	policy := retry.New(retry.Attempts(3), retry.Exponential(time.Second, 2, time.Minute), retry.NoJitter())
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := policy.Start(now)
	for {
		err := errUnavailable // the job failed again
		delay, final := s.Next(context.Background(), err, now)
		if final != nil {
			fmt.Println("give up:", final)
			break
		}
		fmt.Println("requeue, due in", delay)
		now = now.Add(delay)
	}
	// Output:
	// requeue, due in 1s
	// requeue, due in 2s
	// give up: retry: attempts exhausted after 3 attempts: service unavailable
}

// ParseRetryAfter turns an HTTP Retry-After header into a delay for After.
func ExampleParseRetryAfter() {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, v := range []string{"120", "Tue, 01 Jan 2030 00:00:30 GMT", "soon"} {
		d, ok := retry.ParseRetryAfter(v, now)
		fmt.Println(d, ok)
	}
	// Output:
	// 2m0s true
	// 30s true
	// 0s false
}

// Policies are values: derive variants from a shared base.
func ExamplePolicy_With() {
	base := retry.New(retry.Attempts(5), retry.Constant(0))
	once := base.With(retry.Attempts(1))

	calls := 0
	f := func(ctx context.Context) error { calls++; return errUnavailable }
	_ = retry.Run(context.Background(), once, f)
	_ = retry.Run(context.Background(), base, f)
	fmt.Println(calls)
	// Output: 6
}

// OnRetry sees every retry before its wait, for logs and metrics.
func ExampleOnRetry() {
	policy := instant.With(retry.OnRetry(func(attempt int, err error, delay time.Duration) {
		fmt.Printf("attempt %d failed (%v), retrying in %v\n", attempt, err, delay)
	}))
	_ = retry.Run(context.Background(), policy, func(ctx context.Context) error {
		return errUnavailable
	})
	// Output:
	// attempt 1 failed (service unavailable), retrying in 0s
	// attempt 2 failed (service unavailable), retrying in 0s
}

// circuitOpen is what a circuit breaker might return while open. Its
// RetryAfter method says when the circuit will let calls through again.
type circuitOpen struct{ wait time.Duration }

func (e circuitOpen) Error() string             { return "circuit open" }
func (e circuitOpen) RetryAfter() time.Duration { return e.wait }

// An error that says when to come back, like an open circuit's, is not
// retried by default; HonorRetryAfter waits it out when the wait is short
// enough.
func ExampleHonorRetryAfter() {
	call := func() func(context.Context) error {
		calls := 0
		return func(ctx context.Context) error {
			calls++
			if calls == 1 {
				return fmt.Errorf("users: %w", circuitOpen{wait: time.Millisecond})
			}
			return nil
		}
	}

	fmt.Println(retry.Run(context.Background(), instant, call()))
	patient := instant.With(retry.HonorRetryAfter(time.Second))
	fmt.Println(retry.Run(context.Background(), patient, call()))
	// Output:
	// retry: not retryable after 1 attempt: users: circuit open
	// <nil>
}

// A refusal, an error whose RetryAfter hint the policy honours, was turned
// away before it reached the dependency: within a time limit it uses up no
// attempt, so callers kept out by a breaker keep their attempts for calls
// that reach the dependency.
func ExampleHonorRetryAfter_refusals() {
	policy := retry.New(retry.Attempts(2), retry.MaxElapsed(time.Second),
		retry.HonorRetryAfter(time.Second), retry.Constant(time.Millisecond))
	calls := 0
	err := retry.Run(context.Background(), policy, func(ctx context.Context) error {
		calls++
		switch calls {
		case 1, 2, 3:
			return circuitOpen{wait: time.Millisecond} // refused: no attempt used
		case 4:
			return errUnavailable // the first attempt that reached the dependency
		}
		return nil
	})
	fmt.Println(err, calls)
	// Output:
	// <nil> 5
}
