package breaker_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/breaker"
)

// Every place this package recovers a panic and where it is delivered. A
// breaker starts no goroutines: user code runs on the goroutine of the
// call that runs it, so a caller is always there to receive its panic. Do
// recovers the panics of f and of Classify and returns them as its error.
func TestPanicSites(t *testing.T) {
	classifyPanics := breaker.Classify(func(error) breaker.Outcome { panic("site") })
	tests := []struct {
		name string
		b    *breaker.Breaker
		f    func(context.Context) (int, error)
	}{
		{"Do's f", breaker.New(), func(context.Context) (int, error) { panic("site") }},
		{"Classify called by Do", breaker.New(classifyPanics), func(context.Context) (int, error) { return 1, errFail }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := breaker.Do(context.Background(), tt.b, tt.f)
			var pe *weft.PanicError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "site", pe.Value)
			assert.NotEmpty(t, pe.Stack)
			assert.Zero(t, v)
			assert.Equal(t, 1, tt.b.Stats().ConsecutiveFailures, "a panic is a failure")
		})
	}
}

// The panics this package does not recover, because the user's code runs
// on the caller's own goroutine as a direct call would: they go on up the
// caller's stack unchanged, after the breaker has counted the call.
func TestPanicsGoOnUp(t *testing.T) {
	classifyPanics := breaker.Classify(func(error) breaker.Outcome { panic("site") })
	listenerPanics := breaker.OnStateChange(func(breaker.Event) { panic("site") })
	fail := func(context.Context) error { return errFail }
	tests := []struct {
		name string
		call func()
	}{
		{"Run's f", func() {
			breaker.New().Run(context.Background(), func(context.Context) error { panic("site") })
		}},
		{"Classify called by Run", func() { breaker.New(classifyPanics).Run(context.Background(), fail) }},
		{"Classify called by Ticket.Done", func() {
			tk, _ := breaker.New(classifyPanics).Allow()
			tk.Done(errFail)
		}},
		{"OnStateChange listener, from Run", func() {
			breaker.New(breaker.ConsecutiveFailures(1), listenerPanics).Run(context.Background(), fail)
		}},
		{"OnStateChange listener, from Do", func() {
			breaker.Do(context.Background(), breaker.New(breaker.ConsecutiveFailures(1), listenerPanics),
				func(context.Context) (int, error) { return 0, errFail })
		}},
		{"OnStateChange listener, from ForceOpen", func() { breaker.New(listenerPanics).ForceOpen() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.PanicsWithValue(t, "site", tt.call)
		})
	}
}

// A panic recovered by Do is an error like any other to errors.Is and
// errors.As, and wraps the panic value when that is an error.
func TestDoPanicWrapsAnErrorValue(t *testing.T) {
	_, err := breaker.Do(context.Background(), breaker.New(), func(context.Context) (int, error) { panic(errFail) })
	assert.True(t, errors.Is(err, errFail))
}
