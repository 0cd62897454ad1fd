// Package bench compares weft's packages with hand-written floors and with
// peer libraries. It holds no code of its own: the benchmarks live in the
// package's _test.go files, one per area, and cmd/report runs them and
// writes docs/benchmarks.md, docs/benchmarks.txt and docs/benchmarks.png.
//
// # Names
//
// Every benchmark is named Benchmark<Area>/<key>=<value>/.../impl=<name>,
// with impl always last, so that
//
//	go run golang.org/x/perf/cmd/benchstat -col /impl benchmarks.txt
//
// puts the implementations side by side. The floors come first in each
// group: impl=floor, or impl=floor-goroutines, impl=floor-channel and
// impl=floor-select where an area has two. A floor is the plainest
// hand-written code that does the same work without any library: what weft
// costs is read as a multiple of it. Keys never depend on the machine
// (limit=2xprocs, not limit=4), so results from two machines line up.
//
// # Agreement
//
// Each area keeps its implementations in a table, and a test (TestAgree*)
// runs every implementation once on the benchmark's workload and checks that
// they all compute the same result, so that no implementation is fast
// because it skips work. CI runs those tests with -race.
//
// # Reproducing
//
//	go -C bench run ./cmd/report          # the full run, written to docs/
//	go -C bench run ./cmd/report -quick   # one iteration of everything, to a temp dir
package bench
