package otel_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft/coalesce"
	"github.com/weftgo/weft/fanout"
	weftotel "github.com/weftgo/weft/otel"
)

func TestGatherSpansAndMetricsOfAScriptedRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tel := newTelemetry()
		f := weftotel.NewFanout("page", tel.opts...)
		ctx, span := tel.tp.Tracer("test").Start(context.Background(), "request")
		sleep := func(d time.Duration, err error) func(context.Context) (int, error) {
			return func(ctx context.Context) (int, error) {
				select {
				case <-time.After(d):
					return 1, err
				case <-ctx.Done():
					return 0, ctx.Err()
				}
			}
		}
		rs, err := weftotel.Gather(ctx, f,
			fanout.Required("user", 0, sleep(time.Second, nil)),
			fanout.Optional("ads", 0, sleep(200*time.Millisecond, errors.New("no ads"))),
			fanout.Optional("recs", 500*time.Millisecond, sleep(time.Hour, nil)),
		)
		require.NoError(t, err)
		assert.True(t, rs.Degraded())
		span.End()

		assert.Equal(t, []string{
			"weft.fanout.call parent=weft.fanout.gather 1s {outcome=ok,weft.fanout.call=user,weft.fanout.name=page}",
			"weft.fanout.call parent=weft.fanout.gather 200ms {outcome=failed,weft.fanout.call=ads,weft.fanout.name=page} status=Error:no ads",
			"weft.fanout.call parent=weft.fanout.gather 500ms {outcome=timed_out,weft.fanout.call=recs,weft.fanout.name=page} status=Error:context deadline exceeded",
			"weft.fanout.gather parent=request 1s {weft.fanout.name=page}",
			"request parent= 1s {}",
		}, tel.spans())
		assert.Equal(t, []string{
			"weft.fanout.call.duration histogram s {outcome=failed,weft.fanout.call=ads,weft.fanout.name=page} count=1 sum=0.2",
			"weft.fanout.call.duration histogram s {outcome=ok,weft.fanout.call=user,weft.fanout.name=page} count=1 sum=1",
			"weft.fanout.call.duration histogram s {outcome=timed_out,weft.fanout.call=recs,weft.fanout.name=page} count=1 sum=0.5",
		}, tel.metrics(t))
	})
}

func TestGatherRecordsCallsThatNeverRan(t *testing.T) {
	tel := newTelemetry()
	f := weftotel.NewFanout("page", tel.opts...)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := weftotel.Gather(ctx, f, fanout.Required("user", 0, func(context.Context) (int, error) { return 1, nil }))
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []string{
		"weft.fanout.gather parent= 0s {weft.fanout.name=page} status=Error:" + err.Error(),
	}, zeroDurations(tel.spans()))
	assert.Equal(t, []string{
		"weft.fanout.call.duration histogram s {outcome=canceled,weft.fanout.call=user,weft.fanout.name=page} count=1 sum=0",
	}, tel.metrics(t))
}

func TestHedgedSpansAndMetricsOfAScriptedRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tel := newTelemetry()
		f := weftotel.NewFanout("replicas", tel.opts...)
		slow := func(ctx context.Context) (string, error) {
			select {
			case <-time.After(time.Hour):
				return "slow", nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		fast := func(context.Context) (string, error) { time.Sleep(100 * time.Millisecond); return "fast", nil }
		broken := func(context.Context) (string, error) { panic("bug") }
		v, err := weftotel.Hedged(context.Background(), f, 50*time.Millisecond, slow, fast)
		require.NoError(t, err)
		assert.Equal(t, "fast", v)
		_, err = weftotel.First(context.Background(), f, broken)
		require.Error(t, err)

		assert.Equal(t, []string{
			"weft.fanout.call parent=weft.fanout.hedged 100ms {outcome=ok,weft.fanout.call=1,weft.fanout.name=replicas}",
			"weft.fanout.call parent=weft.fanout.hedged 150ms {outcome=canceled,weft.fanout.call=0,weft.fanout.name=replicas} status=Error:context canceled",
			"weft.fanout.hedged parent= 150ms {weft.fanout.name=replicas}",
			"weft.fanout.call parent=weft.fanout.first 0s {outcome=panicked,weft.fanout.call=0,weft.fanout.name=replicas} status=Error:panicked",
			"weft.fanout.first parent= 0s {weft.fanout.name=replicas} status=Error:" + err.Error(),
		}, tel.spans())
		assert.Equal(t, []string{
			"weft.fanout.call.duration histogram s {outcome=canceled,weft.fanout.call=0,weft.fanout.name=replicas} count=1 sum=0.15",
			"weft.fanout.call.duration histogram s {outcome=ok,weft.fanout.call=1,weft.fanout.name=replicas} count=1 sum=0.1",
			"weft.fanout.call.duration histogram s {outcome=panicked,weft.fanout.call=0,weft.fanout.name=replicas} count=1 sum=0",
		}, tel.metrics(t))
	})
}

func TestBroadcastCountsDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tel := newTelemetry()
		in := make(chan int)
		b := fanout.Broadcast(context.Background(), in, 2,
			fanout.Buffer(1), fanout.OnFull(fanout.DropNewest), weftotel.Broadcast[int]("events", tel.opts...))
		for i := range 3 {
			in <- i
		}
		close(in)
		synctest.Wait()
		for _, out := range b.Outputs()[1:] {
			for range out {
			}
		}
		for range b.Outputs()[0] {
		}
		require.NoError(t, b.Wait())
		assert.Equal(t, []string{
			"weft.fanout.drops counter {value} {weft.fanout.name=events,weft.fanout.output=0} 2",
			"weft.fanout.drops counter {value} {weft.fanout.name=events,weft.fanout.output=1} 2",
		}, tel.metrics(t))
		assert.Equal(t, uint64(2), b.Dropped(0))
	})
}

func TestGroupCountsExecutionsAndCallers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tel := newTelemetry()
		g := coalesce.NewFlight[string, int](weftotel.Flight[string]("config", tel.opts...))
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				_, _ = g.Do(context.Background(), "k", func(context.Context) (int, error) {
					time.Sleep(time.Second)
					return 1, nil
				})
			})
		}
		wg.Wait()
		_, err := g.Do(context.Background(), "k", func(context.Context) (int, error) { return 0, errors.New("down") })
		require.Error(t, err)
		synctest.Wait()
		assert.Equal(t, []string{
			"weft.coalesce.callers counter {call} {outcome=error,weft.coalesce.name=config} 1",
			"weft.coalesce.callers counter {call} {outcome=ok,weft.coalesce.name=config} 3",
			"weft.coalesce.executions counter {execution} {outcome=error,weft.coalesce.name=config} 1",
			"weft.coalesce.executions counter {execution} {outcome=ok,weft.coalesce.name=config} 1",
		}, tel.metrics(t))
	})
}

// zeroDurations replaces the durations of spans made outside a bubble.
func zeroDurations(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		fields := strings.SplitN(l, " ", 4)
		fields[2] = "0s"
		out[i] = strings.Join(fields, " ")
	}
	return out
}
