package main

import (
	"fmt"
	"math"
	"strings"
)

// poolTasks is the number of tasks in one op of BenchmarkPool (the bench
// package's poolTasks): allocs/task is allocs/op over it.
const poolTasks = 10_000

// PrimaryUnit is the unit an area's implementations are ranked by:
// B/worker for the idle-memory benchmark, ns/op for everything else.
func (a *Area) PrimaryUnit() string {
	for _, u := range a.Units {
		if u == "B/worker" {
			return u
		}
	}
	return "ns/op"
}

// Ratio returns im's primary median over the workload floor's, and whether
// both exist.
func (w *Workload) Ratio(im *Impl) (float64, bool) {
	unit := w.Area.PrimaryUnit()
	f := w.Floor()
	if f == nil {
		return 0, false
	}
	fv, ok1 := f.Median(unit)
	v, ok2 := im.Median(unit)
	if !ok1 || !ok2 || fv <= 0 {
		return 0, false
	}
	return v / fv, true
}

// Peers returns the workload's implementations that are neither floors nor
// weft's.
func (w *Workload) Peers() []*Impl {
	var ps []*Impl
	for _, im := range w.Impls {
		if !im.IsFloor() && !im.IsWeft() {
			ps = append(ps, im)
		}
	}
	return ps
}

// Headline says how one of weft's implementations compares with the floor
// and the best peer on w, from the medians of w's primary unit: "weft:
// 1.40× the floor, 0.52× the best peer (conc)." Where it is slower than a
// peer it says so by name.
func (w *Workload) Headline(im *Impl) string {
	unit := w.Area.PrimaryUnit()
	v, ok := im.Median(unit)
	if !ok {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: ", im.Name)
	if r, ok := w.Ratio(im); ok {
		fmt.Fprintf(&b, "%s the floor", fmtRatio(r))
	} else {
		b.WriteString("no floor measured")
	}
	var best *Impl
	var bestV float64
	var slower []string
	for _, p := range w.Peers() {
		pv, ok := p.Median(unit)
		if !ok || pv <= 0 {
			continue
		}
		if best == nil || pv < bestV {
			best, bestV = p, pv
		}
		if pv < v {
			slower = append(slower, fmt.Sprintf("%s (%s its %s)", p.Name, fmtRatio(v/pv), unitNoun(unit)))
		}
	}
	if best == nil {
		b.WriteString("; no peer measured")
	} else {
		fmt.Fprintf(&b, ", %s the best peer (%s)", fmtRatio(v/bestV), best.Name)
	}
	if unit != "ns/op" {
		fmt.Fprintf(&b, ", by %s", unit)
	}
	b.WriteString(".")
	if len(slower) > 0 {
		fmt.Fprintf(&b, " Slower than %s.", joinAnd(slower))
	}
	return b.String()
}

func unitNoun(unit string) string {
	if unit == "B/worker" {
		return "memory"
	}
	return "time"
}

// Target is one of the performance targets from the benchmark issue,
// checked against the medians.
type Target struct {
	Name   string
	Status string // "met", "missed", "not measured" or "omitted"
	Detail string
}

// Targets checks the targets against run.
func Targets(run *Run) []Target {
	var ts []Target
	// Pool: per-task cost no more than the best peer's, and no more
	// allocations per task than any peer.
	if a := run.Find("Pool"); a != nil {
		for _, w := range a.Workloads {
			for _, name := range []string{"weft", "weft-workers"} {
				if w.Find(name) != nil {
					ts = append(ts, poolTarget(w, name))
				}
			}
		}
	} else {
		ts = append(ts, Target{Name: "Pool: ns/task ≤ best of errgroup, ants, pond, conc; allocs/task ≤ theirs", Status: "not measured"})
	}
	for _, name := range []string{"workers=4/order=ordered", "workers=1/order=ordered"} {
		ts = append(ts, pipelineTarget(run.Find("Pipeline").Find(name), name))
	}
	ts = append(ts, fasterTarget(run.Find("Breaker").Find("path=closed"), "Breaker/path=closed", 10, "gobreaker", "failsafe"))
	ts = append(ts, fasterTarget(run.Find("Retry").Find("case=first-success"), "Retry/case=first-success", 5, "backoff", "failsafe"))
	ts = append(ts, Target{
		Name:   "Pipeline compared with github.com/destel/rill",
		Status: "omitted",
		Detail: rillNote,
	})
	return ts
}

const rillNote = "The rill comparison is omitted: the module github.com/destel/rill could not be fetched " +
	"(the module proxy answered 403) on the machine that produced this page."

func poolTarget(w *Workload, name string) Target {
	t := Target{Name: w.Title() + ": " + name + " ns/task ≤ best of errgroup, ants, pond, conc; allocs/task ≤ theirs"}
	weft := w.Find(name)
	if weft == nil {
		t.Status = "not measured"
		return t
	}
	ns, ok1 := weft.Median("ns/task")
	al, ok2 := weft.Median("allocs/op")
	if !ok1 || !ok2 {
		t.Status = "not measured"
		return t
	}
	al /= poolTasks
	bestNs, bestAl := math.Inf(1), math.Inf(1)
	var bestNsName, bestAlName string
	for _, name := range []string{"errgroup", "ants", "pond", "conc"} {
		p := w.Find(name)
		if p == nil {
			continue
		}
		if v, ok := p.Median("ns/task"); ok && v < bestNs {
			bestNs, bestNsName = v, name
		}
		if v, ok := p.Median("allocs/op"); ok && v/poolTasks < bestAl {
			bestAl, bestAlName = v/poolTasks, name
		}
	}
	if bestNsName == "" {
		t.Status = "not measured"
		return t
	}
	t.Status = metIf(ns <= bestNs && al <= bestAl)
	t.Detail = fmt.Sprintf("time %s, allocations %s: %s %s ns/task and %s allocs/task; fastest peer %s %s ns/task; "+
		"fewest allocations %s %s allocs/task (a weft Pool is made per op; a weft Workers and ants' and pond's pools once per benchmark)",
		metIf(ns <= bestNs), metIf(al <= bestAl),
		name, fmtNum(ns), fmtAllocs(al), bestNsName, fmtNum(bestNs), bestAlName, fmtAllocs(bestAl))
	return t
}

func pipelineTarget(w *Workload, name string) Target {
	t := Target{Name: "Pipeline/" + name + ": weft within 1.2× the floor"}
	if w == nil || w.Find("weft") == nil {
		t.Status = "not measured"
		return t
	}
	r, ok := w.Ratio(w.Find("weft"))
	if !ok {
		t.Status = "not measured"
		return t
	}
	weftNs, _ := w.Find("weft").Median("ns/op")
	floorNs, _ := w.Floor().Median("ns/op")
	t.Status = metIf(r <= 1.2)
	t.Detail = fmt.Sprintf("weft %s ns/op, floor %s ns/op: %s", fmtNum(weftNs), fmtNum(floorNs), fmtRatio(r))
	return t
}

// fasterTarget checks that weft is at least factor times faster than each
// of peers on w and allocates nothing.
func fasterTarget(w *Workload, title string, factor float64, peers ...string) Target {
	t := Target{Name: fmt.Sprintf("%s: weft ≥ %g× faster than %s, with 0 allocs/op", title, factor, joinAnd(peers))}
	if w == nil || w.Find("weft") == nil {
		t.Status = "not measured"
		return t
	}
	weftNs, _ := w.Find("weft").Median("ns/op")
	allocs, _ := w.Find("weft").Median("allocs/op")
	met := allocs == 0
	parts := []string{fmt.Sprintf("weft %s ns/op, %s allocs/op", fmtNum(weftNs), fmtNum(allocs))}
	for _, name := range peers {
		p := w.Find(name)
		if p == nil {
			t.Status = "not measured"
			return t
		}
		pns, _ := p.Median("ns/op")
		speedup := pns / weftNs
		met = met && speedup >= factor
		parts = append(parts, fmt.Sprintf("%s %s ns/op (weft %s faster)", name, fmtNum(pns), fmtRatio(speedup)))
	}
	t.Status = metIf(met)
	t.Detail = strings.Join(parts, "; ")
	return t
}

func metIf(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

// fmtRatio formats a ratio with two significant digits or more: 0.043×,
// 1.2×, 37×.
func fmtRatio(r float64) string {
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f×", r)
	case r >= 10:
		return fmt.Sprintf("%.1f×", r)
	case r >= 0.1:
		return fmt.Sprintf("%.2f×", r)
	default:
		return fmt.Sprintf("%.2g×", r)
	}
}

// fmtNum formats a median for a table: three significant digits below
// 1000, thousands separated above.
func fmtNum(v float64) string {
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) < 10:
		return trimZeros(fmt.Sprintf("%.2f", v))
	case math.Abs(v) < 100:
		return trimZeros(fmt.Sprintf("%.1f", v))
	}
	s := fmt.Sprintf("%.0f", math.Abs(v))
	var b strings.Builder
	if v < 0 {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func fmtAllocs(v float64) string {
	if v == 0 {
		return "0"
	}
	return fmt.Sprintf("%.4f", v)
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// joinAnd joins "a", "b", "c" as "a, b and c".
func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}
