package otel

import (
	gotel "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// scope is the instrumentation scope of every meter and tracer of this
// package.
const scope = "github.com/weftgo/weft/otel"

// An Option configures the instruments and spans of one weft value; the last
// of a kind wins.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	mp    metric.MeterProvider
	tp    trace.TracerProvider
	attrs []attribute.KeyValue
}

// WithMeterProvider records metrics with mp instead of the global
// MeterProvider ([go.opentelemetry.io/otel.GetMeterProvider]).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.mp = mp })
}

// WithTracerProvider records spans and span events with tp instead of the
// global TracerProvider ([go.opentelemetry.io/otel.GetTracerProvider]).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) { c.tp = tp })
}

// WithAttributes adds attrs to every measurement and span of the value, after
// its name attribute.
func WithAttributes(attrs ...attribute.KeyValue) Option {
	return optionFunc(func(c *config) { c.attrs = append([]attribute.KeyValue(nil), attrs...) })
}

// instruments is what every value's instruments start from: a meter, a
// tracer and the attributes common to its measurements.
type instruments struct {
	meter  metric.Meter
	tracer trace.Tracer
	attrs  []attribute.KeyValue // the name attribute, then WithAttributes
	set    attribute.Set        // attrs as a set, for observations
}

func newInstruments(nameKey attribute.Key, name string, opts []Option) instruments {
	var c config
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.mp == nil {
		c.mp = gotel.GetMeterProvider()
	}
	if c.tp == nil {
		c.tp = gotel.GetTracerProvider()
	}
	attrs := append([]attribute.KeyValue{nameKey.String(name)}, c.attrs...)
	return instruments{
		meter:  c.mp.Meter(scope),
		tracer: c.tp.Tracer(scope),
		attrs:  attrs,
		set:    attribute.NewSet(attrs...),
	}
}

// with returns the value's attributes followed by more, as a measurement
// option.
func (in *instruments) with(more ...attribute.KeyValue) metric.MeasurementOption {
	if len(more) == 0 {
		return metric.WithAttributeSet(in.set)
	}
	return metric.WithAttributes(append(append(make([]attribute.KeyValue, 0, len(in.attrs)+len(more)), in.attrs...), more...)...)
}

// check hands an error from making an instrument to OpenTelemetry's error
// handler: the instrument returned with it still works, as a no-op at worst.
func check(err error) {
	if err != nil {
		gotel.Handle(err)
	}
}

// The attributes shared by several values.
const (
	outcomeKey = attribute.Key("outcome")
)
