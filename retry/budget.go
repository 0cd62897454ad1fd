package retry

import (
	"fmt"
	"math"
	"strconv"
	"sync/atomic"
)

// Budget limits retries across all the calls to one dependency with the
// token bucket of gRPC's retry throttling: each failed attempt with a
// retryable error takes a token, each success puts back tokenRatio, and a
// retry is allowed only while more than half of maxTokens remain. Share one
// through [WithBudget]; it is safe for concurrent use and must not be copied.
type Budget struct {
	// A few atomic counters and no lock: while most calls succeed the
	// bucket stays full and a success costs one atomic load.
	tokens  atomic.Int64 // thousandths of a token
	max     int64        // thousandths
	ratio   int64        // thousandths
	retries atomic.Uint64
	refused atomic.Uint64
}

// BudgetStats is a snapshot of a [Budget], for metrics.
type BudgetStats struct {
	Tokens    float64 // tokens in the bucket; retries are allowed above MaxTokens/2
	MaxTokens float64 // the bucket's size
	Retries   uint64  // retries allowed
	Refused   uint64  // retries refused
}

// NewBudget returns a full Budget of maxTokens tokens that refills by
// tokenRatio tokens, kept to three decimal places, per successful attempt.
// NewBudget(10, 0.1) keeps retries near 10% of requests. It panics if
// maxTokens is not within [1, 1e9] or tokenRatio not within [0.001, maxTokens].
func NewBudget(maxTokens int, tokenRatio float64) *Budget {
	if maxTokens < 1 || maxTokens > 1e9 {
		panic(fmt.Sprintf("retry: NewBudget(%d, %v): maxTokens must be within [1, 1e9]", maxTokens, tokenRatio))
	}
	if !(tokenRatio >= 0.001 && tokenRatio <= float64(maxTokens)) {
		panic(fmt.Sprintf("retry: NewBudget(%d, %v): tokenRatio must be within [0.001, maxTokens]", maxTokens, tokenRatio))
	}
	b := &Budget{max: int64(maxTokens) * 1000, ratio: int64(math.Round(tokenRatio * 1000))}
	b.tokens.Store(b.max)
	return b
}

// Stats returns a snapshot of b; under concurrent use its fields may not be
// from one instant.
func (b *Budget) Stats() BudgetStats {
	return BudgetStats{
		Tokens:    float64(b.tokens.Load()) / 1000,
		MaxTokens: float64(b.max) / 1000,
		Retries:   b.retries.Load(),
		Refused:   b.refused.Load(),
	}
}

// String formats s as lowercase name=value pairs in field order, multi-word
// names in snake_case: "tokens=10 max_tokens=10 retries=0 refused=0".
func (s BudgetStats) String() string {
	return "tokens=" + strconv.FormatFloat(s.Tokens, 'f', -1, 64) +
		" max_tokens=" + strconv.FormatFloat(s.MaxTokens, 'f', -1, 64) +
		" retries=" + strconv.FormatUint(s.Retries, 10) +
		" refused=" + strconv.FormatUint(s.Refused, 10)
}

// deposit records a successful attempt. A nil Budget records nothing.
func (b *Budget) deposit() {
	if b == nil {
		return
	}
	for {
		t := b.tokens.Load()
		if t >= b.max {
			return
		}
		if b.tokens.CompareAndSwap(t, min(t+b.ratio, b.max)) {
			return
		}
	}
}

// withdraw records a retryable failure and reports whether a retry is
// allowed. A nil Budget allows every retry.
func (b *Budget) withdraw() bool {
	if b == nil {
		return true
	}
	for {
		t := b.tokens.Load()
		n := max(t-1000, 0)
		if n == t || b.tokens.CompareAndSwap(t, n) {
			return n > b.max/2
		}
	}
}

func (b *Budget) retried() {
	if b != nil {
		b.retries.Add(1)
	}
}

func (b *Budget) refuse() {
	if b != nil {
		b.refused.Add(1)
	}
}
