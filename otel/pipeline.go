package otel

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/weftgo/weft/pipeline"
)

// The attribute of a pipeline stage's measurements.
const pipelineStageKey = attribute.Key("weft.pipeline.stage")

// Stage returns the options that make a pipeline stage ([pipeline.Map],
// [pipeline.Filter], [pipeline.FlatMap], [pipeline.Tap], [pipeline.ForEach])
// record its metrics under name: pass them to the stage before options of
// your own. They set [pipeline.Name] to name and the [pipeline.OnEvent]
// hook, so a later option for one of those replaces it. Each call costs a
// histogram record on the stage's worker, and a counter add when it hands on
// items or fails; items carry no context, so a stage makes no spans.
func Stage(name string, opts ...Option) []pipeline.Option {
	in := newInstruments(pipelineStageKey, name, opts)
	m := &stageMetrics{
		ok:    []metric.RecordOption{in.with(outcomeKey.String("ok"))},
		error: []metric.RecordOption{in.with(outcomeKey.String("error"))},
		plain: []metric.RecordOption{in.with()},
		add:   []metric.AddOption{in.with()},
	}
	var err error
	m.item, err = in.meter.Float64Histogram("weft.pipeline.item.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Time the pipeline stage's function took per item, by outcome; its count is the items the stage took in."))
	check(err)
	m.blocked, err = in.meter.Float64Histogram("weft.pipeline.blocked.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Waits of the pipeline stage for its consumer to take its output."))
	check(err)
	m.out, err = in.meter.Int64Counter("weft.pipeline.items.out",
		metric.WithUnit("{item}"),
		metric.WithDescription("Items the pipeline stage handed on."))
	check(err)
	m.errors, err = in.meter.Int64Counter("weft.pipeline.errors",
		metric.WithUnit("{error}"),
		metric.WithDescription("Errors the pipeline stage's function returned, also those an OnError handler took."))
	check(err)
	return []pipeline.Option{pipeline.Name(name), pipeline.OnEvent(m.event)}
}

type stageMetrics struct {
	// Options made once: a variadic slice made per item would escape.
	ok, error, plain []metric.RecordOption
	add              []metric.AddOption
	item, blocked    metric.Float64Histogram
	out, errors      metric.Int64Counter
}

func (m *stageMetrics) event(e pipeline.Event) {
	// The hook has no context: measurements carry none.
	ctx := context.Background()
	switch {
	case e.Wait:
		m.blocked.Record(ctx, e.Took.Seconds(), m.plain...)
		return
	case e.Err != nil:
		m.item.Record(ctx, e.Took.Seconds(), m.error...)
		m.errors.Add(ctx, 1, m.add...)
	default:
		m.item.Record(ctx, e.Took.Seconds(), m.ok...)
	}
	if e.Out > 0 {
		m.out.Add(ctx, int64(e.Out), m.add...)
	}
}
