package otel

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/weftgo/weft/coalesce"
)

const coalesceNameKey = attribute.Key("weft.coalesce.name")

// Flight returns the option that makes a [coalesce.Flight] record its
// executions and the callers they served under name: pass it to
// [coalesce.NewFlight]. It sets the [coalesce.OnDone] hook, so a later OnDone
// replaces it. Callers per execution is the share of work coalescing saved.
func Flight[K comparable](name string, opts ...Option) coalesce.FlightOption[K] {
	in := newInstruments(coalesceNameKey, name, opts)
	m := &groupMetrics{
		in:     in,
		ok:     []metric.AddOption{in.with(outcomeKey.String("ok"))},
		failed: []metric.AddOption{in.with(outcomeKey.String("error"))},
	}
	var err error
	m.executions, err = in.meter.Int64Counter("weft.coalesce.executions",
		metric.WithUnit("{execution}"),
		metric.WithDescription("Executions of fn by the coalescing group, by outcome."))
	check(err)
	m.callers, err = in.meter.Int64Counter("weft.coalesce.callers",
		metric.WithUnit("{call}"),
		metric.WithDescription("Callers served by the coalescing group's executions, by outcome."))
	check(err)
	return coalesce.OnDone(func(_ K, callers int, err error) {
		o := m.ok
		if err != nil {
			o = m.failed
		}
		m.executions.Add(context.Background(), 1, o...)
		m.callers.Add(context.Background(), int64(callers), o...)
	})
}

type groupMetrics struct {
	in                  instruments
	ok, failed          []metric.AddOption
	executions, callers metric.Int64Counter
}
