package fanout_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/fanout"
)

// panicsOnCancel waits for its context to end and then panics with value:
// a call that loses and panics while it is being cancelled.
func panicsOnCancel(value any) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		<-ctx.Done()
		panic(value)
	}
}

func succeeds(v string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return v, nil }
}

// Every place this package recovers a panic and where it is delivered: each
// panic reaches the caller of the call whose code panicked, through the
// error path of that call, and never disappears behind a success.
func TestPanicSites(t *testing.T) {
	tests := []struct {
		name string
		// run makes the panic happen and returns what the caller got: the
		// value (empty where there is none) and the error the panic must
		// be found in.
		run       func() (string, error)
		wantValue string
	}{
		{
			name: "Gather: an optional call, in its Result",
			run: func() (string, error) {
				rs, err := fanout.Gather(context.Background(),
					fanout.Optional("recs", 0, func(context.Context) (string, error) { panic("site") }),
				)
				if err != nil || rs[0].Status != fanout.Panicked {
					return "", errors.New("not reported as the call's result")
				}
				return "", rs[0].Err
			},
		},
		{
			name: "Gather: a required call, as Gather's CallError",
			run: func() (string, error) {
				_, err := fanout.Gather(context.Background(),
					fanout.Required("profile", 0, func(context.Context) (string, error) { panic("site") }),
				)
				var ce *fanout.CallError
				if !errors.As(err, &ce) || ce.Status != fanout.Panicked {
					return "", errors.New("not reported as a CallError")
				}
				return "", err
			},
		},
		{
			name: "First: the only call, as First's error",
			run: func() (string, error) {
				return fanout.First(context.Background(), func(context.Context) (string, error) { panic("site") })
			},
		},
		{
			name: "First: a loser cancelled by the winner, next to the winner's value",
			run: func() (string, error) {
				return fanout.First(context.Background(), panicsOnCancel("site"), succeeds("won"))
			},
			wantValue: "won",
		},
		{
			name: "Hedged: a loser cancelled by a later hedge's success, next to its value",
			run: func() (string, error) {
				return fanout.Hedged(context.Background(), time.Millisecond, panicsOnCancel("site"), succeeds("won"))
			},
			wantValue: "won",
		},
		{
			name: "Hedged: a call cancelled by ctx, as Hedged's error",
			run: func() (string, error) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
				defer cancel()
				return fanout.Hedged(ctx, time.Hour, panicsOnCancel("site"), succeeds("never started"))
			},
		},
		{
			name: "Broadcast: the OnDrop hook, through Wait",
			run: func() (string, error) {
				b := fanout.Broadcast(context.Background(), filled(1, 2), 1,
					fanout.Buffer(1), fanout.OnFull(fanout.DropNewest),
					fanout.OnDrop(func(int, int) { panic("site") }))
				return "", b.Wait()
			},
		},
		{
			name: "Distribute: the ByKey function with two outputs, through Wait",
			run: func() (string, error) {
				d := fanout.Distribute(context.Background(), filled(1), 2,
					fanout.ByKey(func(int) int { panic("site") }))
				drainAll(d.Outputs())
				return "", d.Wait()
			},
		},
		{
			name: "Distribute: the ByKey function with one output, through Wait",
			run: func() (string, error) {
				d := fanout.Distribute(context.Background(), filled(1), 1,
					fanout.ByKey(func(int) int { panic("site") }))
				drainAll(d.Outputs())
				return "", d.Wait()
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				v, err := tt.run()
				var pe *weft.PanicError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, "site", pe.Value)
				assert.NotEmpty(t, pe.Stack)
				assert.Equal(t, tt.wantValue, v)
			})
		})
	}
}
