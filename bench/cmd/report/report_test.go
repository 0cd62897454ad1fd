package main

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
)

// sample is a tiny raw file: two runs of two workloads, and a benchmark
// without an impl key.
const sample = `go: go1.26.0
date: 2026-01-02T03:04:05Z
goos: linux
goarch: amd64
pkg: github.com/weftgo/weft/bench
cpu: Test CPU
BenchmarkArith-2	100	200 ns/op	0 B/op	0 allocs/op
BenchmarkPool/work=none/limit=64/impl=floor-channel-2	10	1000000 ns/op	100.0 ns/task	16 B/op	1 allocs/op
BenchmarkPool/work=none/limit=64/impl=floor-channel-2	10	3000000 ns/op	300.0 ns/task	16 B/op	1 allocs/op
BenchmarkPool/work=none/limit=64/impl=weft-2	10	3000000 ns/op	300.0 ns/task	32 B/op	2 allocs/op
BenchmarkPool/work=none/limit=64/impl=weft-2	10	5000000 ns/op	500.0 ns/task	32 B/op	2 allocs/op
BenchmarkPool/work=none/limit=64/impl=conc-2	10	2000000 ns/op	200.0 ns/task	64 B/op	4 allocs/op
BenchmarkPool/work=none/limit=64/impl=conc-2	10	2000000 ns/op	200.0 ns/task	64 B/op	4 allocs/op
BenchmarkPool/work=none/limit=64/impl=ants-2	10	8000000 ns/op	800.0 ns/task	8 B/op	1 allocs/op
BenchmarkPool/work=none/limit=64/impl=ants-2	10	8000000 ns/op	800.0 ns/task	8 B/op	1 allocs/op
BenchmarkBreaker/path=closed/impl=floor-2	1000	2 ns/op	0 B/op	0 allocs/op
BenchmarkBreaker/path=closed/impl=weft-2	1000	4 ns/op	0 B/op	0 allocs/op
BenchmarkBreaker/path=closed/impl=gobreaker-2	1000	80 ns/op	0 B/op	0 allocs/op
BenchmarkBreaker/path=closed/impl=failsafe-2	1000	400 ns/op	400 B/op	14 allocs/op
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
	if got, want := strings.Join(names, " "), "floor-channel weft conc ants"; got != want {
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
		status[strings.SplitN(tt.Name, ":", 2)[0]] = tt.Status
	}
	want := map[string]string{
		"Pool/work=none/limit=64":          "missed", // conc is faster
		"Pipeline/workers=4/order=ordered": "not measured",
		"Breaker/path=closed":              "met", // 20× and 100×, 0 allocs
		"Retry/case=first-success":         "not measured",
	}
	for name, w := range want {
		if got := status[name]; got != w {
			t.Errorf("target %s: %q, want %q", name, got, w)
		}
	}
}

func TestRender(t *testing.T) {
	r, err := Parse(strings.NewReader(sample), "sample")
	if err != nil {
		t.Fatal(err)
	}
	var md bytes.Buffer
	page := &Page{Machine: machine(r), Areas: AreaViews(r), Targets: Targets(r), Notes: notes, Rill: rillNote}
	if err := RenderPage(&md, page); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| CPU | Test CPU |",
		"| work=none/limit=64 | floor-channel | 2,000,000 | 200 | 16 | 1 | 1.00× |",
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
}
