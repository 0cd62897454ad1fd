package retry_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft/breaker"
	"github.com/weftgo/weft/retry"
)

// spinGuard ends a call that is spinning: in a synctest bubble a retry
// without a delay never lets the clock move, so without it a busy loop
// would hang the test instead of failing it.
func spinGuard(calls int) error {
	if calls >= 10_000 {
		return retry.Permanent(errors.New("spinning"))
	}
	return nil
}

// Retry outside a breaker whose only probe is in flight: every attempt is
// turned away at once, and the policy honours the breaker's hint. The call
// must wait between attempts (it once made 172,406 in 102ms, the hint being
// 0) and end at MaxElapsed after a handful.
func TestRetryOutsideAHalfOpenBreakerMakesBoundedAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(100*time.Millisecond))
		_ = b.Run(t.Context(), func(context.Context) error { return errTransient })
		time.Sleep(100 * time.Millisecond)
		probe, err := b.Allow() // in flight for the whole test
		require.NoError(t, err)
		defer probe.Done(nil)

		p := retry.New(retry.Attempts(retry.Unlimited), retry.MaxElapsed(time.Second), retry.HonorRetryAfter(time.Second),
			retry.Exponential(time.Millisecond, 2, 50*time.Millisecond))
		calls := 0
		start := time.Now()
		err = retry.Run(t.Context(), p, func(ctx context.Context) error {
			calls++
			if err := spinGuard(calls); err != nil {
				return err
			}
			return b.Run(ctx, func(context.Context) error { return nil })
		})
		require.ErrorIs(t, err, retry.ErrMaxElapsed)
		require.ErrorIs(t, err, breaker.ErrTooManyProbes)
		// The waits are at least the breaker's hint, drawn from (0, 100ms],
		// and the backoff's; a hundred attempts in a second would mean
		// waits of 10ms on average.
		assert.Less(t, calls, 100, "attempts in one second")
		assert.LessOrEqual(t, time.Since(start), time.Second)
	})
}

// A hint shorter than the backoff's delay does not shorten it: the hint is
// a floor, so a dependency that keeps saying "now" is still asked only as
// often as the backoff allows.
func TestHintIsAFloorUnderTheBackoff(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"RetryAfter hint of 0", &openError{0}},
		{"After(err, 0)", retry.After(errTransient, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := retry.New(retry.Attempts(retry.Unlimited), retry.MaxElapsed(10*time.Second), retry.HonorRetryAfter(time.Minute),
					retry.Constant(time.Second), retry.NoJitter())
				calls := 0
				at, err := attemptTimes(t.Context(), p, func(_ context.Context, call int) error {
					calls = call
					if err := spinGuard(calls); err != nil {
						return err
					}
					return tt.err
				})
				require.ErrorIs(t, err, retry.ErrMaxElapsed)
				assert.Len(t, at, 11, "attempts at %v", at)
				assert.Equal(t, 10*time.Second, at[len(at)-1])
			})
		})
	}
}

// A refusal (an honoured RetryAfter hint: the call never reached the
// dependency) uses up no attempt when the call has a time limit, MaxElapsed
// or a deadline; without one it counts, so that the call still ends.
func TestRefusalDoesNotUseUpAnAttempt(t *testing.T) {
	// Calls 1 to 5 are refused, 6 fails, 7 succeeds.
	f := func(_ context.Context, call int) error {
		switch {
		case call <= 5:
			return &openError{time.Second}
		case call == 6:
			return errTransient
		}
		return nil
	}
	synctest.Test(t, func(t *testing.T) {
		p := retry.New(retry.Attempts(2), retry.HonorRetryAfter(time.Minute), retry.Constant(time.Second), retry.NoJitter())

		at, err := attemptTimes(t.Context(), p.With(retry.MaxElapsed(time.Minute)), f)
		require.NoError(t, err)
		assert.Len(t, at, 7, "with MaxElapsed")

		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		at, err = attemptTimes(ctx, p, f)
		require.NoError(t, err)
		assert.Len(t, at, 7, "with a deadline")

		at, err = attemptTimes(t.Context(), p, f)
		require.ErrorIs(t, err, retry.ErrExhausted)
		assert.Len(t, at, 2, "without a time limit")
		var re *retry.Error
		require.ErrorAs(t, err, &re)
		assert.Equal(t, 0, re.Refused)
	})
}

// A call that gives up after refusals says how many there were.
func TestErrorCountsTheRefusals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.New(retry.Attempts(2), retry.MaxElapsed(time.Minute), retry.HonorRetryAfter(time.Minute), retry.Constant(time.Second))
		_, err := attemptTimes(t.Context(), p, func(_ context.Context, call int) error {
			if call%2 == 1 {
				return &openError{time.Second}
			}
			return errTransient
		})
		var re *retry.Error
		require.ErrorAs(t, err, &re)
		assert.Equal(t, 4, re.Attempts)
		assert.Equal(t, 2, re.Refused)
		assert.EqualError(t, err, "retry: attempts exhausted after 4 attempts (2 refused): transient")
	})
}

// A refusal puts no load on the dependency, so it takes no token from a
// shared Budget, with a time limit or without: retries against an open
// breaker do not use up the retries of every other caller of the
// dependency.
func TestRefusalTakesNoBudgetToken(t *testing.T) {
	refusedFirst := func(n int) func(context.Context, int) error {
		return func(_ context.Context, call int) error {
			if call <= n {
				return &openError{time.Second}
			}
			return nil
		}
	}
	synctest.Test(t, func(t *testing.T) {
		budget := retry.NewBudget(10, 0.1)
		p := retry.New(retry.Attempts(3), retry.HonorRetryAfter(time.Minute), retry.Constant(time.Second), retry.WithBudget(budget))

		at, err := attemptTimes(t.Context(), p.With(retry.MaxElapsed(time.Minute)), refusedFirst(20))
		require.NoError(t, err)
		assert.Len(t, at, 21, "with a time limit")

		at, err = attemptTimes(t.Context(), p, refusedFirst(2))
		require.NoError(t, err)
		assert.Len(t, at, 3, "without a time limit")

		s := budget.Stats()
		assert.Equal(t, 10.0, s.Tokens)
		assert.Equal(t, uint64(0), s.Retries+s.Refused)
	})
}

// Callers behind a breaker during an outage: the breaker is open, turns
// them away, and fails its probes until the dependency is back at 250ms;
// each caller waits out its hints, and all succeed. At most two probes fail,
// so no caller reaches the dependency more than its 3 attempts allow.
// Before, callers turned away by the half-open breaker used up their
// attempts in a burst of refusals and gave up without reaching it.
func TestRefusedCallsWaitOutAnOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(100*time.Millisecond))
		_ = b.Run(t.Context(), func(context.Context) error { return errTransient })
		p := retry.New(retry.Attempts(3), retry.MaxElapsed(10*time.Second), retry.HonorRetryAfter(time.Second),
			retry.Exponential(5*time.Millisecond, 2, 500*time.Millisecond))
		downstream := func(context.Context) error {
			time.Sleep(time.Millisecond)
			if time.Since(start) < 250*time.Millisecond {
				return errTransient // the outage
			}
			return nil
		}

		const callers = 50
		var wg sync.WaitGroup
		errs := make([]error, callers)
		reached := make([]int, callers)
		for i := range callers {
			wg.Go(func() {
				time.Sleep(time.Duration(i+1) * time.Millisecond)
				calls := 0
				errs[i] = retry.Run(t.Context(), p, func(ctx context.Context) error {
					calls++
					if err := spinGuard(calls); err != nil {
						return err
					}
					return b.Run(ctx, func(ctx context.Context) error {
						reached[i]++
						return downstream(ctx)
					})
				})
			})
		}
		wg.Wait()
		for i := range callers {
			assert.NoError(t, errs[i], "caller %d", i)
			assert.LessOrEqual(t, reached[i], 3, "calls of caller %d that reached the dependency", i)
		}
	})
}
