package retry_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/weftgo/weft/retry"
)

// Every place user code runs in this package, and where its panic goes.
// The package starts no goroutines and recovers no panic: the retried
// function, the hooks and the dead-letter sink run on the goroutine of the
// call, so a caller is always there to receive the panic, which goes on up
// its stack unchanged, as from a direct call.
func TestPanicSites(t *testing.T) {
	boom := func() { panic("site") }
	fail := func(context.Context) error { return errTransient }
	ctx := context.Background()
	keep := retry.DeadLetterFunc[int](func(context.Context, retry.Letter[int]) error { return nil })
	tests := []struct {
		name string
		call func()
	}{
		{"Do's f", func() {
			retry.Do(ctx, instant, func(context.Context) (int, error) { boom(); return 0, nil })
		}},
		{"Run's f", func() { retry.Run(ctx, instant, func(context.Context) error { boom(); return nil }) }},
		{"Run's f, with an AttemptTimeout", func() {
			retry.Run(ctx, instant.With(retry.AttemptTimeout(time.Hour)), func(context.Context) error { boom(); return nil })
		}},
		{"Process's f", func() {
			retry.Process(ctx, instant, 1, func(context.Context, int) error { boom(); return nil }, keep)
		}},
		{"Process's DeadLetter", func() {
			retry.Process(ctx, instant, 1, func(context.Context, int) error { return errTransient },
				retry.DeadLetterFunc[int](func(context.Context, retry.Letter[int]) error { boom(); return nil }))
		}},
		{"RetryIf, from Run", func() {
			retry.Run(ctx, instant.With(retry.RetryIf(func(error) bool { boom(); return true })), fail)
		}},
		{"OnRetry, from Run", func() {
			retry.Run(ctx, instant.With(retry.OnRetry(func(int, error, time.Duration) { boom() })), fail)
		}},
		{"OnRetry before a wait, from Run", func() {
			retry.Run(ctx, instant.With(retry.Constant(time.Nanosecond), retry.OnRetry(func(int, error, time.Duration) { boom() })), fail)
		}},
		{"BackoffFunc, from Run", func() {
			retry.Run(ctx, instant.With(retry.BackoffFunc(func(int) time.Duration { boom(); return 0 })), fail)
		}},
		{"RetryIf, from Attempt.Done", func() {
			for a := range instant.With(retry.RetryIf(func(error) bool { boom(); return true })).Loop(ctx).Attempts() {
				a.Done(errTransient)
			}
		}},
		{"OnRetry, from State.Next", func() {
			s := instant.With(retry.OnRetry(func(int, error, time.Duration) { boom() })).Start(time.Now())
			s.Next(ctx, errTransient, time.Time{})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.PanicsWithValue(t, "site", tt.call)
		})
	}
}
