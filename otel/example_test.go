package otel_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/weftgo/weft/breaker"
	"github.com/weftgo/weft/coalesce"
	"github.com/weftgo/weft/fanout"
	weftotel "github.com/weftgo/weft/otel"
	"github.com/weftgo/weft/retry"
)

// printSums prints the value of every counter, the state a gauge is 1 for,
// and the count of every histogram in reader, with their attributes, a
// metric's data points in order of their attributes.
func printSums(reader *sdkmetric.ManualReader) {
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			var lines []string
			add := func(a ...any) { lines = append(lines, fmt.Sprintln(a...)) }
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					add(m.Name, attrString(p.Attributes), p.Value)
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					if p.Value == 1 {
						add(m.Name, attrString(p.Attributes))
					}
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					add(m.Name, attrString(p.Attributes), "count", p.Count, "sum", p.Sum)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					add(m.Name, attrString(p.Attributes), "count", p.Count)
				}
			}
			slices.Sort(lines)
			fmt.Print(strings.Join(lines, ""))
		}
	}
}

func ExampleBreaker() {
	reader := sdkmetric.NewManualReader()
	mp := weftotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))

	b := breaker.New(append(weftotel.Breaker("payments", mp), breaker.ConsecutiveFailures(1))...)
	_ = b.Run(context.Background(), func(context.Context) error { return errors.New("down") })
	_ = b.Run(context.Background(), func(context.Context) error { return nil }) // rejected

	printSums(reader)
	// Output:
	// weft.breaker.transitions {weft.breaker.name=payments,weft.breaker.reason=consecutive_failures,weft.breaker.state=open} 1
	// weft.breaker.rejections {weft.breaker.forced=false,weft.breaker.name=payments,weft.breaker.state=open} 1
	// weft.breaker.state {weft.breaker.name=payments,weft.breaker.state=open}
}

// Retry records the attempts of each call, and puts each retry on the
// caller's span as an event.
func ExampleRetry() {
	recorder := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))

	policy := retry.New(weftotel.Retry("inventory", weftotel.WithMeterProvider(mp), weftotel.WithTracerProvider(tp)),
		retry.Constant(0))
	ctx, span := tp.Tracer("app").Start(context.Background(), "GET /stock")
	calls := 0
	_ = retry.Run(ctx, policy, func(context.Context) error {
		calls++
		if calls == 1 {
			return errors.New("timeout")
		}
		return nil
	})
	span.End()

	for _, e := range recorder.Ended()[0].Events() {
		fmt.Println(e.Name, attrString(attribute.NewSet(e.Attributes...)))
	}
	printSums(reader)
	// Output:
	// weft.retry {error.message=timeout,weft.retry.attempt=1,weft.retry.delay=0,weft.retry.name=inventory}
	// weft.retry.done {outcome=success,weft.retry.attempt=2,weft.retry.name=inventory}
	// weft.retry.attempts {outcome=success,weft.retry.name=inventory} count 1 sum 2
	// weft.retry.delay {weft.retry.name=inventory} count 1
}

func ExampleFlight() {
	reader := sdkmetric.NewManualReader()
	mp := weftotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))

	g := coalesce.NewFlight[string, int](weftotel.Flight[string]("config", mp))
	_, _ = g.Do(context.Background(), "limits", func(context.Context) (int, error) { return 10, nil })

	printSums(reader)
	// Output:
	// weft.coalesce.executions {outcome=ok,weft.coalesce.name=config} 1
	// weft.coalesce.callers {outcome=ok,weft.coalesce.name=config} 1
}

func ExampleBroadcast() {
	reader := sdkmetric.NewManualReader()
	mp := weftotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))

	in := make(chan int)
	b := fanout.Broadcast(context.Background(), in, 1,
		fanout.Buffer(1), fanout.OnFull(fanout.DropNewest), weftotel.Broadcast[int]("ticks", mp))
	for i := range 3 {
		in <- i // nobody reads: the second and third are dropped
	}
	close(in)
	_ = b.Wait() // every value is delivered or dropped once Wait returns
	for range b.Outputs()[0] {
	}

	printSums(reader)
	// Output:
	// weft.fanout.drops {weft.fanout.name=ticks,weft.fanout.output=0} 2
}

// A Fanout records Gather as a span with a child span per call.
func ExampleGather() {
	recorder := tracetest.NewSpanRecorder()
	tp := weftotel.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder)))
	f := weftotel.NewFanout("product-page", tp)

	get := func(v string) func(context.Context) (string, error) {
		return func(context.Context) (string, error) { return v, nil }
	}
	rs, _ := weftotel.Gather(context.Background(), f,
		fanout.Required("product", time.Second, get("shoe")),
		fanout.Optional("reviews", time.Second, get("5 stars")))
	fmt.Println(rs[0].Value, rs[1].Value)
	for _, s := range recorder.Ended() {
		fmt.Println(s.Name(), attrString(attribute.NewSet(s.Attributes()...)))
	}
	// Output:
	// shoe 5 stars
	// weft.fanout.call {outcome=ok,weft.fanout.call=product,weft.fanout.name=product-page}
	// weft.fanout.call {outcome=ok,weft.fanout.call=reviews,weft.fanout.name=product-page}
	// weft.fanout.gather {weft.fanout.name=product-page}
}

func ExampleFirst() {
	reader := sdkmetric.NewManualReader()
	f := weftotel.NewFanout("mirrors", weftotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))

	v, err := weftotel.First(context.Background(), f, func(context.Context) (string, error) { return "mirror 0", nil })
	fmt.Println(v, err)
	printSums(reader)
	// Output:
	// mirror 0 <nil>
	// weft.fanout.call.duration {outcome=ok,weft.fanout.call=0,weft.fanout.name=mirrors} count 1
}

func ExampleHedged() {
	reader := sdkmetric.NewManualReader()
	f := weftotel.NewFanout("replicas", weftotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))

	failing := func(context.Context) (string, error) { return "", errors.New("down") }
	working := func(context.Context) (string, error) { return "replica 1", nil }
	v, err := weftotel.Hedged(context.Background(), f, time.Second, failing, working) // the failure starts the hedge at once
	fmt.Println(v, err)
	printSums(reader)
	// Output:
	// replica 1 <nil>
	// weft.fanout.call.duration {outcome=failed,weft.fanout.call=0,weft.fanout.name=replicas} count 1
	// weft.fanout.call.duration {outcome=ok,weft.fanout.call=1,weft.fanout.name=replicas} count 1
}

func ExampleFanout() {
	f := weftotel.NewFanout("search") // the global providers
	v, err := weftotel.First(context.Background(), f, func(context.Context) (int, error) { return 42, nil })
	fmt.Println(v, err)
	// Output: 42 <nil>
}

func ExampleWithAttributes() {
	reader := sdkmetric.NewManualReader()
	g := coalesce.NewFlight[string, int](weftotel.Flight[string]("config",
		weftotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))),
		weftotel.WithAttributes(attribute.String("service.tier", "edge"))))
	_, _ = g.Do(context.Background(), "limits", func(context.Context) (int, error) { return 10, nil })

	printSums(reader)
	// Output:
	// weft.coalesce.executions {outcome=ok,service.tier=edge,weft.coalesce.name=config} 1
	// weft.coalesce.callers {outcome=ok,service.tier=edge,weft.coalesce.name=config} 1
}

func ExampleWithMeterProvider() {
	reader := sdkmetric.NewManualReader()
	b := breaker.New(weftotel.Breaker("db", weftotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))...)
	b.ForceOpen()
	printSums(reader)
	// Output:
	// weft.breaker.transitions {weft.breaker.name=db,weft.breaker.reason=forced_open,weft.breaker.state=open} 1
	// weft.breaker.state {weft.breaker.name=db,weft.breaker.state=open}
}

func ExampleWithTracerProvider() {
	recorder := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	f := weftotel.NewFanout("search", weftotel.WithTracerProvider(tp))
	_, _ = weftotel.First(context.Background(), f, func(context.Context) (int, error) { return 1, nil })
	fmt.Println(len(recorder.Ended()), "spans")
	// Output: 2 spans
}
