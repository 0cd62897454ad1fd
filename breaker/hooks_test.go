package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft/breaker"
)

// TestHooksSeeTheEventsOfAScriptedRun drives a breaker through a slow call,
// a trip, rejections while open, half-open and forced open, and checks that
// its hooks saw exactly those events, at the times they happened.
func TestHooksSeeTheEventsOfAScriptedRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var events []string
		log := func(format string, args ...any) {
			events = append(events, fmt.Sprintf("%v ", time.Since(start))+fmt.Sprintf(format, args...))
		}
		b := breaker.New(
			breaker.Name("db"),
			breaker.CountWindow(10), breaker.MinCalls(4),
			breaker.SlowCall(time.Second, 0.5),
			breaker.ConsecutiveFailures(2),
			breaker.OpenFor(10*time.Second),
			breaker.OnStateChange(func(e breaker.Event) { log("change %v", e) }),
			breaker.OnReject(func(err *breaker.OpenError) { log("reject %v forced=%t", err.State, err.Forced) }),
			breaker.OnSlowCall(func(took time.Duration) { log("slow %v", took) }),
		)
		ctx := context.Background()
		sleep := func(d time.Duration) func(context.Context) error {
			return func(context.Context) error { time.Sleep(d); return nil }
		}
		fail := func(context.Context) error { return errors.New("down") }

		require.NoError(t, b.Run(ctx, sleep(2*time.Second)))        // slow
		require.NoError(t, b.Run(ctx, sleep(500*time.Millisecond))) // not slow
		require.Error(t, b.Run(ctx, fail))
		require.Error(t, b.Run(ctx, fail)) // trips
		require.ErrorIs(t, b.Run(ctx, sleep(0)), breaker.ErrOpen)
		_, err := breaker.Do(ctx, b, func(context.Context) (int, error) { return 1, nil })
		require.ErrorIs(t, err, breaker.ErrOpen)

		time.Sleep(10 * time.Second)
		probe, err := b.Allow()
		require.NoError(t, err)
		_, err = b.Allow()
		require.ErrorIs(t, err, breaker.ErrTooManyProbes)
		time.Sleep(3 * time.Second)
		probe.Done(nil) // slow: re-opens

		b.ForceOpen()
		require.ErrorIs(t, b.Run(ctx, sleep(0)), breaker.ErrOpen)
		_, err = breaker.Do(ctx, b, func(context.Context) (int, error) { return 1, nil })
		require.ErrorIs(t, err, breaker.ErrOpen)

		assert.Equal(t, []string{
			"2s slow 2s",
			"2.5s change db: closed → open (consecutive failures)",
			"2.5s reject open forced=false",
			"2.5s reject open forced=false",
			"12.5s change db: open → half-open (open time elapsed)",
			"12.5s reject half-open forced=false",
			"15.5s change db: half-open → open (probe slow)",
			"15.5s slow 3s",
			"15.5s change db: open → open (forced open)",
			"15.5s reject open forced=true",
			"15.5s reject open forced=true",
		}, events)
		assert.Equal(t, uint64(5), b.Stats().Rejected)
	})
}

// A breaker without hooks is unchanged by their absence; one with only
// OnReject still rejects a forced call through the slower path.
func TestOnRejectNilIsRemoved(t *testing.T) {
	calls := 0
	b := breaker.New(breaker.OnReject(func(*breaker.OpenError) { calls++ }), breaker.OnReject(nil))
	b.ForceOpen()
	require.ErrorIs(t, b.Run(context.Background(), func(context.Context) error { return nil }), breaker.ErrOpen)
	assert.Zero(t, calls)
	assert.Equal(t, uint64(1), b.Stats().Rejected)
}

func TestOnRejectPanicReachesTheCaller(t *testing.T) {
	b := breaker.New(breaker.OnReject(func(*breaker.OpenError) { panic("hook") }))
	b.ForceOpen()
	assert.PanicsWithValue(t, "hook", func() {
		_ = b.Run(context.Background(), func(context.Context) error { return nil })
	})
	assert.Equal(t, uint64(1), b.Stats().Rejected)
}
