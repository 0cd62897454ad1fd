package bench

import (
	"flag"
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
	noCurve(b)
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

// curvesOnly runs only the benchmarks that have a scaling curve on the
// page: Pool, Pipeline and the breaker's closed-parallel path. The report
// runs everything once at the highest GOMAXPROCS of its -cpu list, then
// the curves alone at the others (go test -cpu 1 . -args -bench.curves).
var curvesOnly = flag.Bool("bench.curves", false, "run only the benchmarks with a scaling curve (Pool, Pipeline, Breaker/path=closed-parallel)")

// noCurve skips b when only the benchmarks with a scaling curve run. It
// must be called before b measures anything: a benchmark skipped on its
// first, single-iteration run reports nothing.
func noCurve(b *testing.B) {
	b.Helper()
	if *curvesOnly {
		b.Skip("no scaling curve for this benchmark (-bench.curves)")
	}
}
