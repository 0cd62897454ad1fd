package jetstream_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	wjs "github.com/weftgo/weft/jetstream"
	"github.com/weftgo/weft/jetstream/embedded"
	"github.com/weftgo/weft/pool"
)

// timed is the benchmarks' job: when it was submitted.
type timed struct {
	Sent int64 `json:"sent"`
}

const (
	benchWorkers    = 64
	benchBuffer     = 2 * benchWorkers // pool.Workers' default
	benchWork       = time.Millisecond
	benchSubmitters = 16
)

// latencies collects submit-to-done times.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
	wg sync.WaitGroup
}

func (l *latencies) done(j timed, err error) {
	d := time.Duration(time.Now().UnixNano() - j.Sent)
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
	l.wg.Done()
}

func (l *latencies) report(b *testing.B, elapsed time.Duration) {
	slices.Sort(l.d)
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(len(l.d)), "ns/job")
	b.ReportMetric(float64(len(l.d))/elapsed.Seconds(), "jobs/s")
	b.ReportMetric(float64(l.d[len(l.d)/2])/1e6, "p50-ms")
	b.ReportMetric(float64(l.d[len(l.d)*99/100])/1e6, "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// submitAll submits b.N jobs from benchSubmitters goroutines.
func submitAll(b *testing.B, submit func(context.Context, timed) error) {
	var wg sync.WaitGroup
	per := (b.N + benchSubmitters - 1) / benchSubmitters
	for s := range benchSubmitters {
		wg.Go(func() {
			for i := s * per; i < min(b.N, (s+1)*per); i++ {
				if err := submit(context.Background(), timed{Sent: time.Now().UnixNano()}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func work(ctx context.Context, j timed) error {
	time.Sleep(benchWork)
	return nil
}

// BenchmarkJetStream runs 1ms jobs on 64 workers with room for 128 more
// waiting: in-process pool.Workers (impl=floor-in-process), and Workers
// through an embedded server with file storage, the workers and the buffer
// split into 1, 2 or 4 groups on connections of their own, as in as many
// processes (impl=weft-jetstream-1, -2, -4). Jobs come from 16 goroutines
// calling Submit. An op is one job; ns/job, jobs/s and the submit-to-done
// latencies are the figures. bench/cmd/report puts them on the benchmark
// page; benchstat -col /impl compares them.
func BenchmarkJetStream(b *testing.B) {
	b.Run("impl=floor-in-process", func(b *testing.B) {
		var l latencies
		l.wg.Add(b.N)
		w := pool.NewWorkers(context.Background(), benchWorkers, work,
			pool.Buffer(benchBuffer), pool.OnDone(l.done))
		b.ResetTimer()
		start := time.Now()
		submitAll(b, w.Submit)
		l.wg.Wait()
		elapsed := time.Since(start)
		b.StopTimer()
		if err := w.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
		l.report(b, elapsed)
	})
	for _, groups := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("impl=weft-jetstream-%d", groups), func(b *testing.B) {
			srv, err := embedded.Start(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Stop()
			ctx := context.Background()
			js, _ := jetstream.New(srv.Conn())
			q, err := wjs.NewQueue[timed](ctx, js, "bench", wjs.DuplicateWindow(time.Second))
			if err != nil {
				b.Fatal(err)
			}
			var l latencies
			l.wg.Add(b.N)
			var ws []*wjs.Workers[timed]
			for range groups {
				nc, err := nats.Connect(srv.URL())
				if err != nil {
					b.Fatal(err)
				}
				defer nc.Close()
				gjs, _ := jetstream.New(nc)
				gq, err := wjs.NewQueue[timed](ctx, gjs, "bench", wjs.DuplicateWindow(time.Second))
				if err != nil {
					b.Fatal(err)
				}
				w, err := wjs.NewWorkers(ctx, gq, benchWorkers/groups, work,
					wjs.Buffer(benchBuffer/groups), wjs.OnDone(l.done))
				if err != nil {
					b.Fatal(err)
				}
				ws = append(ws, w)
			}
			b.ResetTimer()
			start := time.Now()
			submitAll(b, q.Submit)
			l.wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			for _, w := range ws {
				if err := w.Close(ctx); err != nil {
					b.Fatal(err)
				}
			}
			l.report(b, elapsed)
		})
	}
}
