package otel

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"

	"github.com/weftgo/weft/pool"
)

// Attributes of a pool's measurements and spans.
const (
	poolNameKey     = attribute.Key("weft.pool.name")
	poolStateKey    = attribute.Key("weft.pool.job.state")
	poolAttemptKey  = attribute.Key("weft.pool.job.attempt")
	poolQueueKey    = attribute.Key("weft.pool.job.queue_wait")
	poolRetryInKey  = attribute.Key("weft.pool.job.retry_delay")
	poolJobSpanName = "weft.pool.job"
)

// poolOutcomes are the values of the outcome attribute, indexed by
// [pool.Outcome].
var poolOutcomes = func() []string {
	var out []string
	for o := pool.Outcome(0); o <= pool.Retried; o++ {
		out = append(out, o.String())
	}
	return out
}()

// Workers returns the option that makes a [pool.Workers] record its jobs'
// queue wait, run time and outcomes under name, and run each attempt of a
// job whose context carries a span in a child span "weft.pool.job": pass it
// to [pool.NewWorkers], with [pool.PropagateValues](true) so that a job's
// context carries its submitter's span. It sets the [pool.OnEvent] hook, so
// a later OnEvent replaces it. [PoolStats] adds the gauges over the pool's
// [pool.Stats].
func Workers[J any](name string, opts ...Option) pool.WorkersOption {
	m := newPoolMetrics(name, opts)
	return pool.OnEvent(func(ctx context.Context, e pool.Event[J]) context.Context {
		switch e.Kind {
		case pool.Started:
			return m.started(ctx, e.Attempt, e.Wait)
		case pool.Ended:
			m.ended(ctx, e.Outcome, e.Run, e.Delay, e.Err)
		case pool.Unrun:
			m.count(ctx, e.Outcome)
		}
		return ctx
	})
}

// secondsBuckets are the bucket boundaries of every duration histogram: those
// OpenTelemetry's semantic conventions give durations in seconds, and a few
// minutes more for jobs that wait or run long. The SDK's default, made for
// milliseconds, would put nearly every job in its first bucket.
var secondsBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 120, 300}

type poolMetrics struct {
	in instruments
	// Options made once, so that a job allocates nothing here: by outcome.
	outcomes   [][]metric.AddOption
	durations  [][]metric.RecordOption
	plain      []metric.RecordOption
	queueWait  metric.Float64Histogram
	duration   metric.Float64Histogram
	outcomeCtr metric.Int64Counter
}

func newPoolMetrics(name string, opts []Option) *poolMetrics {
	in := newInstruments(poolNameKey, name, opts)
	m := &poolMetrics{in: in, plain: []metric.RecordOption{in.with()}}
	for _, o := range poolOutcomes {
		m.outcomes = append(m.outcomes, []metric.AddOption{in.with(outcomeKey.String(o))})
		m.durations = append(m.durations, []metric.RecordOption{in.with(outcomeKey.String(o))})
	}
	var err error
	m.queueWait, err = in.meter.Float64Histogram("weft.pool.job.queue_wait",
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(secondsBuckets...),
		metric.WithDescription("Time jobs waited in the worker pool before an attempt started: since Submit, or since a retry delay ended."))
	check(err)
	m.duration, err = in.meter.Float64Histogram("weft.pool.job.duration",
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(secondsBuckets...),
		metric.WithDescription("Run time of the attempts of the worker pool's jobs, by the attempt's outcome."))
	check(err)
	m.outcomeCtr, err = in.meter.Int64Counter("weft.pool.job.outcomes",
		metric.WithUnit("{job}"),
		metric.WithDescription("Jobs of the worker pool by how they ended."))
	check(err)
	return m
}

// started records an attempt's queue wait and, if ctx carries a span,
// starts the attempt's span. The span is kept in the context under m as the
// key, so that ended finds its own span even in a job of another pool
// submitted from this one's.
func (m *poolMetrics) started(ctx context.Context, attempt int, wait time.Duration) context.Context {
	m.queueWait.Record(ctx, wait.Seconds(), m.plain...)
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	attrs := make([]attribute.KeyValue, 0, len(m.in.attrs)+2)
	attrs = append(attrs, m.in.attrs...)
	attrs = append(attrs, poolAttemptKey.Int(attempt), poolQueueKey.Float64(wait.Seconds()))
	ctx, span := m.in.tracer.Start(ctx, poolJobSpanName, trace.WithAttributes(attrs...), trace.WithSpanKind(trace.SpanKindConsumer))
	return context.WithValue(ctx, m, span)
}

func (m *poolMetrics) ended(ctx context.Context, o pool.Outcome, run, delay time.Duration, err error) {
	if int(o) < len(m.durations) {
		m.duration.Record(ctx, run.Seconds(), m.durations[o]...)
	}
	if o != pool.Retried {
		m.count(ctx, o)
	}
	span, ok := ctx.Value(m).(trace.Span)
	if !ok {
		return
	}
	span.SetAttributes(outcomeKey.String(o.String()))
	if o == pool.Retried {
		span.SetAttributes(poolRetryInKey.Float64(delay.Seconds()))
	}
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

func (m *poolMetrics) count(ctx context.Context, o pool.Outcome) {
	if int(o) < len(m.outcomes) {
		m.outcomeCtr.Add(ctx, 1, m.outcomes[o]...)
	}
}

// PoolStats registers gauges over stats, a [pool.Pool], [pool.ResultPool]
// or [pool.Workers] Stats method, under name: the jobs queued, running and
// waiting to retry, the workers alive, and the Submit calls waiting for
// room. stats is called at collection time only, so the gauges cost the
// pool nothing between collections. Call Unregister on the result once the
// pool is closed, or the gauges go on reporting its last counts.
func PoolStats(name string, stats func() pool.Stats, opts ...Option) metric.Registration {
	in := newInstruments(poolNameKey, name, opts)
	with := func(state string) metric.ObserveOption {
		return metric.WithAttributeSet(attribute.NewSet(append(in.attrs[:len(in.attrs):len(in.attrs)], poolStateKey.String(state))...))
	}
	queued, running, waiting := with("queued"), with("running"), with("waiting")
	plain := metric.WithAttributeSet(in.set)
	jobs, err := in.meter.Int64ObservableGauge("weft.pool.jobs",
		metric.WithUnit("{job}"),
		metric.WithDescription("Jobs in the pool now, by state: queued, running, or waiting to retry."))
	check(err)
	workers, err := in.meter.Int64ObservableGauge("weft.pool.workers",
		metric.WithUnit("{worker}"),
		metric.WithDescription("Worker goroutines of the pool alive now."))
	check(err)
	blocked, err := in.meter.Int64ObservableGauge("weft.pool.submits.blocked",
		metric.WithUnit("{call}"),
		metric.WithDescription("Submit calls waiting for room in the pool now."))
	check(err)
	reg, err := in.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := stats()
		o.ObserveInt64(jobs, int64(s.Queued), queued)
		o.ObserveInt64(jobs, int64(s.Running), running)
		o.ObserveInt64(jobs, int64(s.Waiting), waiting)
		o.ObserveInt64(workers, int64(s.Workers), plain)
		o.ObserveInt64(blocked, int64(s.Blocked), plain)
		return nil
	}, jobs, workers, blocked)
	if err != nil {
		check(err)
		return noop.Registration{}
	}
	return reg
}
