package retry_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/weftgo/weft/retry"
)

// A policy is built once, kept in a variable and shared by every call.
func ExampleNew() {
	policy := retry.New(
		retry.Attempts(4),
		retry.Exponential(time.Millisecond, 2, 10*time.Millisecond),
		retry.MaxElapsed(time.Second),
	)
	calls := 0
	err := retry.Run(context.Background(), policy, func(ctx context.Context) error {
		calls++
		if calls < 4 {
			return errUnavailable
		}
		return nil
	})
	fmt.Println(calls, err)
	// Output: 4 <nil>
}

// RetryIf retries only the errors worth another attempt; anything else
// ends the call at once with ErrNotRetryable.
func ExampleRetryIf() {
	errNotFound := errors.New("not found")
	policy := instant.With(retry.RetryIf(func(err error) bool {
		var ne net.Error
		return errors.As(err, &ne) && ne.Timeout()
	}))
	calls := 0
	err := retry.Run(context.Background(), policy, func(ctx context.Context) error {
		calls++
		return errNotFound
	})
	fmt.Println(calls, errors.Is(err, retry.ErrNotRetryable), errors.Is(err, errNotFound))
	// Output: 1 true true
}

// AttemptTimeout cuts off an attempt that hangs, and the next one gets a
// fresh budget; the caller's own context still bounds the whole call.
func ExampleAttemptTimeout() {
	policy := instant.With(retry.AttemptTimeout(10 * time.Millisecond))
	calls := 0
	v, err := retry.Do(context.Background(), policy, func(ctx context.Context) (string, error) {
		calls++
		if calls == 1 {
			<-ctx.Done() // the first attempt hangs until its own timeout
			return "", ctx.Err()
		}
		return "answer", nil
	})
	fmt.Println(v, err, calls)
	// Output: answer <nil> 2
}

// MaxElapsed gives up as soon as the next attempt would start later than
// the limit after the start of the call, without waiting for it.
func ExampleMaxElapsed() {
	policy := retry.New(
		retry.Attempts(retry.Unlimited),
		retry.Constant(time.Minute), retry.NoJitter(),
		retry.MaxElapsed(time.Second),
	)
	calls := 0
	start := time.Now()
	err := retry.Run(context.Background(), policy, func(ctx context.Context) error {
		calls++
		return errUnavailable
	})
	fmt.Println(calls, errors.Is(err, retry.ErrMaxElapsed), errors.Is(err, errUnavailable))
	fmt.Println("waited a minute:", time.Since(start) >= time.Minute)
	// Output:
	// 1 true true
	// waited a minute: false
}
