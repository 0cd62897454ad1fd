package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scrape returns the metric families of /metrics, by name.
func (g *testGateway) scrape() map[string]*dto.MetricFamily {
	g.t.Helper()
	resp, err := g.client.Get(g.url + "/metrics")
	require.NoError(g.t, err)
	defer resp.Body.Close()
	require.Equal(g.t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(g.t, err)
	return families
}

// metric returns the value of the series of /metrics named name with the
// labels given as "key=value" (and any others), or fails the test if there
// is not exactly one. A histogram's series are its family's name with _count
// or _sum; a counter's end in _total.
func (g *testGateway) metric(name string, labels ...string) float64 {
	g.t.Helper()
	families := g.scrape()
	family, suffix := name, ""
	if _, ok := families[name]; !ok {
		for _, s := range []string{"_count", "_sum"} {
			if f, ok := strings.CutSuffix(name, s); ok {
				family, suffix = f, s
			}
		}
	}
	mf := families[family]
	require.NotNil(g.t, mf, "/metrics has no %s", family)
	var found []float64
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		if !slices.ContainsFunc(labels, func(kv string) bool { k, v, _ := strings.Cut(kv, "="); return have[k] != v }) {
			found = append(found, value(m, suffix))
		}
	}
	require.Len(g.t, found, 1, "/metrics: series of %s with %v", name, labels)
	return found[0]
}

// value is a sample of m: a histogram's count or sum by suffix, or the value
// of a counter or gauge.
func value(m *dto.Metric, suffix string) float64 {
	switch {
	case suffix == "_count":
		return float64(m.GetHistogram().GetSampleCount())
	case suffix == "_sum":
		return m.GetHistogram().GetSampleSum()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

// generous gives every request, and its recommendations, as much time as
// the tests wait for anything: what a request's calls do then does not
// depend on how loaded the machine is.
func generous(cfg *config) {
	cfg.budget, cfg.recsTimeout = wait, wait
}

// After n full answers, /metrics has the families of the gateway's requests
// and of its breakers, retry policies and fan-out, each histogram counting
// what happened.
func TestMetricsAfterRequests(t *testing.T) {
	const n = 5
	gw, _ := start(t, generous)
	for i := range n {
		r := gw.get("/product/" + strconv.Itoa(i+1))
		require.Equal(t, http.StatusOK, r.code)
		require.False(t, r.answer.Degraded, "answer to request %d", i+1)
	}

	families := gw.scrape()
	for name, typ := range map[string]dto.MetricType{
		"gateway_request_duration_seconds":  dto.MetricType_HISTOGRAM,
		"weft_fanout_call_duration_seconds": dto.MetricType_HISTOGRAM,
		"weft_retry_attempts":               dto.MetricType_HISTOGRAM,
		"weft_breaker_state":                dto.MetricType_GAUGE,
	} {
		if assert.Contains(t, families, name) {
			assert.Equal(t, typ, families[name].GetType(), name)
		}
	}
	assert.Len(t, families["weft_breaker_state"].GetMetric(), 3*len(names), "weft_breaker_state: three states of three breakers")
	assert.Equal(t, float64(n), gw.metric("gateway_request_duration_seconds_count", "outcome=full"))
	for _, name := range names {
		assert.Equal(t, float64(n), gw.metric("weft_fanout_call_duration_seconds_count", "weft_fanout_name=product", "weft_fanout_call="+name, "outcome=ok"), name)
		assert.Equal(t, float64(n), gw.metric("weft_retry_attempts_count", "weft_retry_name="+name, "outcome=success"), name)
		assert.Equal(t, float64(n), gw.metric("weft_retry_attempts_sum", "weft_retry_name="+name, "outcome=success"), name)
		assert.Equal(t, 1.0, gw.metric("weft_breaker_state", "weft_breaker_name="+name, "weft_breaker_state=closed"), name)
	}
}

// span is what the tests read of a span the stdout exporter wrote.
type span struct {
	Name        string
	SpanContext struct{ TraceID, SpanID string }
	Parent      struct{ SpanID string }
	StartTime   string
	Attributes  []attr
	Events      []struct {
		Name       string
		Attributes []attr
	}
	Status struct{ Code string }
}

type attr struct {
	Key   string
	Value struct{ Value any }
}

// traces reads the spans written as JSON lines, and returns each trace as
// lines, one per span or event, indented by depth, children in the order
// they started. A span line has its name and status and those of attributes
// that do not vary from run to run; an event line its name, attempt and
// outcome.
func traces(t *testing.T, out []byte) [][]string {
	t.Helper()
	children := map[string][]span{}
	var roots []span
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var s span
		require.NoError(t, dec.Decode(&s))
		if s.Parent.SpanID == "0000000000000000" {
			roots = append(roots, s)
		}
		children[s.Parent.SpanID] = append(children[s.Parent.SpanID], s)
	}
	byStart := func(a, b span) int { return strings.Compare(a.StartTime, b.StartTime) }
	slices.SortFunc(roots, byStart)
	keep := func(attrs []attr, keys ...string) string {
		var b strings.Builder
		for _, a := range attrs {
			if slices.Contains(keys, a.Key) {
				fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Value)
			}
		}
		return b.String()
	}
	var render func(s span, depth int, lines []string) []string
	render = func(s span, depth int, lines []string) []string {
		indent := strings.Repeat("  ", depth)
		lines = append(lines, indent+s.Name+keep(s.Attributes, "outcome", "http.response.status_code", "weft.fanout.call",
			"gateway.attempt", "gateway.breaker.verdict", "gateway.breaker.state")+" "+s.Status.Code)
		for _, e := range s.Events {
			lines = append(lines, indent+"  event "+e.Name+keep(e.Attributes, "weft.retry.attempt", "outcome"))
		}
		kids := children[s.SpanContext.SpanID]
		slices.SortFunc(kids, byStart)
		for _, c := range kids {
			lines = render(c, depth+1, lines)
		}
		return lines
	}
	var all [][]string
	for _, r := range roots {
		all = append(all, render(r, 0, nil))
	}
	return all
}

// subtree returns the lines of the span whose line starts with first (after
// its indentation) and of its descendants, with the parents' lines above it.
func subtree(lines []string, first string) []string {
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimLeft(l, " "), first) {
			depth := len(l) - len(strings.TrimLeft(l, " "))
			end := i + 1
			for end < len(lines) && len(lines[end])-len(strings.TrimLeft(lines[end], " ")) > depth {
				end++
			}
			return lines[i:end]
		}
	}
	return nil
}

// With -trace, each request is a trace: the request's span, Gather's, a span
// per downstream call with the retries as events, and a span per attempt
// that says whether the breaker admitted it and how the downstream answered.
// Price failing, the first request makes three attempts; once 20 calls have
// failed, the breaker rejects the next one.
func TestTraceOfARequest(t *testing.T) {
	var out bytes.Buffer // written by the gateway until stop returns
	gw, stop := start(t, func(cfg *config) {
		generous(cfg)
		cfg.traces = &out
	})
	gw.sims[price].set(behaviour{Fail: true})
	requests := 0
	for code := 0; code != http.StatusServiceUnavailable; requests++ {
		require.Less(t, requests, 30, "no request was refused by the breaker")
		code = gw.get("/product/7").code
	}
	stop()

	trs := traces(t, out.Bytes())
	require.Len(t, trs, requests, "one trace per request")
	first, last := trs[0], trs[len(trs)-1]
	assert.Equal(t, "GET /product/{id} outcome=failed http.response.status_code=502 Error", first[0])
	assert.Equal(t, "  weft.fanout.gather Error", first[1])
	calls := 0
	for _, l := range first {
		if strings.HasPrefix(l, "    weft.fanout.call ") {
			calls++
		}
	}
	assert.Equal(t, 3, calls, "calls in %q", first)
	assert.Equal(t, []string{
		"    weft.fanout.call weft.fanout.call=price outcome=failed Error",
		"      event weft.retry weft.retry.attempt=1",
		"      event weft.retry weft.retry.attempt=2",
		"      event weft.retry.done weft.retry.attempt=3 outcome=exhausted",
		"      GET price gateway.attempt=1 gateway.breaker.verdict=admitted http.response.status_code=503 Error",
		"      GET price gateway.attempt=2 gateway.breaker.verdict=admitted http.response.status_code=503 Error",
		"      GET price gateway.attempt=3 gateway.breaker.verdict=admitted http.response.status_code=503 Error",
	}, subtree(first, "weft.fanout.call weft.fanout.call=price"))

	assert.Equal(t, "GET /product/{id} outcome=failed http.response.status_code=503 Error", last[0])
	assert.Equal(t, []string{
		"    weft.fanout.call weft.fanout.call=price outcome=failed Error",
		"      event weft.retry.done weft.retry.attempt=1 outcome=not_retryable",
		"      GET price gateway.attempt=1 gateway.breaker.verdict=rejected gateway.breaker.state=open Error",
	}, subtree(last, "weft.fanout.call weft.fanout.call=price"))
}
