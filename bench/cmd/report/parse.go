package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
)

// Run is what a raw benchmark file holds, reduced to medians.
type Run struct {
	// Config holds the file's configuration lines (goos, goarch, cpu, pkg,
	// and those the command adds: go, date, numcpu), first value seen.
	Config map[string]string
	// Procs is the GOMAXPROCS of the tables: the highest at which any
	// benchmark ran (the -N suffix of its name, 1 where there is none).
	Procs string
	// CPUs are the GOMAXPROCS values the results were taken at, in
	// increasing order; more than one when the run had go test -cpu.
	CPUs []int
	// Areas are the benchmark areas in the order they first appear.
	Areas []*Area
	// Other holds medians of benchmarks without an impl key (such as
	// BenchmarkArith, named "Arith"), by base name, in ns/op.
	Other []Named
}

// Named is a value with a name.
type Named struct {
	Name  string
	Value float64
}

// Area is one benchmark function: BenchmarkPool is area "Pool".
type Area struct {
	Name      string
	Workloads []*Workload
	// Units are the units other than ns/op, B/op and allocs/op that some
	// result of the area reports (ns/task, B/worker...), in first-seen
	// order.
	Units []string
}

// Workload is one group of implementations compared with each other: a
// benchmark name without its impl key.
type Workload struct {
	Area *Area
	// Name is the sub-benchmark keys without impl: "work=none/limit=64";
	// "" when impl is the only key.
	Name  string
	Impls []*Impl
}

// Impl is the medians of one implementation on one workload.
type Impl struct {
	Name string
	// Medians by unit as go test wrote it: "ns/op", "B/op",
	// "allocs/op", "ns/task"..., at the run's Procs (or, for an
	// implementation not measured there, at the highest GOMAXPROCS it was
	// measured at).
	Medians map[string]float64
	// ByProcs holds the medians at each GOMAXPROCS the implementation was
	// measured at.
	ByProcs map[int]map[string]float64
	// N is the number of results the medians were taken over.
	N int
}

// Median returns the median for unit and whether there is one.
func (im *Impl) Median(unit string) (float64, bool) {
	v, ok := im.Medians[unit]
	return v, ok
}

// IsFloor reports whether the implementation is a hand-written floor.
func (im *Impl) IsFloor() bool { return strings.HasPrefix(im.Name, "floor") }

// IsWeft reports whether the implementation is weft's (weft, weft-ticket...).
func (im *Impl) IsWeft() bool { return im.Name == "weft" || strings.HasPrefix(im.Name, "weft-") }

// InHeadline reports whether the implementation is weft's and gets a
// headline: weft-forced (a breaker held open, a state no peer is measured
// in) and weft-gc-off (the garbage collector off, context for JetStream's
// figures) have a row but no headline.
func (im *Impl) InHeadline() bool {
	return im.IsWeft() && im.Name != "weft-forced" && im.Name != "weft-gc-off"
}

// Find returns the implementation named name, or nil.
func (w *Workload) Find(name string) *Impl {
	for _, im := range w.Impls {
		if im.Name == name {
			return im
		}
	}
	return nil
}

// Floor returns the workload's reference floor, the first floor listed, or
// nil.
func (w *Workload) Floor() *Impl {
	for _, im := range w.Impls {
		if im.IsFloor() {
			return im
		}
	}
	return nil
}

// Title is the workload's full name: "Pool/work=none/limit=64".
func (w *Workload) Title() string {
	if w.Name == "" {
		return w.Area.Name
	}
	return w.Area.Name + "/" + w.Name
}

// Find returns the area named name, or nil.
func (r *Run) Find(name string) *Area {
	for _, a := range r.Areas {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// Find returns the workload named name, or nil.
func (a *Area) Find(name string) *Workload {
	if a == nil {
		return nil
	}
	for _, w := range a.Workloads {
		if w.Name == name {
			return w
		}
	}
	return nil
}

// Parse reads a raw benchmark file in the Go benchmark format and reduces
// each benchmark's results to medians.
func Parse(r io.Reader, fileName string) (*Run, error) {
	run := &Run{Config: map[string]string{}}
	type implProcs struct {
		im    *Impl
		procs int
	}
	samples := map[implProcs]map[string][]float64{}
	cpus := map[int]bool{}
	other := map[string][]float64{}
	var otherOrder []string
	rd := benchfmt.NewReader(r, fileName)
	for rd.Scan() {
		switch rec := rd.Result().(type) {
		case *benchfmt.SyntaxError:
			return nil, rec
		case *benchfmt.Result:
			for _, c := range rec.Config {
				if _, ok := run.Config[c.Key]; !ok && c.File {
					run.Config[c.Key] = string(c.Value)
				}
			}
			base, parts := rec.Name.Parts()
			area := strings.TrimPrefix(string(base), "Benchmark")
			var keys []string
			impl := ""
			procs := 1
			for _, p := range parts {
				switch {
				case strings.HasPrefix(p2s(p), "-"):
					n, err := strconv.Atoi(p2s(p)[1:])
					if err != nil || n < 1 {
						return nil, fmt.Errorf("%s: %s: bad GOMAXPROCS suffix %q", fileName, rec.Name.Full(), p)
					}
					procs = n
				case strings.HasPrefix(p2s(p), "/impl="):
					impl = strings.TrimPrefix(p2s(p), "/impl=")
				default:
					keys = append(keys, strings.TrimPrefix(p2s(p), "/"))
				}
			}
			if impl == "" {
				name := string(rec.Name.Base())
				if _, ok := other[name]; !ok {
					otherOrder = append(otherOrder, name)
				}
				if v, ok := origValue(rec, "ns/op"); ok {
					other[name] = append(other[name], v)
				}
				continue
			}
			cpus[procs] = true
			ip := implProcs{run.impl(area, strings.Join(keys, "/"), impl), procs}
			if samples[ip] == nil {
				samples[ip] = map[string][]float64{}
			}
			for _, v := range rec.Values {
				unit, value := orig(v)
				samples[ip][unit] = append(samples[ip][unit], value)
				run.Find(area).addUnit(unit)
			}
		}
	}
	if err := rd.Err(); err != nil {
		return nil, err
	}
	for n := range cpus {
		run.CPUs = append(run.CPUs, n)
	}
	slices.Sort(run.CPUs)
	if len(run.CPUs) > 0 {
		run.Procs = strconv.Itoa(run.CPUs[len(run.CPUs)-1])
	}
	best := map[*Impl]int{} // the highest GOMAXPROCS each implementation has
	for ip, units := range samples {
		im := ip.im
		if im.ByProcs == nil {
			im.ByProcs = map[int]map[string]float64{}
		}
		m := map[string]float64{}
		for unit, vs := range units {
			m[unit] = median(vs)
		}
		im.ByProcs[ip.procs] = m
		if ip.procs > best[im] {
			best[im] = ip.procs
		}
	}
	for ip, units := range samples {
		if ip.procs == best[ip.im] {
			ip.im.Medians = ip.im.ByProcs[ip.procs]
			ip.im.N = len(units["ns/op"])
		}
	}
	for _, name := range otherOrder {
		if vs := other[name]; len(vs) > 0 {
			run.Other = append(run.Other, Named{name, median(vs)})
		}
	}
	if len(run.Areas) == 0 {
		return nil, fmt.Errorf("%s: no benchmark results with an impl key", fileName)
	}
	return run, nil
}

// p2s is string(p), short.
func p2s(p []byte) string { return string(p) }

// origValue returns the value a result reported in unit, as go test wrote
// it.
func origValue(rec *benchfmt.Result, unit string) (float64, bool) {
	for _, v := range rec.Values {
		if u, x := orig(v); u == unit {
			return x, true
		}
	}
	return 0, false
}

// orig returns v's unit and value as go test wrote them: the reader turns
// ns/op into sec/op (and ns/task into sec/task), and keeps the original
// only for the values it changed.
func orig(v benchfmt.Value) (string, float64) {
	if v.OrigUnit != "" {
		return v.OrigUnit, v.OrigValue
	}
	return v.Unit, v.Value
}

// impl returns the Impl for area, workload and name, adding what is missing
// in first-seen order.
func (r *Run) impl(area, workload, name string) *Impl {
	a := r.Find(area)
	if a == nil {
		a = &Area{Name: area}
		r.Areas = append(r.Areas, a)
	}
	w := a.Find(workload)
	if w == nil {
		w = &Workload{Area: a, Name: workload}
		a.Workloads = append(a.Workloads, w)
	}
	im := w.Find(name)
	if im == nil {
		im = &Impl{Name: name}
		w.Impls = append(w.Impls, im)
	}
	return im
}

func (a *Area) addUnit(unit string) {
	switch unit {
	case "ns/op", "B/op", "allocs/op":
		return
	}
	for _, u := range a.Units {
		if u == unit {
			return
		}
	}
	a.Units = append(a.Units, unit)
}

// median is the median of vs, as benchstat computes it.
func median(vs []float64) float64 {
	s := benchmath.NewSample(vs, &benchmath.DefaultThresholds)
	return benchmath.AssumeNothing.Summary(s, 0.95).Center
}
