package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/weftgo/weft/breaker"
	"github.com/weftgo/weft/jetstream"
	"github.com/weftgo/weft/jetstream/embedded"
	"github.com/weftgo/weft/retry"
)

// queueName is the name of the jetstream.Queue every process of a
// -broker jetstream run shares: the stream "jobs" and its dead letters,
// "jobs_DLQ".
const queueName = "jobs"

// runJetStream is run with the queue on NATS JetStream instead of in this
// process: the producer role stores the jobs in the stream, the worker role
// runs them, and both does both. Jobs are delivered at least once, and a
// job not run when a process stops stays on the server for the next worker,
// so there is no not-run file.
func runJetStream(ctx context.Context, cfg config) (summary, error) {
	var sum summary
	start := time.Now()
	runID := start.UTC().Format(time.RFC3339Nano)

	url := cfg.natsURL
	var nc *nats.Conn
	if url == "" {
		srv, err := embedded.Start(cfg.data, embedded.Port(cfg.port))
		if err != nil {
			return sum, fmt.Errorf("embedded NATS server in %s: %w", cfg.data, err)
		}
		defer srv.Stop()
		url, nc = srv.URL(), srv.Conn()
		fmt.Fprintf(cfg.log, "jobs: NATS server at %s, data in %s\n", url, srv.Dir())
	} else {
		var err error
		nc, err = nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
		if err != nil {
			return sum, fmt.Errorf("-nats %s: %w", url, err)
		}
		defer nc.Close()
	}
	js, err := natsjs.New(nc)
	if err != nil {
		return sum, err
	}
	q, err := jetstream.NewQueue[Job](ctx, js, queueName)
	if err != nil {
		return sum, err
	}

	var w *jetstream.Workers[Job]
	var succeeded atomic.Int64
	var dead *deadLetterFile
	if cfg.role != "producer" {
		if dead, err = newDeadLetterFile(cfg.deadLetters, runID); err != nil {
			return sum, err
		}
		defer dead.Close()
		if w, err = startJetStreamWorkers(cfg, q, dead, &succeeded, start); err != nil {
			return sum, err
		}
	}

	if w != nil {
		stopProgress := jsProgress(cfg, w, dead)
		defer stopProgress()
	}

	if cfg.role != "worker" {
		submitted, rejected, err := submitAll(ctx, cfg, q, runID)
		sum.total, sum.rejected = submitted, rejected
		// A duplicate submit returns nil like any other: say that the count
		// includes the IDs the stream already had.
		fmt.Fprintf(cfg.log, "jobs: submitted %d jobs to stream %s at %s (an id submitted within the stream's duplicate window, 2 minutes, is stored once)\n", submitted, queueName, url)
		if err != nil && ctx.Err() == nil {
			if w != nil {
				w.Close(context.Background())
			}
			return sum, err
		}
	}

	if w != nil {
		if cfg.role == "both" {
			// Run until the stream is empty: every job, this run's and any
			// an earlier run left, has succeeded or been dead-lettered.
			waitEmpty(ctx, js)
		} else {
			<-ctx.Done()
		}
		if ctx.Err() != nil {
			fmt.Fprintf(cfg.log, "jobs: stopping: draining %d running jobs for up to %v (Ctrl-C again to abort; jobs not run stay on the server)\n",
				w.Stats().Running, cfg.drain)
		}
		drainCtx, cancel := context.WithTimeout(context.Background(), cfg.drain)
		defer cancel()
		var aborted atomic.Bool
		defer func() { sum.aborted = aborted.Load() }()
		go func() {
			select {
			case <-cfg.abort:
				aborted.Store(true)
				cancel()
			case <-drainCtx.Done():
			}
		}()
		err := w.Close(drainCtx)
		var ce *jetstream.CloseError
		if errors.As(err, &ce) && ce.Interrupted > 0 {
			fmt.Fprintf(cfg.log, "jobs: %d interrupted jobs handed back to the server\n", ce.Interrupted)
		}
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			return sum, err
		}
		st := w.Stats()
		sum.succeeded = succeeded.Load()
		sum.retried = int64(st.Retried)
		sum.deadLettered = dead.count.Load()
	}
	sum.stopped = ctx.Err() != nil
	sum.elapsed = time.Since(start)
	if w != nil {
		processed := sum.succeeded + sum.deadLettered
		fmt.Fprintf(cfg.out, "processed %d, succeeded %d, retried %d, dead-lettered %d, elapsed %v, %.0f jobs/s; no not-run file: jobs not run stay in stream %s on the server\n",
			processed, sum.succeeded, sum.retried, sum.deadLettered,
			sum.elapsed.Round(time.Millisecond), float64(processed)/sum.elapsed.Seconds(), queueName)
		if sum.deadLettered > 0 {
			fmt.Fprintf(cfg.out, "dead letters appended to %s\n", cfg.deadLetters)
		}
	}
	if sum.rejected > 0 {
		fmt.Fprintf(cfg.out, "rejected lines: %d, appended to %s\n", sum.rejected, cfg.rejects)
	}
	return sum, nil
}

// startJetStreamWorkers runs the jobs of q with the same downstream, breaker
// and retry policy as the in-process run. The policy's attempts are counted
// by the server across processes; the downstream calls a job may make are
// counted by each process.
func startJetStreamWorkers(cfg config, q *jetstream.Queue[Job], dead *deadLetterFile, succeeded *atomic.Int64, start time.Time) (*jetstream.Workers[Job], error) {
	down := &downstream{cfg: cfg, start: start}
	br := breaker.New(breaker.Name("downstream"),
		breaker.ConsecutiveFailures(20),
		breaker.OpenFor(100*time.Millisecond))
	policy := retry.New(
		retry.Attempts(retry.Unlimited),
		retry.MaxElapsed(cfg.giveUpAfter),
		retry.Exponential(5*time.Millisecond, 2, 500*time.Millisecond),
		retry.FullJitter(),
	)
	handle := func(ctx context.Context, j Job) error {
		err := br.Run(ctx, func(ctx context.Context) error { return down.call(ctx, j) })
		var oe *breaker.OpenError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &oe):
			return retry.After(err, breakerWait(oe, cfg.giveUpAfter))
		case down.callsOf(j.ID) >= cfg.attempts:
			return retry.Permanent(fmt.Errorf("%d downstream calls failed: %w", down.callsOf(j.ID), err))
		}
		return err
	}
	sink := retry.DeadLetterFunc[Job](func(_ context.Context, l retry.Letter[Job]) error {
		return dead.write(letterRecord{Run: dead.run, Job: l.Item, Errors: chain(l.Err),
			Calls: down.callsOf(l.Item.ID), First: l.First, Last: l.Last})
	})
	return jetstream.NewWorkers(context.Background(), q, cfg.workers, handle,
		jetstream.Retry(policy),
		jetstream.DeadLetter[Job](sink),
		jetstream.OnDone(func(_ Job, err error) {
			if err == nil {
				n := succeeded.Add(1)
				if cfg.done != nil {
					cfg.done(n)
				}
			}
		}))
}

// submitAll stores the jobs of the source in q. A job's ID is its
// Nats-Msg-Id, so a job submitted again within the stream's duplicate
// window is stored once.
func submitAll(ctx context.Context, cfg config, q *jetstream.Queue[Job], runID string) (submitted, rejected int64, err error) {
	src, err := openSource(cfg)
	if err != nil {
		return 0, 0, err
	}
	defer src.Close()
	rejects := &rejectFile{path: cfg.rejects, run: runID}
	defer rejects.Close()
	for ctx.Err() == nil {
		j, err := src.Next()
		if err == io.EOF {
			return submitted, rejected, nil
		}
		if rerr := (*rejectError)(nil); errors.As(err, &rerr) {
			if err := rejects.write(rerr); err != nil {
				return submitted, rejected, err
			}
			rejected++
			continue
		}
		if err != nil {
			return submitted, rejected, err
		}
		if err := q.SubmitID(ctx, strconv.Itoa(j.ID), j); err != nil {
			return submitted, rejected, err
		}
		submitted++
	}
	return submitted, rejected, ctx.Err()
}

// waitEmpty returns once the queue's work-queue stream holds no message,
// which is when every job in it has been acknowledged or terminated, or
// when ctx is done.
func waitEmpty(ctx context.Context, js natsjs.JetStream) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		if s, err := js.Stream(ctx, queueName); err == nil {
			if info, err := s.Info(ctx); err == nil && info.State.Msgs == 0 {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// jsProgress prints what this process's workers have done every -progress,
// until the returned function is called.
func jsProgress(cfg config, w *jetstream.Workers[Job], dead *deadLetterFile) (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(cfg.every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			st := w.Stats()
			fmt.Fprintf(cfg.log, "jobs: %d done, %d running, %d retried, %d dead-lettered\n",
				st.Succeeded+st.DeadLettered, st.Running, st.Retried, dead.count.Load())
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// callsOf is the number of calls this process made for the job id.
func (d *downstream) callsOf(id int) int {
	n, ok := d.calls.Load(id)
	if !ok {
		return 0
	}
	return int(n.(*atomic.Int32).Load())
}

// write appends a letter.
func (d *deadLetterFile) write(rec letterRecord) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enc.Encode(rec); err != nil {
		return err
	}
	d.count.Add(1)
	return nil
}
