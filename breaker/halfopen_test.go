package breaker_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft/breaker"
)

// A half-open breaker whose probes are all in flight says when to come
// back: a wait that is never zero (a zero wait sent a retry policy that
// honours it straight back, in a busy loop), no longer than OpenFor or the
// time left on the first probe's lease, and different for each caller, so
// that the callers turned away do not come back together.
func TestHalfOpenRejectionSaysWhenToComeBack(t *testing.T) {
	tests := []struct {
		name             string
		openFor, timeout time.Duration
		want             time.Duration // the longest wait 500ms into the probe
	}{
		{"bounded by OpenFor", time.Second, 30 * time.Second, time.Second},
		{"bounded by the lease", 10 * time.Second, 2 * time.Second, 1500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(tt.openFor), breaker.ProbeTimeout(tt.timeout))
				failN(b, 1)
				time.Sleep(tt.openFor)
				probe, err := b.Allow()
				require.NoError(t, err)
				defer probe.Done(nil)
				time.Sleep(500 * time.Millisecond)

				seen := map[time.Duration]bool{}
				for range 100 {
					_, err := b.Allow()
					var oe *breaker.OpenError
					require.ErrorAs(t, err, &oe)
					require.Equal(t, breaker.HalfOpen, oe.State)
					d := oe.RetryAfter()
					require.Greater(t, d, time.Duration(0), "RetryAfter of a half-open rejection")
					require.LessOrEqual(t, d, tt.want, "RetryAfter of a half-open rejection")
					seen[d] = true
				}
				assert.Greater(t, len(seen), 90, "distinct waits among 100 rejections")
			})
		})
	}
}

// Once the probes a rejection waited for are over (the first lease ran
// out, a probe was reported, the breaker closed), the wait is the shortest
// there is: the next call learns more.
func TestHalfOpenRejectionOnceTheProbesAreOver(t *testing.T) {
	tests := []struct {
		name string
		end  func(b *breaker.Breaker, probe *breaker.Ticket)
	}{
		{"the lease ran out", func(*breaker.Breaker, *breaker.Ticket) { time.Sleep(2 * time.Second) }},
		{"the probe succeeded", func(_ *breaker.Breaker, probe *breaker.Ticket) { probe.Done(nil) }},
		{"the probe was ignored", func(_ *breaker.Breaker, probe *breaker.Ticket) { probe.Report(breaker.Ignore) }},
		{"the breaker was reset", func(b *breaker.Breaker, _ *breaker.Ticket) { b.Reset() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Second), breaker.ProbeTimeout(time.Second))
				failN(b, 1)
				time.Sleep(time.Second)
				probe, err := b.Allow()
				require.NoError(t, err)
				_, err = b.Allow()
				var oe *breaker.OpenError
				require.ErrorAs(t, err, &oe)
				tt.end(b, &probe)
				assert.Equal(t, time.Nanosecond, oe.RetryAfter())
				probe.Done(nil)
			})
		})
	}
}
