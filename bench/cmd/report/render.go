package main

import (
	_ "embed"
	"fmt"
	"io"
	"strings"
	"text/template"
)

//go:embed page.md.tmpl
var pageTemplate string

// Page is what page.md.tmpl renders.
type Page struct {
	Command  string // the command that produced the raw file, if known
	Commit   string // the commit measured, as markdown
	Machine  []Named2
	Areas    []AreaView
	Scaling  []AreaView // the -cpu curves, one table per area that has them
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
		"arithmetic. floor-channel64 (the reference) is `limit` goroutines reading funcs from a channel with room " +
		"for max(limit, 64), the room a pool.Pool has by default; floor-channel is the same with room for `limit`; " +
		"floor-goroutines starts a goroutine per task, with no limit. weft (a pool.Pool, which Wait closes), " +
		"errgroup (SetLimit) and conc make a pool per op; weft-workers (a pool.Workers), ants and pond keep one " +
		"pool for the whole benchmark, as they are meant to be used. pond submits with Go and waits with a " +
		"WaitGroup, as ants and weft-workers do; pond-group uses the same pool through a task group per op " +
		"(NewGroup, Submit, Wait), which makes a future per task.",
	"PipelineLatency": "Per-item latency: a source makes one item every 20ms (work=5ms, 60 items) or every 50µs " +
		"(work=0, 2,000 items), on schedule, and three stages each work that long per item; p50-ns and p99-ns are " +
		"the median and 99th percentile of the time from an item's making to its arrival at the sink, over every " +
		"item of every op (ns/op is the paced run's length and is reported as 0). floor-unbuffered is the same " +
		"chain over unbuffered channels, one goroutine per stage, which hands each item on the moment the next " +
		"stage takes it; weft is Generate → Map ×3 → ForEach with the defaults. Its source runs ahead of a busy " +
		"stage, where the floor's blocks and slips its schedule, so a queue that forms counts in weft's latency only.",
	"JetStream": "Jobs through github.com/weftgo/weft/jetstream, from the jetstream module's BenchmarkJetStream: 1ms " +
		"jobs on 64 workers with room for 128 more, submitted by 16 goroutines, through an embedded NATS server with " +
		"file storage in the same process. conns=N splits the workers and the room into N groups, each on a " +
		"connection of its own, as N processes would. weft is jetstream.Workers with Buffer(128/N). nats-messages " +
		"and nats-consume are hand-written nats.go v1.56: each group's workers call Next on one Consumer.Messages " +
		"iterator, or take the messages Consumer.Consume's callback hands them over a channel, with the same room " +
		"(PullMaxMessages), the same codec and an ack per job. The floor here is not hand-written: it is weft's " +
		"in-process pool.Workers on the same work, so the ratio is what moving the queue to a server costs (1.25× " +
		"its time per job is 0.8× its throughput). floor-in-process-socket is context, not the floor the ratios are " +
		"taken against: the same pool.Workers on jobs that each also write 4 bytes to a loopback TCP connection " +
		"when they end, as a job that reports its result over the network would. sleep-ms is the mean time the " +
		"jobs' 1ms sleeps took: the Go runtime wakes sleeping goroutines later in a process that does network I/O, " +
		"and each run's throughput follows it (64 workers ÷ sleep-ms is its ceiling). Two things outside weft make " +
		"the sleeps late. When every goroutine waits, the runtime waits for the next timer in epoll_wait, which " +
		"counts whole milliseconds (golang/go#44343). And the garbage collector runs often: the server, in the same process, and nats.go allocate most of the few " +
		"kilobytes each job costs. weft-gc-off, context too, is weft with the collector off for the run. An op is one job; ns/op is 0 " +
		"because the run is timed by hand; p50-ms and p99-ms are the time from Submit to the end of the job. These " +
		"figures move most with the machine's load, since the server and the client share its cores.",
	"PoolIdle": "B/worker is the memory (heap spans and goroutine stacks in use, after a GC) a pool holds with 10,000 " +
		"idle workers, over 10,000. Each pool first runs 10,000 tasks that wait for each other, so it must start " +
		"10,000 workers. floor-channel is 10,000 goroutines blocked on one channel. pond's workers exit when its " +
		"queue is empty, so an idle pond pool holds no goroutines. ns/op is one whole cycle including two forced GCs.",
	"Pipeline": "One op sends 100,000 ints through map(+1) → filter(even) → map(×2) → sum, with `workers` " +
		"goroutines per stage. Both floors are hand-written with the buffering of weft's defaults. floor-chunked " +
		"(the reference) moves chunks of up to 64 items (weft's default Chunk) on channels with room for one " +
		"chunk, works on each chunk in place, drops filtered items from it, and recycles chunks through a " +
		"sync.Pool; floor-items moves one item per channel operation on channels with room for 64. With one worker " +
		"a floor's stage is one goroutine; with four, four goroutines read one channel, and for order=ordered the " +
		"sink puts chunks (or items, tagged with sequence numbers) back in order once; floor-items' filter drops " +
		"the items it rejects and marks their numbers in a bitset the sink reads. weft uses Map (ordered) or " +
		"MapUnordered; its Filter keeps order in both. conc/stream (ordered only) runs all three steps as one " +
		"task per item, with the sum in its ordered callbacks.",
	"Fanin": "One op merges 8 producers of 12,500 ints each (channels with room for 64) into a sum. " +
		"floor-goroutines (the reference) is a goroutine per input forwarding into one channel; floor-select is one " +
		"reflect.Select loop over the 8 channels.",
	"Broadcast": "One op delivers 100,000 values to each of 4 consumers. The floor is one goroutine sending each " +
		"value to 4 channels in turn.",
	"Distribute": "One op spreads 100,000 values over 4 workers. The floor is 4 goroutines reading the input " +
		"channel itself; weft's Distribute adds a goroutine and a hop between them.",
	"Breaker": "One op is one call through a breaker: path=closed admits it and records a success, " +
		"closed-parallel does the same from every P at once (b.RunParallel), path=open rejects it. For path=open " +
		"every breaker is tripped by failures, so each rejection checks whether its open time is over; " +
		"weft-forced, a weft breaker held open with ForceOpen (no clock read), is a row of its own, in no " +
		"headline, since no peer is measured in that state. The floor calls the guarded func directly " +
		"(path=open: a call returning a ready-made error). weft is Breaker.Run, weft-ticket its Allow/Done API. " +
		"failsafe goes through failsafe-go's executor, failsafe-permit through its permit API " +
		"(TryAcquirePermit, RecordSuccess/RecordFailure).",
	"Retry": "One op is one call with up to 3 attempts and no delay: case=first-success succeeds at once, " +
		"three-attempts fails twice then succeeds. The floor is a plain loop of calls. Policies and executors are " +
		"made once, except where the library needs one per call (see the notes).",
	"Coalesce": "One op is one Notify, from GOMAXPROCS goroutines at once, against a receiver that works about " +
		"1 µs per wake-up. floor-len (the reference) is a channel with room for one, a `len(ch) > 0` check that " +
		"skips the send when a wake-up is pending, and a select-default send; floor-send is the same without the " +
		"len check. wakes/op is the share of notifications that woke the receiver.",
	"Group": "One op is one call of 32 goroutines calling at once for `keys` hot keys, each call asking for a load " +
		"of about 1 µs of arithmetic with a runtime.Gosched halfway (where a real load would wait for I/O), which " +
		"the implementation shares among the calls for that key in flight; loads/op is the share of calls that ran " +
		"a load of their own. ctx=cancellable gives every caller a context that can be cancelled (and is not), the " +
		"case coalesce.Flight exists for; ctx=background gives context.Background(). The floor is a hand-written " +
		"single flight: a mutex, a map of calls and a channel closed when a call is done; the first caller runs the " +
		"load, the others wait on the channel or their context. weft is coalesce.Flight.Do; singleflight is " +
		"x/sync/singleflight's Do, which takes no context (the same code under both ctx values); singleflight-chan " +
		"is its DoChan and a select on the result and ctx.Done(), the way callers that must be able to leave use it.",
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
		"only what the pool allocates. ants, pond and weft-workers are used without a batch wait: their tasks end " +
		"with a WaitGroup's Done. A pool.Workers' queue has room for 2 × limit by default, less than " +
		"floor-channel64's at limit=2xprocs.",
	"Scaling: Pool, Pipeline and Breaker/path=closed-parallel run at every GOMAXPROCS of `-cpu`; every other " +
		"benchmark at the highest only (the harness's `-bench.procs` flag skips them at the others).",
	"The ratio a headline gives against \"the best peer\" is against the fastest peer on that workload, named; " +
		"below 1× weft is faster than every peer measured there.",
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
				if im.InHeadline() {
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

// curveUnit is the unit an area's scaling table shows: its per-item unit
// (ns/task, ns/item) if it has one, else ns/op.
func (a *Area) curveUnit() string {
	for _, u := range a.Units {
		if strings.HasPrefix(u, "ns/") {
			return u
		}
	}
	return "ns/op"
}

// ScalingViews builds a table per area of the workloads measured at more
// than one GOMAXPROCS: each implementation's time at each, its ratio to the
// floor at each, and how its time changed from the fewest to the most.
func ScalingViews(run *Run) []AreaView {
	if len(run.CPUs) < 2 {
		return nil
	}
	var views []AreaView
	for _, a := range run.Areas {
		unit := a.curveUnit()
		v := AreaView{Name: a.Name, Header: []string{"workload", "impl"}}
		for _, n := range run.CPUs {
			v.Header = append(v.Header, fmt.Sprintf("%s, %d P", unit, n))
		}
		for _, n := range run.CPUs {
			v.Header = append(v.Header, fmt.Sprintf("× floor, %d P", n))
		}
		first, last := run.CPUs[0], run.CPUs[len(run.CPUs)-1]
		v.Header = append(v.Header, fmt.Sprintf("%d P ÷ %d P", last, first))
		for _, w := range a.Workloads {
			if !w.scaled() {
				continue
			}
			f := w.Floor()
			for i, im := range w.Impls {
				name := ""
				if i == 0 {
					name = w.Name
				}
				row := []string{name, im.Name}
				for _, n := range run.CPUs {
					row = append(row, procsCell(im, n, unit))
				}
				for _, n := range run.CPUs {
					row = append(row, procsRatio(im, f, n, unit))
				}
				row = append(row, procsRatio(im, im, 0, unit, last, first))
				if im.IsWeft() {
					row[1] = "**" + row[1] + "**"
				}
				v.Rows = append(v.Rows, row)
			}
		}
		if len(v.Rows) > 0 {
			v.Intro = fmt.Sprintf("%s at each GOMAXPROCS (P), the same workloads as above; the last column is the "+
				"time at %d P over the time at %d P (below 1: faster with more Ps).", unit, last, first)
			views = append(views, v)
		}
	}
	return views
}

// scaled reports whether some implementation of w was measured at more
// than one GOMAXPROCS.
func (w *Workload) scaled() bool {
	for _, im := range w.Impls {
		if len(im.ByProcs) > 1 {
			return true
		}
	}
	return false
}

func procsCell(im *Impl, procs int, unit string) string {
	if v, ok := im.ByProcs[procs][unit]; ok {
		return fmtNum(v)
	}
	return ""
}

// procsRatio is im's median over den's in unit, both at procs; or, given
// two more procs values p and q, im's median at p over den's at q.
func procsRatio(im, den *Impl, procs int, unit string, pq ...int) string {
	p, q := procs, procs
	if len(pq) == 2 {
		p, q = pq[0], pq[1]
	}
	if im == nil || den == nil {
		return ""
	}
	v, ok1 := im.ByProcs[p][unit]
	d, ok2 := den.ByProcs[q][unit]
	if !ok1 || !ok2 || d <= 0 {
		return ""
	}
	return fmtRatio(v / d)
}
