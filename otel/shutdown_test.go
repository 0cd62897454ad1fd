package otel_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	weftotel "github.com/weftgo/weft/otel"
	"github.com/weftgo/weft/shutdown"
)

// A scripted run: db starts in 1s, api in 2s, cache never becomes ready
// before the cancel at 10s; on shutdown api stops in 3s, db fails to stop
// after 0.5s, and jobs overruns its 4s budget. Each start and stop is a
// measurement and a span of its exact length.
func TestShutdownMetricsAndSpansOfAScriptedRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tel := newTelemetry()
		g := shutdown.New(append(weftotel.Shutdown("svc", tel.opts...), shutdown.DrainDelay(0), shutdown.StopTimeout(4*time.Second))...)
		g.Add("db", shutdown.Func(func(context.Context) error {
			time.Sleep(time.Second)
			return nil
		}, func(context.Context) error {
			time.Sleep(500 * time.Millisecond)
			return errors.New("flush failed")
		}))
		g.Add("jobs", shutdown.Func(nil, func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(time.Second) // past its budget
			return nil
		}))
		g.Add("api", shutdown.Func(func(context.Context) error {
			time.Sleep(2 * time.Second)
			return nil
		}, func(context.Context) error {
			time.Sleep(3 * time.Second)
			return nil
		}))
		g.Add("cache", shutdown.Func(func(ctx context.Context) error {
			<-ctx.Done()
			return nil
		}, nil))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := g.Run(ctx)
		require.ErrorIs(t, err, shutdown.ErrAbandoned)
		time.Sleep(time.Minute) // jobs' abandoned Stop returns

		assert.Equal(t, []string{
			"weft.shutdown.start.duration histogram s {outcome=interrupted,weft.shutdown.component=cache,weft.shutdown.name=svc} count=1 sum=7",
			"weft.shutdown.start.duration histogram s {outcome=ok,weft.shutdown.component=api,weft.shutdown.name=svc} count=1 sum=2",
			"weft.shutdown.start.duration histogram s {outcome=ok,weft.shutdown.component=db,weft.shutdown.name=svc} count=1 sum=1",
			"weft.shutdown.start.duration histogram s {outcome=ok,weft.shutdown.component=jobs,weft.shutdown.name=svc} count=1 sum=0",
			"weft.shutdown.stop.duration histogram s {outcome=abandoned,weft.shutdown.component=jobs,weft.shutdown.name=svc} count=1 sum=4",
			"weft.shutdown.stop.duration histogram s {outcome=error,weft.shutdown.component=db,weft.shutdown.name=svc} count=1 sum=0.5",
			"weft.shutdown.stop.duration histogram s {outcome=ok,weft.shutdown.component=api,weft.shutdown.name=svc} count=1 sum=3",
			"weft.shutdown.stop.duration histogram s {outcome=ok,weft.shutdown.component=cache,weft.shutdown.name=svc} count=1 sum=0",
		}, tel.metrics(t))
		assert.Equal(t, []string{
			"weft.shutdown.start parent= 1s {outcome=ok,weft.shutdown.component=db,weft.shutdown.name=svc}",
			"weft.shutdown.start parent= 0s {outcome=ok,weft.shutdown.component=jobs,weft.shutdown.name=svc}",
			"weft.shutdown.start parent= 2s {outcome=ok,weft.shutdown.component=api,weft.shutdown.name=svc}",
			"weft.shutdown.start parent= 7s {outcome=interrupted,weft.shutdown.component=cache,weft.shutdown.name=svc} status=Error:shutdown: shutdown began before the component was ready",
			"weft.shutdown.stop parent= 0s {outcome=ok,weft.shutdown.component=cache,weft.shutdown.name=svc}",
			"weft.shutdown.stop parent= 3s {outcome=ok,weft.shutdown.component=api,weft.shutdown.name=svc}",
			`weft.shutdown.stop parent= 4s {outcome=abandoned,weft.shutdown.component=jobs,weft.shutdown.name=svc} status=Error:shutdown: stop "jobs": shutdown: stop did not finish within its budget`,
			`weft.shutdown.stop parent= 500ms {outcome=error,weft.shutdown.component=db,weft.shutdown.name=svc} status=Error:shutdown: stop "db": flush failed`,
		}, tel.spans())
	})
}

func ExampleShutdown() {
	reader := sdkmetric.NewManualReader()
	mp := weftotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))

	g := shutdown.New(append(weftotel.Shutdown("svc", mp), shutdown.DrainDelay(0))...)
	g.Add("db", shutdown.Func(nil, nil))
	g.Add("cache", shutdown.Func(func(context.Context) error { return errors.New("no route") }, nil))
	fmt.Println(g.Run(context.Background()))

	printSums(reader)
	// Output:
	// shutdown: start "cache": no route
	// weft.shutdown.start.duration {outcome=error,weft.shutdown.component=cache,weft.shutdown.name=svc} count 1
	// weft.shutdown.start.duration {outcome=ok,weft.shutdown.component=db,weft.shutdown.name=svc} count 1
	// weft.shutdown.stop.duration {outcome=ok,weft.shutdown.component=db,weft.shutdown.name=svc} count 1
}
