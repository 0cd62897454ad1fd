package retry

// This fuzz test is inside the package: it calls the delay computation
// directly with any attempt number and previous delay, which no run of the
// public API could reach in reasonable time.

import (
	"math"
	"testing"
	"time"
)

// FuzzDelay checks that every delay lies within [0, cap] and within its
// jitter kind's bounds, for any settings the options accept, any attempt
// number and any previous delay.
func FuzzDelay(f *testing.F) {
	f.Add(uint8(0), uint8(0), int64(100e6), int64(0), int64(10e9), 2.0, 0.0, 1, int64(0))
	f.Add(uint8(0), uint8(3), int64(1), int64(0), int64(math.MaxInt64-1), 2.0, 0.0, 200, int64(math.MaxInt64))
	f.Add(uint8(1), uint8(4), int64(math.MaxInt64), int64(0), int64(0), 1.0, 1.0, 10_000, int64(0))
	f.Add(uint8(2), uint8(2), int64(5), int64(math.MaxInt64/2), int64(math.MaxInt64-5), 1.0, 0.5, math.MaxInt, int64(7))
	f.Add(uint8(3), uint8(1), int64(-3), int64(0), int64(0), 1.0, 0.0, 3, int64(0))
	f.Fuzz(func(t *testing.T, kind, jit uint8, base, step, capExtra int64, mult, factor float64, n int, prev int64) {
		if n < 1 || prev < 0 {
			t.Skip()
		}
		var opts []Option
		ok := accepts(func() {
			cap := time.Duration(base) + time.Duration(capExtra)
			if capExtra < 0 || cap < 0 {
				cap = math.MaxInt64
			}
			switch kind % 4 {
			case 0:
				opts = append(opts, Exponential(time.Duration(base), mult, cap))
			case 1:
				opts = append(opts, Constant(time.Duration(base)))
			case 2:
				opts = append(opts, Linear(time.Duration(base), time.Duration(step), cap))
			case 3:
				opts = append(opts, BackoffFunc(func(int) time.Duration { return time.Duration(base) }))
			}
			switch jit % 5 {
			case 0:
				opts = append(opts, NoJitter())
			case 1:
				opts = append(opts, FullJitter())
			case 2:
				opts = append(opts, EqualJitter())
			case 3:
				opts = append(opts, DecorrelatedJitter())
			case 4:
				opts = append(opts, ProportionalJitter(factor))
			}
			New(opts...)
		})
		if !ok {
			t.Skip()
		}
		c := New(opts...).config()
		nom, cap := c.backoff.nominal(n)
		if nom < 0 || nom > cap {
			t.Fatalf("nominal(%d) = %v, want within [0, %v]", n, nom, cap)
		}
		d := c.delay(n, time.Duration(prev))
		if d < 0 || d > cap {
			t.Fatalf("delay(%d, %v) = %v, want within [0, %v]", n, time.Duration(prev), d, cap)
		}
		switch c.jitter.kind {
		case noJitter:
			if d != nom {
				t.Fatalf("delay(%d) without jitter = %v, want %v", n, d, nom)
			}
		case fullJitter:
			if d > nom {
				t.Fatalf("delay(%d) with full jitter = %v, above %v", n, d, nom)
			}
		case equalJitter:
			if d < nom-nom/2 || d > nom {
				t.Fatalf("delay(%d) with equal jitter = %v, want within [%v, %v]", n, d, nom-nom/2, nom)
			}
		case decorrelatedJitter:
			if d < c.backoff.base {
				t.Fatalf("delay with decorrelated jitter = %v, below base %v", d, c.backoff.base)
			}
		}
		if b := c.backoff; b.kind == exponential {
			// The exponential delay is base·mult^(n-1), up to the cap.
			want := math.Min(float64(b.base)*math.Pow(b.mult, float64(n-1)), float64(b.cap))
			if b.base == 0 {
				want = 0
			}
			if math.Abs(float64(nom)-want) > want*1e-9+1 {
				t.Fatalf("nominal(%d) = %v, want %v", n, nom, time.Duration(want))
			}
			// And never shrinks from one attempt to the next.
			if before, _ := b.nominal(n - 1); n > 1 && before > nom {
				t.Fatalf("nominal(%d) = %v < nominal(%d) = %v", n, nom, n-1, before)
			}
		}
	})
}

// accepts reports whether f ran without panicking.
func accepts(f func()) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	f()
	return true
}
