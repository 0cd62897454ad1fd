package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// PrimaryUnit is the unit an area's implementations are ranked by:
// B/worker for the idle-memory benchmark, the median latency p50-ns for
// the latency benchmark, ns/job for JetStream's (whose op is a job but
// whose ns/op is 0, since it is timed by hand), ns/op for everything else.
func (a *Area) PrimaryUnit() string {
	for _, u := range a.Units {
		if u == "B/worker" || u == "p50-ns" || u == "ns/job" {
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
	switch unit {
	case "B/worker":
		return "memory"
	case "p50-ns":
		return "median latency"
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

// Targets checks the performance targets of the benchmark issue against
// run. Each compares medians of the same run.
func Targets(run *Run) []Target {
	var ts []Target
	for _, w := range workloads(run, "Pool", "work=none/limit=2xprocs", "work=none/limit=64", "work=arith/limit=2xprocs", "work=arith/limit=64") {
		ts = append(ts, ratioTarget(w, "weft", "pond", 1, "ns/task"))
		ts = append(ts, ratioTarget(w, "weft", "floor-channel64", 1.3, "ns/task"))
		ts = append(ts, ratioTarget(w, "weft-workers", "floor-channel64", 1.5, "ns/task"))
	}
	for _, w := range workloads(run, "Group", "keys=1/callers=32/ctx=cancellable", "keys=16/callers=32/ctx=cancellable") {
		ts = append(ts, ratioTarget(w, "weft", "singleflight", 1.1, "ns/op"))
		ts = append(ts, ratioTarget(w, "weft", "singleflight-chan", 1/1.5, "ns/op"))
	}
	for _, w := range workloads(run, "PoolIdle", "workers=10000") {
		ts = append(ts, ratioTarget(w, "weft", "ants", 1, "B/worker"))
		ts = append(ts, ratioTarget(w, "weft-workers", "ants", 1, "B/worker"))
	}
	for _, w := range workloads(run, "Distribute", "workers=4") {
		ts = append(ts, ratioTarget(w, "weft", "floor", 1.3, "ns/op"))
	}
	for _, name := range []string{"workers=4/order=ordered", "workers=1/order=ordered"} {
		for _, w := range workloads(run, "Pipeline", name) {
			ts = append(ts, ratioTarget(w, "weft", "floor-chunked", 1.2, "ns/op"))
		}
	}
	for _, w := range workloads(run, "PipelineLatency", "work=5ms") {
		ts = append(ts, ratioTarget(w, "weft", "floor-unbuffered", 1.1, "p50-ns"))
	}
	for _, w := range workloads(run, "JetStream", "conns=1", "conns=2", "conns=4") {
		// At least 0.8× the in-process throughput: at most 1.25× its time per job.
		ts = append(ts, ratioTarget(w, "weft", "floor-in-process", 1.25, "ns/job"))
	}
	ts = append(ts, Target{
		Name:   "Pipeline compared with github.com/destel/rill",
		Status: "omitted",
		Detail: rillNote,
	})
	return ts
}

// workloads returns the workloads of run's area with the given names, or
// a placeholder with no implementations for each one run lacks, so that
// its targets read "not measured".
func workloads(run *Run, area string, names ...string) []*Workload {
	a := run.Find(area)
	var ws []*Workload
	for _, name := range names {
		w := a.Find(name)
		if w == nil {
			w = &Workload{Area: &Area{Name: area}, Name: name}
		}
		ws = append(ws, w)
	}
	return ws
}

const rillNote = "The rill comparison is omitted: the module github.com/destel/rill could not be fetched " +
	"(the module proxy answered 403) on the machine that produced this page."

// ratioTarget checks that name's median in unit on w is at most limit
// times ref's.
func ratioTarget(w *Workload, name, ref string, limit float64, unit string) Target {
	t := Target{Name: fmt.Sprintf("%s: %s ≤ %s%s's %s", w.Title(), name, fmtLimit(limit), ref, unit)}
	if limit < 1 {
		t.Name = fmt.Sprintf("%s: %s ≥ %sfaster than %s (%s)", w.Title(), name, fmtLimit(1/limit), ref, unit)
	}
	a, b := w.Find(name), w.Find(ref)
	if a == nil || b == nil {
		t.Status = "not measured"
		return t
	}
	av, ok1 := a.Median(unit)
	bv, ok2 := b.Median(unit)
	if !ok1 || !ok2 || bv <= 0 {
		t.Status = "not measured"
		return t
	}
	r := av / bv
	t.Status = metIf(r <= limit)
	t.Detail = fmt.Sprintf("%s %s, %s %s: %s", name, fmtNum(av), ref, fmtNum(bv), fmtRatio(r))
	return t
}

// fmtLimit formats a target's factor, with a space after it: "" for 1,
// "1.3× ".
func fmtLimit(f float64) string {
	if f == 1 {
		return ""
	}
	return strconv.FormatFloat(f, 'g', 3, 64) + "× "
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

// fmtNum formats a median for a table: two significant digits below 0.1,
// up to three below 100, whole numbers with thousands separated above.
func fmtNum(v float64) string {
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) < 0.1:
		// Shares such as wakes/op: two significant digits, not "0".
		return strconv.FormatFloat(v, 'g', 2, 64)
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
