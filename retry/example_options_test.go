package retry_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/weftgo/weft/retry"
)

// The zero Policy is ready to use: 3 attempts, exponential backoff with
// full jitter.
func ExamplePolicy() {
	var policy retry.Policy
	calls := 0
	err := retry.Run(context.Background(), policy, func(ctx context.Context) error {
		calls++
		return retry.Permanent(errors.New("invalid input"))
	})
	fmt.Println(calls, err)
	// Output: 1 retry: not retryable after 1 attempt: invalid input
}

func ExampleAttempts() {
	calls := 0
	err := retry.Run(context.Background(), instant.With(retry.Attempts(5)), func(ctx context.Context) error {
		calls++
		return errUnavailable
	})
	fmt.Println(calls, err)
	// Output: 5 retry: attempts exhausted after 5 attempts: service unavailable
}

func ExampleConstant() {
	policy := retry.New(retry.Attempts(4), retry.Constant(time.Second), retry.NoJitter())
	s := policy.Start(time.Now())
	var delays []time.Duration
	for {
		d, err := s.Next(context.Background(), errors.New("unavailable"), time.Time{})
		if err != nil {
			break
		}
		delays = append(delays, d)
	}
	fmt.Println(delays)
	// Output: [1s 1s 1s]
}

func ExampleLinear() {
	policy := retry.New(retry.Attempts(5), retry.Linear(100*time.Millisecond, 100*time.Millisecond, 250*time.Millisecond), retry.NoJitter())
	s := policy.Start(time.Now())
	var delays []time.Duration
	for {
		d, err := s.Next(context.Background(), errors.New("unavailable"), time.Time{})
		if err != nil {
			break
		}
		delays = append(delays, d)
	}
	fmt.Println(delays)
	// Output: [100ms 200ms 250ms 250ms]
}

func ExampleExponential() {
	policy := retry.New(retry.Attempts(7), retry.Exponential(100*time.Millisecond, 2, time.Second), retry.NoJitter())
	s := policy.Start(time.Now())
	var delays []time.Duration
	for {
		d, err := s.Next(context.Background(), errors.New("unavailable"), time.Time{})
		if err != nil {
			break
		}
		delays = append(delays, d)
	}
	fmt.Println(delays)
	// Output: [100ms 200ms 400ms 800ms 1s 1s]
}

func ExampleBackoffFunc() {
	squares := func(n int) time.Duration { return time.Duration(n*n) * 10 * time.Millisecond }
	policy := retry.New(retry.Attempts(4), retry.BackoffFunc(squares), retry.NoJitter())
	s := policy.Start(time.Now())
	var delays []time.Duration
	for {
		d, err := s.Next(context.Background(), errors.New("unavailable"), time.Time{})
		if err != nil {
			break
		}
		delays = append(delays, d)
	}
	fmt.Println(delays)
	// Output: [10ms 40ms 90ms]
}

// Without jitter the delays are the backoff's own: here the default one.
func ExampleNoJitter() {
	policy := retry.New(retry.Attempts(4), retry.NoJitter())
	s := policy.Start(time.Now())
	var delays []time.Duration
	for {
		d, err := s.Next(context.Background(), errors.New("unavailable"), time.Time{})
		if err != nil {
			break
		}
		delays = append(delays, d)
	}
	fmt.Println(delays)
	// Output: [100ms 200ms 400ms]
}

// Full jitter, the default, spreads each delay over [0, d].
func ExampleFullJitter() {
	policy := retry.New(retry.Attempts(101), retry.Constant(time.Second), retry.FullJitter())
	s := policy.Start(time.Now())
	var delays []time.Duration
	for {
		d, err := s.Next(context.Background(), errors.New("unavailable"), time.Time{})
		if err != nil {
			break
		}
		delays = append(delays, d)
	}
	inRange := true
	for _, d := range delays {
		inRange = inRange && d >= 0 && d <= time.Second
	}
	fmt.Println(len(delays), inRange)
	// Output: 100 true
}

func ExampleEqualJitter() {
	policy := retry.New(retry.Attempts(101), retry.Constant(time.Second), retry.EqualJitter())
	s := policy.Start(time.Now())
	var delays []time.Duration
	for {
		d, err := s.Next(context.Background(), errors.New("unavailable"), time.Time{})
		if err != nil {
			break
		}
		delays = append(delays, d)
	}
	inRange := true
	for _, d := range delays {
		inRange = inRange && d >= 500*time.Millisecond && d <= time.Second
	}
	fmt.Println(len(delays), inRange)
	// Output: 100 true
}

// A steady 1s backoff spread ±20%: every delay lies within [0.8s, 1.2s].
func ExampleProportionalJitter() {
	policy := retry.New(retry.Attempts(101), retry.Exponential(time.Second, 1, time.Minute), retry.ProportionalJitter(0.2))
	s := policy.Start(time.Now())
	var delays []time.Duration
	for {
		d, err := s.Next(context.Background(), errors.New("unavailable"), time.Time{})
		if err != nil {
			break
		}
		delays = append(delays, d)
	}
	inRange := true
	for _, d := range delays {
		inRange = inRange && d >= 800*time.Millisecond && d <= 1200*time.Millisecond
	}
	fmt.Println(len(delays), inRange)
	// Output: 100 true
}

// Decorrelated jitter draws from [base, 3·previous], never past the cap.
func ExampleDecorrelatedJitter() {
	policy := retry.New(retry.Attempts(101), retry.Exponential(100*time.Millisecond, 2, time.Second), retry.DecorrelatedJitter())
	s := policy.Start(time.Now())
	var delays []time.Duration
	for {
		d, err := s.Next(context.Background(), errors.New("unavailable"), time.Time{})
		if err != nil {
			break
		}
		delays = append(delays, d)
	}
	inRange := true
	for _, d := range delays {
		inRange = inRange && d >= 100*time.Millisecond && d <= time.Second
	}
	fmt.Println(len(delays), inRange)
	// Output: 100 true
}

// One Budget shared by every policy that calls the same dependency. From a
// full bucket of 10 tokens, a dependency that always fails gets 4 retries.
func ExampleWithBudget() {
	budget := retry.NewBudget(10, 0.1)
	policy := retry.New(retry.Attempts(retry.Unlimited), retry.Constant(0), retry.WithBudget(budget))
	err := retry.Run(context.Background(), policy, func(ctx context.Context) error { return errUnavailable })
	fmt.Println(err)
	// Output: retry: budget exhausted after 5 attempts: service unavailable
}

// %v of a BudgetStats is a log-ready line.
func ExampleBudgetStats() {
	budget := retry.NewBudget(10, 0.1)
	policy := instant.With(retry.WithBudget(budget))
	retry.Run(context.Background(), policy, func(ctx context.Context) error { return errUnavailable })
	fmt.Println(budget.Stats())
	// Output: tokens=7 max_tokens=10 retries=2 refused=0
}

// An *Error says why the policy gave up; errors.Is sees through it to the
// cause and to the last attempt's error.
func ExampleError() {
	err := retry.Run(context.Background(), instant, func(ctx context.Context) error { return errUnavailable })
	var re *retry.Error
	switch {
	case err == nil:
	case errors.Is(err, context.Canceled): // the caller cancelled
	case errors.As(err, &re):
		fmt.Printf("gave up after %d attempts (%v): %v\n", re.Attempts, errors.Is(err, retry.ErrExhausted), re.Last)
	}
	// Output: gave up after 3 attempts (true): service unavailable
}

// OnEvent sees each attempt the policy retries and the end of the call, with
// the caller's context, for metrics and traces.
func ExampleOnEvent() {
	policy := instant.With(retry.OnEvent(func(ctx context.Context, e retry.Event) {
		if e.Done {
			fmt.Println("done after", e.Attempt, "attempts:", e.Final)
			return
		}
		fmt.Println("attempt", e.Attempt, "failed:", e.Err)
	}))
	calls := 0
	_ = retry.Run(context.Background(), policy, func(ctx context.Context) error {
		calls++
		if calls == 1 {
			return errUnavailable
		}
		return nil
	})
	// Output:
	// attempt 1 failed: service unavailable
	// done after 2 attempts: <nil>
}
