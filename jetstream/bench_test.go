package jetstream_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
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

// latencies collects submit-to-done times, how long the jobs' sleeps took,
// and the jobs' errors.
type latencies struct {
	mu    sync.Mutex
	d     []time.Duration
	errs  int
	wg    sync.WaitGroup
	slept atomic.Int64 // ns
}

// work is the benchmarks' job: a 1ms sleep, timed.
func (l *latencies) work(ctx context.Context, j timed) error {
	start := time.Now()
	time.Sleep(benchWork)
	l.slept.Add(int64(time.Since(start)))
	return nil
}

func (l *latencies) done(j timed, err error) {
	d := time.Duration(time.Now().UnixNano() - j.Sent)
	l.mu.Lock()
	l.d = append(l.d, d)
	if err != nil {
		l.errs++
	}
	l.mu.Unlock()
	l.wg.Done()
}

// report puts the figures on b: ns/job and jobs/s over the elapsed time,
// the median and 99th percentile submit-to-done latencies, and sleep-ms,
// the mean time a job's 1ms sleep took, which grows when the runtime wakes
// the sleeping jobs late.
func (l *latencies) report(b *testing.B, elapsed time.Duration) {
	if l.errs > 0 {
		b.Fatalf("%d of %d jobs failed", l.errs, len(l.d))
	}
	slices.Sort(l.d)
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(len(l.d)), "ns/job")
	b.ReportMetric(float64(len(l.d))/elapsed.Seconds(), "jobs/s")
	b.ReportMetric(float64(l.d[len(l.d)/2])/1e6, "p50-ms")
	b.ReportMetric(float64(l.d[len(l.d)*99/100])/1e6, "p99-ms")
	b.ReportMetric(float64(l.slept.Load())/float64(len(l.d))/1e6, "sleep-ms")
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

// BenchmarkJetStream runs 1ms jobs on 64 workers with room for 128 more
// waiting, submitted by 16 goroutines calling Submit. Each workload
// (conns=1, 2, 4) splits the workers and the room into that many groups on
// connections of their own, as in as many processes, to an embedded server
// with file storage:
//
//   - impl=weft: jetstream.Workers with Buffer.
//   - impl=nats-messages: hand-written nats.go, each group's workers calling
//     Next on one Consumer.Messages iterator that keeps the room's jobs
//     pulled (PullMaxMessages), decoding with the same codec and acking.
//   - impl=nats-consume: hand-written nats.go, Consumer.Consume with the
//     same room, whose callback hands each message to the workers over an
//     unbuffered channel.
//   - impl=floor-in-process: in-process pool.Workers, the floor the ratios
//     are taken against.
//
// conns=1 also runs two rows of context rather than floors or peers:
//
//   - impl=floor-in-process-socket: pool.Workers again, on jobs that each
//     also write 4 bytes to a loopback TCP connection when they end, as a
//     job that reports its result over the network would. sleep-ms, the
//     mean time the jobs' 1ms sleeps took, shows why it is slower: the
//     runtime wakes sleeping goroutines later in a process that does
//     network I/O, and every run here but the floor does.
//   - impl=weft-gc-off: impl=weft with the garbage collector off for the
//     run, which shows what collecting costs the jobs when the server, in
//     the same process, and the client allocate a few kilobytes per job.
//
// An op is one job; ns/job, jobs/s and the submit-to-done latencies are the
// figures. bench/cmd/report puts them on the benchmark page; benchstat -col
// /impl compares them.
func BenchmarkJetStream(b *testing.B) {
	for _, conns := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			b.Run("impl=floor-in-process", func(b *testing.B) {
				inProcess(b, nil)
			})
			if conns == 1 {
				b.Run("impl=floor-in-process-socket", func(b *testing.B) {
					inProcess(b, loopback(b))
				})
			}
			weft := func(ctx context.Context, js jetstream.JetStream, l *latencies) func() {
				q, err := wjs.NewQueue[timed](ctx, js, "bench", wjs.DuplicateWindow(time.Second))
				if err != nil {
					b.Fatal(err)
				}
				w, err := wjs.NewWorkers(ctx, q, benchWorkers/conns, l.work,
					wjs.Buffer(benchBuffer/conns), wjs.OnDone(l.done))
				if err != nil {
					b.Fatal(err)
				}
				return func() {
					if err := w.Close(ctx); err != nil {
						b.Error(err)
					}
				}
			}
			b.Run("impl=weft", func(b *testing.B) {
				throughServer(b, conns, weft)
			})
			if conns == 1 {
				b.Run("impl=weft-gc-off", func(b *testing.B) {
					runtime.GC()
					defer debug.SetGCPercent(debug.SetGCPercent(-1))
					throughServer(b, conns, weft)
				})
			}
			b.Run("impl=nats-messages", func(b *testing.B) {
				throughServer(b, conns, func(ctx context.Context, js jetstream.JetStream, l *latencies) func() {
					it, err := rawConsumer(b, ctx, js).Messages(jetstream.PullMaxMessages(benchBuffer / conns))
					if err != nil {
						b.Fatal(err)
					}
					var wg sync.WaitGroup
					for range benchWorkers / conns {
						wg.Go(func() {
							for {
								m, err := it.Next()
								if err != nil {
									return // the iterator is stopped
								}
								rawRun(ctx, l, m)
							}
						})
					}
					return func() {
						it.Stop()
						wg.Wait()
					}
				})
			})
			b.Run("impl=nats-consume", func(b *testing.B) {
				throughServer(b, conns, func(ctx context.Context, js jetstream.JetStream, l *latencies) func() {
					jobs := make(chan jetstream.Msg)
					stop := make(chan struct{})
					cc, err := rawConsumer(b, ctx, js).Consume(func(m jetstream.Msg) {
						select {
						case jobs <- m:
						case <-stop: // left for AckWait: the run is over
						}
					}, jetstream.PullMaxMessages(benchBuffer/conns))
					if err != nil {
						b.Fatal(err)
					}
					var wg sync.WaitGroup
					for range benchWorkers / conns {
						wg.Go(func() {
							for {
								select {
								case m := <-jobs:
									rawRun(ctx, l, m)
								case <-stop:
									return
								}
							}
						})
					}
					return func() {
						cc.Stop()
						close(stop)
						wg.Wait()
					}
				})
			})
		})
	}
}

// throughServer starts an embedded server with file storage and the jobs'
// stream, starts conns groups of workers with start, each group on a
// connection of its own, submits b.N jobs and reports the figures once every
// job is done.
func throughServer(b *testing.B, conns int, start func(context.Context, jetstream.JetStream, *latencies) (stop func())) {
	srv, err := embedded.Start(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	ctx := context.Background()
	js, err := jetstream.New(srv.Conn())
	if err != nil {
		b.Fatal(err)
	}
	q, err := wjs.NewQueue[timed](ctx, js, "bench", wjs.DuplicateWindow(time.Second))
	if err != nil {
		b.Fatal(err)
	}
	var l latencies
	l.wg.Add(b.N)
	var stops []func()
	for range conns {
		nc, err := nats.Connect(srv.URL())
		if err != nil {
			b.Fatal(err)
		}
		defer nc.Close()
		gjs, err := jetstream.New(nc)
		if err != nil {
			b.Fatal(err)
		}
		stops = append(stops, start(ctx, gjs, &l))
	}
	b.ResetTimer()
	start0 := time.Now()
	submitAll(b, q.Submit)
	l.wg.Wait()
	elapsed := time.Since(start0)
	b.StopTimer()
	for _, stop := range stops {
		stop()
	}
	l.report(b, elapsed)
}

// rawConsumer creates or binds the hand-written runs' durable consumer on
// the jobs' stream, configured as jetstream.Workers configures its own.
func rawConsumer(b *testing.B, ctx context.Context, js jetstream.JetStream) jetstream.Consumer {
	c, err := js.CreateOrUpdateConsumer(ctx, "bench", jetstream.ConsumerConfig{
		Durable:       "bench_raw",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxDeliver:    -1,
		FilterSubject: "bench.jobs",
	})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// rawRun is a hand-written worker's step: decode with the queue's codec,
// run the job, ack.
func rawRun(ctx context.Context, l *latencies, m jetstream.Msg) {
	j, err := wjs.JSON[timed]{}.Decode(m.Data())
	if err == nil {
		err = l.work(ctx, j)
	}
	if err == nil {
		err = m.Ack()
	}
	l.done(j, err)
}

// inProcess runs the jobs on in-process pool.Workers with the same workers,
// buffer and submitters as the JetStream runs, each job followed by then if
// it is not nil.
func inProcess(b *testing.B, then func() error) {
	var l latencies
	l.wg.Add(b.N)
	handle := l.work
	if then != nil {
		handle = func(ctx context.Context, j timed) error {
			if err := l.work(ctx, j); err != nil {
				return err
			}
			return then()
		}
	}
	w := pool.NewWorkers(context.Background(), benchWorkers, handle,
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
}

// loopback connects to a listener on 127.0.0.1 whose one connection a
// goroutine reads until it closes, and returns a func that writes 4 bytes
// to it. The connection, the listener and the reader end with b.
func loopback(b *testing.B) func() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(io.Discard, c)
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		c.Close()
		ln.Close()
		<-read
	})
	var mu sync.Mutex
	msg := []byte("+ACK")
	return func() error {
		mu.Lock()
		defer mu.Unlock()
		_, err := c.Write(msg)
		return err
	}
}
