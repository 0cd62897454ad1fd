package bench

import (
	"runtime"
	"strconv"
	"testing"
)

// arithIters is the number of xorshift rounds in a work=arith task: 100
// rounds took 203-210 ns per call on the 2-core AMD EPYC machine the
// benchmarks were written on (BenchmarkArith reports it on yours).
const arithIters = 100

// receiverIters is the number of xorshift rounds a slow receiver spends per
// wake-up in BenchmarkCoalesce: about 1 µs at the rate above.
const receiverIters = 490

// arith runs n rounds of a xorshift generator from seed. It is not inlined
// and its result is always used, so the compiler can neither drop nor hoist
// it.
//
//go:noinline
func arith(seed uint64, n int) uint64 {
	x := seed | 1
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// arithSink keeps BenchmarkArith's results alive.
var arithSink uint64

// BenchmarkArith measures the work=arith task on its own, so that the
// comment on arithIters can be checked on another machine.
func BenchmarkArith(b *testing.B) {
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		i++
		arithSink += arith(i, arithIters)
	}
}

// procsLimit is the limit=2xprocs of the pool benchmarks.
func procsLimit() int { return 2 * runtime.GOMAXPROCS(0) }

// itoa is strconv.Itoa, short.
func itoa(n int) string { return strconv.Itoa(n) }
