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
