// Command report runs the benchmarks of the bench module and writes what
// they found: the raw results (benchmarks.txt), a page (benchmarks.md) with
// a table per area, the ratios to the floors, the targets met or missed and
// benchstat's output, and a chart (benchmarks.png).
//
// From the repository's root:
//
//	go -C bench run ./cmd/report          # -count 6, written to docs/
//	go -C bench run ./cmd/report -quick   # -count 1 -benchtime 1x, written to a temp dir
//
// Flags:
//
//	-bench regexp   the benchmarks to run (default ".")
//	-count n        runs of each benchmark (default 6), made as n rounds of
//	                go test -count 1, so that a machine's load that changes
//	                over the run falls on every implementation alike
//	-benchtime d    go test's -benchtime (default: go test's own)
//	-cpu list       the GOMAXPROCS values of the scaling curves (Pool,
//	                Pipeline, Breaker/path=closed-parallel), as go test's
//	                -cpu (default "1,N" for this process's GOMAXPROCS N);
//	                every other benchmark runs at the highest of them only.
//	                An empty list runs everything at GOMAXPROCS alone.
//	-out dir        where to write (default ../docs from the bench module,
//	                the repository's docs/; with -quick, a new temp dir)
//	-quick          -count 1 -benchtime 1x, and a temp dir unless -out is given
//	-raw file       run nothing: render from a raw file saved earlier
//	-dirty          render a page even though the code measured has
//	                uncommitted changes (the page says so)
//
// The raw file records the commit measured (git rev-parse HEAD) and
// whether the working tree had uncommitted changes (the generated
// docs/benchmarks.* aside), and the page names that commit. Without
// -dirty, the command refuses to write a page for a dirty tree, or from a
// raw file that records one or no commit at all; -quick to a temp dir is
// exempt, since that page is thrown away.
//
// The progress of go test goes to stderr; a summary of the headline ratios
// goes to stdout at the end. benchstat runs as
// go run golang.org/x/perf/cmd/benchstat, at the version the bench module's
// go.mod pins.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

const benchModule = "github.com/weftgo/weft/bench"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

type options struct {
	bench, benchtime, out, raw, cpu string
	count                           int
	quick, outSet, dirty            bool
}

func run(args []string, stdout, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.bench, "bench", ".", "run only the benchmarks matching `regexp`")
	fs.IntVar(&o.count, "count", 6, "run each benchmark `n` times")
	fs.StringVar(&o.benchtime, "benchtime", "", "go test's -benchtime (default: go test's own)")
	fs.StringVar(&o.out, "out", "", "write to `dir` (default: the repository's docs/, or a temp dir with -quick)")
	fs.BoolVar(&o.quick, "quick", false, "one iteration of each benchmark (-count 1 -benchtime 1x), to a temp dir unless -out is given")
	fs.StringVar(&o.raw, "raw", "", "run nothing: render from the raw benchmark `file`")
	fs.StringVar(&o.cpu, "cpu", defaultCPU(), "the GOMAXPROCS `list` of the scaling curves, as go test's -cpu")
	fs.BoolVar(&o.dirty, "dirty", false, "render a page even if the code measured has uncommitted changes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	fs.Visit(func(f *flag.Flag) { o.outSet = o.outSet || f.Name == "out" })
	if o.quick {
		o.count, o.benchtime = 1, "1x"
	}
	if o.count < 1 {
		return fmt.Errorf("-count %d: must be at least 1", o.count)
	}
	cpus, err := parseCPU(o.cpu)
	if err != nil {
		return err
	}
	// A quick page goes to a temp dir and is thrown away: it may measure
	// anything.
	allowDirty := o.dirty || (o.quick && !o.outSet)

	dir, err := moduleDir()
	if err != nil {
		return err
	}
	var src source
	if o.raw == "" {
		if src, err = sourceOf(dir); err != nil {
			return err
		}
		if err := src.check(allowDirty); err != nil {
			return err
		}
	}
	switch {
	case o.outSet:
	case o.quick:
		if o.out, err = os.MkdirTemp("", "weft-bench-"); err != nil {
			return err
		}
	default:
		o.out = filepath.Join(dir, "..", "docs")
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	rawPath := filepath.Join(o.out, "benchmarks.txt")

	var raw []byte
	settings := ""
	if o.raw != "" {
		if raw, err = os.ReadFile(o.raw); err != nil {
			return err
		}
		r, err := Parse(bytes.NewReader(raw), o.raw)
		if err != nil {
			return err
		}
		if err := sourceFromConfig(r.Config).check(allowDirty); err != nil {
			return fmt.Errorf("%s: %w", o.raw, err)
		}
		if !sameFile(o.raw, rawPath) {
			if err := os.WriteFile(rawPath, raw, 0o644); err != nil {
				return err
			}
		}
	} else {
		settings = fmt.Sprintf("`go -C bench run ./cmd/report -bench '%s' -count %d", o.bench, o.count)
		if o.benchtime != "" {
			settings += " -benchtime " + o.benchtime
		}
		if len(cpus) > 0 {
			settings += " -cpu " + o.cpu
		}
		settings += "`"
		if raw, err = runBenchmarks(dir, o, cpus, src, stderr); err != nil {
			// Keep what there is, for whoever looks into the failure.
			_ = os.WriteFile(rawPath, raw, 0o644)
			return err
		}
		if err := os.WriteFile(rawPath, raw, 0o644); err != nil {
			return err
		}
	}

	r, err := Parse(bytes.NewReader(raw), rawPath)
	if err != nil {
		return err
	}
	var stats []StatSection
	for _, a := range r.Areas {
		out, err := benchstat(dir, rawPath, a.Name)
		if err != nil {
			return err
		}
		stats = append(stats, StatSection{Area: a.Name, Output: out})
	}
	page := &Page{
		Machine:  machine(r),
		Commit:   commitNote(r.Config),
		Areas:    AreaViews(r),
		Scaling:  ScalingViews(r),
		Targets:  Targets(r),
		Notes:    notes,
		Stats:    stats,
		Rill:     rillNote,
		Settings: settings,
	}
	if err := writeFile(filepath.Join(o.out, "benchmarks.md"), func(w io.Writer) error { return RenderPage(w, page) }); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(o.out, "benchmarks.png"), func(w io.Writer) error { return WriteChart(w, r) }); err != nil {
		return err
	}
	summary(stdout, r, page.Targets, o.out)
	return nil
}

// moduleDir returns the directory of the bench module, which must be the
// main module of the go command run in the current directory.
func moduleDir() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Path}}\t{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("go list -m: %w (run from the bench module: go -C bench run ./cmd/report)", err)
	}
	path, dir, _ := strings.Cut(strings.TrimSpace(string(out)), "\t")
	if path != benchModule {
		return "", fmt.Errorf("the current module is %q, not %s: run go -C bench run ./cmd/report", path, benchModule)
	}
	return dir, nil
}

// runBenchmarks runs go test in dir, copying its output to progress as it
// comes, and returns the output with a few configuration lines of ours
// first (go version, commit, dirty flag, date, CPU count), in the benchmark
// format. It runs o.count rounds of go test -count 1. With more than one
// of cpus, the benchmarks without a scaling curve run at the highest only.
func runBenchmarks(dir string, o options, cpus []int, src source, progress io.Writer) ([]byte, error) {
	version, err := exec.Command("go", "version").Output()
	if err != nil {
		return nil, fmt.Errorf("go version: %w", err)
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "go: %s\n", strings.TrimPrefix(strings.TrimSpace(string(version)), "go version "))
	fmt.Fprintf(&buf, "commit: %s\n", src.commit)
	fmt.Fprintf(&buf, "dirty: %t\n", src.dirty)
	fmt.Fprintf(&buf, "date: %s\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&buf, "numcpu: %d\n", runtime.NumCPU())
	// Everything at the highest GOMAXPROCS of the list (or go test's
	// default without one), then the scaling curves alone at the others.
	passes := [][]string{nil}
	if len(cpus) > 0 {
		passes[0] = []string{"-cpu", strconv.Itoa(cpus[len(cpus)-1])}
		if rest := cpus[:len(cpus)-1]; len(rest) > 0 {
			var list []string
			for _, n := range rest {
				list = append(list, strconv.Itoa(n))
			}
			passes = append(passes, []string{"-cpu", strings.Join(list, ","), ".", "-args", "-bench.curves"})
		}
	}
	// The jetstream module's benchmark (an embedded server, so it needs no
	// service) runs at the highest GOMAXPROCS with the rest.
	jetstream := filepath.Join(dir, "..", "jetstream")
	for round := range o.count {
		for _, pass := range passes {
			if err := goTest(dir, o, round, pass, &buf, progress); err != nil {
				return buf.Bytes(), err
			}
		}
		if err := goTest(jetstream, o, round, passes[0], &buf, progress); err != nil {
			return buf.Bytes(), err
		}
	}
	return buf.Bytes(), nil
}

// goTest runs one round of go test in dir with the pass's flags, copying
// its output to buf and progress.
func goTest(dir string, o options, round int, pass []string, buf *bytes.Buffer, progress io.Writer) error {
	args := []string{"test", "-run", "^$", "-bench", o.bench, "-benchmem", "-count", "1"}
	if o.benchtime != "" {
		args = append(args, "-benchtime", o.benchtime)
	}
	args = append(args, pass...)
	if !slices.Contains(pass, ".") {
		args = append(args, ".")
	}
	fmt.Fprintf(progress, "report: round %d of %d: go %s\n", round+1, o.count, strings.Join(args, " "))
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Stdout = io.MultiWriter(buf, progress)
	cmd.Stderr = progress
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go test: %w", err)
	}
	return nil
}

// defaultCPU is "1,N" for this process's GOMAXPROCS N, or "1" when N is 1.
func defaultCPU() string {
	if n := runtime.GOMAXPROCS(0); n > 1 {
		return "1," + strconv.Itoa(n)
	}
	return "1"
}

// parseCPU parses a -cpu list into increasing GOMAXPROCS values; "" is
// none.
func parseCPU(list string) ([]int, error) {
	var cpus []int
	for f := range strings.SplitSeq(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-cpu %q: %q is not a GOMAXPROCS value", list, f)
		}
		cpus = append(cpus, n)
	}
	slices.Sort(cpus)
	return slices.Compact(cpus), nil
}

// source is the code a run measures: the commit checked out and whether
// the working tree differs from it.
type source struct {
	commit string // "" when unknown
	dirty  bool
	// changes are a few of the changed paths, for the refusal's message.
	changes []string
}

// sourceOf finds the commit of the repository holding the bench module's
// dir and whether its tree has changes other than the generated
// docs/benchmarks.* files.
func sourceOf(dir string) (source, error) {
	head, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return source{}, fmt.Errorf("git rev-parse HEAD in %s: %w (the page must name the commit it measured)", dir, err)
	}
	status, err := exec.Command("git", "-C", dir, "status", "--porcelain", "--", ":/").Output()
	if err != nil {
		return source{}, fmt.Errorf("git status in %s: %w", dir, err)
	}
	src := source{commit: strings.TrimSpace(string(head))}
	for line := range strings.Lines(string(status)) {
		line = strings.TrimRight(line, "\n")
		if len(line) < 4 {
			continue
		}
		path := line[3:]
		if generated(path) {
			continue
		}
		src.dirty = true
		if len(src.changes) < 5 {
			src.changes = append(src.changes, path)
		}
	}
	return src, nil
}

// generated reports whether path (relative to the repository's root) is
// one of the files the command writes.
func generated(path string) bool {
	switch path {
	case "docs/benchmarks.md", "docs/benchmarks.txt", "docs/benchmarks.png":
		return true
	}
	return false
}

// sourceFromConfig reads the commit and dirty flag a raw file recorded.
func sourceFromConfig(config map[string]string) source {
	return source{commit: config["commit"], dirty: config["dirty"] != "false"}
}

// check refuses a tree with uncommitted changes, or an unknown commit,
// unless allowed.
func (s source) check(allowDirty bool) error {
	switch {
	case allowDirty:
		return nil
	case s.commit == "":
		return fmt.Errorf("the commit measured is unknown: pass -dirty to render a page anyway")
	case s.dirty:
		what := ""
		if len(s.changes) > 0 {
			what = " (" + strings.Join(s.changes, ", ") + ")"
		}
		return fmt.Errorf("the code measured has uncommitted changes%s: commit them, "+
			"or pass -dirty to render a page that says it measured uncommitted code", what)
	}
	return nil
}

// commitNote says which code the page measured.
func commitNote(config map[string]string) string {
	s := sourceFromConfig(config)
	switch {
	case s.commit == "":
		return "unknown (the raw file records no commit)"
	case config["dirty"] == "false":
		return "`" + s.commit + "`"
	default:
		return "`" + s.commit + "` **with uncommitted changes**: this page does not describe any commit"
	}
}

// benchstat returns benchstat's comparison of area's implementations, with
// the floor first (the order in which they ran).
func benchstat(dir, rawPath, area string) (string, error) {
	abs, err := filepath.Abs(rawPath)
	if err != nil {
		return "", err
	}
	cmd := exec.Command("go", "run", "golang.org/x/perf/cmd/benchstat", "-col", "/impl", "-filter", ".name:"+area, abs)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("benchstat: %w\n%s", err, stderr.Bytes())
	}
	return string(out), nil
}

// machine describes where the raw results come from: from the file's
// configuration lines, and from this process where the file says nothing.
func machine(r *Run) []Named2 {
	get := func(key, fallback string) string {
		if v := r.Config[key]; v != "" {
			return v
		}
		return fallback
	}
	return []Named2{
		{"date of the run", get("date", "unknown")},
		{"GOOS/GOARCH", get("goos", "?") + "/" + get("goarch", "?")},
		{"CPU", get("cpu", "unknown")},
		{"GOMAXPROCS", procsNote(r)},
		{"NumCPU", get("numcpu", strconv.Itoa(runtime.NumCPU())+" (where this page was generated)")},
		{"Go", get("go", runtime.Version()+" (the version that generated this page)")},
		{"work=arith task alone", arithNote(r)},
	}
}

func procsNote(r *Run) string {
	procs := r.Procs
	if procs == "" {
		procs = "1"
	}
	if len(r.CPUs) < 2 {
		return procs
	}
	var ns []string
	for _, n := range r.CPUs {
		ns = append(ns, strconv.Itoa(n))
	}
	return procs + " in the tables; " + strings.Join(ns, ", ") + " in Scaling with GOMAXPROCS"
}

func arithNote(r *Run) string {
	for _, o := range r.Other {
		if o.Name == "Arith" {
			return fmtNum(o.Value) + " ns (BenchmarkArith)"
		}
	}
	return "not measured"
}

// summary prints the headline of weft on each workload and the targets.
func summary(w io.Writer, r *Run, targets []Target, out string) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	for _, a := range r.Areas {
		for _, wl := range a.Workloads {
			for _, im := range wl.Impls {
				if !im.InHeadline() {
					continue
				}
				if h := wl.Headline(im); h != "" {
					fmt.Fprintf(bw, "%-45s %s\n", wl.Title(), h)
				}
			}
		}
	}
	fmt.Fprintln(bw)
	for _, t := range targets {
		fmt.Fprintf(bw, "%-12s %s\n", t.Status, t.Name)
	}
	fmt.Fprintf(bw, "\nwrote %s\n", strings.Join([]string{
		filepath.Join(out, "benchmarks.txt"),
		filepath.Join(out, "benchmarks.md"),
		filepath.Join(out, "benchmarks.png"),
	}, ", "))
}

func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", name, err)
	}
	return f.Close()
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}
