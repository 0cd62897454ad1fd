package main

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	weftotel "github.com/weftgo/weft/otel"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// telemetry is the gateway's OpenTelemetry: metrics exported in Prometheus'
// format on /metrics, and spans written as JSON lines to a writer (stdout,
// with -trace) or nowhere. Its providers belong to one gateway rather than
// being the global ones, so that tests can run several gateways in one
// process.
type telemetry struct {
	opts     []weftotel.Option       // the providers, for weft's values
	tracer   trace.Tracer            // the gateway's own spans
	requests metric.Float64Histogram // gateway.request.duration, by outcome
	handler  http.Handler            // serves /metrics
	stop     func(context.Context) error
}

func newTelemetry(traces io.Writer) (*telemetry, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, err
	}
	res := resource.NewSchemaless(attribute.String("service.name", "gateway"))
	mp := sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(exp),
		sdkmetric.WithResource(res),
		// Buckets around the budgets, 150ms for recommendations and 200ms
		// in all, for every duration: the SDK's default buckets go up to
		// 10000, for milliseconds.
		sdkmetric.WithView(sdkmetric.NewView(
			sdkmetric.Instrument{Name: "*", Kind: sdkmetric.InstrumentKindHistogram, Unit: "s"},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{
				Boundaries: []float64{.001, .0025, .005, .01, .025, .05, .1, .15, .2, .3},
			}},
		)),
	)
	t := &telemetry{handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), stop: mp.Shutdown}
	var tp trace.TracerProvider = noop.NewTracerProvider()
	if traces != nil {
		out, err := stdouttrace.New(stdouttrace.WithWriter(traces))
		if err != nil {
			return nil, err
		}
		// A syncer writes each span as it ends: simple, and slow, which is
		// fine for looking at requests one at a time. A service sends its
		// spans to a collector in batches (sdktrace.WithBatcher).
		stp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(out), sdktrace.WithResource(res))
		tp = stp
		t.stop = func(ctx context.Context) error { return errors.Join(stp.Shutdown(ctx), mp.Shutdown(ctx)) }
	}
	t.opts = []weftotel.Option{weftotel.WithMeterProvider(mp), weftotel.WithTracerProvider(tp)}
	t.tracer = tp.Tracer("github.com/weftgo/weft/examples/gateway")
	t.requests, err = mp.Meter("github.com/weftgo/weft/examples/gateway").Float64Histogram("gateway.request.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Time to answer /product/{id}, by outcome: full, degraded, failed, not_found, bad_request, canceled (the client hung up)."))
	if err != nil {
		return nil, err
	}
	return t, nil
}
