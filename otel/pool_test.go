package otel_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	weftotel "github.com/weftgo/weft/otel"
	"github.com/weftgo/weft/pool"
	"github.com/weftgo/weft/retry"
)

// mailer is a handler whose job n runs n seconds, and fails the first
// fails[n] attempts.
func mailer(fails map[int]int) func(context.Context, int) error {
	return func(ctx context.Context, n int) error {
		time.Sleep(time.Duration(n) * time.Second)
		if fails[n] > 0 {
			fails[n]--
			return errors.New("smtp busy")
		}
		return nil
	}
}

// TestWorkersMetricsOfAScriptedRun runs jobs that succeed, succeed on a
// retry, end in the dead-letter sink and are refused, and reads the
// histograms, the outcome counter and the gauges over Stats.
func TestWorkersMetricsOfAScriptedRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tel := newTelemetry()
		ctx := context.Background()
		w := pool.NewWorkers(ctx, 1, mailer(map[int]int{2: 1, 3: 5}),
			weftotel.Workers[int]("mail", tel.opts...),
			pool.Buffer(2),
			pool.Retry(retry.New(retry.Attempts(2), retry.Constant(10*time.Second), retry.NoJitter())),
			pool.DeadLetter[int](retry.DeadLetterFunc[int](func(context.Context, retry.Letter[int]) error { return nil })))
		reg := weftotel.PoolStats("mail", w.Stats, tel.opts...)

		require.NoError(t, w.Submit(ctx, 1)) // runs 0s-1s
		require.NoError(t, w.Submit(ctx, 2)) // waits 1s, fails at 3s, again 13s-15s
		require.NoError(t, w.Submit(ctx, 3)) // waits 3s, fails at 6s and at 19s: dead letter
		require.ErrorIs(t, w.TrySubmit(4), pool.ErrFull)
		synctest.Wait()
		assert.Equal(t, []string{
			"weft.pool.job.outcomes counter {job} {outcome=rejected,weft.pool.name=mail} 1",
			"weft.pool.job.queue_wait histogram s {weft.pool.name=mail} count=1 sum=0",
			"weft.pool.jobs gauge {job} {weft.pool.job.state=queued,weft.pool.name=mail} 2",
			"weft.pool.jobs gauge {job} {weft.pool.job.state=running,weft.pool.name=mail} 1",
			"weft.pool.jobs gauge {job} {weft.pool.job.state=waiting,weft.pool.name=mail} 0",
			"weft.pool.submits.blocked gauge {call} {weft.pool.name=mail} 0",
			"weft.pool.workers gauge {worker} {weft.pool.name=mail} 1",
		}, tel.metrics(t))

		require.NoError(t, w.Close(ctx))
		require.NoError(t, reg.Unregister())
		assert.Equal(t, []string{
			"weft.pool.job.duration histogram s {outcome=dead_lettered,weft.pool.name=mail} count=1 sum=3",
			"weft.pool.job.duration histogram s {outcome=retried,weft.pool.name=mail} count=2 sum=5",
			"weft.pool.job.duration histogram s {outcome=succeeded,weft.pool.name=mail} count=2 sum=3",
			"weft.pool.job.outcomes counter {job} {outcome=dead_lettered,weft.pool.name=mail} 1",
			"weft.pool.job.outcomes counter {job} {outcome=rejected,weft.pool.name=mail} 1",
			"weft.pool.job.outcomes counter {job} {outcome=succeeded,weft.pool.name=mail} 2",
			"weft.pool.job.queue_wait histogram s {weft.pool.name=mail} count=5 sum=4",
		}, tel.metrics(t))
		// Without a span in the submitters' contexts, no span.
		assert.Empty(t, tel.spans())
	})
}

// TestWorkersSpanTree follows a request through a Workers with
// PropagateValues and a retry policy: each attempt of its job is a span
// under the request's, with the retry on the attempt that failed.
func TestWorkersSpanTree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tel := newTelemetry()
		ctx := context.Background()
		send := mailer(map[int]int{2: 1})
		w := pool.NewWorkers(ctx, 1, func(ctx context.Context, n int) error {
			_, span := tel.tp.Tracer("test").Start(ctx, "send")
			defer span.End()
			return send(ctx, n)
		},
			weftotel.Workers[int]("mail", tel.opts...),
			pool.PropagateValues(true),
			pool.Retry(retry.New(weftotel.Retry("mail", tel.opts...), retry.Attempts(2), retry.Constant(10*time.Second), retry.NoJitter())))

		req, span := tel.tp.Tracer("test").Start(ctx, "request")
		require.NoError(t, w.Submit(req, 1))
		require.NoError(t, w.Submit(req, 2))
		span.End() // the request is answered before its jobs run
		require.NoError(t, w.Close(ctx))

		assert.Equal(t, []string{
			"request parent= 0s {}",
			"send parent=weft.pool.job 1s {}",
			"weft.pool.job parent=request 1s {outcome=succeeded,weft.pool.job.attempt=1,weft.pool.job.queue_wait=0,weft.pool.name=mail}" +
				" | weft.retry.done {outcome=success,weft.retry.attempt=1,weft.retry.name=mail}",
			"send parent=weft.pool.job 2s {}",
			"weft.pool.job parent=request 2s {outcome=retried,weft.pool.job.attempt=1,weft.pool.job.queue_wait=1,weft.pool.job.retry_delay=10,weft.pool.name=mail} status=Error:smtp busy" +
				" | weft.retry {error.message=smtp busy,weft.retry.attempt=1,weft.retry.delay=10,weft.retry.name=mail}",
			"send parent=weft.pool.job 2s {}",
			"weft.pool.job parent=request 2s {outcome=succeeded,weft.pool.job.attempt=2,weft.pool.job.queue_wait=0,weft.pool.name=mail}" +
				" | weft.retry.done {outcome=success,weft.retry.attempt=2,weft.retry.name=mail}",
		}, tel.spans())
	})
}

// The pool's histograms have buckets for seconds, not the SDK's default
// made for milliseconds.
func TestWorkersHistogramBucketsAreSeconds(t *testing.T) {
	tel := newTelemetry()
	ctx := context.Background()
	w := pool.NewWorkers(ctx, 1, func(context.Context, int) error { return nil }, weftotel.Workers[int]("mail", tel.opts...))
	require.NoError(t, w.Submit(ctx, 1))
	require.NoError(t, w.Close(ctx))
	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(ctx, &rm))
	found := 0
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if h, ok := m.Data.(metricdata.Histogram[float64]); ok {
			found++
			bounds := h.DataPoints[0].Bounds
			assert.Equal(t, 0.005, bounds[0], m.Name)
			assert.Equal(t, 300.0, bounds[len(bounds)-1], m.Name)
		}
	}
	assert.Equal(t, 2, found)
}
