package retry_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/weftgo/weft/retry"
)

const maxDuration = time.Duration(math.MaxInt64)

func TestBackoffSchedules(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name    string
		backoff retry.Option
		want    []time.Duration
	}{
		{"constant", retry.Constant(5 * ms), []time.Duration{5 * ms, 5 * ms, 5 * ms}},
		{"constant zero", retry.Constant(0), []time.Duration{0, 0, 0}},
		{"linear", retry.Linear(10*ms, 5*ms, 22*ms), []time.Duration{10 * ms, 15 * ms, 20 * ms, 22 * ms, 22 * ms}},
		{"linear without step", retry.Linear(10*ms, 0, 22*ms), []time.Duration{10 * ms, 10 * ms, 10 * ms}},
		{"exponential", retry.Exponential(100*ms, 2, time.Second), []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second, time.Second}},
		{"exponential 1.5", retry.Exponential(time.Second, 1.5, 4*time.Second), []time.Duration{time.Second, 1500 * ms, 2250 * ms, 3375 * ms, 4 * time.Second}},
		{"exponential mult 1", retry.Exponential(3*ms, 1, time.Second), []time.Duration{3 * ms, 3 * ms, 3 * ms}},
		{"exponential from zero", retry.Exponential(0, 2, time.Second), []time.Duration{0, 0, 0}},
		{"func", retry.BackoffFunc(func(n int) time.Duration { return time.Duration(n) * ms }), []time.Duration{ms, 2 * ms, 3 * ms}},
		{"func negative", retry.BackoffFunc(func(n int) time.Duration { return -time.Second }), []time.Duration{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := retry.New(retry.Attempts(retry.Unlimited), tt.backoff, retry.NoJitter())
			got, err := delays(p, len(tt.want))
			if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("delays = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// Delays grow without overflowing, however many attempts, and settle on
// the cap.
func TestDelaysSaturate(t *testing.T) {
	tests := []struct {
		name    string
		backoff retry.Option
		cap     time.Duration
	}{
		{"exponential to the largest duration", retry.Exponential(1, 2, maxDuration), maxDuration},
		{"exponential with a huge multiplier", retry.Exponential(time.Second, 1e300, time.Hour), time.Hour},
		{"exponential with a tiny multiplier", retry.Exponential(time.Nanosecond, 1.01, maxDuration), maxDuration},
		{"linear to the largest duration", retry.Linear(1, maxDuration/3, maxDuration), maxDuration},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := retry.New(retry.Attempts(retry.Unlimited), tt.backoff, retry.NoJitter())
			got, err := delays(p, 10_000)
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range got {
				if d < 0 || d > tt.cap || i > 0 && d < got[i-1] {
					t.Fatalf("delay %d = %v after %v, want non-decreasing within [0, %v]", i+1, d, got[i-1], tt.cap)
				}
			}
			if last := got[len(got)-1]; last != tt.cap {
				t.Errorf("delay 10000 = %v, want the cap %v", last, tt.cap)
			}
		})
	}
}

// DecorrelatedJitter grows from base by its own rule and stays within
// [base, cap]; on a Constant backoff it makes every delay that constant.
func TestDecorrelatedJitter(t *testing.T) {
	p := retry.New(retry.Attempts(retry.Unlimited), retry.Exponential(10*time.Millisecond, 2, time.Second), retry.DecorrelatedJitter())
	got, err := delays(p, 2000)
	if err != nil {
		t.Fatal(err)
	}
	reachedCap := false
	for i, d := range got {
		prev := 10 * time.Millisecond
		if i > 0 {
			prev = max(got[i-1], prev)
		}
		if d < 10*time.Millisecond || d > min(time.Second, 3*prev) {
			t.Fatalf("delay %d = %v after %v, want within [10ms, min(1s, 3·%v)]", i+1, d, prev, prev)
		}
		reachedCap = reachedCap || d > 900*time.Millisecond
	}
	if !reachedCap {
		t.Errorf("no delay above 900ms in 2000: decorrelated jitter does not grow")
	}

	got, _ = delays(retry.New(retry.Attempts(retry.Unlimited), retry.Constant(time.Second), retry.DecorrelatedJitter()), 50)
	for i, d := range got {
		if d != time.Second {
			t.Fatalf("constant delay %d = %v, want 1s", i+1, d)
		}
	}
}

// A delay the server set does not feed decorrelated jitter: after an
// After(5s), the next delay is drawn from the backoff's own range again,
// which went on from its own draw: at most 3·(3·10ms), not 3·5s.
func TestDecorrelatedJitterIgnoresTheServersDelay(t *testing.T) {
	p := retry.New(retry.Attempts(retry.Unlimited), retry.Exponential(10*time.Millisecond, 2, 10*time.Second), retry.DecorrelatedJitter())
	errX := errors.New("x")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 200 {
		s := p.Start(now)
		if d, err := s.Next(context.Background(), retry.After(errX, 5*time.Second), now); d != 5*time.Second || err != nil {
			t.Fatalf("Next(After(5s)) = %v, %v; want 5s", d, err)
		}
		if d, err := s.Next(context.Background(), errX, now); err != nil || d > 90*time.Millisecond {
			t.Fatalf("Next after the server's 5s = %v, %v; want at most 3·3·10ms", d, err)
		}
	}
}
