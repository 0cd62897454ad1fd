package otel_test

import (
	"context"
	"testing"

	"github.com/weftgo/weft/breaker"
	weftotel "github.com/weftgo/weft/otel"
	"github.com/weftgo/weft/pool"
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

// BenchmarkWorkersSubmitRecorded is a job through a Workers recorded by
// Workers, without a span: two histograms and a counter per job.
func BenchmarkWorkersSubmitRecorded(b *testing.B) {
	tel := newTelemetry()
	ctx := context.Background()
	w := pool.NewWorkers(ctx, 1, func(context.Context, int) error { return nil }, weftotel.Workers[int]("mail", tel.opts...))
	b.ReportAllocs()
	for b.Loop() {
		_ = w.Submit(ctx, 1)
	}
	_ = w.Close(ctx)
}
