package retry_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/weftgo/weft/retry"
	"pgregory.net/rapid"
)

// budgetModel is the gRPC throttling rule, kept in thousandths of a token
// as gRPC keeps it, in integers so that the model has no rounding of its
// own: in floating point, 10 - 1 + 0.4 … can land a hair above the half
// where the exact sum is the half itself.
type budgetModel struct {
	tokens, max, ratio int64 // thousandths
	retries, refused   uint64
}

func (m *budgetModel) success() {
	m.tokens = min(m.max, m.tokens+m.ratio)
}

// failure records a retryable failure and reports whether a retry is
// allowed.
func (m *budgetModel) failure() bool {
	m.tokens = max(0, m.tokens-1000)
	return 2*m.tokens > m.max
}

// The budget follows the model exactly through any sequence of calls.
func TestPropertyBudgetMatchesTheModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		maxTokens := rapid.IntRange(1, 20).Draw(t, "maxTokens")
		ratio1000 := rapid.IntRange(1, 1000*maxTokens).Draw(t, "ratio1000")
		b := retry.NewBudget(maxTokens, float64(ratio1000)/1000)
		m := &budgetModel{tokens: int64(maxTokens) * 1000, max: int64(maxTokens) * 1000, ratio: int64(ratio1000)}
		// Each call makes one or two attempts: a success, or a failure that
		// asks for one retry.
		p := retry.New(retry.Attempts(2), retry.Constant(0), retry.WithBudget(b))
		calls := rapid.SliceOfN(rapid.SampledFrom([]string{"ok", "fail-ok", "fail-fail"}), 1, 100).Draw(t, "calls")
		for i, call := range calls {
			n := 0
			err := retry.Run(context.Background(), p, func(context.Context) error {
				n++
				if call == "ok" || call == "fail-ok" && n == 2 {
					return nil
				}
				return errTransient
			})
			var wantErr error
			switch {
			case call == "ok":
				m.success()
			case !m.failure():
				m.refused++
				wantErr = retry.ErrBudget
			case call == "fail-ok":
				m.retries++
				m.success()
			default:
				m.retries++
				m.failure()
				wantErr = retry.ErrExhausted
			}
			if wantErr == nil && err != nil || wantErr != nil && !errors.Is(err, wantErr) {
				t.Fatalf("call %d (%s): Run = %v, want %v", i, call, err, wantErr)
			}
			got := b.Stats()
			if math.Abs(got.Tokens-float64(m.tokens)/1000) > 1e-9 || got.Retries != m.retries || got.Refused != m.refused || got.MaxTokens != float64(m.max)/1000 {
				t.Fatalf("call %d (%s): Stats = %+v, want %+v", i, call, got, *m)
			}
		}
	})
}

// Many goroutines share a budget; its tokens stay in [0, max] and every
// retry decision is counted once.
func TestBudgetConcurrentUse(t *testing.T) {
	b := retry.NewBudget(50, 0.5)
	p := retry.New(retry.Attempts(3), retry.Constant(0), retry.WithBudget(b))
	const goroutines, calls = 8, 500
	var mu sync.Mutex
	decisions := uint64(0)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				n := 0
				err := retry.Run(context.Background(), p, func(context.Context) error {
					n++
					if (g+i+n)%3 == 0 {
						return nil
					}
					return errTransient
				})
				// Every failed attempt but an exhausting one was a decision.
				d := uint64(n - 1)
				if errors.Is(err, retry.ErrBudget) {
					d++
				}
				mu.Lock()
				decisions += d
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	s := b.Stats()
	if s.Tokens < 0 || s.Tokens > s.MaxTokens {
		t.Errorf("Tokens = %v, want within [0, %v]", s.Tokens, s.MaxTokens)
	}
	if s.Retries+s.Refused != decisions {
		t.Errorf("Retries + Refused = %d + %d, want %d decisions", s.Retries, s.Refused, decisions)
	}
	if s.Refused == 0 || s.Retries == 0 {
		t.Errorf("Stats = %+v; want both retries and refusals with this failure rate", s)
	}
}

// A budget refills from successes: after a run of failures has drained it,
// retries come back once enough calls succeed.
func TestBudgetRecovers(t *testing.T) {
	b := retry.NewBudget(10, 1)
	p := retry.New(retry.Attempts(2), retry.Constant(0), retry.WithBudget(b))
	fail := func(context.Context) error { return errTransient }
	ok := func(context.Context) error { return nil }
	for range 10 {
		_ = retry.Run(context.Background(), p, fail)
	}
	if err := retry.Run(context.Background(), p, fail); !errors.Is(err, retry.ErrBudget) {
		t.Fatalf("after many failures: %v, want ErrBudget", err)
	}
	// 7 successes bring 7 tokens; a failure leaves 6, above half of 10.
	for range 7 {
		_ = retry.Run(context.Background(), p, ok)
	}
	if err := retry.Run(context.Background(), p, fail); !errors.Is(err, retry.ErrExhausted) {
		t.Errorf("after successes: %v, want a retry, then ErrExhausted", err)
	}
}

// Non-retryable failures and the caller's cancellation do not cost tokens.
func TestBudgetIgnoresNonRetryableFailures(t *testing.T) {
	b := retry.NewBudget(2, 0.1)
	p := retry.New(retry.Attempts(2), retry.Constant(0), retry.WithBudget(b))
	for range 10 {
		_ = retry.Run(context.Background(), p, func(context.Context) error { return retry.Permanent(errTransient) })
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = retry.Run(ctx, p, func(context.Context) error { return errTransient })
	if s := b.Stats(); s.Tokens != 2 {
		t.Errorf("Tokens = %v, want 2", s.Tokens)
	}
}

// %v of a BudgetStats reads as lowercase name=value pairs, fractions of a
// token included, and a large bucket is printed without an exponent.
func TestBudgetStatsString(t *testing.T) {
	tests := []struct {
		s    retry.BudgetStats
		want string
	}{
		{retry.BudgetStats{}, "tokens=0 max_tokens=0 retries=0 refused=0"},
		{retry.BudgetStats{Tokens: 4.5, MaxTokens: 10, Retries: 7, Refused: 2}, "tokens=4.5 max_tokens=10 retries=7 refused=2"},
		{retry.NewBudget(1e9, 0.001).Stats(), "tokens=1000000000 max_tokens=1000000000 retries=0 refused=0"},
	}
	for _, tt := range tests {
		if got := fmt.Sprintf("%v", tt.s); got != tt.want {
			t.Errorf("Sprintf(%%v, %#v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}
