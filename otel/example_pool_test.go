package otel_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	weftotel "github.com/weftgo/weft/otel"
	"github.com/weftgo/weft/pool"
)

// Workers records each job's queue wait, run time and outcome, and with
// PropagateValues runs each attempt in a span under the submitter's.
func ExampleWorkers() {
	recorder := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))

	ctx := context.Background()
	w := pool.NewWorkers(ctx, 1, func(ctx context.Context, to string) error {
		if to == "" {
			return errors.New("no address")
		}
		return nil
	},
		weftotel.Workers[string]("emails", weftotel.WithMeterProvider(mp), weftotel.WithTracerProvider(tp)),
		pool.PropagateValues(true))

	req, span := tp.Tracer("app").Start(ctx, "POST /signup")
	w.Submit(req, "ada@example.com")
	w.Submit(req, "")
	span.End()
	w.Close(ctx)

	for _, s := range recorder.Ended() {
		if s.Name() == "weft.pool.job" {
			fmt.Println(s.Name(), "in trace of POST /signup:", s.Parent().SpanID() == span.SpanContext().SpanID(), s.Status().Code)
		}
	}
	printSums(reader)
	// Output:
	// weft.pool.job in trace of POST /signup: true Unset
	// weft.pool.job in trace of POST /signup: true Error
	// weft.pool.job.queue_wait {weft.pool.name=emails} count 2
	// weft.pool.job.duration {outcome=failed,weft.pool.name=emails} count 1
	// weft.pool.job.duration {outcome=succeeded,weft.pool.name=emails} count 1
	// weft.pool.job.outcomes {outcome=failed,weft.pool.name=emails} 1
	// weft.pool.job.outcomes {outcome=succeeded,weft.pool.name=emails} 1
}

// PoolStats gauges what a pool holds now, read from its Stats at each
// collection.
func ExamplePoolStats() {
	reader := sdkmetric.NewManualReader()
	mp := weftotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))

	ctx := context.Background()
	release := make(chan struct{})
	w := pool.NewWorkers(ctx, 1, func(context.Context, int) error { <-release; return nil })
	reg := weftotel.PoolStats("resize", w.Stats, mp)
	defer reg.Unregister()
	for n := range 3 {
		w.Submit(ctx, n)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		panic(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		var lines []string
		for _, p := range m.Data.(metricdata.Gauge[int64]).DataPoints {
			lines = append(lines, fmt.Sprintln(m.Name, attrString(p.Attributes), p.Value))
		}
		slices.Sort(lines)
		fmt.Print(strings.Join(lines, ""))
	}
	close(release)
	w.Close(ctx)
	// Output:
	// weft.pool.jobs {weft.pool.job.state=queued,weft.pool.name=resize} 2
	// weft.pool.jobs {weft.pool.job.state=running,weft.pool.name=resize} 1
	// weft.pool.jobs {weft.pool.job.state=waiting,weft.pool.name=resize} 0
	// weft.pool.workers {weft.pool.name=resize} 1
	// weft.pool.submits.blocked {weft.pool.name=resize} 0
}
