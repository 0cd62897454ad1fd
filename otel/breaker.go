package otel

import (
	"context"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/weftgo/weft/breaker"
)

// Attributes of a breaker's measurements.
const (
	breakerNameKey   = attribute.Key("weft.breaker.name")
	breakerStateKey  = attribute.Key("weft.breaker.state")
	breakerReasonKey = attribute.Key("weft.breaker.reason")
	breakerForcedKey = attribute.Key("weft.breaker.forced")
)

// Breaker returns the options that make a [breaker.Breaker] record its
// metrics under name: pass them to [breaker.New] before options of your own.
// They set [breaker.Name] to name and the hooks [breaker.OnStateChange],
// [breaker.OnReject] and [breaker.OnSlowCall], so a later option for one of
// those replaces it. The state gauge is read at collection time and stays
// registered with the MeterProvider.
func Breaker(name string, opts ...Option) []breaker.Option {
	in := newInstruments(breakerNameKey, name, opts)
	m := &breakerMetrics{in: in}
	// Each state's attribute set is made once: recording with a set
	// allocates nothing.
	for i, s := range []breaker.State{breaker.Closed, breaker.Open, breaker.HalfOpen} {
		m.states[i] = attribute.NewSet(append(in.attrs[:len(in.attrs):len(in.attrs)], breakerStateKey.String(stateName(s)))...)
	}
	for i, s := range []breaker.State{breaker.Closed, breaker.Open, breaker.HalfOpen} {
		for j, forced := range []bool{false, true} {
			m.rejects[i][j] = []metric.AddOption{in.with(breakerStateKey.String(stateName(s)), breakerForcedKey.Bool(forced))}
		}
	}
	m.plain = []metric.RecordOption{in.with()}
	var err error
	m.transitions, err = in.meter.Int64Counter("weft.breaker.transitions",
		metric.WithUnit("{transition}"),
		metric.WithDescription("State changes of the circuit breaker, by the state entered and the reason."))
	check(err)
	m.rejections, err = in.meter.Int64Counter("weft.breaker.rejections",
		metric.WithUnit("{call}"),
		metric.WithDescription("Calls the circuit breaker rejected, by the state that rejected them."))
	check(err)
	m.slow, err = in.meter.Float64Histogram("weft.breaker.slow_call.duration",
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(secondsBuckets...),
		metric.WithDescription("Durations of the successful calls the circuit breaker counted as slow."))
	check(err)
	m.gauge, err = in.meter.Int64ObservableGauge("weft.breaker.state",
		metric.WithUnit("{state}"),
		metric.WithDescription("1 for the circuit breaker's current state, 0 for the others."))
	check(err)
	// Registered apart from the gauge: the SDK keeps only the first
	// callback given when an instrument of the same name is made again, so
	// a callback passed with WithInt64Callback would report only the first
	// breaker of a MeterProvider.
	_, err = in.meter.RegisterCallback(m.observe, m.gauge)
	check(err)
	return []breaker.Option{
		breaker.Name(name),
		breaker.OnStateChange(m.changed),
		breaker.OnReject(m.rejected),
		breaker.OnSlowCall(m.slowCall),
	}
}

type breakerMetrics struct {
	in     instruments
	state  atomic.Int32 // the state entered by the last event delivered
	states [3]attribute.Set
	// Options made once, so that a rejection, which may be most calls,
	// allocates nothing here: by state and forced.
	rejects     [3][2][]metric.AddOption
	plain       []metric.RecordOption
	transitions metric.Int64Counter
	rejections  metric.Int64Counter
	slow        metric.Float64Histogram
	gauge       metric.Int64ObservableGauge
}

func (m *breakerMetrics) changed(e breaker.Event) {
	m.state.Store(int32(e.To))
	m.transitions.Add(context.Background(), 1, m.in.with(breakerStateKey.String(stateName(e.To)), breakerReasonKey.String(reasonName(e.Reason))))
}

func (m *breakerMetrics) rejected(err *breaker.OpenError) {
	forced := 0
	if err.Forced {
		forced = 1
	}
	if s := int(err.State); s >= 0 && s < len(m.rejects) {
		m.rejections.Add(context.Background(), 1, m.rejects[s][forced]...)
	}
}

func (m *breakerMetrics) slowCall(took time.Duration) {
	m.slow.Record(context.Background(), took.Seconds(), m.plain...)
}

// observe reports the state as of the last change the breaker delivered.
func (m *breakerMetrics) observe(_ context.Context, o metric.Observer) error {
	cur := breaker.State(m.state.Load())
	for i, s := range []breaker.State{breaker.Closed, breaker.Open, breaker.HalfOpen} {
		v := int64(0)
		if s == cur {
			v = 1
		}
		o.ObserveInt64(m.gauge, v, metric.WithAttributeSet(m.states[i]))
	}
	return nil
}

// stateName is a state as an attribute value: "closed", "open" or
// "half_open".
func stateName(s breaker.State) string {
	switch s {
	case breaker.Closed:
		return "closed"
	case breaker.Open:
		return "open"
	case breaker.HalfOpen:
		return "half_open"
	}
	return s.String()
}

// reasonName is a reason as an attribute value: its String in snake case.
func reasonName(r breaker.Reason) string {
	b := []byte(r.String())
	for i, c := range b {
		if c == ' ' || c == '-' {
			b[i] = '_'
		}
	}
	return string(b)
}
