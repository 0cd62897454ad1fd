package jetstream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/weftgo/weft"
	"github.com/weftgo/weft/internal/catch"
	"github.com/weftgo/weft/pool"
	"github.com/weftgo/weft/retry"
)

// Stats is the snapshot [Workers.Stats] returns, a
// [github.com/weftgo/weft/pool.Stats] counting this process's deliveries:
// each ends in Succeeded, DeadLettered, Failed (handed back for a retry, in
// Retried too, or its letter refused, in Undelivered), Panicked (its letter
// refused) or Canceled (handed back by Close), or is Running. Queued,
// Waiting, Rejected and Blocked stay zero.
type Stats = pool.Stats

// Workers runs a handler over the jobs of a [Queue], in this process and
// every other that runs Workers on the same queue. A process fetches only as
// many jobs as it has free workers, plus the [Buffer] if one is set, so jobs
// wait on the server, not in memory, and a slow process takes less. Its
// methods are safe for concurrent use; a Workers must not be copied.
type Workers[J any] struct {
	q         *Queue[J]
	cons      jetstream.Consumer
	handle    func(context.Context, J) error
	n         int // workers
	held      int // workers + buffer: the most jobs one fetch may ask for
	minBatch  int // fewest jobs a fetch asks for, unless it waited lingerFor
	replay    *retry.Policy
	sink      retry.DeadLetter[J]
	onDone    func(J, error)
	ackWait   time.Duration
	fetchWait time.Duration
	errs      reporter

	ctx      context.Context
	cancel   context.CancelCauseFunc
	stop     chan struct{} // closed by Close: fetch no more
	stopOnce sync.Once
	slots    chan struct{} // one token per job this process may yet hold: n workers + the buffer
	ready    chan struct{} // one token per job put in queue
	quit     chan struct{} // closed once no job can be queued: the workers exit
	failures atomic.Int32  // fetches in a row that ended with an error

	loopDone chan struct{}
	fetches  sync.WaitGroup
	jobs     sync.WaitGroup
	tickCtx  context.Context // cancelled when the workers are done: the ticks stop
	tickStop context.CancelFunc
	tickDone chan struct{}
	joinOnce sync.Once
	drained  chan struct{}

	mu          sync.Mutex
	st          Stats
	running     map[*task]struct{} // the jobs running or queued
	queue       []*task            // fetched, waiting for a worker, oldest first
	interrupted int
	closeCalled bool
}

// task is a delivery being run.
type task struct {
	m        jetstream.Msg
	progress time.Time // when the server last heard of it
	ended    bool      // counted by end; under Workers.mu
}

// NewWorkers creates or updates q's durable consumer and runs handle on its
// jobs on workers goroutines, each job with a context derived from ctx;
// [Workers.Close] ends every goroutine it starts. It returns the server's
// error if the consumer cannot be created, and panics if workers < 1, if ctx,
// q or handle is nil, or if an option is for another job type.
func NewWorkers[J any](ctx context.Context, q *Queue[J], workers int, handle func(ctx context.Context, job J) error, opts ...Option) (*Workers[J], error) {
	if ctx == nil || q == nil || handle == nil {
		panic("jetstream: NewWorkers with nil context, queue or handler")
	}
	if workers < 1 {
		panic(fmt.Sprintf("jetstream: NewWorkers(%d): workers must be at least 1", workers))
	}
	c := config{ackWait: 30 * time.Second, fetchWait: time.Second, consumer: q.name + "_workers"}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	held := workers + c.buffer
	// A fetch costs a round trip and a subscription. Without a buffer, free
	// workers wait for it: fetch once an eighth of them are free. With one,
	// the buffered jobs keep the workers busy while a fetch gathers more.
	minBatch := max(1, workers/8)
	if c.buffer > 0 {
		minBatch = max(1, held/4)
	}
	w := &Workers[J]{
		q: q, handle: handle, n: workers, held: held, minBatch: minBatch,
		ackWait: c.ackWait, fetchWait: c.fetchWait, errs: reporter{hook: c.onError},
		stop:     make(chan struct{}),
		slots:    make(chan struct{}, held),
		ready:    make(chan struct{}, held),
		quit:     make(chan struct{}),
		loopDone: make(chan struct{}),
		tickDone: make(chan struct{}),
		drained:  make(chan struct{}),
		running:  make(map[*task]struct{}),
	}
	jobType := fmt.Sprintf("%T", *new(J))
	if c.sink != nil {
		sink, ok := c.sink.(retry.DeadLetter[J])
		if !ok {
			panic(fmt.Sprintf("jetstream: NewWorkers[%s]: option %s is for another job type", jobType, c.sinkName))
		}
		w.sink = sink
	}
	if c.onDone != nil {
		hook, ok := c.onDone.(func(J, error))
		if !ok {
			panic(fmt.Sprintf("jetstream: NewWorkers[%s]: option %s is for another job type", jobType, c.hookName))
		}
		w.onDone = hook
	}
	if c.policy != nil {
		// The server carries the attempt count, not the policy's State:
		// each decision replays the earlier attempts on a copy of the
		// policy whose hooks and budget would otherwise see them again.
		p := c.policy.With(retry.OnRetry(nil), retry.WithBudget(nil))
		w.replay = &p
	}
	cc := jetstream.ConsumerConfig{
		Durable:       c.consumer,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.ackWait,
		MaxDeliver:    -1, // the policy decides when to stop, never the server
		MaxAckPending: c.maxAck,
		FilterSubject: q.subject,
	}
	cons, err := q.js.CreateOrUpdateConsumer(ctx, q.name, cc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: new workers: consumer %s: %w", c.consumer, ctxErr(ctx, err))
	}
	w.cons = cons
	w.tickCtx, w.tickStop = context.WithCancel(context.Background())
	w.ctx, w.cancel = context.WithCancelCause(ctx)
	for range held {
		w.slots <- struct{}{}
	}
	w.jobs.Add(workers)
	for range workers {
		go w.work()
	}
	go w.loop()
	go w.tick()
	return w, nil
}

// loop takes free workers' slots and fetches as many jobs.
func (w *Workers[J]) loop() {
	defer close(w.loopDone)
	defer func() {
		if w.ctx.Err() != nil {
			w.handBack()
		}
	}()
	var linger *time.Timer
	for {
		if f := w.failures.Load(); f > 0 {
			// The server refused or the connection is down: wait a
			// little, more each time, before asking again.
			t := time.NewTimer(min(10*time.Millisecond<<min(f, 7), time.Second))
			select {
			case <-t.C:
			case <-w.stop:
				t.Stop()
				return
			case <-w.ctx.Done():
				t.Stop()
				return
			}
		}
		select {
		case <-w.slots:
		case <-w.stop:
			return
		case <-w.ctx.Done():
			return
		}
		n := 1
	more:
		for n < w.held {
			select {
			case <-w.slots:
				n++
			default:
				break more
			}
		}
		if n < w.minBatch {
			// A fetch costs a round trip and a subscription: under load,
			// let a few more workers come free before asking, for at most
			// a moment, rather than ask once per finished job.
			if linger == nil {
				linger = time.NewTimer(lingerFor)
			} else {
				linger.Reset(lingerFor)
			}
		gather:
			for n < w.minBatch {
				select {
				case <-w.slots:
					n++
				case <-linger.C:
					break gather
				case <-w.stop:
					return
				case <-w.ctx.Done():
					return
				}
			}
			linger.Stop()
		}
		select {
		case <-w.stop: // the slots may be those Close freed
			w.release(n)
			return
		default:
		}
		// The request is not cancelled on Close: a client that gives up
		// before the server does can miss a message the server sent,
		// which then waits out a whole AckWait. The server ends it after
		// fetchWait, a second before the client would.
		batch, err := w.cons.Fetch(n, jetstream.FetchMaxWait(w.fetchWait))
		if err != nil {
			w.errs.report("fetch", err)
			w.release(n)
			w.failures.Add(1)
			continue
		}
		w.fetches.Add(1)
		go w.drain(batch, n)
	}
}

// drain queues each message of one fetch for the workers, or hands it
// back once Close was called, and gives back the slots the fetch did not
// fill.
func (w *Workers[J]) drain(b jetstream.MessageBatch, n int) {
	defer w.fetches.Done()
	got := 0
	for m := range b.Messages() {
		got++
		// A job waiting for a worker is kept alive by tick like a running
		// one: it is in running from the start, counted as Queued.
		t := &task{m: m, progress: time.Now()}
		w.mu.Lock()
		w.st.Submitted++
		if w.closeCalled || w.ctx.Err() != nil {
			w.st.Canceled++
			w.mu.Unlock()
			w.errs.report("nak", m.Nak()) // a lost NAK costs an AckWait, not the job
			w.slots <- struct{}{}
			continue
		}
		w.st.Queued++
		w.st.QueueHighWater = max(w.st.QueueHighWater, w.st.Queued)
		w.running[t] = struct{}{}
		w.queue = append(w.queue, t)
		w.mu.Unlock()
		w.ready <- struct{}{} // never blocks: a job queued holds a slot
	}
	w.release(n - got)
	if err := b.Error(); err != nil {
		w.errs.report("fetch", err)
		w.failures.Add(1)
	} else {
		w.failures.Store(0)
	}
}

// handBack returns the queued jobs to the server, unrun: Close was called
// or the Workers' context is done, so no job is queued from now on.
func (w *Workers[J]) handBack() {
	w.mu.Lock()
	queued := w.queue
	w.queue = nil
	for _, t := range queued {
		delete(w.running, t)
		w.st.Queued--
		w.st.Canceled++
	}
	w.mu.Unlock()
	for _, t := range queued {
		w.errs.report("nak", t.m.Nak())
		w.slots <- struct{}{}
	}
}

// work runs queued jobs one at a time until Close. The workers outlive
// their jobs, so a job starts on a grown stack, without a goroutine of its
// own.
func (w *Workers[J]) work() {
	defer w.jobs.Done()
	w.mu.Lock()
	w.st.Workers++
	w.mu.Unlock()
	exited := true
	defer func() {
		w.mu.Lock()
		w.st.Workers--
		w.mu.Unlock()
		if exited {
			// A sink or a hook called runtime.Goexit, which ended this
			// worker too: start another in its place.
			w.jobs.Add(1)
			go w.work()
		}
	}()
	for {
		select {
		case <-w.ready:
		case <-w.quit:
			exited = false
			return
		}
		w.mu.Lock()
		if len(w.queue) == 0 { // handed back
			w.mu.Unlock()
			continue
		}
		t := w.queue[0]
		w.queue[0] = nil
		w.queue = w.queue[1:]
		w.st.Queued--
		w.st.Running++
		w.mu.Unlock()
		w.run(t)
	}
}

func (w *Workers[J]) release(n int) {
	for range n {
		w.slots <- struct{}{}
	}
}

// tick tells the server that long jobs are still running, and sweeps the
// stream.
func (w *Workers[J]) tick() {
	defer close(w.tickDone)
	every := w.ackWait / 3
	t := time.NewTicker(every)
	defer t.Stop()
	var due []jetstream.Msg
	for {
		select {
		case <-w.tickCtx.Done():
			return
		case now := <-t.C:
			due = due[:0]
			w.mu.Lock()
			for t := range w.running {
				if now.Sub(t.progress) >= every/2 {
					t.progress = now
					due = append(due, t.m)
				}
			}
			w.mu.Unlock()
			for _, m := range due {
				w.errs.report("in progress", m.InProgress()) // a lost one is sent again next tick
			}
			w.sweep(every / 2) // bounded, so the next notices are not late
		}
	}
}

// sweep removes settled jobs the server kept in the stream; see sweep. It
// gives up after d or once the ticks stop, and is tried again on the next
// tick.
func (w *Workers[J]) sweep(d time.Duration) {
	ctx, cancel := context.WithTimeout(w.tickCtx, d)
	defer cancel()
	err := sweep(ctx, w.q.js, w.q.name, w.cons)
	if w.tickCtx.Err() == nil { // not cut short by Close
		w.errs.report("sweep", err)
	}
}

// outcome is how a delivery ended in this process.
type outcome int

const (
	succeeded outcome = iota
	retried
	deadLettered
	failed
	panicked
	interrupted
)

// run runs one delivery to its outcome.
func (w *Workers[J]) run(t *task) {
	defer func() {
		// The sink, a retry hook or the handler's report path called
		// runtime.Goexit before the delivery was counted: count it, and
		// hand the job back.
		w.mu.Lock()
		ended := t.ended
		w.mu.Unlock()
		if !ended {
			w.nak(t.m, refusedDelay(1))
			w.end(t, failed, *new(J), weft.ErrGoexit, false)
		}
	}()
	job, err := w.q.codec.Decode(t.m.Data())
	if err != nil {
		md, ok := w.metadata(t, job)
		if !ok {
			return
		}
		derr := &DecodeError{Data: t.m.Data(), Err: err}
		w.deadLetter(t, md, job, derr, false, time.Now())
		return
	}
	// The metadata (the attempt number and when the job was first
	// delivered) is parsed only where it is used: by a policy, whose clock
	// starts at the first delivery, and by a failed attempt.
	var md *jetstream.MsgMetadata
	var st retry.State
	if w.replay != nil {
		var ok bool
		if md, ok = w.metadata(t, job); !ok {
			return
		}
		st = w.replay.Start(md.Timestamp)
	}
	actx, cancel := st.Context(w.ctx)
	catch.Guard(func() error {
		return w.handle(actx, job)
	}, func(err error) {
		cancel()
		w.settle(t, md, job, err)
	})
}

// metadata returns the delivery's JetStream metadata, or hands the job back
// and ends it as failed if it has none.
func (w *Workers[J]) metadata(t *task, job J) (*jetstream.MsgMetadata, bool) {
	md, err := t.m.Metadata()
	if err != nil {
		w.errs.report("nak", t.m.Nak())
		w.end(t, failed, job, fmt.Errorf("jetstream: not a JetStream message: %w", err), false)
		return nil, false
	}
	return md, true
}

// settle decides what becomes of a delivery whose handler returned err; md
// is its metadata if run parsed it already.
func (w *Workers[J]) settle(t *task, md *jetstream.MsgMetadata, job J, err error) {
	now := time.Now()
	if err == nil {
		w.errs.report("ack", t.m.Ack()) // a lost ack makes the job run again: at least once
		w.end(t, succeeded, job, nil, true)
		return
	}
	_, isPanic := err.(*weft.PanicError)
	if w.ctx.Err() != nil && !isPanic {
		// Close's deadline or the Workers' context cut the job short:
		// hand it back at once for another process to take.
		w.errs.report("nak", t.m.Nak())
		w.end(t, interrupted, job, err, false)
		return
	}
	if md == nil {
		var ok bool
		if md, ok = w.metadata(t, job); !ok {
			return
		}
	}
	final := err
	if w.replay != nil {
		e := err
		if isPanic || err == weft.ErrGoexit {
			e = retry.Permanent(err)
		}
		var delay time.Duration
		var gaveUp error
		// RetryIf and BackoffFunc are user code: a panic in one ends the
		// job with it, rather than the process.
		if perr := catch.Call(func() error {
			delay, gaveUp = w.decide(e, err, int(md.NumDelivered), md.Timestamp, now)
			return nil
		}); perr != nil {
			gaveUp, isPanic = errors.Join(err, perr), true
		} else if gaveUp == nil {
			w.nak(t.m, delay)
			w.end(t, retried, job, err, false)
			return
		}
		final = gaveUp
	}
	w.deadLetter(t, md, job, final, isPanic, now)
}

// lingerFor is the longest the fetch loop waits for more free workers
// before it asks for fewer than minBatch jobs.
const lingerFor = 500 * time.Microsecond

// errReplay stands for the earlier attempts' errors, which the server did
// not keep, when a decision replays them.
var errReplay = errors.New("jetstream: earlier attempt")

// decide returns the policy's decision after attempt number attempt failed
// with e (err without markers): a retry.State brought to attempt-1 failures
// by replaying them, then asked about this one.
func (w *Workers[J]) decide(e, err error, attempt int, first, now time.Time) (time.Duration, error) {
	bg := context.Background()
	forced := false
replay:
	s := w.replay.Start(first)
	for i := 1; i < attempt; i++ {
		replayErr := errReplay
		if forced {
			replayErr = retry.After(errReplay, 0)
		}
		if _, gaveUp := s.Next(bg, replayErr, first); gaveUp != nil {
			if errors.Is(gaveUp, retry.ErrNotRetryable) && !forced {
				// The policy's RetryIf does not retry the stand-in: replay
				// with retries it cannot refuse.
				forced = true
				goto replay
			}
			var re *retry.Error
			errors.As(gaveUp, &re)
			return 0, &retry.Error{Cause: re.Cause, Last: err, Attempts: attempt, Elapsed: now.Sub(first)}
		}
	}
	return s.Next(bg, e, now)
}

// deadLetter hands a job to the sink, and terminates its message once the
// sink has it, or hands it back to come again later.
func (w *Workers[J]) deadLetter(t *task, md *jetstream.MsgMetadata, job J, final error, isPanic bool, now time.Time) {
	attempt, first := int(md.NumDelivered), md.Timestamp
	var dlErr error
	if w.sink != nil {
		l := retry.Letter[J]{Item: job, Err: final, Attempts: attempt, First: first, Last: now}
		dlErr = catch.Call(func() error { return w.sink.DeadLetter(context.Background(), l) })
	} else {
		dlErr = w.q.publishLetter(t.m, md, final, attempt, first, now, w.ackWait)
	}
	if dlErr == nil {
		w.errs.report("term", t.m.Term()) // a lost Term delivers the job again; its letter is de-duplicated
		w.end(t, deadLettered, job, final, true)
		return
	}
	w.nak(t.m, refusedDelay(attempt))
	kind := failed
	if isPanic {
		kind = panicked
	}
	w.end(t, kind, job, errors.Join(final, fmt.Errorf("jetstream: dead letter not kept: %w", dlErr)), true)
}

func (w *Workers[J]) nak(m jetstream.Msg, delay time.Duration) {
	if delay <= 0 {
		w.errs.report("nak", m.Nak())
		return
	}
	w.errs.report("nak", m.NakWithDelay(delay))
}

// end counts a delivery's outcome, frees its worker, and calls the OnDone
// hook if notify is set.
func (w *Workers[J]) end(t *task, kind outcome, job J, err error, notify bool) {
	w.mu.Lock()
	t.ended = true
	delete(w.running, t)
	w.st.Running--
	switch kind {
	case succeeded:
		w.st.Succeeded++
	case retried:
		w.st.Failed++
		w.st.Retried++
	case deadLettered:
		w.st.DeadLettered++
	case failed:
		w.st.Failed++
	case panicked:
		w.st.Panicked++
	case interrupted:
		w.st.Canceled++
		w.interrupted++
	}
	if notify && (kind == failed || kind == panicked) {
		w.st.Undelivered++
	}
	w.mu.Unlock()
	w.slots <- struct{}{} // the job's room is free, though its worker runs the hook
	if notify && w.onDone != nil {
		if perr := catch.Call(func() error { w.onDone(job, err); return nil }); perr != nil {
			w.errs.keep(perr)
		}
	}
}

// Stats returns a snapshot of this process's counts, taken at one instant;
// see [Stats].
func (w *Workers[J]) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.st
}

// Close stops fetching, waits for the running jobs and every goroutine of the
// Workers, then up to 5 seconds for the acknowledgements to reach the server.
// A job waiting in the [Buffer], or that a fetch brings after Close was
// called, is handed back at once.
// If ctx, or the Workers' own context, is done first, Close cancels the
// running jobs' context, hands back at once each job that then fails, waits
// for the handlers and returns a [*CloseError]; it returns one too if a hook
// panicked. Handlers must return when their context is done, or Close cannot
// return.
//
// Later calls wait too and return [ErrClosed]. Close must not be called from
// a handler; it panics if ctx is nil.
func (w *Workers[J]) Close(ctx context.Context) error {
	if ctx == nil {
		panic("jetstream: Close with nil context")
	}
	w.mu.Lock()
	first := !w.closeCalled
	w.closeCalled = true
	w.mu.Unlock()
	w.stopOnce.Do(func() { close(w.stop) })
	w.handBack()
	w.joinOnce.Do(func() {
		go func() {
			<-w.loopDone
			w.fetches.Wait()
			close(w.quit)
			w.jobs.Wait()
			w.tickStop()
			<-w.tickDone
			close(w.drained)
		}()
	})
	var cause error
	select {
	case <-w.drained:
	case <-ctx.Done():
		cause = context.Cause(ctx)
		w.cancel(cause)
		<-w.drained
	case <-w.ctx.Done():
		cause = context.Cause(w.ctx)
		<-w.drained
	}
	if cause == nil && w.ctx.Err() != nil {
		// The Workers' own context ended before Close was called, and
		// the drain was over by the time Close looked.
		cause = context.Cause(w.ctx)
	}
	w.cancel(ErrClosed)
	if !first {
		return ErrClosed
	}
	// The acknowledgements are on their way; let them reach the server
	// before Close returns, so that what Stats counts as done is done
	// there too, unless the connection is down.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	w.errs.report("flush", w.q.js.Conn().FlushWithContext(fctx))
	cancel()
	panics := w.errs.taken()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.interrupted == 0 && len(panics) == 0 {
		return nil
	}
	if w.interrupted == 0 {
		cause = nil
	}
	return &CloseError{Cause: cause, Interrupted: w.interrupted, Panics: panics}
}
