package otel_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/weftgo/weft/breaker"
	weftotel "github.com/weftgo/weft/otel"
	"github.com/weftgo/weft/pool"
	"github.com/weftgo/weft/retry"
)

// The exported rejections add up to the breaker's own count, and the state
// gauge names the breaker's state, whatever the sequence of calls.
func TestPropertyBreakerMetricsAgreeWithStats(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tel := newTelemetry()
		n := rapid.IntRange(1, 5).Draw(t, "consecutive failures")
		b := breaker.New(append(weftotel.Breaker("db", tel.opts...),
			breaker.ConsecutiveFailures(n), breaker.OpenFor(time.Hour))...)
		calls := rapid.SliceOfN(rapid.Bool(), 0, 50).Draw(t, "calls succeed")
		for _, ok := range calls {
			b.Run(context.Background(), func(context.Context) error {
				if ok {
					return nil
				}
				return errors.New("down")
			})
		}
		var rejections uint64
		state := ""
		for _, line := range tel.metrics(t) {
			fields := strings.Fields(line)
			v, err := strconv.ParseUint(fields[len(fields)-1], 10, 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			switch {
			case strings.HasPrefix(line, "weft.breaker.rejections "):
				rejections += v
			case strings.HasPrefix(line, "weft.breaker.state ") && v == 1:
				state = line
			}
		}
		if want := b.Stats().Rejected; rejections != want {
			t.Fatalf("weft.breaker.rejections = %d, want Stats().Rejected = %d", rejections, want)
		}
		wantState := "weft.breaker.state=" + strings.ReplaceAll(b.State().String(), "-", "_")
		if !strings.Contains(state, wantState) {
			t.Fatalf("state gauge at 1: %q, want %s", state, wantState)
		}
	})
}

// The exported job outcomes add up to the Workers' own counts, and the
// duration histogram has one measurement per attempt, whatever the jobs do.
func TestPropertyWorkersMetricsAgreeWithStats(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tel := newTelemetry()
		ctx := context.Background()
		opts := []pool.WorkersOption{weftotel.Workers[int]("mail", tel.opts...), pool.Buffer(rapid.IntRange(0, 3).Draw(t, "buffer"))}
		if rapid.Bool().Draw(t, "retry") {
			opts = append(opts, pool.Retry(retry.New(retry.Attempts(rapid.IntRange(1, 3).Draw(t, "attempts")), retry.Constant(0))))
		}
		w := pool.NewWorkers(ctx, rapid.IntRange(1, 3).Draw(t, "workers"), func(_ context.Context, job int) error {
			if job%2 == 1 {
				return errors.New("down")
			}
			return nil
		}, opts...)
		for i, fails := range rapid.SliceOfN(rapid.Bool(), 0, 30).Draw(t, "jobs fail") {
			job := 2 * i
			if fails {
				job++
			}
			if rapid.Bool().Draw(t, "try") {
				_ = w.TrySubmit(job)
			} else {
				_ = w.Submit(ctx, job)
			}
		}
		if err := w.Close(ctx); err != nil {
			t.Fatalf("Close = %v", err)
		}
		got := map[string]uint64{}
		var attempts uint64
		for _, line := range tel.metrics(t) {
			fields := strings.Fields(line)
			switch fields[0] {
			case "weft.pool.job.outcomes":
				v, err := strconv.ParseUint(fields[len(fields)-1], 10, 64)
				if err != nil {
					t.Fatalf("metric line %q: %v", line, err)
				}
				got[strings.TrimPrefix(strings.Split(fields[3], ",")[0], "{outcome=")] += v
			case "weft.pool.job.duration":
				v, err := strconv.ParseUint(strings.TrimPrefix(fields[4], "count="), 10, 64)
				if err != nil {
					t.Fatalf("metric line %q: %v", line, err)
				}
				attempts += v
			}
		}
		s := w.Stats()
		want := map[string]uint64{"succeeded": s.Succeeded, "failed": s.Failed, "rejected": s.Rejected}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("weft.pool.job.outcomes{outcome=%s} = %d, Stats counts %d (%s)", k, got[k], v, s)
			}
		}
		if wantAttempts := s.Succeeded + s.Failed + s.Retried; attempts != wantAttempts {
			t.Fatalf("%d durations recorded, want %d attempts (%s)", attempts, wantAttempts, s)
		}
	})
}
