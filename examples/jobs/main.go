// Command jobs is a job processor, the pattern behind every queue consumer:
//
//	source ──▶ bounded queue ──▶ workers ──▶ downstream (behind a breaker)
//	              ▲                 │
//	              └─ retry delay ◀──┤ transient failure: back on the queue after a backoff
//	                                └─▶ dead letters (JSONL) when the policy gives up
//
// The source is generated (deterministic with -seed) or read from a JSONL
// file (-in). A pool.Workers runs the jobs with a bounded queue, so the reader
// blocks while the workers are busy. A failed job is put back on the queue
// after its backoff delay instead of holding a worker while it sleeps; the
// jobs the retry policy gives up on are appended to a dead-letter file. The
// simulated downstream has transient failures, slow calls and an outage; a
// breaker stops calling it during the outage and the retry policy waits the
// breaker out. Ctrl-C or SIGTERM stops reading, drains what is in flight,
// writes the jobs that never ran to a file and exits 0.
//
//	go -C examples run ./jobs
//	go -C examples run ./jobs -jobs 200000 -metrics :9090
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weftgo/weft/breaker"
	"github.com/weftgo/weft/pool"
	"github.com/weftgo/weft/retry"
	"github.com/weftgo/weft/shutdown"
)

// Job is one unit of work, as read from a JSONL line.
type Job struct {
	ID      int    `json:"id"`
	Payload string `json:"payload"`
}

type config struct {
	jobs        int
	seed        uint64
	in          string
	workers     int
	queue       int
	deadLetters string // JSONL file of the jobs given up on
	notRun      string // JSONL file of the jobs a stop left unprocessed
	metrics     string // address for /metrics; empty for none
	drain       time.Duration
	progress    io.Writer // where progress goes; nil for none
	out         io.Writer // where the summary goes

	// The simulated downstream.
	latency     time.Duration // typical call latency
	failRate    float64       // share of calls failing transiently
	brokenRate  float64       // share of jobs that always fail
	outageAfter time.Duration // when the outage starts, from the start of the run
	outageFor   time.Duration

	// started, when set, is called once the pool runs; tests use it.
	started func(*pool.Workers[Job])
}

// summary is what a run did.
type summary struct {
	total, succeeded, retried, deadLettered, notRun int64
	retriedOpen                                     int64 // retries of jobs the open breaker turned away
	elapsed                                         time.Duration
}

func main() {
	cfg := config{out: os.Stdout, progress: os.Stderr}
	flag.IntVar(&cfg.jobs, "jobs", 50_000, "jobs to generate when -in is empty")
	flag.Uint64Var(&cfg.seed, "seed", 1, "seed of the generated jobs and of the simulated failures")
	flag.StringVar(&cfg.in, "in", "", "JSONL file of jobs ({\"id\":1,\"payload\":\"...\"} per line)")
	flag.IntVar(&cfg.workers, "workers", 64, "workers")
	flag.IntVar(&cfg.queue, "queue", 256, "queue size")
	flag.StringVar(&cfg.deadLetters, "dead-letters", filepath.Join(os.TempDir(), "weft-jobs-dead-letters.jsonl"), "JSONL file for the jobs given up on")
	flag.StringVar(&cfg.notRun, "not-run", filepath.Join(os.TempDir(), "weft-jobs-not-run.jsonl"), "JSONL file for the jobs a stop left unprocessed")
	flag.StringVar(&cfg.metrics, "metrics", "", "serve Prometheus metrics on this address, e.g. :9090")
	flag.DurationVar(&cfg.drain, "drain", 10*time.Second, "how long a stop may take to finish the jobs in flight")
	flag.DurationVar(&cfg.latency, "latency", time.Millisecond, "typical latency of the simulated downstream")
	flag.Float64Var(&cfg.failRate, "fail-rate", 0.05, "share of downstream calls that fail transiently")
	flag.Float64Var(&cfg.brokenRate, "broken-rate", 0.002, "share of jobs the downstream always refuses")
	flag.DurationVar(&cfg.outageAfter, "outage-after", 500*time.Millisecond, "when the downstream outage starts")
	flag.DurationVar(&cfg.outageFor, "outage-for", 200*time.Millisecond, "how long the outage lasts (0 for none)")
	flag.Parse()
	if err := cfg.check(); err != nil {
		fmt.Fprintln(os.Stderr, "jobs:", err)
		os.Exit(1)
	}

	// The first Ctrl-C or SIGTERM cancels ctx: stop reading and drain. A
	// second one exits at once.
	ctx, stop := shutdown.OnSignal(context.Background())
	defer stop()
	if _, err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "jobs:", err)
		os.Exit(1)
	}
}

func (c config) check() error {
	switch {
	case c.jobs < 0:
		return fmt.Errorf("-jobs %d: negative", c.jobs)
	case c.workers < 1:
		return fmt.Errorf("-workers %d: need at least one", c.workers)
	case c.queue < 1:
		return fmt.Errorf("-queue %d: need at least one", c.queue)
	case c.failRate < 0 || c.failRate >= 1:
		return fmt.Errorf("-fail-rate %v: not in [0, 1)", c.failRate)
	case c.brokenRate < 0 || c.brokenRate >= 1:
		return fmt.Errorf("-broken-rate %v: not in [0, 1)", c.brokenRate)
	case c.drain <= 0:
		return fmt.Errorf("-drain %v: need a positive duration", c.drain)
	}
	return nil
}

// run processes every job of the source, or until ctx is done, and prints
// the summary.
func run(ctx context.Context, cfg config) (summary, error) {
	var sum summary
	start := time.Now()

	src, err := openSource(cfg)
	if err != nil {
		return sum, err
	}
	defer src.Close()

	m := newMetrics()
	dead, err := newDeadLetterFile(cfg.deadLetters, m.deadLettered.Inc)
	if err != nil {
		return sum, err
	}
	defer dead.Close()

	if cfg.metrics != "" {
		stopMetrics, err := serveMetrics(cfg.metrics, m)
		if err != nil {
			return sum, err
		}
		defer stopMetrics()
	}

	down := &downstream{cfg: cfg, start: start}
	// The breaker stops calling the downstream while it is down; its open
	// error says when to try again, and the retry policy below waits that
	// long before the job's next attempt.
	br := breaker.New(breaker.Name("downstream"),
		breaker.ConsecutiveFailures(20),
		breaker.OpenFor(100*time.Millisecond),
		breaker.OnStateChange(func(e breaker.Event) { m.breakerState.Set(stateValue(e.To)) }))
	// During the outage most retries are jobs the open breaker turned away
	// at once: each waits out the breaker's RetryAfter on a timer and tries
	// again, which the summary counts apart.
	var retriedOpen atomic.Int64
	policy := retry.New(
		retry.Attempts(6),
		retry.Exponential(5*time.Millisecond, 2, 500*time.Millisecond),
		retry.FullJitter(),
		retry.HonorRetryAfter(time.Second), // wait out an open breaker
		retry.OnRetry(func(_ int, err error, _ time.Duration) {
			m.retried.Inc()
			if errors.Is(err, breaker.ErrOpen) {
				retriedOpen.Add(1)
				m.retriedOpen.Inc()
			}
		}),
	)

	handle := func(ctx context.Context, j Job) error {
		begin := time.Now()
		err := br.Run(ctx, func(ctx context.Context) error { return down.call(ctx, j) })
		m.latency.Observe(time.Since(begin).Seconds())
		return err
	}
	var succeeded atomic.Int64
	w := pool.NewWorkers(context.WithoutCancel(ctx), cfg.workers, handle,
		pool.WithQueue(cfg.queue),
		pool.WithRetry(policy),
		pool.WithDeadLetter(retry.DeadLetter[Job](dead)),
		pool.OnDone(func(_ Job, err error) {
			if err == nil {
				succeeded.Add(1)
				m.processed.Inc()
			}
		}))
	if cfg.started != nil {
		cfg.started(w)
	}

	// Progress and the queue-depth gauge, once a second (more often on a
	// terminal), until the run ends.
	progressDone := make(chan struct{})
	progressStopped := make(chan struct{})
	go func() {
		defer close(progressStopped)
		reportProgress(cfg, w, m, progressDone)
	}()

	// Feed the pool. Submit blocks while the queue is full: that is the
	// backpressure that keeps the reader from running ahead of the workers.
	var readErr error
	var unrun []Job
	for {
		j, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		sum.total++
		if err := w.Submit(ctx, j); err != nil {
			// Stopped by a signal: this job was never accepted.
			unrun = append(unrun, j)
			break
		}
	}

	// Drain: everything accepted runs, bounded by -drain once a stop was
	// asked for. Jobs that never ran come back in a CloseError.
	drainCtx, release := drainContext(ctx, cfg.drain)
	closeErr := w.Close(drainCtx)
	release()
	close(progressDone)
	<-progressStopped

	var ce *pool.CloseError[Job]
	if errors.As(closeErr, &ce) {
		unrun = append(append(unrun, ce.Unrun...), ce.Interrupted...)
		if len(ce.Undelivered) > 0 {
			return sum, fmt.Errorf("%d dead letters could not be written: %w", len(ce.Undelivered), closeErr)
		}
	} else if closeErr != nil {
		return sum, closeErr
	}
	// A stop while reading leaves the rest of the source unread: those jobs
	// are not processed either, and go to the same file.
	if ctx.Err() != nil && readErr == nil {
		for {
			j, err := src.Next()
			if err != nil {
				break
			}
			sum.total++
			unrun = append(unrun, j)
		}
	}
	if err := writeJobs(cfg.notRun, unrun); err != nil {
		return sum, err
	}

	st := w.Stats()
	sum.succeeded = succeeded.Load()
	sum.retried = int64(st.Retried)
	sum.retriedOpen = retriedOpen.Load()
	sum.deadLettered = int64(dead.count.Load())
	sum.notRun = int64(len(unrun))
	sum.elapsed = time.Since(start)
	if readErr != nil {
		return sum, readErr
	}
	processed := sum.succeeded + sum.deadLettered
	fmt.Fprintf(cfg.out, "processed %d, succeeded %d, retried %d (%d behind the open breaker), dead-lettered %d, not processed %d, elapsed %v, %.0f jobs/s\n",
		processed, sum.succeeded, sum.retried, sum.retriedOpen, sum.deadLettered, sum.notRun,
		sum.elapsed.Round(time.Millisecond), float64(processed)/sum.elapsed.Seconds())
	if sum.deadLettered > 0 {
		fmt.Fprintf(cfg.out, "dead letters: %s\n", cfg.deadLetters)
	}
	if sum.notRun > 0 {
		fmt.Fprintf(cfg.out, "not processed: %s\n", cfg.notRun)
	}
	return sum, nil
}

// errRefused is the downstream's answer to a job it will never take: not
// worth a retry.
var errRefused = errors.New("downstream: job refused")

// errUnavailable is a transient failure.
var errUnavailable = errors.New("downstream: unavailable")

// downstream simulates the service the jobs call. Its answers depend on the
// seed, the job and the attempt, so a run is repeatable apart from timing.
type downstream struct {
	cfg   config
	start time.Time
	calls sync.Map // job id → attempts so far
}

func (d *downstream) call(ctx context.Context, j Job) error {
	n, _ := d.calls.LoadOrStore(j.ID, new(atomic.Int32))
	attempt := n.(*atomic.Int32).Add(1)
	r := d.roll(j.ID, 0)
	if r < d.cfg.brokenRate {
		// Not worth a retry: Permanent tells the policy so.
		return retry.Permanent(fmt.Errorf("job %d: %w", j.ID, errRefused))
	}
	latency := d.cfg.latency
	if d.roll(j.ID, int(attempt)) < 0.01 {
		latency *= 20 // a slow call
	}
	select {
	case <-time.After(latency):
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	if since := time.Since(d.start); d.cfg.outageFor > 0 && since >= d.cfg.outageAfter && since < d.cfg.outageAfter+d.cfg.outageFor {
		return fmt.Errorf("job %d: %w (outage)", j.ID, errUnavailable)
	}
	if d.roll(j.ID, 100+int(attempt)) < d.cfg.failRate {
		return fmt.Errorf("job %d attempt %d: %w", j.ID, attempt, errUnavailable)
	}
	return nil
}

// roll is a deterministic number in [0, 1) for a job and a salt: the same
// seed gives the same failures on every run.
func (d *downstream) roll(id, salt int) float64 {
	x := d.cfg.seed ^ uint64(id)*0x9e3779b97f4a7c15 ^ uint64(salt)*0xc2b2ae3d27d4eb4f
	// splitmix64's finaliser
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

// source yields jobs one at a time.
type source interface {
	Next() (Job, error) // io.EOF at the end
	Close() error
}

func openSource(cfg config) (source, error) {
	if cfg.in == "" {
		return &generated{n: cfg.jobs, seed: cfg.seed}, nil
	}
	f, err := os.Open(cfg.in)
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	return &fileSource{f: f, sc: sc, name: cfg.in}, nil
}

type generated struct {
	n, i int
	seed uint64
}

func (g *generated) Next() (Job, error) {
	if g.i >= g.n {
		return Job{}, io.EOF
	}
	g.i++
	return Job{ID: g.i, Payload: fmt.Sprintf("order-%d-%d", g.seed, g.i)}, nil
}

func (g *generated) Close() error { return nil }

type fileSource struct {
	f    *os.File
	sc   *bufio.Scanner
	name string
	line int
}

func (s *fileSource) Next() (Job, error) {
	for s.sc.Scan() {
		s.line++
		text := strings.TrimSpace(s.sc.Text())
		if text == "" {
			continue
		}
		var j Job
		if err := json.Unmarshal([]byte(text), &j); err != nil {
			return Job{}, fmt.Errorf("%s:%d: %w", s.name, s.line, err)
		}
		return j, nil
	}
	if err := s.sc.Err(); err != nil {
		return Job{}, fmt.Errorf("%s:%d: %w", s.name, s.line+1, err)
	}
	return Job{}, io.EOF
}

func (s *fileSource) Close() error { return s.f.Close() }

// deadLetterFile is a retry.DeadLetter sink that appends one JSON line per
// job. Workers call it concurrently.
type deadLetterFile struct {
	mu      sync.Mutex
	f       *os.File
	enc     *json.Encoder
	count   atomic.Int64
	written func()
}

type letterRecord struct {
	Job      Job       `json:"job"`
	Errors   []string  `json:"errors"` // the error chain, outermost first
	Attempts int       `json:"attempts"`
	First    time.Time `json:"first"`
	Last     time.Time `json:"last"`
}

func newDeadLetterFile(path string, written func()) (*deadLetterFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &deadLetterFile{f: f, enc: json.NewEncoder(f), written: written}, nil
}

func (d *deadLetterFile) DeadLetter(_ context.Context, l retry.Letter[Job]) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enc.Encode(letterRecord{Job: l.Item, Errors: chain(l.Err), Attempts: l.Attempts, First: l.First, Last: l.Last}); err != nil {
		return err
	}
	d.count.Add(1)
	d.written()
	return nil
}

func (d *deadLetterFile) Close() error { return d.f.Close() }

// chain lists an error and everything it wraps, outermost first.
func chain(err error) []string {
	var out []string
	for queue := []error{err}; len(queue) > 0; queue = queue[1:] {
		e := queue[0]
		if e == nil {
			continue
		}
		out = append(out, e.Error())
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			queue = append(queue, u.Unwrap())
		case interface{ Unwrap() []error }:
			queue = append(queue, u.Unwrap()...)
		}
	}
	return out
}

func writeJobs(path string, jobs []Job) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, j := range jobs {
		if err := enc.Encode(j); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

func serveMetrics(addr string, m *metrics) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-metrics %s: %w", addr, err)
	}
	srv := &http.Server{Handler: m.handler(), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	}, nil
}

// drainContext returns the context for Close: it never ends while the
// program runs as usual, so every accepted job runs, and it ends drain after
// ctx does, when a signal asked the program to stop, so that a stop takes at
// most that long. release stops the timer and waits for its goroutine.
func drainContext(ctx context.Context, drain time.Duration) (dctx context.Context, release func()) {
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(done)
		t := time.NewTimer(drain)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-dctx.Done():
		}
	})
	return dctx, func() {
		if !stop() { // the timer goroutine started: end it and join it
			cancel()
			<-done
		}
		cancel()
	}
}
