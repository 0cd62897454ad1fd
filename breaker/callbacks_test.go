package breaker_test

import (
	"context"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft/breaker"
)

// A classifier that calls runtime.Goexit ends the goroutine of a probe, and
// the probe must still count as a failure and free its slot at once, by
// every way of calling: before, Do held the slot until the hour-long lease
// ran out and turned every call away meanwhile.
func TestGoexitInClassifyFreesTheProbeSlot(t *testing.T) {
	calls := map[string]func(b *breaker.Breaker){
		"Do": func(b *breaker.Breaker) {
			breaker.Do(context.Background(), b, func(context.Context) (int, error) { return 0, errFail })
		},
		"Run": func(b *breaker.Breaker) {
			b.Run(context.Background(), func(context.Context) error { return errFail })
		},
		"Ticket.Done": func(b *breaker.Breaker) {
			tk, err := b.Allow()
			if err == nil {
				tk.Done(errFail)
			}
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := breaker.New(breaker.ConsecutiveFailures(1), breaker.OpenFor(time.Second), breaker.ProbeTimeout(time.Hour),
					breaker.Classify(func(error) breaker.Outcome { runtime.Goexit(); return breaker.Ignore }))
				for range 2 { // trip, then probe
					returned := false
					done := make(chan struct{})
					go func() {
						defer close(done)
						call(b)
						returned = true
					}()
					<-done
					require.False(t, returned, "%s returned after Goexit", name)
					s := b.Stats()
					require.Equal(t, breaker.Open, s.State, "state after Classify called Goexit")
					require.Equal(t, 0, s.ProbesInFlight, "probes in flight after Classify called Goexit")
					time.Sleep(time.Second)
				}
			})
		})
	}
}

// Events queued behind an event whose listener panicked are delivered by
// the next call that delivers events, State included, even while the
// breaker is closed and State has nothing else to do.
func TestStateDeliversEventsAPanickingListenerLeft(t *testing.T) {
	var b *breaker.Breaker
	var ev events
	b = breaker.New(breaker.ConsecutiveFailures(1), breaker.OnStateChange(func(e breaker.Event) {
		ev.add(e)
		if e.To == breaker.Open {
			b.Reset() // queued behind this event, delivered after it returns
			panic("listener failed")
		}
	}))
	assert.PanicsWithValue(t, "listener failed", func() { failN(b, 1) })
	assert.Equal(t, "closed → open (consecutive failures)", ev.String())
	assert.Equal(t, breaker.Closed, b.State())
	assert.Equal(t, "closed → open (consecutive failures); open → closed (reset)", ev.String())
}
