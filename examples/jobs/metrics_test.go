package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// After a run through an outage, /metrics has the families of the pool, the
// breaker and the retry policy, and their counts agree with the summary and
// with each other: one outcome and one retry call per job that ended, one
// wait per retry, one rejection per retry of a job the breaker turned away,
// one run time per attempt.
func TestMetricsOfARun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg, _ := testConfig(t, 5000) // as TestBreakerRejectionsDoNotUseUpAttempts
		cfg.failRate = 0.02
		cfg.outageAfter, cfg.outageFor = 20*time.Millisecond, 150*time.Millisecond
		var families map[string]*dto.MetricFamily
		cfg.scrape = func(h http.Handler) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			require.Equal(t, http.StatusOK, rec.Code)
			p := expfmt.NewTextParser(model.UTF8Validation)
			var err error
			families, err = p.TextToMetricFamilies(rec.Body)
			require.NoError(t, err)
		}
		sum, err := run(context.Background(), cfg)
		require.NoError(t, err)
		require.NotNil(t, families, "run did not call scrape")
		require.NotZero(t, sum.retriedBreaker, "the outage should open the breaker: %+v", sum)

		for name, typ := range map[string]dto.MetricType{
			"weft_breaker_state":               dto.MetricType_GAUGE,
			"weft_breaker_transitions_total":   dto.MetricType_COUNTER,
			"weft_breaker_rejections_total":    dto.MetricType_COUNTER,
			"weft_retry_attempts":              dto.MetricType_HISTOGRAM,
			"weft_retry_delay_seconds":         dto.MetricType_HISTOGRAM,
			"weft_pool_job_queue_wait_seconds": dto.MetricType_HISTOGRAM,
			"weft_pool_job_duration_seconds":   dto.MetricType_HISTOGRAM,
			"weft_pool_job_outcomes_total":     dto.MetricType_COUNTER,
			"weft_pool_jobs":                   dto.MetricType_GAUGE,
		} {
			if assert.Contains(t, families, name) {
				assert.Equal(t, typ, families[name].GetType(), name)
			}
		}
		// samples returns the samples of a family whose labels include want.
		samples := func(family string, want map[string]string) []*dto.Metric {
			var out []*dto.Metric
			for _, m := range families[family].GetMetric() {
				have := map[string]string{}
				for _, l := range m.GetLabel() {
					have[l.GetName()] = l.GetValue()
				}
				match := true
				for k, v := range want {
					match = match && have[k] == v
				}
				if match {
					out = append(out, m)
				}
			}
			return out
		}
		// total adds up those samples: a histogram's counts, or the values
		// of a counter or a gauge.
		total := func(family string, want map[string]string) (n float64) {
			for _, m := range samples(family, want) {
				switch {
				case m.Histogram != nil:
					n += float64(m.GetHistogram().GetSampleCount())
				case m.Counter != nil:
					n += m.GetCounter().GetValue()
				default:
					n += m.GetGauge().GetValue()
				}
			}
			return n
		}
		// sumOf adds up the sums of a histogram's samples.
		sumOf := func(family string, want map[string]string) (n float64) {
			for _, m := range samples(family, want) {
				n += m.GetHistogram().GetSampleSum()
			}
			return n
		}
		jobs := map[string]string{"weft_retry_name": "jobs"}
		downstream := map[string]string{"weft_breaker_name": "downstream"}
		assert.Equal(t, float64(sum.succeeded), total("weft_retry_attempts", map[string]string{"weft_retry_name": "jobs", "outcome": "success"}))
		assert.Equal(t, float64(sum.succeeded+sum.deadLettered), total("weft_retry_attempts", jobs))
		assert.Equal(t, float64(sum.retried), total("weft_retry_delay_seconds", jobs))
		assert.Equal(t, float64(sum.retriedBreaker), total("weft_breaker_rejections_total", downstream))
		assert.NotZero(t, total("weft_breaker_transitions_total", map[string]string{"weft_breaker_name": "downstream", "weft_breaker_state": "open"}))
		assert.Equal(t, 1.0, total("weft_breaker_state", downstream), "one state at a time")
		poolOutcome := func(outcome string) map[string]string {
			return map[string]string{"weft_pool_name": "jobs", "outcome": outcome}
		}
		assert.Equal(t, float64(sum.succeeded), total("weft_pool_job_outcomes_total", poolOutcome("succeeded")))
		assert.Equal(t, float64(sum.deadLettered), total("weft_pool_job_outcomes_total", poolOutcome("dead_lettered")))
		assert.Equal(t, float64(sum.succeeded+sum.deadLettered), total("weft_pool_job_outcomes_total", nil))
		assert.Equal(t, float64(sum.retried), total("weft_pool_job_duration_seconds", poolOutcome("retried")))
		assert.Equal(t, sumOf("weft_retry_attempts", jobs), total("weft_pool_job_duration_seconds", nil), "attempts")
		assert.Equal(t, sumOf("weft_retry_attempts", jobs), total("weft_pool_job_queue_wait_seconds", nil), "attempts")
		assert.Zero(t, total("weft_pool_jobs", nil), "jobs left in the pool")
	})
}
