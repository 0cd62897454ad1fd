package main

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/weftgo/weft/breaker"
	"github.com/weftgo/weft/fanout"
)

// metrics are the gateway's Prometheus metrics, in a registry of their own
// rather than the global one, so that tests can run several gateways in one
// process.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec   // by outcome
	latency  *prometheus.HistogramVec // request duration by outcome
	calls    *prometheus.HistogramVec // downstream call duration by downstream and status
	retries  *prometheus.CounterVec   // by downstream
}

func newMetrics() *metrics {
	// Buckets around the budgets: 150ms for recommendations, 200ms in all.
	buckets := []float64{.001, .0025, .005, .01, .025, .05, .1, .15, .2, .3}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_requests_total",
			Help: "Requests to /product/{id} by outcome: full, degraded, failed, not_found, bad_request, canceled (the client hung up).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gateway_request_duration_seconds", Buckets: buckets,
			Help: "Time to answer /product/{id}, by outcome.",
		}, []string{"outcome"}),
		calls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gateway_downstream_duration_seconds", Buckets: buckets,
			Help: "Time of a downstream call, retries included, by downstream and status (ok, not_found, failed, timed_out, canceled).",
		}, []string{"downstream", "status"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_retries_total",
			Help: "Retries of downstream calls, by downstream.",
		}, []string{"downstream"}),
	}
	for _, o := range []string{"full", "degraded", "failed"} {
		m.requests.WithLabelValues(o) // export zeros from the start
	}
	m.reg.MustRegister(m.requests, m.latency, m.calls, m.retries)
	return m
}

// watch exports the state of a downstream's breaker. It is read at scrape
// time: State is truthful even when no call has come through since the open
// time passed, which a gauge set from OnStateChange would not be.
func (m *metrics) watch(b *breaker.Breaker) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "gateway_breaker_state",
		Help:        "State of the downstream's circuit breaker: 0 closed, 1 open, 2 half-open.",
		ConstLabels: prometheus.Labels{"downstream": b.Name()},
	}, func() float64 { return stateValue(b.State()) }))
}

// answered counts an answer to /product/{id}.
func (m *metrics) answered(outcome string, took time.Duration) {
	m.requests.WithLabelValues(outcome).Inc()
	m.latency.WithLabelValues(outcome).Observe(took.Seconds())
}

// gathered records how long each downstream call took and how it ended.
func (m *metrics) gathered(res fanout.Results[json.RawMessage]) {
	for _, c := range res {
		status := strings.ReplaceAll(c.Status.String(), " ", "_") // "timed out" → timed_out
		if errors.Is(c.Err, errNotFound) {
			status = "not_found" // an answer, not a failure
		}
		m.calls.WithLabelValues(c.Name, status).Observe(c.Duration.Seconds())
	}
}

// stateValue is the gauge value of a breaker state, as the metric's help
// text documents it; the mapping is spelled out rather than taken from the
// State constants' numbers, which are not part of breaker's API.
func stateValue(s breaker.State) float64 {
	switch s {
	case breaker.Open:
		return 1
	case breaker.HalfOpen:
		return 2
	}
	return 0
}
