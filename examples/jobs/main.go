// Command jobs is a job processor, the pattern behind every queue consumer:
//
//	source ──▶ bounded queue ──▶ workers ──▶ downstream (behind a breaker)
//	              ▲                 │
//	              └─ retry delay ◀──┤ transient failure or breaker rejection: back on the queue after a wait
//	                                └─▶ dead letters (JSONL, appended) when the policy gives up
//
// The source is generated (deterministic with -seed) or read from a JSONL
// file (-in); a line of the file that is not a job goes to the rejects file
// with its line number and the rest of the file is processed. A pool.Workers
// runs the jobs with a bounded queue, so the reader blocks while the workers
// are busy. A failed job is put back on the queue after its backoff delay
// instead of holding a worker while it sleeps. The simulated downstream has
// transient failures, slow calls and an outage; a breaker stops calling it
// during the outage, and a job the breaker turns away waits until the breaker
// admits calls again without using up its attempts. Jobs the retry policy
// gives up on are appended to the dead-letter file.
//
// Ctrl-C or SIGTERM stops reading and drains the jobs in flight for up to
// -drain; a second one cuts the drain short. Either way every job that did
// not finish, and every line not read, is written to the not-run file, which
// -in reads back to resume. The program exits 0 after a drain, and 128 plus
// the signal's number after a second signal; a third kills it.
//
// With -broker jetstream the queue is a jetstream.Queue on NATS JetStream,
// on an embedded server (data in -data) or an existing one (-nats), and
// -role splits the program into a producer and any number of workers; jobs
// a worker leaves stay on the server, so there is no not-run file.
//
// -metrics serves /metrics in Prometheus' format: the metrics of the pool,
// the breaker and the retry policy, recorded with OpenTelemetry by weft's
// otel module (weft_pool_*, weft_breaker_*, weft_retry_*).
//
//	go -C examples run ./jobs
//	go -C examples build -o /tmp/jobs ./jobs && /tmp/jobs -jobs 200000 -metrics :9090
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/weftgo/weft/breaker"
	weftotel "github.com/weftgo/weft/otel"
	"github.com/weftgo/weft/pool"
	"github.com/weftgo/weft/retry"
	"github.com/weftgo/weft/shutdown"
)

// Job is one unit of work, as read from a JSONL line.
type Job struct {
	ID      int    `json:"id"`
	Payload string `json:"payload"`
}

// task is a job on its way through the pool. The pool hands one task to one
// worker at a time, so its counters need no lock.
type task struct {
	Job
	calls      int // calls that reached the downstream
	rejections int // calls the breaker turned away
}

type config struct {
	jobs        int
	seed        uint64
	in          string
	workers     int
	queue       int
	attempts    int           // downstream calls per job before it is given up on
	giveUpAfter time.Duration // longest a job may take, waits for the breaker included
	deadLetters string        // JSONL file of the jobs given up on; appended to
	notRun      string        // JSONL file of the jobs a stop left unprocessed; replaced
	rejects     string        // JSONL file of the -in lines that are not jobs; appended to
	metrics     string        // address for /metrics; empty for none
	drain       time.Duration
	every       time.Duration // how often progress is printed when it is not a terminal
	progress    io.Writer     // where progress goes; nil for none
	log         io.Writer     // where the stopping messages go
	out         io.Writer     // where the summary goes

	// abort, closed by a second signal, cuts the drain short.
	abort <-chan struct{}

	// The simulated downstream.
	latency     time.Duration // typical call latency
	failRate    float64       // share of calls failing transiently
	brokenRate  float64       // share of jobs that always fail
	outageAfter time.Duration // when the outage starts, from the start of the run
	outageFor   time.Duration

	// The queue: in this process, or on NATS JetStream.
	broker  string // "inproc" or "jetstream"
	natsURL string // server or cluster to use; empty for an embedded one
	data    string // storage directory of the embedded server
	port    int    // client port of the embedded server; 0 for a free one
	role    string // "producer", "worker" or "both"

	// done, when set, is called with the number of jobs succeeded so far
	// after each success; tests use it to stop a run part way.
	done func(succeeded int64)
	// scrape, when set, is called with the handler of /metrics once the
	// jobs are over; tests read the run's metrics there.
	scrape func(metrics http.Handler)
}

// summary is what a run did. Every job read is in exactly one of succeeded,
// deadLettered and notRun.
type summary struct {
	total, succeeded, retried, deadLettered, notRun int64
	retriedBreaker                                  int64 // retries of jobs the breaker turned away
	rejected                                        int64 // -in lines that are not jobs
	stopped, aborted                                bool
	elapsed                                         time.Duration
}

// errStopped is the cause of the context of jobs cut short by a stop: their
// error says nothing about the job, so they go to the not-run file rather
// than to the dead letters.
var errStopped = errors.New("jobs: stopped")

func main() {
	cfg := config{out: os.Stdout, progress: os.Stderr, log: os.Stderr}
	tmp := os.TempDir()
	flag.IntVar(&cfg.jobs, "jobs", 50_000, "jobs to generate when -in is empty")
	flag.Uint64Var(&cfg.seed, "seed", 1, "seed of the generated jobs and of the simulated failures")
	flag.StringVar(&cfg.in, "in", "", "JSONL file of jobs ({\"id\":1,\"payload\":\"...\"} per line), such as a not-run file to resume from")
	flag.IntVar(&cfg.workers, "workers", 64, "workers")
	flag.IntVar(&cfg.queue, "queue", 256, "queue size")
	flag.IntVar(&cfg.attempts, "attempts", 6, "downstream calls per job before it is dead-lettered (breaker rejections do not count)")
	flag.DurationVar(&cfg.giveUpAfter, "give-up-after", 30*time.Second, "longest a job may take, waits for the breaker included, before it is dead-lettered")
	flag.StringVar(&cfg.deadLetters, "dead-letters", filepath.Join(tmp, "weft-jobs-dead-letters.jsonl"), "JSONL file the jobs given up on are appended to")
	flag.StringVar(&cfg.notRun, "not-run", filepath.Join(tmp, "weft-jobs-not-run.jsonl"), "JSONL file each run replaces with the jobs it left unprocessed")
	flag.StringVar(&cfg.rejects, "rejects", filepath.Join(tmp, "weft-jobs-rejects.jsonl"), "JSONL file the -in lines that are not jobs are appended to")
	flag.StringVar(&cfg.metrics, "metrics", "", "serve Prometheus metrics on this address, e.g. :9090")
	flag.DurationVar(&cfg.drain, "drain", 10*time.Second, "how long a stop may take to finish the jobs in flight")
	flag.DurationVar(&cfg.every, "progress", time.Second, "how often to print progress when stderr is not a terminal")
	flag.DurationVar(&cfg.latency, "latency", time.Millisecond, "typical latency of the simulated downstream")
	flag.Float64Var(&cfg.failRate, "fail-rate", 0.05, "share of downstream calls that fail transiently")
	flag.Float64Var(&cfg.brokenRate, "broken-rate", 0.002, "share of jobs the downstream always refuses")
	flag.DurationVar(&cfg.outageAfter, "outage-after", 500*time.Millisecond, "when the downstream outage starts")
	flag.DurationVar(&cfg.outageFor, "outage-for", 200*time.Millisecond, "how long the outage lasts (0 for none)")
	flag.StringVar(&cfg.broker, "broker", "inproc", "where the queue is: inproc (this process) or jetstream (NATS JetStream, shared by processes)")
	flag.StringVar(&cfg.natsURL, "nats", "", "with -broker jetstream: URL of an existing NATS server or cluster, instead of an embedded one")
	flag.StringVar(&cfg.data, "data", filepath.Join(tmp, "weft-jobs-nats"), "with -broker jetstream: storage directory of the embedded server")
	flag.IntVar(&cfg.port, "port", 4222, "with -broker jetstream: client port of the embedded server on 127.0.0.1 (0 for a free one)")
	flag.StringVar(&cfg.role, "role", "both", "with -broker jetstream: producer (submit the jobs), worker (run jobs until stopped) or both (submit, run until the queue is empty)")
	flag.Parse()
	if flag.NArg() > 0 {
		// The flag package stops at the first argument that is not a flag:
		// every flag after it would be ignored without a word.
		fmt.Fprintf(os.Stderr, "jobs: unexpected argument %q: jobs takes flags only (-h lists them)\n", flag.Arg(0))
		os.Exit(2)
	}
	if err := cfg.check(); err != nil {
		fmt.Fprintln(os.Stderr, "jobs:", err)
		os.Exit(2)
	}

	// The first Ctrl-C or SIGTERM cancels ctx: stop reading and drain. The
	// second closes abort, which cuts the drain short; the run still writes
	// the jobs that did not finish. From then on the signals have their
	// default effect, so a third one kills the program.
	abort := make(chan struct{})
	var exitCode atomic.Int32
	ctx, stop := shutdown.Signals{Exit: func(code int) {
		signal.Reset(os.Interrupt, syscall.SIGTERM)
		exitCode.Store(int32(code))
		close(abort)
	}}.Notify(context.Background())
	cfg.abort = abort
	var sum summary
	var err error
	if cfg.broker == "jetstream" {
		sum, err = runJetStream(ctx, cfg)
	} else {
		sum, err = run(ctx, cfg)
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "jobs:", err)
		os.Exit(1)
	}
	if sum.aborted {
		os.Exit(int(exitCode.Load()))
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
	case c.attempts < 1:
		return fmt.Errorf("-attempts %d: need at least one", c.attempts)
	case c.giveUpAfter <= 0:
		return fmt.Errorf("-give-up-after %v: need a positive duration", c.giveUpAfter)
	case c.failRate < 0 || c.failRate >= 1:
		return fmt.Errorf("-fail-rate %v: not in [0, 1)", c.failRate)
	case c.brokenRate < 0 || c.brokenRate >= 1:
		return fmt.Errorf("-broken-rate %v: not in [0, 1)", c.brokenRate)
	case c.drain <= 0:
		return fmt.Errorf("-drain %v: need a positive duration", c.drain)
	case c.every <= 0:
		return fmt.Errorf("-progress %v: need a positive duration", c.every)
	case c.broker != "" && c.broker != "inproc" && c.broker != "jetstream":
		return fmt.Errorf("-broker %q: want inproc or jetstream", c.broker)
	case c.role != "" && c.role != "producer" && c.role != "worker" && c.role != "both":
		return fmt.Errorf("-role %q: want producer, worker or both", c.role)
	case c.broker == "jetstream" && c.metrics != "":
		return fmt.Errorf("-metrics: not served with -broker jetstream")
	case c.broker == "jetstream" && (c.port < 0 || c.port > 65535):
		return fmt.Errorf("-port %d: not in [0, 65535]", c.port)
	case c.broker != "jetstream" && c.role != "" && c.role != "both":
		return fmt.Errorf("-role %s: needs -broker jetstream", c.role)
	case c.broker != "jetstream" && c.natsURL != "":
		return fmt.Errorf("-nats %s: needs -broker jetstream", c.natsURL)
	}
	return nil
}

// halfOpenWait is, on average, how much longer than the breaker's RetryAfter
// a job the breaker turned away waits before it asks again. A half-open
// breaker turns calls away while its probe is in flight, which lasts about
// one call, and may give no RetryAfter for that; asking again at once would
// only spin. The jitter spreads out the jobs that an open breaker turned away
// together, so that they do not all come back at the moment it half-opens.
const halfOpenWait = 20 * time.Millisecond

// breakerWait is how long a job the breaker turned away waits: at least the
// breaker's RetryAfter, plus a jittered share of halfOpenWait.
func breakerWait(oe *breaker.OpenError, limit time.Duration) time.Duration {
	after := oe.RetryAfter()
	if after >= limit {
		return after // forced open, or longer than the job may take: the policy gives up
	}
	return after + halfOpenWait/2 + rand.N(halfOpenWait)
}

// run processes every job of the source, or until ctx is done, and prints
// the summary.
func run(ctx context.Context, cfg config) (summary, error) {
	var sum summary
	start := time.Now()
	runID := start.UTC().Format(time.RFC3339Nano)

	src, err := openSource(cfg)
	if err != nil {
		return sum, err
	}
	defer src.Close()

	m, err := newMetrics()
	if err != nil {
		return sum, err
	}
	defer m.mp.Shutdown(context.Background())
	dead, err := newDeadLetterFile(cfg.deadLetters, runID)
	if err != nil {
		return sum, err
	}
	defer dead.Close()
	rejects := &rejectFile{path: cfg.rejects, run: runID}
	defer rejects.Close()

	if cfg.metrics != "" {
		stopMetrics, err := serveMetrics(cfg.metrics, m)
		if err != nil {
			return sum, err
		}
		defer stopMetrics()
	}

	down := &downstream{cfg: cfg, start: start}
	// The breaker stops calling the downstream while it is down; its open
	// error says when to try again.
	// weftotel.Breaker names it and records its state, transitions and
	// rejections.
	br := breaker.New(append(weftotel.Breaker("downstream", m.opts...),
		breaker.ConsecutiveFailures(20),
		breaker.OpenFor(100*time.Millisecond))...)
	// A job is given up on after -attempts calls that reached the
	// downstream, or after -give-up-after in all. The handler counts the
	// calls, because a call the breaker turned away is not one: it says
	// nothing about the job, and during an outage a job is turned away many
	// times before the downstream is back. So the policy's own attempts are
	// unlimited and it only bounds the time. weftotel.Retry records the
	// attempts of each job and the waits before its retries.
	var retriedBreaker atomic.Int64
	policy := retry.New(
		weftotel.Retry("jobs", m.opts...),
		retry.Attempts(retry.Unlimited),
		retry.MaxElapsed(cfg.giveUpAfter),
		retry.Exponential(5*time.Millisecond, 2, 500*time.Millisecond),
		retry.FullJitter(),
		retry.OnRetry(func(_ int, err error, _ time.Duration) {
			if errors.Is(err, breaker.ErrOpen) {
				retriedBreaker.Add(1)
			}
		}),
	)

	handle := func(ctx context.Context, t *task) error {
		err := br.Run(ctx, func(ctx context.Context) error {
			t.calls++
			return down.call(ctx, t.Job)
		})
		var oe *breaker.OpenError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &oe):
			// Turned away without a call: wait until the breaker admits
			// calls again, on a timer that holds no worker. After makes
			// the policy wait exactly that long, whatever its backoff.
			t.rejections++
			return retry.After(err, breakerWait(oe, cfg.giveUpAfter))
		case t.calls >= cfg.attempts:
			return retry.Permanent(fmt.Errorf("%d downstream calls failed: %w", t.calls, err))
		}
		return err
	}

	// The sink takes the jobs the pool gives up on. A job cut short by a
	// stop has errStopped as its cause: it did not fail on its own merits,
	// so it goes to the not-run file, to be run again on resume.
	var stoppedMu sync.Mutex
	var stopped []Job
	sink := retry.DeadLetterFunc[*task](func(ctx context.Context, l retry.Letter[*task]) error {
		if errors.Is(l.Err, errStopped) {
			stoppedMu.Lock()
			stopped = append(stopped, l.Item.Job)
			stoppedMu.Unlock()
			return nil
		}
		return dead.DeadLetter(ctx, l)
	})
	var succeeded atomic.Int64
	w := pool.NewWorkers(context.WithoutCancel(ctx), cfg.workers, handle,
		// The jobs' queue waits, run times and outcomes.
		weftotel.Workers[*task]("jobs", m.opts...),
		pool.Buffer(cfg.queue),
		pool.Retry(policy),
		pool.DeadLetter[*task](sink),
		pool.OnDone(func(_ *task, err error) {
			if err == nil {
				n := succeeded.Add(1)
				if cfg.done != nil {
					cfg.done(n)
				}
			}
		}))

	// Gauges of the jobs queued, running and waiting to retry, read from
	// w.Stats when /metrics is scraped.
	defer weftotel.PoolStats("jobs", w.Stats, m.opts...).Unregister()

	// Progress, until the run ends.
	progressDone := make(chan struct{})
	progressStopped := make(chan struct{})
	go func() {
		defer close(progressStopped)
		reportProgress(cfg, w, dead.count.Load, progressDone)
	}()

	// The stopper: once ctx is done, say so, and cut the drain short when
	// -drain has passed or a second signal asks for it. Cutting it short
	// cancels the running jobs' context with errStopped as its cause.
	drainCtx, cutDrain := context.WithCancelCause(context.Background())
	defer cutDrain(nil)
	var aborted atomic.Bool
	closed := make(chan struct{})
	stopperDone := make(chan struct{})
	go func() {
		defer close(stopperDone)
		select {
		case <-ctx.Done():
		case <-closed:
			return
		}
		if isTerminal(cfg.log) {
			fmt.Fprintln(cfg.log) // off the progress bar's line
		}
		st := w.Stats()
		fmt.Fprintf(cfg.log, "jobs: stopping: draining %d jobs for up to %v (Ctrl-C again to abort; unfinished jobs are written to %s)\n",
			st.Running+st.Queued+st.Waiting, cfg.drain, cfg.notRun)
		t := time.NewTimer(cfg.drain)
		defer t.Stop()
		select {
		case <-t.C:
			fmt.Fprintf(cfg.log, "jobs: -drain %v has passed: interrupting %d running jobs\n", cfg.drain, w.Stats().Running)
			cutDrain(fmt.Errorf("%w: -drain %v passed", errStopped, cfg.drain))
		case <-cfg.abort:
			aborted.Store(true)
			fmt.Fprintf(cfg.log, "jobs: aborting: interrupting %d running jobs\n", w.Stats().Running)
			cutDrain(fmt.Errorf("%w: aborted", errStopped))
		case <-closed:
		}
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
		if rerr := (*rejectError)(nil); errors.As(err, &rerr) {
			if readErr = rejects.write(rerr); readErr != nil {
				break
			}
			sum.rejected++
			continue
		}
		if err != nil {
			readErr = err
			break
		}
		sum.total++
		if err := w.Submit(ctx, &task{Job: j}); err != nil {
			// Stopped by a signal: this job was never accepted.
			unrun = append(unrun, j)
			break
		}
	}

	// Drain: everything accepted runs, unless the stopper cuts it short.
	// Jobs that never ran, or were interrupted with no sink to take them,
	// come back in a CloseError.
	closeErr := w.Close(drainCtx)
	close(closed)
	<-stopperDone
	close(progressDone)
	<-progressStopped

	var lost error
	var ce *pool.CloseError[*task]
	if errors.As(closeErr, &ce) {
		for _, t := range ce.Unrun {
			unrun = append(unrun, t.Job)
		}
		for _, t := range ce.Interrupted {
			unrun = append(unrun, t.Job)
		}
		// Letters the dead-letter file did not take: kept in the not-run
		// file rather than lost, and the run reports the failure.
		for _, l := range ce.Undelivered {
			unrun = append(unrun, l.Item.Job)
		}
		if len(ce.Undelivered) > 0 || len(ce.Panics) > 0 {
			lost = closeErr
		}
	} else if closeErr != nil {
		return sum, closeErr
	}
	unrun = append(unrun, stopped...)

	nr, err := newNotRunFile(cfg.notRun)
	if err != nil {
		return sum, err
	}
	defer nr.discard()
	for _, j := range unrun {
		if err := nr.write(j); err != nil {
			return sum, err
		}
	}
	// A stop while reading leaves the rest of the source unread: those jobs
	// are not processed either, and go to the same file.
	if ctx.Err() != nil && readErr == nil {
		for {
			j, err := src.Next()
			if err == io.EOF {
				break
			}
			if rerr := (*rejectError)(nil); errors.As(err, &rerr) {
				if readErr = rejects.write(rerr); readErr != nil {
					break
				}
				sum.rejected++
				continue
			}
			if err != nil {
				readErr = err
				break
			}
			sum.total++
			if err := nr.write(j); err != nil {
				return sum, err
			}
		}
	}
	notRunPath := cfg.notRun
	if readErr != nil && cfg.in != "" && sameFile(cfg.in, cfg.notRun) {
		// The input could not be read to its end: replacing it would lose
		// the lines not read.
		notRunPath += ".partial"
	}
	if err := nr.commit(notRunPath); err != nil {
		return sum, err
	}
	if cfg.scrape != nil {
		cfg.scrape(m.handler())
	}

	st := w.Stats()
	sum.succeeded = succeeded.Load()
	sum.retried = int64(st.Retried)
	sum.retriedBreaker = retriedBreaker.Load()
	sum.deadLettered = dead.count.Load()
	sum.notRun = nr.count
	sum.stopped = ctx.Err() != nil
	sum.aborted = aborted.Load()
	sum.elapsed = time.Since(start)
	processed := sum.succeeded + sum.deadLettered
	fmt.Fprintf(cfg.out, "processed %d, succeeded %d, retried %d (%d turned away by the breaker), dead-lettered %d, not processed %d, elapsed %v, %.0f jobs/s\n",
		processed, sum.succeeded, sum.retried, sum.retriedBreaker, sum.deadLettered, sum.notRun,
		sum.elapsed.Round(time.Millisecond), float64(processed)/sum.elapsed.Seconds())
	if sum.rejected > 0 {
		fmt.Fprintf(cfg.out, "rejected lines: %d, appended to %s\n", sum.rejected, cfg.rejects)
	}
	if sum.deadLettered > 0 {
		fmt.Fprintf(cfg.out, "dead letters appended to %s\n", cfg.deadLetters)
	}
	if sum.notRun > 0 {
		fmt.Fprintf(cfg.out, "not processed: %s (run again with -in %s to resume)\n", notRunPath, notRunPath)
	}
	if readErr != nil {
		return sum, readErr
	}
	return sum, lost
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
		return fmt.Errorf("job %d: %w", j.ID, ctx.Err())
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
	Next() (Job, error) // io.EOF at the end; a *rejectError for a line that is not a job
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
	return &fileSource{f: f, r: bufio.NewReaderSize(f, maxLine), name: cfg.in}, nil
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

// maxLine is the longest line a -in file may hold; a longer one is rejected.
const maxLine = 1 << 20

type fileSource struct {
	f    *os.File
	r    *bufio.Reader
	name string
	line int
}

// rejectError is a line of the -in file that is not a job. It is reported
// and the file is read on.
type rejectError struct {
	file   string
	line   int
	reason string
	raw    []byte
}

func (e *rejectError) Error() string { return fmt.Sprintf("%s:%d: %s", e.file, e.line, e.reason) }

func (s *fileSource) Next() (Job, error) {
	for {
		raw, tooLong, err := s.readLine()
		if err == io.EOF {
			return Job{}, io.EOF
		}
		if err != nil {
			return Job{}, fmt.Errorf("%s:%d: %w", s.name, s.line+1, err)
		}
		s.line++
		if tooLong {
			return Job{}, &rejectError{s.name, s.line, fmt.Sprintf("line longer than %d bytes", maxLine), raw}
		}
		text := bytes.TrimSpace(raw)
		if len(text) == 0 {
			continue
		}
		var j Job
		if err := json.Unmarshal(text, &j); err != nil {
			return Job{}, &rejectError{s.name, s.line, err.Error(), bytes.Clone(text)}
		}
		return j, nil
	}
}

// readLine returns the next line without its newline, or io.EOF at the end.
// A line longer than maxLine is skipped to its end and only its start is
// returned, with tooLong set. The line is valid until the next call.
func (s *fileSource) readLine() (line []byte, tooLong bool, err error) {
	line, err = s.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		head := bytes.Clone(line[:256])
		for err == bufio.ErrBufferFull {
			_, err = s.r.ReadSlice('\n')
		}
		if err == io.EOF {
			err = nil // a last line without a newline
		}
		return head, true, err
	}
	if err == io.EOF && len(line) > 0 {
		err = nil // a last line without a newline
	}
	return bytes.TrimSuffix(line, []byte("\n")), false, err
}

func (s *fileSource) Close() error { return s.f.Close() }

// deadLetterFile is a retry.DeadLetter sink that appends one JSON line per
// job, so that the letters of earlier runs stay. Workers call it
// concurrently.
type deadLetterFile struct {
	mu    sync.Mutex
	f     *os.File
	enc   *json.Encoder
	run   string
	count atomic.Int64
}

type letterRecord struct {
	Run        string    `json:"run"` // when the run that wrote it started
	Job        Job       `json:"job"`
	Errors     []string  `json:"errors"`     // the error chain, outermost first
	Calls      int       `json:"calls"`      // calls that reached the downstream
	Rejections int       `json:"rejections"` // calls the breaker turned away
	First      time.Time `json:"first"`
	Last       time.Time `json:"last"`
}

func newDeadLetterFile(path, run string) (*deadLetterFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &deadLetterFile{f: f, enc: json.NewEncoder(f), run: run}, nil
}

func (d *deadLetterFile) DeadLetter(_ context.Context, l retry.Letter[*task]) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	rec := letterRecord{Run: d.run, Job: l.Item.Job, Errors: chain(l.Err),
		Calls: l.Item.calls, Rejections: l.Item.rejections, First: l.First, Last: l.Last}
	if err := d.enc.Encode(rec); err != nil {
		return err
	}
	d.count.Add(1)
	return nil
}

func (d *deadLetterFile) Close() error { return d.f.Close() }

// rejectFile appends the -in lines that are not jobs, one JSON line each;
// it creates the file at the first one.
type rejectFile struct {
	path, run string
	f         *os.File
	enc       *json.Encoder
}

type rejectRecord struct {
	Run   string `json:"run"`
	File  string `json:"file"`
	Line  int    `json:"line"`
	Error string `json:"error"`
	Raw   string `json:"raw"`
}

func (r *rejectFile) write(e *rejectError) error {
	if r.f == nil {
		f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		r.f, r.enc = f, json.NewEncoder(f)
	}
	return r.enc.Encode(rejectRecord{Run: r.run, File: e.file, Line: e.line, Error: e.reason, Raw: string(e.raw)})
}

func (r *rejectFile) Close() error {
	if r.f == nil {
		return nil
	}
	return r.f.Close()
}

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

// notRunFile writes the jobs a run left unprocessed to a temporary file that
// commit renames into place, so that a run resuming from the not-run file
// can write its own over the one it reads.
type notRunFile struct {
	f     *os.File
	w     *bufio.Writer
	enc   *json.Encoder
	count int64
}

func newNotRunFile(path string) (*notRunFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(f)
	return &notRunFile{f: f, w: w, enc: json.NewEncoder(w)}, nil
}

func (n *notRunFile) write(j Job) error {
	n.count++
	return n.enc.Encode(j)
}

func (n *notRunFile) commit(path string) error {
	if err := n.w.Flush(); err != nil {
		return err
	}
	if err := n.f.Close(); err != nil {
		return err
	}
	return os.Rename(n.f.Name(), path)
}

// discard removes the temporary file unless commit renamed it.
func (n *notRunFile) discard() {
	n.f.Close()
	os.Remove(n.f.Name())
}

// sameFile reports whether a and b name the same existing file.
func sameFile(a, b string) bool {
	ia, err := os.Stat(a)
	if err != nil {
		return false
	}
	ib, err := os.Stat(b)
	return err == nil && os.SameFile(ia, ib)
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
