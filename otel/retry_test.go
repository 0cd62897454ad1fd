package otel_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft/breaker"
	weftotel "github.com/weftgo/weft/otel"
	"github.com/weftgo/weft/retry"
)

// TestRetryMetricsAndSpanEventsOfAScriptedRun runs a request through a retry
// policy and a breaker: the retries and the breaker's verdict show on the
// request's span.
func TestRetryMetricsAndSpanEventsOfAScriptedRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tel := newTelemetry()
		policy := retry.New(weftotel.Retry("inventory", tel.opts...), retry.Attempts(3), retry.Constant(time.Second), retry.NoJitter())
		b := breaker.New(append(weftotel.Breaker("inventory", tel.opts...), breaker.ConsecutiveFailures(3))...)
		down := errors.New("down")

		ctx, span := tel.tp.Tracer("test").Start(context.Background(), "request")
		calls := 0
		v, err := retry.Do(ctx, policy, func(ctx context.Context) (int, error) {
			return breaker.Do(ctx, b, func(context.Context) (int, error) {
				calls++
				if calls < 3 {
					return 0, down
				}
				return calls, nil
			})
		})
		require.NoError(t, err)
		assert.Equal(t, 3, v)
		span.End()

		ctx, span = tel.tp.Tracer("test").Start(context.Background(), "second request")
		err = retry.Run(ctx, policy, func(context.Context) error { return retry.Permanent(down) })
		require.ErrorIs(t, err, retry.ErrNotRetryable)
		span.End()

		// Without a span in ctx, metrics only.
		require.NoError(t, retry.Run(context.Background(), policy, func(context.Context) error { return nil }))

		assert.Equal(t, []string{
			"request parent= 2s {}" +
				" | weft.retry {error.message=down,weft.retry.attempt=1,weft.retry.delay=1,weft.retry.name=inventory}" +
				" | weft.retry {error.message=down,weft.retry.attempt=2,weft.retry.delay=1,weft.retry.name=inventory}" +
				" | weft.retry.done {outcome=success,weft.retry.attempt=3,weft.retry.name=inventory}",
			"second request parent= 0s {}" +
				" | weft.retry.done {error.message=retry: not retryable after 1 attempt: down,outcome=not_retryable,weft.retry.attempt=1,weft.retry.name=inventory}",
		}, tel.spans())
		assert.Equal(t, []string{
			"weft.breaker.state gauge {state} {weft.breaker.name=inventory,weft.breaker.state=closed} 1",
			"weft.breaker.state gauge {state} {weft.breaker.name=inventory,weft.breaker.state=half_open} 0",
			"weft.breaker.state gauge {state} {weft.breaker.name=inventory,weft.breaker.state=open} 0",
			"weft.retry.attempts histogram {attempt} {outcome=not_retryable,weft.retry.name=inventory} count=1 sum=1",
			"weft.retry.attempts histogram {attempt} {outcome=success,weft.retry.name=inventory} count=2 sum=4",
			"weft.retry.delay histogram s {weft.retry.name=inventory} count=2 sum=2",
		}, tel.metrics(t))
	})
}

func TestRetryOutcomes(t *testing.T) {
	tests := []struct {
		name string
		opts []retry.Option
		ctx  func(t *testing.T) context.Context
		f    func(context.Context) error
		want string
	}{
		{"exhausted", []retry.Option{retry.Attempts(2)}, background, func(context.Context) error { return errors.New("x") }, "exhausted"},
		{"budget", []retry.Option{retry.WithBudget(retry.NewBudget(1, 1))}, background, func(context.Context) error { return errors.New("x") }, "budget"},
		{"max elapsed", []retry.Option{retry.MaxElapsed(time.Nanosecond), retry.Constant(time.Second)}, background, func(context.Context) error { return errors.New("x") }, "max_elapsed"},
		{"deadline", []retry.Option{retry.Constant(time.Hour)}, func(t *testing.T) context.Context {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			t.Cleanup(cancel)
			return ctx
		}, func(context.Context) error { return errors.New("x") }, "deadline"},
		{"canceled", nil, func(*testing.T) context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, func(context.Context) error { return nil }, "canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tel := newTelemetry()
				p := retry.New(append([]retry.Option{weftotel.Retry("r", tel.opts...), retry.Constant(0)}, tt.opts...)...)
				_ = retry.Run(tt.ctx(t), p, tt.f)
				lines := tel.metrics(t)
				require.NotEmpty(t, lines)
				assert.Contains(t, lines[0], "{outcome="+tt.want+",weft.retry.name=r}")
			})
		})
	}
}

func background(*testing.T) context.Context { return context.Background() }
