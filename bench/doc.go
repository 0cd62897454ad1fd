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
// group: impl=floor, or impl=floor-<how> where an area has several, the
// reference first (floor-channel64, floor-chunked, floor-len...). A floor
// is hand-written code that does the same work without any library, at
// least as good as a careful engineer would write it, with the buffering
// of weft's defaults and any trick weft itself uses (chunking, say); a
// second floor without the trick may follow. What weft costs is read as a
// multiple of the first. Where a peer has a cheap and a rich API for the
// workload, both are measured (pond and pond-group, failsafe and
// failsafe-permit, singleflight and singleflight-chan). Keys never depend
// on the machine (limit=2xprocs, not limit=4), so results from two
// machines line up.
//
// # Scaling
//
// Pool, Pipeline and the breaker's closed-parallel path are the scaling
// curves: cmd/report runs them at every GOMAXPROCS of its -cpu list, and
// every other benchmark at the highest only, by running the curves a
// second time with the test flag -bench.curves, which makes every other
// benchmark skip.
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
//
// The raw file names the commit measured, and the command refuses to
// write a page for a working tree with uncommitted changes unless given
// -dirty.
package bench
