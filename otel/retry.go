package otel

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/weftgo/weft/retry"
)

// Attributes of a retry policy's measurements and span events.
const (
	retryNameKey    = attribute.Key("weft.retry.name")
	retryAttemptKey = attribute.Key("weft.retry.attempt")
	retryDelayKey   = attribute.Key("weft.retry.delay")
	errorMessageKey = attribute.Key("error.message")
)

// Retry returns the option that makes a [retry.Policy] record its metrics
// under name and add span events to the caller's span, the one in the
// context of [retry.Do] and the rest: pass it to [retry.New] or
// [retry.Policy.With]. It sets the [retry.OnEvent] hook, so a later OnEvent
// replaces it; [retry.OnRetry] is left alone.
func Retry(name string, opts ...Option) retry.Option {
	in := newInstruments(retryNameKey, name, opts)
	m := &retryMetrics{in: in}
	for i, o := range retryOutcomes {
		m.outcomes[i] = []metric.RecordOption{in.with(outcomeKey.String(o))}
	}
	m.plain = []metric.RecordOption{in.with()}
	var err error
	m.attempts, err = in.meter.Int64Histogram("weft.retry.attempts",
		metric.WithUnit("{attempt}"),
		metric.WithDescription("Attempts per call under the retry policy, by how the call ended."),
		metric.WithExplicitBucketBoundaries(1, 2, 3, 4, 5, 6, 8, 10, 16, 32))
	check(err)
	m.delay, err = in.meter.Float64Histogram("weft.retry.delay",
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(secondsBuckets...),
		metric.WithDescription("Waits before retries under the retry policy."))
	check(err)
	return retry.OnEvent(m.event)
}

// retryOutcomes are the values of the outcome attribute of a call: how it
// ended.
var retryOutcomes = [...]string{"success", "exhausted", "not_retryable", "max_elapsed", "deadline", "budget", "abandoned", "canceled"}

type retryMetrics struct {
	in instruments
	// Options made once: a variadic slice made per call would escape.
	outcomes [len(retryOutcomes)][]metric.RecordOption
	plain    []metric.RecordOption
	attempts metric.Int64Histogram
	delay    metric.Float64Histogram
}

func (m *retryMetrics) event(ctx context.Context, e retry.Event) {
	span := trace.SpanFromContext(ctx)
	if !e.Done {
		m.delay.Record(ctx, e.Delay.Seconds(), m.plain...)
		if span.IsRecording() {
			span.AddEvent("weft.retry", trace.WithAttributes(
				retryNameKey.String(m.in.attrs[0].Value.AsString()),
				retryAttemptKey.Int(e.Attempt),
				retryDelayKey.Float64(e.Delay.Seconds()),
				errorMessageKey.String(e.Err.Error())))
		}
		return
	}
	o := retryOutcome(e.Final)
	m.attempts.Record(ctx, int64(e.Attempt), m.outcomes[o]...)
	if span.IsRecording() {
		attrs := []attribute.KeyValue{
			retryNameKey.String(m.in.attrs[0].Value.AsString()),
			retryAttemptKey.Int(e.Attempt),
			outcomeKey.String(retryOutcomes[o]),
		}
		if e.Final != nil {
			attrs = append(attrs, errorMessageKey.String(e.Final.Error()))
		}
		span.AddEvent("weft.retry.done", trace.WithAttributes(attrs...))
	}
}

// retryOutcome returns the index in retryOutcomes of how a call that ended
// with err ended.
func retryOutcome(err error) int {
	var re *retry.Error
	if err == nil {
		return 0
	}
	if errors.As(err, &re) {
		for i, cause := range []error{retry.ErrExhausted, retry.ErrNotRetryable, retry.ErrMaxElapsed, retry.ErrDeadline, retry.ErrBudget, retry.ErrAbandoned} {
			if errors.Is(re.Cause, cause) {
				return i + 1
			}
		}
	}
	return len(retryOutcomes) - 1 // the caller's context ended it
}
