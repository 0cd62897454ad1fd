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
	weftotel "github.com/weftgo/weft/otel"
	"github.com/weftgo/weft/pool"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	"golang.org/x/term"
)

// metrics are the program's metrics: the pool, the breaker and the retry
// policy record theirs with OpenTelemetry, through weft's otel module, and a
// registry of their own exports them in Prometheus' format
// (weft_pool_job_duration_seconds, weft_pool_job_outcomes_total,
// weft_pool_jobs, weft_breaker_state, weft_retry_attempts…). The registry is
// not the global one, so that tests can run several programs in one process.
type metrics struct {
	reg  *prometheus.Registry
	mp   *sdkmetric.MeterProvider
	opts []weftotel.Option // for the pool, the breaker and the retry policy
}

func newMetrics() (*metrics, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp),
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "jobs"))),
		// Buckets from 0.1ms to 0.8s for every duration, such as the jobs'
		// run times and the waits before retries: the SDK's default
		// buckets go up to 10000, for milliseconds.
		sdkmetric.WithView(sdkmetric.NewView(
			sdkmetric.Instrument{Name: "*", Kind: sdkmetric.InstrumentKindHistogram, Unit: "s"},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{
				Boundaries: prometheus.ExponentialBuckets(0.0001, 2, 14),
			}},
		)))
	return &metrics{reg: reg, mp: mp, opts: []weftotel.Option{weftotel.WithMeterProvider(mp)}}, nil
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// reportProgress shows progress until done is closed: a live bar when cfg.progress
// is a terminal, a plain line every cfg.every otherwise. deadLettered reads
// the number of jobs in the dead-letter file.
func reportProgress(cfg config, w *pool.Workers[*task], deadLettered func() int64, done <-chan struct{}) {
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
