package retry_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/weftgo/weft/retry"
)

var errTransient = errors.New("transient")

// panicMessage returns what f panicked with, or "" if it did not panic.
func panicMessage(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

func TestMisconfigurationPanics(t *testing.T) {
	tests := []struct {
		name string
		f    func()
		want string // the start of the panic message
	}{
		{"zero attempts", func() { retry.Attempts(0) }, "retry: Attempts(0): "},
		{"negative attempts", func() { retry.Attempts(-2) }, "retry: Attempts(-2): "},
		{"negative MaxElapsed", func() { retry.MaxElapsed(-time.Second) }, "retry: MaxElapsed(-1s): "},
		{"negative AttemptTimeout", func() { retry.AttemptTimeout(-1) }, "retry: AttemptTimeout(-1ns): "},
		{"negative HonorRetryAfter", func() { retry.HonorRetryAfter(-1) }, "retry: HonorRetryAfter(-1ns): "},
		{"negative Constant", func() { retry.Constant(-1) }, "retry: Constant(-1ns): "},
		{"negative Linear base", func() { retry.Linear(-1, 0, 1) }, "retry: Linear(-1ns, 0s, 1ns): "},
		{"negative Linear step", func() { retry.Linear(0, -1, 1) }, "retry: Linear(0s, -1ns, 1ns): "},
		{"Linear cap below base", func() { retry.Linear(2, 1, 1) }, "retry: Linear(2ns, 1ns, 1ns): cap"},
		{"negative Exponential base", func() { retry.Exponential(-1, 2, 1) }, "retry: Exponential(-1ns, 2, 1ns): "},
		{"negative Exponential cap", func() { retry.Exponential(0, 2, -1) }, "retry: Exponential(0s, 2, -1ns): "},
		{"Exponential cap below base", func() { retry.Exponential(time.Second, 2, time.Millisecond) }, "retry: Exponential(1s, 2, 1ms): cap"},
		{"Exponential mult below 1", func() { retry.Exponential(1, 0.5, 2) }, "retry: Exponential(1ns, 0.5, 2ns): mult"},
		{"Exponential mult NaN", func() { retry.Exponential(1, math.NaN(), 2) }, "retry: Exponential(1ns, NaN, 2ns): mult"},
		{"Exponential mult Inf", func() { retry.Exponential(1, math.Inf(1), 2) }, "retry: Exponential(1ns, +Inf, 2ns): mult"},
		{"nil BackoffFunc", func() { retry.BackoffFunc(nil) }, "retry: BackoffFunc(nil): "},
		{"ProportionalJitter above 1", func() { retry.ProportionalJitter(1.5) }, "retry: ProportionalJitter(1.5): "},
		{"ProportionalJitter negative", func() { retry.ProportionalJitter(-0.1) }, "retry: ProportionalJitter(-0.1): "},
		{"ProportionalJitter NaN", func() { retry.ProportionalJitter(math.NaN()) }, "retry: ProportionalJitter(NaN): "},
		{"DecorrelatedJitter with BackoffFunc", func() {
			retry.New(retry.BackoffFunc(func(int) time.Duration { return 0 }), retry.DecorrelatedJitter())
		}, "retry: DecorrelatedJitter(): "},
		{"BackoffFunc after DecorrelatedJitter", func() {
			retry.New(retry.DecorrelatedJitter()).With(retry.BackoffFunc(func(int) time.Duration { return 0 }))
		}, "retry: DecorrelatedJitter(): "},
		{"NewBudget zero tokens", func() { retry.NewBudget(0, 0.1) }, "retry: NewBudget(0, 0.1): maxTokens"},
		{"NewBudget huge", func() { retry.NewBudget(2e9, 0.1) }, "retry: NewBudget(2000000000, 0.1): maxTokens"},
		{"NewBudget tiny ratio", func() { retry.NewBudget(10, 0.0001) }, "retry: NewBudget(10, 0.0001): tokenRatio"},
		{"NewBudget ratio above max", func() { retry.NewBudget(10, 11) }, "retry: NewBudget(10, 11): tokenRatio"},
		{"NewBudget ratio NaN", func() { retry.NewBudget(10, math.NaN()) }, "retry: NewBudget(10, NaN): tokenRatio"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := panicMessage(tt.f)
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("panic = %q, want a message starting with %q", got, tt.want)
			}
		})
	}
}

// The limits of every option are allowed, not rejected.
func TestBoundaryOptionsAreValid(t *testing.T) {
	opts := []retry.Option{
		retry.Attempts(1), retry.Attempts(retry.Unlimited), retry.MaxElapsed(0), retry.AttemptTimeout(0),
		retry.HonorRetryAfter(0), retry.Constant(0), retry.Linear(0, 0, 0), retry.Exponential(0, 1, 0),
		retry.Exponential(time.Second, 1, time.Second), retry.ProportionalJitter(0), retry.ProportionalJitter(1),
		retry.RetryIf(nil), retry.OnRetry(nil), retry.WithBudget(nil), nil,
	}
	for i, o := range opts {
		if msg := panicMessage(func() { retry.New(o) }); msg != "" {
			t.Errorf("option %d panicked: %s", i, msg)
		}
	}
	if msg := panicMessage(func() { retry.NewBudget(1, 1) }); msg != "" {
		t.Errorf("NewBudget(1, 1) panicked: %s", msg)
	}
}

// delays runs a State of p through n failures with a fixed clock and returns
// the delays it asked for, stopping early if it gave up.
func delays(p retry.Policy, n int) ([]time.Duration, error) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := p.Start(now)
	var out []time.Duration
	for range n {
		d, err := s.Next(context.Background(), errTransient, now)
		if err != nil {
			return out, err
		}
		out = append(out, d)
	}
	return out, nil
}

func TestZeroPolicyIsTheDefault(t *testing.T) {
	for name, p := range map[string]retry.Policy{"zero": {}, "New()": retry.New()} {
		for range 100 {
			ds, err := delays(p, 5)
			if len(ds) != 2 || !errors.Is(err, retry.ErrExhausted) {
				t.Fatalf("%s: delays = %v, %v; want 2 delays, then ErrExhausted", name, ds, err)
			}
			if ds[0] > 100*time.Millisecond || ds[1] > 200*time.Millisecond {
				t.Fatalf("%s: delays = %v, want within [0, 100ms] and [0, 200ms]", name, ds)
			}
		}
	}
}

func TestWithLeavesTheOriginalAlone(t *testing.T) {
	base := retry.New(retry.Attempts(2), retry.Constant(time.Second), retry.NoJitter())
	derived := base.With(retry.Attempts(4), retry.Constant(time.Minute))

	got, _ := delays(base, 10)
	if want := []time.Duration{time.Second}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("base delays = %v, want %v", got, want)
	}
	got, _ = delays(derived, 10)
	if want := []time.Duration{time.Minute, time.Minute, time.Minute}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("derived delays = %v, want %v", got, want)
	}
}

func TestLastOptionWins(t *testing.T) {
	p := retry.New(retry.Attempts(9), retry.Attempts(2), retry.Constant(time.Hour), retry.Constant(time.Second), retry.FullJitter(), retry.NoJitter())
	got, err := delays(p, 10)
	if fmt.Sprint(got) != "[1s]" || !errors.Is(err, retry.ErrExhausted) {
		t.Errorf("delays = %v, %v; want [1s], ErrExhausted", got, err)
	}
}

func TestRetryIfNilRestoresTheDefault(t *testing.T) {
	never := retry.New(retry.Constant(0), retry.RetryIf(func(error) bool { return false }))
	if _, err := delays(never, 1); !errors.Is(err, retry.ErrNotRetryable) {
		t.Fatalf("with RetryIf(false): %v, want ErrNotRetryable", err)
	}
	if ds, err := delays(never.With(retry.RetryIf(nil)), 1); err != nil || len(ds) != 1 {
		t.Errorf("after RetryIf(nil): %v, %v; want one retry", ds, err)
	}
}
