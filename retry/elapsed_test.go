package retry_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft/retry"
)

// MaxElapsed counts from the start of the call: for a Loop, the first
// attempt, not the moment the Loop was made. A loop made early and ranged
// later once lost the time in between, and here gave up after 1 attempt.
func TestLoopMaxElapsedCountsFromTheFirstAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.New(retry.Attempts(retry.Unlimited), retry.MaxElapsed(5*time.Second), retry.Constant(time.Second), retry.NoJitter())
		loop := p.Loop(t.Context())
		time.Sleep(10 * time.Second) // made early, ranged later
		start := time.Now()
		var at []time.Duration
		for a := range loop.Attempts() {
			at = append(at, time.Since(start))
			if a.Done(errTransient) {
				break
			}
		}
		require.ErrorIs(t, loop.Err(), retry.ErrMaxElapsed)
		assert.Equal(t, []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second, 5 * time.Second}, at)
	})
}

// A slow OnRetry hook is part of the wait, not added to it: the next
// attempt starts when the policy said, and a hook cannot push a wait past
// the caller's deadline, which the policy had checked before calling it.
func TestSlowOnRetryHookIsPartOfTheWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		p := retry.New(retry.Attempts(2), retry.Constant(600*time.Millisecond), retry.NoJitter(),
			retry.OnRetry(func(int, error, time.Duration) { time.Sleep(500 * time.Millisecond) }))
		at, err := attemptTimes(ctx, p, func(_ context.Context, call int) error {
			if call == 1 {
				return errTransient
			}
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{0, 600 * time.Millisecond}, at)
	})
}

// A hook slower than the whole wait starts the next attempt when it
// returns; if by then MaxElapsed has passed, no attempt starts and the
// call ends with ErrMaxElapsed.
func TestSlowOnRetryHookPastMaxElapsed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.New(retry.Attempts(retry.Unlimited), retry.MaxElapsed(time.Second), retry.Constant(100*time.Millisecond), retry.NoJitter(),
			retry.OnRetry(func(int, error, time.Duration) { time.Sleep(2 * time.Second) }))
		start := time.Now()
		at, err := attemptTimes(t.Context(), p, alwaysFail)
		require.ErrorIs(t, err, retry.ErrMaxElapsed)
		assert.Equal(t, []time.Duration{0}, at)
		assert.Equal(t, 2*time.Second, time.Since(start))
		var re *retry.Error
		require.True(t, errors.As(err, &re))
		assert.Equal(t, 1, re.Attempts)
	})
}
