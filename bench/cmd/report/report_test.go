package main

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sample is a tiny raw file: two runs of two workloads, one of them also
// at GOMAXPROCS=1 (no -N suffix), and a benchmark without an impl key.
const sample = `go: go1.26.0 linux/amd64
commit: 0123456789abcdef0123456789abcdef01234567
dirty: false
date: 2026-01-02T03:04:05Z
goos: linux
goarch: amd64
pkg: github.com/weftgo/weft/bench
cpu: Test CPU
BenchmarkArith-2	100	200 ns/op	0 B/op	0 allocs/op
BenchmarkPool/work=none/limit=64/impl=floor-channel64	10	4000000 ns/op	400.0 ns/task	16 B/op	1 allocs/op
BenchmarkPool/work=none/limit=64/impl=weft	10	6000000 ns/op	600.0 ns/task	32 B/op	2 allocs/op
BenchmarkPool/work=none/limit=64/impl=floor-channel64-2	10	1000000 ns/op	100.0 ns/task	16 B/op	1 allocs/op
BenchmarkPool/work=none/limit=64/impl=floor-channel64-2	10	3000000 ns/op	300.0 ns/task	16 B/op	1 allocs/op
BenchmarkPool/work=none/limit=64/impl=weft-2	10	3000000 ns/op	300.0 ns/task	32 B/op	2 allocs/op
BenchmarkPool/work=none/limit=64/impl=weft-2	10	5000000 ns/op	500.0 ns/task	32 B/op	2 allocs/op
BenchmarkPool/work=none/limit=64/impl=conc-2	10	2000000 ns/op	200.0 ns/task	64 B/op	4 allocs/op
BenchmarkPool/work=none/limit=64/impl=conc-2	10	2000000 ns/op	200.0 ns/task	64 B/op	4 allocs/op
BenchmarkPool/work=none/limit=64/impl=pond-2	10	8000000 ns/op	800.0 ns/task	8 B/op	1 allocs/op
BenchmarkPool/work=none/limit=64/impl=pond-2	10	8000000 ns/op	800.0 ns/task	8 B/op	1 allocs/op
BenchmarkBreaker/path=closed/impl=floor-2	1000	2 ns/op	0 B/op	0 allocs/op
BenchmarkBreaker/path=closed/impl=weft-2	1000	4 ns/op	0 B/op	0 allocs/op
BenchmarkBreaker/path=closed/impl=gobreaker-2	1000	80 ns/op	0 B/op	0 allocs/op
BenchmarkBreaker/path=closed/impl=failsafe-2	1000	400 ns/op	400 B/op	14 allocs/op
BenchmarkBreaker/path=open/impl=floor-2	1000	2 ns/op	0 B/op	0 allocs/op
BenchmarkBreaker/path=open/impl=weft-2	1000	8 ns/op	0 B/op	0 allocs/op
BenchmarkBreaker/path=open/impl=weft-forced-2	1000	4 ns/op	0 B/op	0 allocs/op
BenchmarkBreaker/path=open/impl=gobreaker-2	1000	80 ns/op	0 B/op	0 allocs/op
`

func TestParse(t *testing.T) {
	r, err := Parse(strings.NewReader(sample), "sample")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Config["cpu"], "Test CPU"; got != want {
		t.Errorf("cpu = %q, want %q", got, want)
	}
	if r.Procs != "2" {
		t.Errorf("Procs = %q, want 2", r.Procs)
	}
	if got, want := fmt.Sprint(r.CPUs), "[1 2]"; got != want {
		t.Errorf("CPUs = %s, want %s", got, want)
	}
	if got, want := r.Config["commit"], "0123456789abcdef0123456789abcdef01234567"; got != want {
		t.Errorf("commit = %q, want %q", got, want)
	}
	if len(r.Areas) != 2 || r.Areas[0].Name != "Pool" || r.Areas[1].Name != "Breaker" {
		t.Fatalf("areas = %v, want Pool then Breaker", r.Areas)
	}
	w := r.Find("Pool").Find("work=none/limit=64")
	if w == nil {
		t.Fatal("no Pool workload work=none/limit=64")
	}
	var names []string
	for _, im := range w.Impls {
		names = append(names, im.Name)
	}
	if got, want := strings.Join(names, " "), "floor-channel64 weft conc pond"; got != want {
		t.Errorf("impls = %s, want %s", got, want)
	}
	weft := w.Find("weft")
	if v, _ := weft.Median("ns/op"); v != 4e6 {
		t.Errorf("weft median ns/op = %v, want 4e6", v)
	}
	if v, _ := weft.Median("ns/task"); v != 400 {
		t.Errorf("weft median ns/task = %v, want 400", v)
	}
	if r, _ := w.Ratio(weft); r != 2 {
		t.Errorf("weft ratio = %v, want 2 (4ms over the floor's 2ms)", r)
	}
	if v := weft.ByProcs[1]["ns/task"]; v != 600 {
		t.Errorf("weft median ns/task at GOMAXPROCS=1 = %v, want 600", v)
	}
	if got, want := len(r.Find("Pool").Find("work=none/limit=64").Find("conc").ByProcs), 1; got != want {
		t.Errorf("conc measured at %d GOMAXPROCS values, want %d", got, want)
	}
	if len(r.Other) != 1 || r.Other[0].Name != "Arith" || r.Other[0].Value != 200 {
		t.Errorf("Other = %v, want Arith 200", r.Other)
	}
}

func TestHeadline(t *testing.T) {
	r, err := Parse(strings.NewReader(sample), "sample")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		workload *Workload
		want     string
	}{
		{r.Find("Pool").Find("work=none/limit=64"),
			"weft: 2.00× the floor, 2.00× the best peer (conc). Slower than conc (2.00× its time)."},
		{r.Find("Breaker").Find("path=closed"),
			"weft: 2.00× the floor, 0.05× the best peer (gobreaker)."},
		{r.Find("Breaker").Find("path=open"),
			"weft: 4.00× the floor, 0.10× the best peer (gobreaker)."},
	}
	for _, tt := range tests {
		if got := tt.workload.Headline(tt.workload.Find("weft")); got != tt.want {
			t.Errorf("Headline(%s) = %q, want %q", tt.workload.Title(), got, tt.want)
		}
	}
}

func TestTargets(t *testing.T) {
	r, err := Parse(strings.NewReader(sample), "sample")
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, tt := range Targets(r) {
		status[tt.Name] = tt.Status
	}
	want := map[string]string{
		"Pool/work=none/limit=64: weft ≤ pond's ns/task":                            "met",    // 400 ≤ 800
		"Pool/work=none/limit=64: weft ≤ 1.3× floor-channel64's ns/task":            "missed", // 2×
		"Pool/work=none/limit=64: weft-workers ≤ 1.5× floor-channel64's ns/task":    "not measured",
		"Pool/work=none/limit=2xprocs: weft ≤ pond's ns/task":                       "not measured",
		"Group/keys=1/callers=32/ctx=cancellable: weft ≤ 1.1× singleflight's ns/op": "not measured",
	}
	for name, w := range want {
		if got := status[name]; got != w {
			t.Errorf("target %s: %q, want %q", name, got, w)
		}
	}
}

// TestHeadlineSkipsForced checks that a breaker held open gets a row but no
// headline, in the summary as on the page.
func TestHeadlineSkipsForced(t *testing.T) {
	r, err := Parse(strings.NewReader(sample), "sample")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	summary(&out, r, nil, "dir")
	if strings.Contains(out.String(), "weft-forced") {
		t.Errorf("summary has a headline for weft-forced:\n%s", out.String())
	}
	for _, v := range AreaViews(r) {
		for _, h := range v.Headlines {
			if strings.Contains(h, "weft-forced") {
				t.Errorf("page headline for weft-forced: %s", h)
			}
		}
	}
}

func TestRender(t *testing.T) {
	r, err := Parse(strings.NewReader(sample), "sample")
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	page := &Page{Commit: commitNote(r.Config), Machine: machine(r), Areas: AreaViews(r), Scaling: ScalingViews(r),
		Targets: Targets(r), Notes: notes, Rill: rillNote}
	if err := RenderPage(&md, page); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| CPU | Test CPU |",
		"| work=none/limit=64 | floor-channel64 | 2,000,000 | 200 | 16 | 1 | 1.00× |",
		"Commit measured: `0123456789abcdef0123456789abcdef01234567`.",
		"## Scaling with GOMAXPROCS",
		"| workload | impl | ns/task, 1 P | ns/task, 2 P | × floor, 1 P | × floor, 2 P | 2 P ÷ 1 P |",
		"| work=none/limit=64 | floor-channel64 | 400 | 200 | 1.00× | 1.00× | 0.50× |",
		"|  | **weft** | 600 | 400 | 1.50× | 2.00× | 0.67× |",
		"|  | conc |  | 200 |  | 1.00× |  |",
		"Slower than conc",
		"![",
		"destel/rill could not be fetched",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("page lacks %q", want)
		}
	}
	var img bytes.Buffer
	if err := WriteChart(&img, r); err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(&img)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != chartWidth {
		t.Errorf("chart width = %d, want %d", cfg.Width, chartWidth)
	}
	// One row of two area panels, and a row of scaling curves for the one
	// workload measured at two GOMAXPROCS values.
	if want := headerPx + panelPx + curveHeaderPx + curvePanelPx; cfg.Height != want {
		t.Errorf("chart height = %d, want %d", cfg.Height, want)
	}
}

func TestSourceCheck(t *testing.T) {
	tests := []struct {
		name       string
		src        source
		allowDirty bool
		wantErr    string
	}{
		{"clean", source{commit: "abc"}, false, ""},
		{"dirty", source{commit: "abc", dirty: true, changes: []string{"pool/pool.go"}}, false, "uncommitted changes (pool/pool.go)"},
		{"dirty, allowed", source{commit: "abc", dirty: true}, true, ""},
		{"unknown commit", source{}, false, "commit measured is unknown"},
		{"unknown commit, allowed", source{}, true, ""},
	}
	for _, tt := range tests {
		err := tt.src.check(tt.allowDirty)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: check() = %v, want nil", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: check() = %v, want an error containing %q", tt.name, err, tt.wantErr)
		}
	}
}

// TestRawDirtyRefused checks that no page is rendered from a raw file that
// records a dirty tree, or no commit. (That -dirty lets them through is
// TestSourceCheck's; rendering runs benchstat, too slow for here.)
func TestRawDirtyRefused(t *testing.T) {
	tests := []struct {
		name string
		raw  string
	}{
		{"dirty", strings.Replace(sample, "dirty: false", "dirty: true", 1)},
		{"no dirty flag", strings.Replace(sample, "dirty: false\n", "", 1)},
		{"no commit", strings.Replace(strings.Replace(sample, "dirty: false\n", "", 1), "commit: ", "x: ", 1)},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		rawPath := filepath.Join(dir, "raw.txt")
		if err := os.WriteFile(rawPath, []byte(tt.raw), 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"-raw", rawPath, "-out", dir}
		var stdout, stderr bytes.Buffer
		if err := run(args, &stdout, &stderr); err == nil {
			t.Errorf("%s: run(%q) = nil, want an error", tt.name, args)
		}
		for _, name := range []string{"benchmarks.md", "benchmarks.txt"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				t.Errorf("%s: %s written, want nothing written", tt.name, name)
			}
		}
	}
}

func TestParseCPU(t *testing.T) {
	tests := []struct {
		list string
		want string
		err  bool
	}{
		{"1,2", "[1 2]", false},
		{"4, 1,2,2", "[1 2 4]", false},
		{"", "[]", false},
		{"0", "", true},
		{"x", "", true},
	}
	for _, tt := range tests {
		got, err := parseCPU(tt.list)
		if (err != nil) != tt.err {
			t.Errorf("parseCPU(%q) error = %v, want error %t", tt.list, err, tt.err)
			continue
		}
		if err == nil && fmt.Sprint(got) != tt.want {
			t.Errorf("parseCPU(%q) = %v, want %s", tt.list, got, tt.want)
		}
	}
}

func TestFmtNum(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{0, "0"},
		{0.0000523, "5.2e-05"},
		{0.0812, "0.081"},
		{0.5, "0.5"},
		{5.22, "5.22"},
		{24.5, "24.5"},
		{1414, "1,414"},
	}
	for _, tt := range tests {
		if got := fmtNum(tt.v); got != tt.want {
			t.Errorf("fmtNum(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
