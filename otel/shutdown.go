package otel

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/weftgo/weft/shutdown"
)

// Attributes of a shutdown group's measurements and spans.
const (
	shutdownNameKey      = attribute.Key("weft.shutdown.name")
	shutdownComponentKey = attribute.Key("weft.shutdown.component")
)

// Shutdown returns the options that make a [shutdown.Group] record the start
// and stop of each component under name, as metrics and as a span each:
// pass them to [shutdown.New]. They set the hooks [shutdown.OnStart] and
// [shutdown.OnStop], so a later option for one of those replaces it. The
// spans are roots, since the hooks have no context: weft.shutdown.start
// and weft.shutdown.stop, each spanning the component's start or stop.
func Shutdown(name string, opts ...Option) []shutdown.Option {
	in := newInstruments(shutdownNameKey, name, opts)
	m := &shutdownMetrics{in: in}
	var err error
	m.start, err = in.meter.Float64Histogram("weft.shutdown.start.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Time each component of the shutdown group took to start, by outcome."))
	check(err)
	m.stop, err = in.meter.Float64Histogram("weft.shutdown.stop.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Time each component of the shutdown group took to stop, by outcome."))
	check(err)
	return []shutdown.Option{
		shutdown.OnStart(func(component string, err error, took time.Duration) {
			m.record(m.start, "weft.shutdown.start", component, startOutcome(err), err, took)
		}),
		shutdown.OnStop(func(component string, err error, took time.Duration) {
			m.record(m.stop, "weft.shutdown.stop", component, stopOutcome(err), err, took)
		}),
	}
}

type shutdownMetrics struct {
	in          instruments
	start, stop metric.Float64Histogram
}

// record records a start or a stop that has just ended, and its span.
func (m *shutdownMetrics) record(h metric.Float64Histogram, span, component, outcome string, err error, took time.Duration) {
	ctx := context.Background()
	end := time.Now()
	h.Record(ctx, took.Seconds(), m.in.with(shutdownComponentKey.String(component), outcomeKey.String(outcome)))
	attrs := append(append(make([]attribute.KeyValue, 0, len(m.in.attrs)+2), m.in.attrs...),
		shutdownComponentKey.String(component), outcomeKey.String(outcome))
	_, s := m.in.tracer.Start(ctx, span, trace.WithTimestamp(end.Add(-took)), trace.WithAttributes(attrs...))
	if err != nil {
		s.SetStatus(codes.Error, err.Error())
	}
	s.End(trace.WithTimestamp(end))
}

// startOutcome names how a start ended: ok, error or interrupted.
func startOutcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, shutdown.ErrInterrupted):
		return "interrupted"
	default:
		return "error"
	}
}

// stopOutcome names how a stop ended: ok, error or abandoned (it overran
// its budget).
func stopOutcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, shutdown.ErrAbandoned):
		return "abandoned"
	default:
		return "error"
	}
}
