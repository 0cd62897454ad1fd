package retry

import (
	"fmt"
	"math"
	"sync/atomic"
)

// Budget limits retries across many calls, so that a dependency in trouble
// gets little more than its normal load instead of three times as much. It
// is the token bucket of gRPC's retry throttling: the bucket starts full
// with maxTokens; every failed attempt with a retryable error takes one
// token, every successful attempt puts back tokenRatio tokens, and a retry
// is allowed only while more than half of maxTokens remain. A refused retry
// ends its call with [ErrBudget].
//
// While most calls succeed, the bucket stays full and costs one atomic load
// per success. Once more than about tokenRatio/(1+tokenRatio) of the
// attempts fail (one in eleven for tokenRatio 0.1), the bucket drains and
// retries stop until successes refill it: NewBudget(10, 0.1) keeps retries
// near the "at most 10% of requests" budget of the Google SRE book, and
// allows fewer than maxTokens/2 retries in a burst from a full bucket (4
// for NewBudget(10, 0.1)).
//
// Share one Budget, through [WithBudget], between all the policies and
// goroutines that call the same dependency. A Budget is safe for concurrent
// use and takes no lock: it is a few atomic counters. It must not be copied
// after first use.
type Budget struct {
	tokens  atomic.Int64 // thousandths of a token
	max     int64        // thousandths
	ratio   int64        // thousandths
	retries atomic.Uint64
	refused atomic.Uint64
}

// BudgetStats is a snapshot of a [Budget], for metrics.
type BudgetStats struct {
	// Tokens is the number of tokens now in the bucket; retries are allowed
	// while it is above MaxTokens/2.
	Tokens float64
	// MaxTokens is the bucket's size.
	MaxTokens float64
	// Retries is the number of retries the budget allowed.
	Retries uint64
	// Refused is the number of retries the budget refused.
	Refused uint64
}

// NewBudget returns a full Budget of maxTokens tokens that refills by
// tokenRatio tokens per successful attempt. As in gRPC, tokenRatio is kept
// to three decimal places. NewBudget(10, 0.1) is a sensible start. It panics
// if maxTokens is not within [1, 1e9] or tokenRatio is not within [0.001,
// maxTokens].
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

// Stats returns a snapshot of b's tokens and counters. The fields are read
// one at a time, so under concurrent use they may not be from one instant.
func (b *Budget) Stats() BudgetStats {
	return BudgetStats{
		Tokens:    float64(b.tokens.Load()) / 1000,
		MaxTokens: float64(b.max) / 1000,
		Retries:   b.retries.Load(),
		Refused:   b.refused.Load(),
	}
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
