package otel

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/weftgo/weft/fanout"
)

// Attributes of a fan-out's measurements and spans.
const (
	fanoutNameKey   = attribute.Key("weft.fanout.name")
	fanoutOutputKey = attribute.Key("weft.fanout.output")
	fanoutCallKey   = attribute.Key("weft.fanout.call")
)

// Broadcast returns the option that makes a [fanout.Broadcast] count the
// values it drops under name: pass it to Broadcast with a drop policy
// ([fanout.OnFull]). It sets the [fanout.OnDrop] hook, so a later OnDrop
// replaces it.
func Broadcast[T any](name string, opts ...Option) fanout.Option {
	in := newInstruments(fanoutNameKey, name, opts)
	drops, err := in.meter.Int64Counter("weft.fanout.drops",
		metric.WithUnit("{value}"),
		metric.WithDescription("Values the broadcast dropped for an output whose buffer was full, by output."))
	check(err)
	// Each output's options are made at its first drop and kept, so that
	// dropping, which may be most sends, allocates nothing here.
	var byOutput sync.Map // int → []metric.AddOption
	return fanout.OnDrop(func(output int, _ T) {
		o, ok := byOutput.Load(output)
		if !ok {
			o, _ = byOutput.LoadOrStore(output, []metric.AddOption{in.with(fanoutOutputKey.Int(output))})
		}
		drops.Add(context.Background(), 1, o.([]metric.AddOption)...)
	})
}

// Fanout records the calls of [Gather], [First] and [Hedged] under one name:
// a span for each run, a child span for each call, and a histogram of the
// calls' durations by outcome. Make one with [NewFanout] and share it; it is
// safe for concurrent use.
type Fanout struct {
	in       instruments
	name     string
	duration metric.Float64Histogram
}

// NewFanout returns a [Fanout] recording under name.
func NewFanout(name string, opts ...Option) *Fanout {
	in := newInstruments(fanoutNameKey, name, opts)
	d, err := in.meter.Float64Histogram("weft.fanout.call.duration",
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(secondsBuckets...),
		metric.WithDescription("Durations of the calls of a gather, first or hedged fan-out, by call and outcome."))
	check(err)
	return &Fanout{in: in, name: name, duration: d}
}

// Gather is [fanout.Gather] recorded by f: it runs in a span named
// "weft.fanout.gather", each call in a child span "weft.fanout.call" whose
// context is the call's, and records each call's duration with its
// [fanout.Status] as outcome, also for calls that never ran.
func Gather[R any](ctx context.Context, f *Fanout, calls ...fanout.Call[R]) (fanout.Results[R], error) {
	ctx, span := f.in.tracer.Start(ctx, "weft.fanout.gather", trace.WithAttributes(f.in.attrs...))
	defer span.End()
	spans := make([]trace.Span, len(calls))
	ends := make([]time.Time, len(calls))
	wrapped := make([]fanout.Call[R], len(calls))
	for i, c := range calls {
		fn := c.Fn
		if fn != nil { // a nil Fn makes fanout.Gather panic, as it should
			c.Fn = func(ctx context.Context) (R, error) {
				ctx, spans[i] = f.in.tracer.Start(ctx, "weft.fanout.call", trace.WithAttributes(f.callAttrs(c.Name)...))
				defer func() { ends[i] = time.Now() }()
				return fn(ctx)
			}
		}
		wrapped[i] = c
	}
	rs, err := fanout.Gather(ctx, wrapped...)
	for i := range rs {
		r := &rs[i]
		o := statusName(r.Status)
		f.duration.Record(ctx, r.Duration.Seconds(), f.in.with(fanoutCallKey.String(r.Name), outcomeKey.String(o)))
		if s := spans[i]; s != nil {
			s.SetAttributes(outcomeKey.String(o))
			if r.Status != fanout.OK {
				s.SetStatus(codes.Error, r.Err.Error())
			}
			s.End(trace.WithTimestamp(ends[i]))
		}
	}
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	return rs, err
}

// First is [fanout.First] recorded by f, as [Hedged] is.
func First[R any](ctx context.Context, f *Fanout, calls ...func(ctx context.Context) (R, error)) (R, error) {
	ctx, span := f.in.tracer.Start(ctx, "weft.fanout.first", trace.WithAttributes(f.in.attrs...))
	defer span.End()
	v, err := fanout.First(ctx, wrap(f, calls)...)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	return v, err
}

// Hedged is [fanout.Hedged] recorded by f: it runs in a span named
// "weft.fanout.hedged", each call it starts in a child span
// "weft.fanout.call" with the call's index as weft.fanout.call, and records
// each call's duration with its outcome: ok, failed, canceled (by the winner
// or ctx), timed_out or panicked.
func Hedged[R any](ctx context.Context, f *Fanout, delay time.Duration, calls ...func(ctx context.Context) (R, error)) (R, error) {
	ctx, span := f.in.tracer.Start(ctx, "weft.fanout.hedged", trace.WithAttributes(f.in.attrs...))
	defer span.End()
	v, err := fanout.Hedged(ctx, delay, wrap(f, calls)...)
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	return v, err
}

// wrap returns calls, each in a span, timed and recorded.
func wrap[R any](f *Fanout, calls []func(context.Context) (R, error)) []func(context.Context) (R, error) {
	wrapped := make([]func(context.Context) (R, error), len(calls))
	for i, fn := range calls {
		if fn == nil {
			continue // fanout panics, naming the call
		}
		wrapped[i] = func(ctx context.Context) (v R, err error) {
			name := strconv.Itoa(i)
			ctx, span := f.in.tracer.Start(ctx, "weft.fanout.call", trace.WithAttributes(f.callAttrs(name)...))
			begin := time.Now()
			returned := false
			defer func() {
				// No recover: a panic goes on to fanout, which reports it.
				o := "panicked"
				switch {
				case !returned:
				case err == nil:
					o = "ok"
				case ctx.Err() == nil:
					o = "failed"
				case errors.Is(ctx.Err(), context.DeadlineExceeded):
					o = "timed_out"
				default:
					o = "canceled"
				}
				f.duration.Record(ctx, time.Since(begin).Seconds(), f.in.with(fanoutCallKey.String(name), outcomeKey.String(o)))
				span.SetAttributes(outcomeKey.String(o))
				if o != "ok" {
					msg := o
					if err != nil {
						msg = err.Error()
					}
					span.SetStatus(codes.Error, msg)
				}
				span.End()
			}()
			v, err = fn(ctx)
			returned = true
			return v, err
		}
	}
	return wrapped
}

// callAttrs returns the attributes of a call's span.
func (f *Fanout) callAttrs(call string) []attribute.KeyValue {
	return append(f.in.attrs[:len(f.in.attrs):len(f.in.attrs)], fanoutCallKey.String(call))
}

// statusName is a status as an attribute value.
func statusName(s fanout.Status) string {
	switch s {
	case fanout.OK:
		return "ok"
	case fanout.Failed:
		return "failed"
	case fanout.TimedOut:
		return "timed_out"
	case fanout.Canceled:
		return "canceled"
	case fanout.Panicked:
		return "panicked"
	}
	return s.String()
}
