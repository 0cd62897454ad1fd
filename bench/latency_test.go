package bench

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/weftgo/weft/pipeline"
)

// The latency workload: items made by a paced source (one every interval,
// an open loop that keeps its schedule), through three stages that each
// work for a fixed time per item, to a sink that notes how long after it
// was made each item arrived. Every implementation reports the median and
// the 99th percentile of that latency over all its items; its ns/op is the
// paced run's length and says nothing, so it is reported as 0.
type latencyCase struct {
	name     string
	work     time.Duration // per item per stage
	interval time.Duration // between items at the source
	items    int
}

var latencyCases = []latencyCase{
	// Stages a quarter busy: no queue forms (unless the machine stalls),
	// so latency is the work plus what the hand-offs add. The hand-written
	// source blocks when the first stage is busy and so slips its schedule,
	// hiding a queue that weft's source, which runs ahead, counts.
	{"work=5ms", 5 * time.Millisecond, 20 * time.Millisecond, 60},
	{"work=0", 0, 50 * time.Microsecond, 2000},
}

func (c latencyCase) stage(v time.Time) time.Time {
	if c.work > 0 {
		time.Sleep(c.work)
	}
	return v
}

// pace calls emit with the time each item is made, on schedule, until
// emit returns false.
func (c latencyCase) pace(emit func(time.Time) bool) {
	start := time.Now()
	for i := range c.items {
		if d := time.Until(start.Add(time.Duration(i) * c.interval)); d > 0 {
			time.Sleep(d)
		}
		if !emit(time.Now()) {
			return
		}
	}
}

// latencyWeft is the chain through weft's pipeline with its defaults.
func latencyWeft(c latencyCase, lat []time.Duration) ([]time.Duration, error) {
	s := pipeline.Generate(context.Background(), func(_ context.Context, emit func(time.Time) error) error {
		var err error
		c.pace(func(v time.Time) bool { err = emit(v); return err == nil })
		return err
	})
	for range 3 {
		s = pipeline.Map(s, func(_ context.Context, v time.Time) (time.Time, error) { return c.stage(v), nil })
	}
	err := pipeline.ForEach(s, func(_ context.Context, v time.Time) error {
		lat = append(lat, time.Since(v))
		return nil
	})
	return lat, err
}

// latencyFloor is the same chain over unbuffered channels, one goroutine
// per stage: the lowest latency hand-written code gets, since every item
// is handed on the moment the next stage takes it.
func latencyFloor(c latencyCase, lat []time.Duration) []time.Duration {
	src := make(chan time.Time)
	go func() {
		defer close(src)
		c.pace(func(v time.Time) bool { src <- v; return true })
	}()
	in := src
	for range 3 {
		out := make(chan time.Time)
		go func(in <-chan time.Time) {
			defer close(out)
			for v := range in {
				out <- c.stage(v)
			}
		}(in)
		in = out
	}
	for v := range in {
		lat = append(lat, time.Since(v))
	}
	return lat
}

func reportLatency(b *testing.B, lat []time.Duration) {
	b.Helper()
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Nanoseconds()) }
	b.ReportMetric(at(0.50), "p50-ns")
	b.ReportMetric(at(0.99), "p99-ns")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkPipelineLatency measures per-item latency through three stages
// (see latencyCase), against the unbuffered hand-written floor.
func BenchmarkPipelineLatency(b *testing.B) {
	noCurve(b)
	for _, c := range latencyCases {
		b.Run(c.name+"/impl=floor-unbuffered", func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				lat = latencyFloor(c, lat)
			}
			reportLatency(b, lat)
		})
		b.Run(c.name+"/impl=weft", func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				var err error
				if lat, err = latencyWeft(c, lat); err != nil {
					b.Fatal(err)
				}
			}
			reportLatency(b, lat)
		})
	}
}

// TestAgreeLatency checks that both implementations deliver every item of
// a short run.
func TestAgreeLatency(t *testing.T) {
	c := latencyCase{"short", 0, 0, 100}
	got, err := latencyWeft(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != c.items {
		t.Fatalf("weft delivered %d items, want %d", len(got), c.items)
	}
	if got := latencyFloor(c, nil); len(got) != c.items {
		t.Fatalf("floor delivered %d items, want %d", len(got), c.items)
	}
}
