package retry

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// The delay before attempt n+1 is computed in two steps. The backoff gives a
// nominal delay for attempt n that never exceeds its cap; the jitter then
// spreads it at random, and the result is clamped to [0, cap] again, so no
// jitter kind can push a delay past the cap. All arithmetic saturates: the
// delay after attempt 10 000 is the cap, never an overflowed negative number.

type backoffKind uint8

const (
	exponential backoffKind = iota
	constant
	linear
	custom
)

type backoff struct {
	kind            backoffKind
	base, step, cap time.Duration
	mult            float64
	sat             int // exponential: the attempt from which the delay is cap; 0 if unknown
	fn              func(attempt int) time.Duration
}

type jitterKind uint8

const (
	fullJitter jitterKind = iota
	noJitter
	equalJitter
	decorrelatedJitter
	proportionalJitter
)

type jitter struct {
	kind   jitterKind
	factor float64
}

// Constant waits d before every retry; d is also the cap, so jitter only
// shortens it. Constant(0) retries at once. It panics if d is negative.
func Constant(d time.Duration) Option {
	if d < 0 {
		panic(fmt.Sprintf("retry: Constant(%v): must not be negative", d))
	}
	return optionFunc(func(c *config) {
		c.backoff = backoff{kind: constant, base: d, cap: d}
	})
}

// Linear waits base + (n-1)·step after attempt n, up to cap. It panics if any
// argument is negative or cap is less than base.
func Linear(base, step, cap time.Duration) Option {
	if base < 0 || step < 0 || cap < 0 {
		panic(fmt.Sprintf("retry: Linear(%v, %v, %v): durations must not be negative", base, step, cap))
	}
	if cap < base {
		panic(fmt.Sprintf("retry: Linear(%v, %v, %v): cap must not be less than base", base, step, cap))
	}
	return optionFunc(func(c *config) {
		c.backoff = backoff{kind: linear, base: base, step: step, cap: cap}
	})
}

// Exponential waits base·mult^(n-1) after attempt n, up to cap; the default is
// Exponential(100*time.Millisecond, 2, 10*time.Second). It panics if base or
// cap is negative, cap is less than base, or mult is less than 1 or not finite.
func Exponential(base time.Duration, mult float64, cap time.Duration) Option {
	if base < 0 || cap < 0 {
		panic(fmt.Sprintf("retry: Exponential(%v, %v, %v): durations must not be negative", base, mult, cap))
	}
	if cap < base {
		panic(fmt.Sprintf("retry: Exponential(%v, %v, %v): cap must not be less than base", base, mult, cap))
	}
	if !(mult >= 1) || math.IsInf(mult, 1) {
		panic(fmt.Sprintf("retry: Exponential(%v, %v, %v): mult must be finite and at least 1", base, mult, cap))
	}
	b := backoff{kind: exponential, base: base, mult: mult, cap: cap}
	if base > 0 && mult > 1 {
		// From attempt sat on, the delay is the cap, and computing it is
		// skipped. The margin covers rounding in the logarithms; a
		// multiplier so close to 1 that sat would not fit leaves it unset.
		if k := math.Ceil(math.Log(float64(cap)/float64(base)) / math.Log(mult)); k < math.MaxInt32-3 {
			b.sat = int(k) + 3
		}
	}
	return optionFunc(func(c *config) { c.backoff = b })
}

// BackoffFunc waits f(n) after attempt n (1 for the first), which is also that
// delay's cap; a negative result counts as zero. f must be safe for
// concurrent use if the policy is shared. It panics if f is nil; [New] panics
// if it is combined with [DecorrelatedJitter].
func BackoffFunc(f func(attempt int) time.Duration) Option {
	if f == nil {
		panic("retry: BackoffFunc(nil): func must not be nil")
	}
	return optionFunc(func(c *config) {
		c.backoff = backoff{kind: custom, fn: f}
	})
}

// NoJitter uses the backoff's delays as they are, so clients that failed
// together retry together; prefer a jitter unless the callers are few.
func NoJitter() Option {
	return optionFunc(func(c *config) { c.jitter = jitter{kind: noJitter} })
}

// FullJitter, the default, draws each delay uniformly from [0, d], d being the
// backoff's delay.
func FullJitter() Option {
	// The default because it spreads competing clients best for the least
	// total work.
	return optionFunc(func(c *config) { c.jitter = jitter{kind: fullJitter} })
}

// EqualJitter draws each delay uniformly from [d/2, d], d being the backoff's
// delay: at least half of every delay.
func EqualJitter() Option {
	return optionFunc(func(c *config) { c.jitter = jitter{kind: equalJitter} })
}

// DecorrelatedJitter draws each delay uniformly from [base, 3·previous],
// clamped to the cap, ignoring the backoff's growth; delays set by hints do
// not feed it. [New] panics if it is combined with [BackoffFunc].
func DecorrelatedJitter() Option {
	return optionFunc(func(c *config) { c.jitter = jitter{kind: decorrelatedJitter} })
}

// ProportionalJitter draws each delay uniformly from [d·(1-fraction),
// d·(1+fraction)], d being the backoff's delay, then clamps it to the cap.
// It panics if fraction is not within [0, 1].
func ProportionalJitter(fraction float64) Option {
	if !(fraction >= 0 && fraction <= 1) {
		panic(fmt.Sprintf("retry: ProportionalJitter(%v): fraction must be within [0, 1]", fraction))
	}
	return optionFunc(func(c *config) { c.jitter = jitter{kind: proportionalJitter, factor: fraction} })
}

// nominal returns the backoff's delay after attempt n (n >= 1), before
// jitter, and the cap that bounds the delay after jitter.
func (b *backoff) nominal(n int) (d, cap time.Duration) {
	switch b.kind {
	case constant:
		return b.base, b.base
	case linear:
		k := time.Duration(n - 1)
		if b.step == 0 || k <= 0 {
			return b.base, b.cap
		}
		if k > (b.cap-b.base)/b.step {
			return b.cap, b.cap
		}
		return b.base + k*b.step, b.cap
	case custom:
		d := b.fn(n)
		if d < 0 {
			d = 0
		}
		return d, d
	default:
		if b.base == 0 || n <= 1 {
			return b.base, b.cap
		}
		if b.sat > 0 && n >= b.sat {
			return b.cap, b.cap
		}
		f := float64(b.base) * math.Pow(b.mult, float64(n-1))
		// float64(cap) may round above cap, so clamp again below.
		if !(f < float64(b.cap)) {
			return b.cap, b.cap
		}
		return min(time.Duration(f), b.cap), b.cap
	}
}

// delay returns the delay after attempt n (n >= 1) failed, given the previous
// delay (0 before the first retry). The result is always within [0, cap].
func (c *config) delay(n int, prev time.Duration) time.Duration {
	d, cap := c.backoff.nominal(n)
	switch c.jitter.kind {
	case noJitter:
	case fullJitter:
		d = upTo(d)
	case equalJitter:
		half := d / 2
		d = d - half + upTo(half)
	case decorrelatedJitter:
		// AWS: sleep = min(cap, random_between(base, sleep*3)).
		lo := c.backoff.base
		hi := prev
		if hi < lo {
			hi = lo
		}
		if hi > math.MaxInt64/3 {
			hi = math.MaxInt64
		} else {
			hi *= 3
		}
		d = lo + upTo(hi-lo)
	case proportionalJitter:
		x := float64(d) * (1 + c.jitter.factor*(2*rand.Float64()-1))
		switch {
		case x <= 0:
			d = 0
		case x >= float64(cap):
			d = cap
		default:
			d = time.Duration(x)
		}
	}
	return max(0, min(d, cap))
}

// upTo returns a uniform random duration in [0, d], for d >= 0.
func upTo(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Uint64N(uint64(d) + 1))
}
