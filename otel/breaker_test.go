package otel_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/weftgo/weft/breaker"
	weftotel "github.com/weftgo/weft/otel"
)

func TestBreakerMetricsOfAScriptedRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tel := newTelemetry()
		b := breaker.New(append(weftotel.Breaker("db", append(tel.opts, weftotel.WithAttributes(attribute.String("region", "eu")))...),
			breaker.CountWindow(10), breaker.MinCalls(4), breaker.SlowCall(time.Second, 0.5),
			breaker.ConsecutiveFailures(2), breaker.OpenFor(10*time.Second))...)
		ctx := context.Background()
		ok := func(d time.Duration) func(context.Context) error {
			return func(context.Context) error { time.Sleep(d); return nil }
		}
		fail := func(context.Context) error { return errors.New("down") }

		assert.Equal(t, []string{
			"weft.breaker.state gauge {state} {region=eu,weft.breaker.name=db,weft.breaker.state=closed} 1",
			"weft.breaker.state gauge {state} {region=eu,weft.breaker.name=db,weft.breaker.state=half_open} 0",
			"weft.breaker.state gauge {state} {region=eu,weft.breaker.name=db,weft.breaker.state=open} 0",
		}, tel.metrics(t))

		require.NoError(t, b.Run(ctx, ok(1500*time.Millisecond))) // slow
		require.Error(t, b.Run(ctx, fail))
		require.Error(t, b.Run(ctx, fail)) // trips
		require.ErrorIs(t, b.Run(ctx, ok(0)), breaker.ErrOpen)
		require.ErrorIs(t, b.Run(ctx, ok(0)), breaker.ErrOpen)
		time.Sleep(10 * time.Second)
		require.NoError(t, b.Run(ctx, ok(0))) // the probe closes it
		b.ForceOpen()
		require.ErrorIs(t, b.Run(ctx, ok(0)), breaker.ErrOpen)

		assert.Equal(t, []string{
			"weft.breaker.rejections counter {call} {region=eu,weft.breaker.forced=false,weft.breaker.name=db,weft.breaker.state=open} 2",
			"weft.breaker.rejections counter {call} {region=eu,weft.breaker.forced=true,weft.breaker.name=db,weft.breaker.state=open} 1",
			"weft.breaker.slow_call.duration histogram s {region=eu,weft.breaker.name=db} count=1 sum=1.5",
			"weft.breaker.state gauge {state} {region=eu,weft.breaker.name=db,weft.breaker.state=closed} 0",
			"weft.breaker.state gauge {state} {region=eu,weft.breaker.name=db,weft.breaker.state=half_open} 0",
			"weft.breaker.state gauge {state} {region=eu,weft.breaker.name=db,weft.breaker.state=open} 1",
			"weft.breaker.transitions counter {transition} {region=eu,weft.breaker.name=db,weft.breaker.reason=consecutive_failures,weft.breaker.state=open} 1",
			"weft.breaker.transitions counter {transition} {region=eu,weft.breaker.name=db,weft.breaker.reason=forced_open,weft.breaker.state=open} 1",
			"weft.breaker.transitions counter {transition} {region=eu,weft.breaker.name=db,weft.breaker.reason=open_time_elapsed,weft.breaker.state=half_open} 1",
			"weft.breaker.transitions counter {transition} {region=eu,weft.breaker.name=db,weft.breaker.reason=probes_succeeded,weft.breaker.state=closed} 1",
		}, tel.metrics(t))
		assert.Equal(t, uint64(3), b.Stats().Rejected)
		assert.Equal(t, "db", b.Name())
	})
}

// Two breakers recorded by one MeterProvider each report their state: the
// SDK ignores a second callback passed when an instrument is made again.
func TestBreakerStateOfEveryBreakerOnOneMeterProvider(t *testing.T) {
	tel := newTelemetry()
	a := breaker.New(append(weftotel.Breaker("a", tel.opts...), breaker.ConsecutiveFailures(1))...)
	breaker.New(weftotel.Breaker("b", tel.opts...)...)
	require.Error(t, a.Run(context.Background(), func(context.Context) error { return errors.New("down") }))

	assert.Subset(t, tel.metrics(t), []string{
		"weft.breaker.state gauge {state} {weft.breaker.name=a,weft.breaker.state=open} 1",
		"weft.breaker.state gauge {state} {weft.breaker.name=b,weft.breaker.state=closed} 1",
	})
}
