package otel_test

import (
	"context"
	"testing"

	"github.com/weftgo/weft/breaker"
	weftotel "github.com/weftgo/weft/otel"
	"github.com/weftgo/weft/retry"
)

// BenchmarkBreakerRun is a closed breaker's call with the metrics set: the
// hooks are not on this path.
func BenchmarkBreakerRun(b *testing.B) {
	tel := newTelemetry()
	br := breaker.New(weftotel.Breaker("db", tel.opts...)...)
	ok := func(context.Context) error { return nil }
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = br.Run(ctx, ok)
	}
}

// BenchmarkRetryRunFirstSuccess is a call that succeeds at once, recorded
// in the attempts histogram.
func BenchmarkRetryRunFirstSuccess(b *testing.B) {
	tel := newTelemetry()
	p := retry.New(weftotel.Retry("db", tel.opts...))
	ok := func(context.Context) error { return nil }
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = retry.Run(ctx, p, ok)
	}
}

// BenchmarkBreakerReject is a call an open breaker rejects, counted.
func BenchmarkBreakerReject(b *testing.B) {
	tel := newTelemetry()
	br := breaker.New(weftotel.Breaker("db", tel.opts...)...)
	br.ForceOpen()
	ok := func(context.Context) error { return nil }
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = br.Run(ctx, ok)
	}
}
