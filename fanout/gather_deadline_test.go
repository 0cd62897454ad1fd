package fanout_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft/fanout"
)

// A call whose own Timeout has passed is timed out, as under
// context.WithTimeout, whatever ends the Gather later: Err says
// DeadlineExceeded even to a call that polls Err without ever asking for
// Done, the status is TimedOut, and Gather's error does not blame the
// caller.
func TestGatherCallPastItsTimeoutIsTimedOutWhateverHappensLater(t *testing.T) {
	errGone := errors.New("user went away")
	tests := []struct {
		name string
		// later ends the Gather 15ms in, after the call's 10ms Timeout.
		later func(cancel context.CancelCauseFunc) fanout.Call[string]
		// The call Gather's error names: the first required call to
		// return a failure.
		wantName   string
		wantStatus fanout.Status
	}{
		{"the caller cancels", func(cancel context.CancelCauseFunc) fanout.Call[string] {
			return fanout.Optional("caller", 0, func(context.Context) (string, error) {
				time.Sleep(15 * time.Millisecond)
				cancel(errGone)
				return "", nil
			})
		}, "slow", fanout.TimedOut},
		{"another required call fails", func(context.CancelCauseFunc) fanout.Call[string] {
			return fanout.Required("other", 0, func(context.Context) (string, error) {
				time.Sleep(15 * time.Millisecond)
				return "", errBoom
			})
		}, "other", fanout.Failed},
	}
	for _, tt := range tests {
		for _, watch := range []bool{false, true} {
			name := tt.name + ", Err polled only"
			if watch {
				name = tt.name + ", Done asked for after the deadline"
			}
			t.Run(name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					ctx, cancel := context.WithCancelCause(context.Background())
					defer cancel(nil)
					var seen, cause error
					rs, err := fanout.Gather(ctx,
						fanout.Required("slow", 10*time.Millisecond, func(ctx context.Context) (string, error) {
							time.Sleep(20 * time.Millisecond) // polls only after both events
							if watch {
								<-ctx.Done()
							}
							seen, cause = ctx.Err(), context.Cause(ctx)
							return "", seen
						}),
						tt.later(cancel),
					)
					assert.ErrorIs(t, seen, context.DeadlineExceeded)
					assert.ErrorIs(t, cause, context.DeadlineExceeded)
					assert.Equal(t, fanout.TimedOut, rs[0].Status)
					var ce *fanout.CallError
					require.ErrorAs(t, err, &ce)
					assert.Equal(t, tt.wantName, ce.Name)
					assert.Equal(t, tt.wantStatus, ce.Status)
					assert.NoError(t, ce.Cause)
					assert.NotErrorIs(t, err, errGone)
				})
			})
		}
	}
}

// Many calls with distinct timeouts, given in no particular order, each
// end exactly at their own deadline. The shared timer takes the deadlines
// from a schedule sorted once, so each run costs only the calls it ends.
func TestGatherDistinctTimeoutsEachEndAtTheirOwnDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 500
		calls := make([]fanout.Call[string], n)
		for i := range calls {
			timeout := time.Duration((i*7919)%n+1) * time.Millisecond // a permutation of 1..n ms
			calls[i] = fanout.Optional("", timeout, func(ctx context.Context) (string, error) {
				<-ctx.Done()
				return "", ctx.Err()
			})
		}
		start := time.Now()
		rs, err := fanout.Gather(context.Background(), calls...)
		require.NoError(t, err)
		assert.Equal(t, n*time.Millisecond, time.Since(start))
		for i, r := range rs {
			assert.Equal(t, fanout.TimedOut, r.Status, "call %d", i)
			assert.Equal(t, calls[i].Timeout, r.Duration, "call %d", i)
		}
	})
}
