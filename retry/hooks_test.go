package retry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/weftgo/weft/retry"
)

// hookLog records the events of OnRetry and OnEvent, with the time since the
// call began, as one line each.
type hookLog struct {
	start  time.Time
	events []string
}

func (l *hookLog) options() []retry.Option {
	l.start = time.Now()
	return []retry.Option{
		retry.OnRetry(func(attempt int, err error, delay time.Duration) {
			l.events = append(l.events, fmt.Sprintf("%v retry %d %v %v", time.Since(l.start), attempt, err, delay))
		}),
		retry.OnEvent(func(ctx context.Context, e retry.Event) {
			if ctx.Value(ctxKey{}) != "call" {
				panic("OnEvent without the caller's context")
			}
			l.events = append(l.events, fmt.Sprintf("%v event %+v", time.Since(l.start), e))
		}),
	}
}

type ctxKey struct{}

var callCtx = context.WithValue(context.Background(), ctxKey{}, "call")

func TestHooksSeeEveryAttemptOfAScriptedCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l hookLog
		p := retry.New(append(l.options(), retry.Attempts(4), retry.Constant(time.Second), retry.NoJitter())...)
		calls := 0
		v, err := retry.Do(callCtx, p, func(context.Context) (int, error) {
			calls++
			time.Sleep(100 * time.Millisecond)
			if calls < 3 {
				return 0, errTransient
			}
			return calls, nil
		})
		require.NoError(t, err)
		assert.Equal(t, 3, v)
		assert.Equal(t, []string{
			"100ms retry 1 transient 1s",
			"100ms event {Attempt:1 Err:transient Delay:1s Done:false Final:<nil>}",
			"1.2s retry 2 transient 1s",
			"1.2s event {Attempt:2 Err:transient Delay:1s Done:false Final:<nil>}",
			"2.3s event {Attempt:3 Err:<nil> Delay:0s Done:true Final:<nil>}",
		}, l.events)
	})
}

func TestOnEventGetsTheTerminalError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var events []retry.Event
		p := retry.New(retry.Attempts(3), retry.Constant(time.Second), retry.NoJitter(),
			retry.OnEvent(func(_ context.Context, e retry.Event) { events = append(events, e) }))
		err := retry.Run(context.Background(), p, func(context.Context) error { return retry.After(errTransient, 2*time.Second) })
		require.ErrorIs(t, err, retry.ErrExhausted)
		assert.Equal(t, []retry.Event{
			{Attempt: 1, Err: errTransient, Delay: 2 * time.Second},
			{Attempt: 2, Err: errTransient, Delay: 2 * time.Second},
			{Attempt: 3, Err: errTransient, Done: true, Final: err},
		}, events)
	})
}

func TestOnEventOnAFirstSuccess(t *testing.T) {
	var l hookLog
	p := retry.New(l.options()...)
	require.NoError(t, retry.Run(callCtx, p, func(context.Context) error { return nil }))
	require.Len(t, l.events, 1)
	assert.Contains(t, l.events[0], "event {Attempt:1 Err:<nil> Delay:0s Done:true Final:<nil>}")
}

func TestOnEventEndsEveryCallOnce(t *testing.T) {
	permanent := func(context.Context) error { return retry.Permanent(errTransient) }
	tests := []struct {
		name  string
		run   func(p retry.Policy) error
		count int
	}{
		{"permanent", func(p retry.Policy) error { return retry.Run(context.Background(), p, permanent) }, 1},
		{"ctx done", func(p retry.Policy) error {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return retry.Run(ctx, p, permanent)
		}, 0},
		{"loop", func(p retry.Policy) error {
			loop := p.Loop(context.Background())
			for a := range loop.Attempts() {
				if a.Done(errTransient) {
					break
				}
			}
			return loop.Err()
		}, 3},
		{"loop left", func(p retry.Policy) error {
			loop := p.Loop(context.Background())
			for range loop.Attempts() {
				break
			}
			return loop.Err()
		}, 1},
		{"state", func(p retry.Policy) error {
			s := p.Start(time.Now())
			for {
				d, err := s.Next(context.Background(), errTransient, time.Time{})
				if err != nil || d < 0 {
					return err
				}
			}
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var done []string
			p := instant.With(retry.OnEvent(func(_ context.Context, e retry.Event) {
				if e.Done {
					done = append(done, fmt.Sprintf("%d %v", e.Attempt, e.Final))
				}
			}))
			err := tt.run(p)
			require.Error(t, err)
			assert.Equal(t, []string{fmt.Sprintf("%d %v", tt.count, err)}, done)
		})
	}
}

// The hooks agree with a shared Budget and with each other: every retry the
// budget allows is one OnRetry call and one OnEvent retry, every call ends
// with one OnEvent, and every refusal is an ErrBudget.
func TestPropertyHooksAgreeWithBudgetStats(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := retry.NewBudget(rapid.IntRange(1, 10).Draw(t, "max"), 0.5)
		var retries, eventRetries, done, refused, attempts int
		p := retry.New(retry.Attempts(rapid.IntRange(1, 5).Draw(t, "attempts")), retry.Constant(0), retry.WithBudget(b),
			retry.OnRetry(func(int, error, time.Duration) { retries++ }),
			retry.OnEvent(func(_ context.Context, e retry.Event) {
				if !e.Done {
					eventRetries++
					return
				}
				done++
				attempts += e.Attempt
				if errors.Is(e.Final, retry.ErrBudget) {
					refused++
				}
			}))
		calls := rapid.SliceOfN(rapid.SliceOfN(rapid.Bool(), 1, 6), 1, 20).Draw(t, "calls")
		made := 0
		for _, outcomes := range calls {
			i := 0
			_ = retry.Run(context.Background(), p, func(context.Context) error {
				made++
				ok := outcomes[min(i, len(outcomes)-1)]
				i++
				if ok {
					return nil
				}
				return errTransient
			})
		}
		s := b.Stats()
		if retries != eventRetries || uint64(retries) != s.Retries || uint64(refused) != s.Refused || done != len(calls) || attempts != made {
			t.Fatalf("hooks saw %d retries, %d refused, %d calls, %d attempts; stats %v, %d calls, %d attempts", retries, refused, done, attempts, s, len(calls), made)
		}
	})
}
