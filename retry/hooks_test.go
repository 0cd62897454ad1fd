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

// hookLog records the events of OnRetry and OnDone, with the time since the
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
		retry.OnDone(func(attempts int, err error) {
			l.events = append(l.events, fmt.Sprintf("%v done %d %v", time.Since(l.start), attempts, err))
		}),
	}
}

func TestHooksSeeEveryAttemptOfAScriptedCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l hookLog
		p := retry.New(append(l.options(), retry.Attempts(4), retry.Constant(time.Second), retry.NoJitter())...)
		calls := 0
		v, err := retry.Do(context.Background(), p, func(context.Context) (int, error) {
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
			"1.2s retry 2 transient 1s",
			"2.3s done 3 <nil>",
		}, l.events)
	})
}

func TestOnDoneGetsTheTerminalError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l hookLog
		p := retry.New(append(l.options(), retry.Attempts(3), retry.Constant(time.Second), retry.NoJitter())...)
		var got error
		p = p.With(retry.OnDone(func(attempts int, err error) {
			got = err
			l.events = append(l.events, fmt.Sprintf("%v done %d", time.Since(l.start), attempts))
		}))
		err := retry.Run(context.Background(), p, func(context.Context) error { return errTransient })
		assert.Same(t, err, got, "OnDone gets the error the call returns")
		assert.ErrorIs(t, got, retry.ErrExhausted)
		assert.Equal(t, []string{
			"0s retry 1 transient 1s",
			"1s retry 2 transient 1s",
			"2s done 3",
		}, l.events)
	})
}

func TestOnDoneOnAFirstSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var l hookLog
		p := retry.New(l.options()...)
		require.NoError(t, retry.Run(context.Background(), p, func(context.Context) error { return nil }))
		assert.Equal(t, []string{"0s done 1 <nil>"}, l.events)
	})
}

func TestOnDoneForEveryWayACallEnds(t *testing.T) {
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
			p := instant.With(retry.OnDone(func(attempts int, err error) {
				done = append(done, fmt.Sprintf("%d %v", attempts, err))
			}))
			err := tt.run(p)
			require.Error(t, err)
			assert.Equal(t, []string{fmt.Sprintf("%d %v", tt.count, err)}, done)
		})
	}
}

// The hooks agree with a shared Budget: every retry it allows is one OnRetry
// call, every call one OnDone, and every refusal an ErrBudget.
func TestPropertyHooksAgreeWithBudgetStats(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := retry.NewBudget(rapid.IntRange(1, 10).Draw(t, "max"), 0.5)
		var retries, done, refused, attempts int
		p := retry.New(retry.Attempts(rapid.IntRange(1, 5).Draw(t, "attempts")), retry.Constant(0), retry.WithBudget(b),
			retry.OnRetry(func(int, error, time.Duration) { retries++ }),
			retry.OnDone(func(n int, err error) {
				done++
				attempts += n
				if errors.Is(err, retry.ErrBudget) {
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
		if uint64(retries) != s.Retries || uint64(refused) != s.Refused || done != len(calls) || attempts != made {
			t.Fatalf("hooks saw %d retries, %d refused, %d calls, %d attempts; stats %v, %d calls, %d attempts", retries, refused, done, attempts, s, len(calls), made)
		}
	})
}
