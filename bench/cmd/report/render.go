package main

import (
	_ "embed"
	"io"
	"strings"
	"text/template"
)

//go:embed page.md.tmpl
var pageTemplate string

// Page is what page.md.tmpl renders.
type Page struct {
	Command  string // the command that produced the raw file, if known
	Machine  []Named2
	Areas    []AreaView
	Targets  []Target
	Notes    []string
	Stats    []StatSection
	Rill     string
	Settings string
}

// Named2 is a label and its text.
type Named2 struct{ Name, Text string }

// AreaView is one area's section of the page.
type AreaView struct {
	Name      string
	Intro     string
	Header    []string
	Rows      [][]string
	Headlines []string
}

// StatSection is benchstat's output for one area.
type StatSection struct {
	Area   string
	Output string
}

// areaIntros says, for each area, what one op is and which implementation
// the ratios are taken against.
var areaIntros = map[string]string{
	"Pool": "One op submits 10,000 tiny tasks and waits for all of them, with at most `limit` running " +
		"(2xprocs = 2 × GOMAXPROCS). work=none only writes the task's slot; work=arith adds about 200 ns of integer " +
		"arithmetic. floor-channel (the reference) is `limit` goroutines reading funcs from a channel; " +
		"floor-goroutines starts a goroutine per task, with no limit. weft (a pool.Pool, which Wait closes), errgroup " +
		"and conc make a pool per op; weft-workers (a pool.Workers), ants and pond keep one pool for the whole " +
		"benchmark, as they are meant to be used.",
	"PoolIdle": "B/worker is the memory (heap spans and goroutine stacks in use, after a GC) a pool holds with 10,000 " +
		"idle workers, over 10,000. Each pool first runs 10,000 tasks that wait for each other, so it must start " +
		"10,000 workers. floor-channel is 10,000 goroutines blocked on one channel. pond's workers exit when its " +
		"queue is empty, so an idle pond pool holds no goroutines. ns/op is one whole cycle including two forced GCs.",
	"Pipeline": "One op sends 100,000 ints through map(+1) → filter(even) → map(×2) → sum, with `workers` " +
		"goroutines per stage. The floor is hand-written, one item per channel operation, 64-item channel buffers: " +
		"a goroutine per stage with one worker; with four, four goroutines per stage reading one channel, and for " +
		"order=ordered items tagged with sequence numbers and put back in order once, at the sink. weft uses Map " +
		"(ordered) or MapUnordered; its Filter keeps order in both. conc/stream (ordered only) runs all three steps " +
		"as one task per item, with the sum in its ordered callbacks.",
	"Fanin": "One op merges 8 producers of 12,500 ints each (channels with room for 64) into a sum. " +
		"floor-goroutines (the reference) is a goroutine per input forwarding into one channel; floor-select is one " +
		"reflect.Select loop over the 8 channels.",
	"Broadcast": "One op delivers 100,000 values to each of 4 consumers. The floor is one goroutine sending each " +
		"value to 4 channels in turn.",
	"Distribute": "One op spreads 100,000 values over 4 workers. The floor is 4 goroutines reading the input " +
		"channel itself; weft's Distribute adds a goroutine and a hop between them.",
	"Breaker": "One op is one call through a breaker: path=closed admits it and records a success, " +
		"closed-parallel does the same from every P at once (b.RunParallel), path=open rejects it. The floor calls " +
		"the guarded func directly (path=open: a call returning a ready-made error). weft is Breaker.Run " +
		"(forced open for path=open), weft-ticket its Allow/Done API, weft-tripped a breaker opened by failures, " +
		"like the peers'. failsafe goes through failsafe-go's executor, failsafe-permit through " +
		"TryAcquirePermit/RecordSuccess.",
	"Retry": "One op is one call with up to 3 attempts and no delay: case=first-success succeeds at once, " +
		"three-attempts fails twice then succeeds. The floor is a plain loop of calls. Policies and executors are " +
		"made once, except where the library needs one per call (see the notes).",
	"Coalesce": "One op is one Notify, from GOMAXPROCS goroutines at once, against a receiver that works about " +
		"1 µs per wake-up. The floor is a channel with room for one and a select-default send. wakes/op is the " +
		"share of notifications that woke the receiver.",
}

// notes are the places where a peer could not be mapped one to one.
var notes = []string{
	"go-retry: `NewConstant` panics on a zero delay, so its case uses 1ns, the smallest it accepts, and each retry " +
		"waits on a timer. Its backoffs count attempts inside themselves, so one is built per call (the library " +
		"forces that); retried errors must be wrapped with `RetryableError`.",
	"backoff (cenkalti/backoff/v5): `Retry` builds an ExponentialBackOff and a timer on every call before applying " +
		"the options (ZeroBackOff, 3 tries), which the caller cannot avoid.",
	"retry-go: `Delay(0)` alone still leaves up to 100ms of random jitter from the default delay type, so the " +
		"retrier also has `DelayType(FixedDelay)`; its context is fixed when the retrier is made.",
	"conc/stream has no stages to chain: the pipeline is one stream whose task does all three steps for an item, " +
		"so it makes one hand-off per item where the others make one per stage, and it has no unordered form.",
	"weft's pipeline has no unordered Filter, so order=unordered uses MapUnordered for the two maps and Filter " +
		"(which keeps order) for the filter.",
	"Pool: every implementation gets its task closures ready-made before the timer starts, so allocs/op counts " +
		"only what the pool allocates. ants and weft-workers have no batch wait: their tasks end with a WaitGroup's Done.",
}

// RenderPage writes the markdown page for p.
func RenderPage(w io.Writer, p *Page) error {
	t, err := template.New("page").Funcs(template.FuncMap{
		"join": strings.Join,
		"cells": func(row []string) string {
			return "| " + strings.Join(row, " | ") + " |"
		},
		"rule": func(n int) string {
			return "|" + strings.Repeat(" --- |", n)
		},
	}).Parse(pageTemplate)
	if err != nil {
		return err
	}
	return t.Execute(w, p)
}

// AreaViews builds each area's table and headlines.
func AreaViews(run *Run) []AreaView {
	var views []AreaView
	for _, a := range run.Areas {
		v := AreaView{Name: a.Name, Intro: areaIntros[a.Name]}
		v.Header = append([]string{"workload", "impl", "ns/op"}, a.Units...)
		v.Header = append(v.Header, "B/op", "allocs/op", "× floor")
		if u := a.PrimaryUnit(); u != "ns/op" {
			v.Header[len(v.Header)-1] = "× floor (" + u + ")"
		}
		for _, w := range a.Workloads {
			for i, im := range w.Impls {
				name := ""
				if i == 0 {
					name = w.Name
					if name == "" {
						name = a.Name
					}
				}
				row := []string{name, im.Name, cell(im, "ns/op")}
				for _, u := range a.Units {
					row = append(row, cell(im, u))
				}
				row = append(row, cell(im, "B/op"), cell(im, "allocs/op"))
				if r, ok := w.Ratio(im); ok {
					row = append(row, fmtRatio(r))
				} else {
					row = append(row, "")
				}
				if im.IsWeft() {
					row[1] = "**" + row[1] + "**"
				}
				v.Rows = append(v.Rows, row)
			}
			for _, im := range w.Impls {
				if im.IsWeft() {
					if h := w.Headline(im); h != "" {
						v.Headlines = append(v.Headlines, "`"+w.Title()+"` "+h)
					}
				}
			}
		}
		views = append(views, v)
	}
	return views
}

func cell(im *Impl, unit string) string {
	v, ok := im.Median(unit)
	if !ok {
		return ""
	}
	return fmtNum(v)
}
