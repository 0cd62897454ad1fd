package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/schollz/progressbar/v3"
	"github.com/weftgo/weft/breaker"
	"github.com/weftgo/weft/pool"
	"golang.org/x/term"
)

// metrics are the program's Prometheus metrics, in a registry of their own so
// that tests can run several programs in one process.
type metrics struct {
	reg          *prometheus.Registry
	processed    prometheus.Counter
	retried      prometheus.Counter
	retriedOpen  prometheus.Counter
	deadLettered prometheus.Counter
	queueDepth   prometheus.Gauge
	breakerState prometheus.Gauge
	latency      prometheus.Histogram
}

func newMetrics() *metrics {
	m := &metrics{
		reg:          prometheus.NewRegistry(),
		processed:    prometheus.NewCounter(prometheus.CounterOpts{Name: "jobs_processed_total", Help: "Jobs that succeeded."}),
		retried:      prometheus.NewCounter(prometheus.CounterOpts{Name: "jobs_retried_total", Help: "Retries scheduled."}),
		retriedOpen:  prometheus.NewCounter(prometheus.CounterOpts{Name: "jobs_retried_breaker_open_total", Help: "Retries scheduled for jobs the breaker turned away, open or half-open."}),
		deadLettered: prometheus.NewCounter(prometheus.CounterOpts{Name: "jobs_dead_lettered_total", Help: "Jobs written to the dead-letter file."}),
		queueDepth:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "jobs_queue_depth", Help: "Jobs queued or waiting out a retry delay."}),
		breakerState: prometheus.NewGauge(prometheus.GaugeOpts{Name: "jobs_breaker_state", Help: "Downstream breaker: 0 closed, 1 open, 2 half-open."}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "jobs_call_seconds",
			Help:    "Latency of downstream calls, rejections by the breaker included.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 14),
		}),
	}
	m.reg.MustRegister(m.processed, m.retried, m.retriedOpen, m.deadLettered, m.queueDepth, m.breakerState, m.latency)
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// reportProgress shows progress until done is closed: a live bar when cfg.progress
// is a terminal, a plain line every cfg.every otherwise. It also keeps the
// queue-depth gauge current. deadLettered reads the number of jobs in the
// dead-letter file.
func reportProgress(cfg config, w *pool.Workers[*task], m *metrics, deadLettered func() int64, done <-chan struct{}) {
	var bar *progressbar.ProgressBar
	if f, ok := cfg.progress.(*os.File); ok && isTerminal(f) {
		max := int64(cfg.jobs)
		if cfg.in != "" {
			max = -1 // unknown length
		}
		bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(f),
			progressbar.OptionSetDescription("jobs"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("jobs"),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
	}
	every := cfg.every
	if bar != nil {
		every = 100 * time.Millisecond
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-done:
			if bar != nil {
				bar.Finish()
			}
			return
		case <-tick.C:
		}
		st := w.Stats()
		m.queueDepth.Set(float64(st.Queued + st.Waiting))
		// Jobs a stop cut short pass through the sink too, on their way
		// to the not-run file: the bar counts them as ended.
		ended := int64(st.Succeeded + st.Failed + st.Panicked + st.DeadLettered)
		switch {
		case bar != nil:
			bar.Set64(ended)
		case cfg.progress != nil && cfg.progress != io.Discard:
			fmt.Fprintf(cfg.progress, "jobs: %d done, %d running, %d queued, %d waiting to retry, %d dead-lettered\n",
				ended, st.Running, st.Queued, st.Waiting, deadLettered())
		}
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
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
