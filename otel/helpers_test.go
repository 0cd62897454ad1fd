package otel_test

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	weftotel "github.com/weftgo/weft/otel"
)

// telemetry is an in-memory metric reader and span recorder, and the
// options that send a value's telemetry to them.
type telemetry struct {
	reader   *sdkmetric.ManualReader
	recorder *tracetest.SpanRecorder
	tp       *sdktrace.TracerProvider
	opts     []weftotel.Option
}

func newTelemetry() *telemetry {
	reader := sdkmetric.NewManualReader()
	recorder := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	return &telemetry{
		reader:   reader,
		recorder: recorder,
		tp:       tp,
		opts: []weftotel.Option{
			weftotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))),
			weftotel.WithTracerProvider(tp),
		},
	}
}

// metrics collects the metrics and returns one line per data point, sorted:
// name, unit, attributes and value (count and sum for a histogram).
// t is a *testing.T or a *rapid.T.
func (tel *telemetry) metrics(t interface {
	require.TestingT
	Helper()
	Fatalf(format string, args ...any)
}) []string {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(context.Background(), &rm))
	var lines []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			add := func(kind string, attrs attribute.Set, value string) {
				lines = append(lines, fmt.Sprintf("%s %s %s %s %s", m.Name, kind, m.Unit, attrString(attrs), value))
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					add("counter", p.Attributes, fmt.Sprint(p.Value))
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					add("gauge", p.Attributes, fmt.Sprint(p.Value))
				}
			case metricdata.Histogram[int64]:
				for _, p := range d.DataPoints {
					add("histogram", p.Attributes, fmt.Sprintf("count=%d sum=%d", p.Count, p.Sum))
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					add("histogram", p.Attributes, fmt.Sprintf("count=%d sum=%g", p.Count, p.Sum))
				}
			default:
				t.Fatalf("metric %s has unexpected data %T", m.Name, m.Data)
			}
		}
	}
	slices.Sort(lines)
	return lines
}

func attrString(s attribute.Set) string {
	var parts []string
	for _, kv := range s.ToSlice() {
		parts = append(parts, string(kv.Key)+"="+kv.Value.String())
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// spans returns one line per ended span, in the order they ended: name,
// parent's name, duration, attributes, status, and events with their
// attributes.
func (tel *telemetry) spans() []string {
	ended := tel.recorder.Ended()
	names := map[[8]byte]string{}
	for _, s := range ended {
		names[s.SpanContext().SpanID()] = s.Name()
	}
	var lines []string
	for _, s := range ended {
		line := fmt.Sprintf("%s parent=%s %v %s", s.Name(), names[s.Parent().SpanID()], s.EndTime().Sub(s.StartTime()), attrString(attribute.NewSet(s.Attributes()...)))
		if st := s.Status(); st.Code.String() != "Unset" {
			line += " status=" + st.Code.String() + ":" + st.Description
		}
		for _, e := range s.Events() {
			line += fmt.Sprintf(" | %s %s", e.Name, attrString(attribute.NewSet(e.Attributes...)))
		}
		lines = append(lines, line)
	}
	return lines
}
