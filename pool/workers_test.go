package pool_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/pool"
	"github.com/weftgo/weft/retry"
)

// recorder is a handler that records the jobs it ran and follows a plan for
// each: a job not in the plan succeeds.
type recorder struct {
	mu   sync.Mutex
	runs map[int]int // job → attempts
	at   map[int][]time.Time
	plan map[int]func(ctx context.Context, attempt int) error
}

func newRecorder() *recorder {
	return &recorder{runs: map[int]int{}, at: map[int][]time.Time{}, plan: map[int]func(context.Context, int) error{}}
}

func (r *recorder) handle(ctx context.Context, job int) error {
	r.mu.Lock()
	r.runs[job]++
	attempt := r.runs[job]
	r.at[job] = append(r.at[job], time.Now())
	f := r.plan[job]
	r.mu.Unlock()
	if f == nil {
		return nil
	}
	return f(ctx, attempt)
}

func (r *recorder) attempts(job int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runs[job]
}

// letters is a dead-letter sink that keeps what it gets.
type letters struct {
	mu  sync.Mutex
	got []retry.Letter[int]
	err error // returned for every letter if set
}

func (l *letters) DeadLetter(_ context.Context, letter retry.Letter[int]) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, letter)
	return l.err
}

func (l *letters) items() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []int
	for _, x := range l.got {
		out = append(out, x.Item)
	}
	return out
}

func TestWorkersRunsEveryJob(t *testing.T) {
	ctx := context.Background()
	rec := newRecorder()
	w := pool.NewWorkers(ctx, 4, rec.handle)
	for i := range 1000 {
		if err := w.Submit(ctx, i); err != nil {
			t.Fatalf("Submit(%d) = %v", i, err)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatalf("Close = %v", err)
	}
	for i := range 1000 {
		if n := rec.attempts(i); n != 1 {
			t.Fatalf("job %d ran %d times", i, n)
		}
	}
	s := w.Stats()
	checkLaw(t, s)
	if s.Submitted != 1000 || s.Succeeded != 1000 || s.Workers != 0 || s.Queued != 0 || s.Running != 0 {
		t.Fatalf("Stats = %s, workers %d", stats(s), s.Workers)
	}
	noLeftover(t)
}

// Submit blocks while the queue is full, first come first served, and gives
// up with its context's cause.
func TestWorkersSubmitBlocksWhileFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		release := make(chan struct{})
		var order []int
		var mu sync.Mutex
		w := pool.NewWorkers(ctx, 1, func(_ context.Context, j int) error {
			if j == 0 {
				<-release
			}
			mu.Lock()
			order = append(order, j)
			mu.Unlock()
			return nil
		}, pool.Buffer(2))
		for j := range 3 { // one running, two queued
			if err := w.Submit(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.TrySubmit(99); !errors.Is(err, pool.ErrFull) {
			t.Fatalf("TrySubmit on a full queue = %v, want ErrFull", err)
		}
		results := make(chan error, 3)
		for j := 3; j < 5; j++ {
			go func() { results <- w.Submit(ctx, j) }()
			synctest.Wait() // keep the arrival order
		}
		timeout, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		cause := w.Submit(timeout, 100)
		if !errors.Is(cause, context.DeadlineExceeded) {
			t.Fatalf("Submit with a deadline on a full queue = %v", cause)
		}
		s := w.Stats()
		checkLaw(t, s)
		if s.Blocked != 2 || s.Queued != 2 || s.Running != 1 || s.Rejected != 2 || s.QueueHighWater != 2 {
			t.Fatalf("Stats while full = %s, blocked %d, high water %d", stats(s), s.Blocked, s.QueueHighWater)
		}
		// A waiting submitter keeps its turn over TrySubmit.
		close(release)
		for range 2 {
			if err := <-results; err != nil {
				t.Fatalf("blocked Submit = %v", err)
			}
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if want := []int{0, 1, 2, 3, 4}; !slices.Equal(order, want) {
			t.Fatalf("jobs ran in order %v, want %v", order, want)
		}
	})
}

func TestWorkersSubmitWithDoneContext(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("caller gone")
	cancel(cause)
	w := pool.NewWorkers(context.Background(), 1, func(context.Context, int) error { return nil })
	if err := w.Submit(ctx, 1); err != cause {
		t.Fatalf("Submit with a done context = %v, want its cause", err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := w.Stats(); s.Rejected != 1 || s.Submitted != 1 {
		t.Fatalf("Stats = %s", stats(s))
	}
}

// A Buffer(0) pool hands each job straight to a worker.
func TestWorkersNoQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		release := make(chan struct{})
		w := pool.NewWorkers(ctx, 1, func(context.Context, int) error { <-release; return nil }, pool.Buffer(0))
		if err := w.Submit(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if err := w.TrySubmit(2); !errors.Is(err, pool.ErrFull) {
			t.Fatalf("TrySubmit with the worker busy and no queue = %v", err)
		}
		close(release)
		synctest.Wait()
		if err := w.TrySubmit(3); err != nil {
			t.Fatalf("TrySubmit with the worker idle = %v", err)
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestWorkersCloseDrains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var done atomic.Int32
		w := pool.NewWorkers(ctx, 2, func(context.Context, int) error {
			time.Sleep(time.Second)
			done.Add(1)
			return nil
		}, pool.Buffer(10))
		for j := range 10 {
			w.Submit(ctx, j)
		}
		start := time.Now()
		if err := w.Close(ctx); err != nil {
			t.Fatalf("Close = %v", err)
		}
		if done.Load() != 10 || time.Since(start) != 5*time.Second {
			t.Fatalf("Close returned after %v with %d jobs done, want 5s and 10", time.Since(start), done.Load())
		}
		if err := w.Submit(ctx, 11); !errors.Is(err, pool.ErrClosed) {
			t.Fatalf("Submit after Close = %v", err)
		}
		if err := w.TrySubmit(12); !errors.Is(err, pool.ErrClosed) {
			t.Fatalf("TrySubmit after Close = %v", err)
		}
		if err := w.Close(ctx); !errors.Is(err, pool.ErrClosed) {
			t.Fatalf("second Close = %v, want ErrClosed", err)
		}
		synctest.Wait()
		if left := poolGoroutines(); len(left) > 0 {
			t.Fatalf("goroutines left after Close: %v", left)
		}
	})
}

// When Close's context ends first, the running jobs are cancelled and the
// jobs that did not run come back, in queue order.
func TestWorkersCloseDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var interrupted atomic.Int32
		w := pool.NewWorkers(ctx, 2, func(ctx context.Context, j int) error {
			select {
			case <-time.After(time.Hour):
				return nil
			case <-ctx.Done():
				interrupted.Add(1)
				return context.Cause(ctx)
			}
		}, pool.Buffer(10))
		for j := range 6 {
			w.Submit(ctx, j)
		}
		closeCtx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		blocked := make(chan error, 1)
		go func() {
			synctest.Wait()
			blocked <- w.Submit(ctx, 100) // refused once Close starts
		}()
		start := time.Now()
		err := w.Close(closeCtx)
		if time.Since(start) != time.Minute {
			t.Fatalf("Close returned after %v, want 1m", time.Since(start))
		}
		var ce *pool.CloseError[int]
		if !errors.As(err, &ce) {
			t.Fatalf("Close = %v, want a *CloseError", err)
		}
		if !errors.Is(err, context.DeadlineExceeded) || ce.Cause != context.DeadlineExceeded {
			t.Fatalf("Close = %v, cause %v; want DeadlineExceeded", err, ce.Cause)
		}
		slices.Sort(ce.Interrupted)
		if !slices.Equal(ce.Unrun, []int{2, 3, 4, 5}) || !slices.Equal(ce.Interrupted, []int{0, 1}) {
			t.Fatalf("CloseError unrun %v interrupted %v, want [2 3 4 5] and [0 1]", ce.Unrun, ce.Interrupted)
		}
		if interrupted.Load() != 2 {
			t.Fatalf("%d handlers saw their context cancelled, want 2", interrupted.Load())
		}
		if got := err.Error(); got != "pool: close: 4 jobs unrun, 2 interrupted: context deadline exceeded" {
			t.Fatalf("Error() = %q", got)
		}
		if err := <-blocked; !errors.Is(err, pool.ErrClosed) {
			t.Fatalf("Submit during Close = %v", err)
		}
		s := w.Stats()
		checkLaw(t, s)
		if s.Canceled != 6 || s.Rejected != 1 || s.Running+s.Queued+s.Waiting != 0 {
			t.Fatalf("Stats = %s", stats(s))
		}
	})
}

// The context given to NewWorkers ending stops the pool: no job starts,
// Submit fails with the cause, and Close returns the queued jobs at once.
func TestWorkersParentContextDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancelCause(context.Background())
		var ran atomic.Int32
		w := pool.NewWorkers(parent, 1, func(ctx context.Context, j int) error {
			ran.Add(1)
			<-ctx.Done()
			return nil // finished its work in spite of the stop
		}, pool.Buffer(4))
		for j := range 3 {
			w.Submit(context.Background(), j)
		}
		synctest.Wait()
		cause := errors.New("shutdown")
		cancel(cause)
		synctest.Wait()
		if err := w.Submit(context.Background(), 9); err != cause {
			t.Fatalf("Submit after the context ended = %v, want its cause", err)
		}
		err := w.Close(context.Background())
		var ce *pool.CloseError[int]
		if !errors.As(err, &ce) || ce.Cause != cause || !slices.Equal(ce.Unrun, []int{1, 2}) || len(ce.Interrupted) != 0 {
			t.Fatalf("Close = %v, want the cause and unrun [1 2]", err)
		}
		if ran.Load() != 1 {
			t.Fatalf("%d jobs ran, want 1", ran.Load())
		}
		if s := w.Stats(); s.Succeeded != 1 || s.Canceled != 2 {
			t.Fatalf("Stats = %s", stats(s))
		}
	})
}

// Close may be called from several goroutines: the first returns the
// result, the others ErrClosed once the pool has stopped; any of them whose
// context ends stops the pool.
func TestWorkersConcurrentClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		w := pool.NewWorkers(ctx, 1, func(ctx context.Context, j int) error {
			<-ctx.Done()
			return ctx.Err()
		})
		w.Submit(ctx, 1)
		first := make(chan error, 1)
		go func() { first <- w.Close(ctx) }()
		synctest.Wait()
		short, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if err := w.Close(short); !errors.Is(err, pool.ErrClosed) {
			t.Fatalf("second Close = %v, want ErrClosed", err)
		}
		var ce *pool.CloseError[int]
		if err := <-first; !errors.As(err, &ce) || !slices.Equal(ce.Interrupted, []int{1}) {
			t.Fatalf("first Close = %v, want job 1 interrupted", err)
		}
	})
}

// A job that fails k times and then succeeds runs exactly k+1 times, after
// the policy's delays, and no worker sleeps meanwhile.
func TestWorkersRetryThenSucceed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		rec := newRecorder()
		const k = 3
		rec.plan[7] = func(_ context.Context, attempt int) error {
			if attempt <= k {
				return errBoom
			}
			return nil
		}
		policy := retry.New(retry.Attempts(10), retry.Exponential(time.Second, 2, time.Minute), retry.NoJitter())
		w := pool.NewWorkers(ctx, 1, rec.handle, pool.Retry(policy))
		start := time.Now()
		w.Submit(ctx, 7)
		synctest.Wait()
		// While job 7 waits out its delay, the only worker is free.
		if err := w.Submit(ctx, 8); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if rec.attempts(8) != 1 {
			t.Fatal("the worker was not free while a job waited to retry")
		}
		s := w.Stats()
		checkLaw(t, s)
		if s.Waiting != 1 || s.Retried != 1 {
			t.Fatalf("Stats while waiting = %s, retried %d", stats(s), s.Retried)
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if got := rec.attempts(7); got != k+1 {
			t.Fatalf("job ran %d times, want %d", got, k+1)
		}
		var gaps []time.Duration
		for _, at := range rec.at[7] {
			gaps = append(gaps, at.Sub(start))
		}
		want := []time.Duration{0, time.Second, 3 * time.Second, 7 * time.Second}
		if !slices.Equal(gaps, want) {
			t.Fatalf("attempts at %v, want %v", gaps, want)
		}
		s = w.Stats()
		if s.Succeeded != 2 || s.Retried != k || s.Failed != 0 {
			t.Fatalf("Stats = %s, retried %d", stats(s), s.Retried)
		}
	})
}

// A job that always fails reaches the sink exactly once, with every
// attempt, its times and the policy's error.
func TestWorkersDeadLetter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		rec := newRecorder()
		rec.plan[1] = func(context.Context, int) error { return errBoom }
		sink := &letters{}
		var done []error
		var mu sync.Mutex
		w := pool.NewWorkers(ctx, 2, rec.handle,
			pool.Retry(retry.New(retry.Attempts(4), retry.Constant(time.Second), retry.NoJitter())),
			pool.DeadLetter[int](sink),
			pool.OnDone(func(job int, err error) {
				mu.Lock()
				done = append(done, err)
				mu.Unlock()
			}),
		)
		start := time.Now()
		w.Submit(ctx, 1)
		w.Submit(ctx, 2)
		if err := w.Close(ctx); err != nil {
			t.Fatalf("Close = %v", err)
		}
		if len(sink.got) != 1 {
			t.Fatalf("sink got %d letters, want 1", len(sink.got))
		}
		l := sink.got[0]
		var re *retry.Error
		if l.Item != 1 || l.Attempts != 4 || !errors.As(l.Err, &re) || re.Last != errBoom || !errors.Is(l.Err, retry.ErrExhausted) {
			t.Fatalf("letter = %+v, want job 1 after 4 attempts, exhausted with errBoom", l)
		}
		if l.First != start || l.Last.Sub(start) != 3*time.Second {
			t.Fatalf("letter times %v..%v, want 0s..3s", l.First.Sub(start), l.Last.Sub(start))
		}
		if rec.attempts(1) != 4 {
			t.Fatalf("job ran %d times, want 4", rec.attempts(1))
		}
		if len(done) != 2 || !slices.ContainsFunc(done, func(e error) bool { return errors.Is(e, errBoom) }) {
			t.Fatalf("OnDone got %v, want one success and the failure", done)
		}
		s := w.Stats()
		checkLaw(t, s)
		if s.DeadLettered != 1 || s.Failed != 0 || s.Succeeded != 1 || s.Retried != 3 {
			t.Fatalf("Stats = %s, retried %d", stats(s), s.Retried)
		}
	})
}

// Without a policy a failed job goes to the sink at once, with the
// handler's own error.
func TestWorkersDeadLetterWithoutPolicy(t *testing.T) {
	ctx := context.Background()
	sink := &letters{}
	w := pool.NewWorkers(ctx, 1, func(context.Context, int) error { return errBoom }, pool.DeadLetter[int](sink))
	w.Submit(ctx, 5)
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if len(sink.got) != 1 || sink.got[0].Err != errBoom || sink.got[0].Attempts != 1 || sink.got[0].Item != 5 {
		t.Fatalf("letters = %+v", sink.got)
	}
}

// A sink that fails loses nothing: the letter is counted, passed to OnDone
// with the sink's error, and returned by Close.
func TestWorkersFailingSink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		sinkErr := errors.New("dead-letter table unavailable")
		sink := &letters{err: sinkErr}
		var hookErr error
		w := pool.NewWorkers(ctx, 1, func(context.Context, int) error { return errBoom },
			pool.Retry(retry.New(retry.Attempts(2), retry.Constant(time.Second))),
			pool.DeadLetter[int](sink),
			pool.OnDone(func(_ int, err error) { hookErr = err }),
		)
		w.Submit(ctx, 3)
		err := w.Close(ctx)
		var ce *pool.CloseError[int]
		if !errors.As(err, &ce) || len(ce.Undelivered) != 1 || ce.Undelivered[0].Item != 3 {
			t.Fatalf("Close = %v, want the refused letter", err)
		}
		if l := ce.Undelivered[0]; !errors.Is(l.Err, sinkErr) || !errors.Is(l.Err, errBoom) || ce.Cause != nil {
			t.Fatalf("Close = %v, want its letter to hold the sink's and the job's errors", err)
		}
		if !errors.Is(hookErr, sinkErr) || !errors.Is(hookErr, errBoom) {
			t.Fatalf("OnDone got %v", hookErr)
		}
		if got := err.Error(); got != "pool: close: 1 dead letter refused" {
			t.Fatalf("Error() = %q", got)
		}
		s := w.Stats()
		checkLaw(t, s)
		if s.Failed != 1 || s.Undelivered != 1 || s.DeadLettered != 0 {
			t.Fatalf("Stats = %s, undelivered %d", stats(s), s.Undelivered)
		}
	})
}

// A panicking sink is a refusing sink.
func TestWorkersPanickingSink(t *testing.T) {
	ctx := context.Background()
	w := pool.NewWorkers(ctx, 1, func(context.Context, int) error { return errBoom },
		pool.DeadLetter[int](retry.DeadLetterFunc[int](func(context.Context, retry.Letter[int]) error { panic("sink") })))
	w.Submit(ctx, 1)
	err := w.Close(ctx)
	var ce *pool.CloseError[int]
	if !errors.As(err, &ce) || len(ce.Undelivered) != 1 || !isPanic(ce.Undelivered[0].Err, "sink") {
		t.Fatalf("Close = %v, want the sink's panic", err)
	}
}

// A panic in the handler is recovered, not retried, and the worker goes on.
func TestWorkersPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		rec := newRecorder()
		rec.plan[1] = func(context.Context, int) error { panic("bad job") }
		sink := &letters{}
		w := pool.NewWorkers(ctx, 1, rec.handle,
			pool.Retry(retry.New(retry.Attempts(5), retry.Constant(time.Second))),
			pool.DeadLetter[int](sink))
		w.Submit(ctx, 1)
		w.Submit(ctx, 2)
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if rec.attempts(1) != 1 || rec.attempts(2) != 1 {
			t.Fatalf("attempts %d and %d, want 1 each", rec.attempts(1), rec.attempts(2))
		}
		var re *retry.Error
		if len(sink.got) != 1 || !errors.As(sink.got[0].Err, &re) || !isPanic(re.Last, "bad job") || !errors.Is(re, retry.ErrNotRetryable) {
			t.Fatalf("letters = %+v", sink.got)
		}
		if s := w.Stats(); s.DeadLettered != 1 || s.Succeeded != 1 || s.Retried != 0 {
			t.Fatalf("Stats = %s", stats(s))
		}

		// Without a sink the panic is counted as such and reaches OnDone.
		var got error
		w2 := pool.NewWorkers(ctx, 1, rec.handle, pool.OnDone(func(_ int, err error) { got = err }))
		w2.Submit(ctx, 1)
		w2.Close(ctx)
		if s := w2.Stats(); s.Panicked != 1 || !isPanic(got, "bad job") {
			t.Fatalf("Stats = %s, OnDone got %v", stats(s), got)
		}
	})
}

// runtime.Goexit in the handler ends that worker, fails the job with
// weft.ErrGoexit, and a new worker takes the queued jobs.
func TestWorkersGoexit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		rec := newRecorder()
		gate := make(chan struct{})
		rec.plan[1] = func(context.Context, int) error { <-gate; runtime.Goexit(); return nil }
		var got []error
		w := pool.NewWorkers(ctx, 1, rec.handle, pool.OnDone(func(_ int, err error) { got = append(got, err) }),
			pool.Retry(retry.New(retry.Attempts(3), retry.Constant(0))))
		w.Submit(ctx, 1)
		w.Submit(ctx, 2)
		w.Submit(ctx, 3)
		synctest.Wait()
		close(gate)
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if rec.attempts(1) != 1 || rec.attempts(2) != 1 || rec.attempts(3) != 1 {
			t.Fatal("a job did not run exactly once")
		}
		if len(got) != 3 || !errors.Is(got[0], weft.ErrGoexit) {
			t.Fatalf("OnDone got %v", got)
		}
		if s := w.Stats(); s.Failed != 1 || s.Succeeded != 2 {
			t.Fatalf("Stats = %s", stats(s))
		}
	})
}

// Resize grows at once for queued jobs, and shrinks idle workers at once and
// busy ones after their job.
func TestWorkersResize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var h highWater
		w := pool.NewWorkers(ctx, 1, func(context.Context, int) error {
			h.enter()
			defer h.leave()
			time.Sleep(time.Second)
			return nil
		}, pool.Buffer(100))
		for j := range 12 {
			w.Submit(ctx, j)
		}
		synctest.Wait()
		w.Resize(4)
		synctest.Wait()
		if s := w.Stats(); s.Workers != 4 || s.Running != 4 {
			t.Fatalf("after growing to 4: %s, workers %d", stats(s), s.Workers)
		}
		time.Sleep(time.Second) // four jobs finish, four start
		synctest.Wait()
		w.Resize(2)
		synctest.Wait()
		if s := w.Stats(); s.Running != 4 {
			t.Fatalf("shrinking interrupted jobs: %s", stats(s))
		}
		time.Sleep(time.Second) // they finish; two workers go on
		synctest.Wait()
		if s := w.Stats(); s.Workers != 2 || s.Running != 2 {
			t.Fatalf("after shrinking to 2: %s, workers %d", stats(s), s.Workers)
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if h.peak() != 4 {
			t.Fatalf("peak concurrency %d, want 4", h.peak())
		}
		if s := w.Stats(); s.Succeeded != 12 {
			t.Fatalf("Stats = %s", stats(s))
		}

		// Shrinking an idle pool dismisses idle workers at once.
		w = pool.NewWorkers(ctx, 3, func(context.Context, int) error { return nil })
		for j := range 3 {
			w.Submit(ctx, j)
		}
		synctest.Wait()
		w.Resize(1)
		synctest.Wait()
		if s := w.Stats(); s.Workers != 1 {
			t.Fatalf("idle workers after Resize(1) = %d", s.Workers)
		}
		w.Close(ctx)
	})
}

// With an idle timeout, 10,000 idle workers hold no goroutine once it has
// passed.
func TestWorkersIdleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		const n = 10_000
		gate := make(chan struct{})
		w := pool.NewWorkers(ctx, n, func(context.Context, int) error { <-gate; return nil }, pool.IdleTimeout(time.Minute))
		for j := range n {
			if err := w.Submit(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		close(gate)
		synctest.Wait()
		if s := w.Stats(); s.Workers != n || s.Succeeded != n {
			t.Fatalf("before the timeout: %s, workers %d", stats(s), s.Workers)
		}
		if got := len(poolGoroutines()); got != n {
			t.Fatalf("%d pool goroutines before the timeout, want %d", got, n)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if s := w.Stats(); s.Workers != 0 {
			t.Fatalf("workers after the idle timeout = %d, want 0", s.Workers)
		}
		if left := poolGoroutines(); len(left) != 0 {
			t.Fatalf("%d pool goroutines after the idle timeout", len(left))
		}
		// Work brings a worker back.
		if err := w.Submit(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if s := w.Stats(); s.Succeeded != n+1 {
			t.Fatalf("Stats = %s", stats(s))
		}
	})
}

// A job waiting to retry when Close's deadline passes comes back unrun; one
// whose delay ends during the drain runs.
func TestWorkersRetryDuringClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		rec := newRecorder()
		rec.plan[1] = func(_ context.Context, attempt int) error {
			if attempt == 1 {
				return errBoom
			}
			return nil
		}
		rec.plan[2] = func(context.Context, int) error { return errBoom }
		policy := retry.New(retry.Attempts(3), retry.Constant(time.Minute), retry.NoJitter())
		w := pool.NewWorkers(ctx, 1, rec.handle, pool.Retry(policy))
		w.Submit(ctx, 1)
		synctest.Wait()
		closeCtx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		// Job 1 failed at 0s and retries at 1m, within the drain, and
		// succeeds. Job 2 fails at 50s and would retry at 1m50s, after the
		// deadline of 1m30s.
		time.Sleep(50 * time.Second)
		w.Submit(ctx, 2)
		synctest.Wait()
		err := w.Close(closeCtx)
		var ce *pool.CloseError[int]
		if !errors.As(err, &ce) || !slices.Equal(ce.Unrun, []int{2}) {
			t.Fatalf("Close = %v, want job 2 unrun", err)
		}
		if rec.attempts(1) != 2 || rec.attempts(2) != 1 {
			t.Fatalf("attempts %d and %d, want 2 and 1", rec.attempts(1), rec.attempts(2))
		}
		s := w.Stats()
		checkLaw(t, s)
		if s.Succeeded != 1 || s.Canceled != 1 || s.Waiting != 0 {
			t.Fatalf("Stats = %s", stats(s))
		}
	})
}

// A panic in OnDone is returned by Close.
func TestWorkersHookPanic(t *testing.T) {
	ctx := context.Background()
	w := pool.NewWorkers(ctx, 1, func(context.Context, int) error { return nil },
		pool.OnDone(func(int, error) { panic("hook") }))
	w.Submit(ctx, 1)
	err := w.Close(ctx)
	var ce *pool.CloseError[int]
	if !errors.As(err, &ce) || len(ce.Panics) != 1 || !isPanic(ce.Panics[0], "hook") {
		t.Fatalf("Close = %v, want the hook's panic", err)
	}
	if got := err.Error(); got != "pool: close: 1 hook panic" {
		t.Fatalf("Error() = %q", got)
	}
}

// Jobs waiting out a retry delay count against the pool's room: however
// many fail, a Workers holds at most the limit plus the queue's bound, and
// Submit waits for room even when a worker is idle.
func TestWorkersRetriesStayBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		w := pool.NewWorkers(ctx, 2, func(context.Context, int) error { return errBoom },
			pool.Buffer(3),
			pool.Retry(retry.New(retry.Attempts(3), retry.Constant(time.Second))))
		const bound = 2 + 3
		stop := time.Now().Add(10 * time.Second)
		submitted := 0
		for time.Now().Before(stop) {
			sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			if w.Submit(sctx, submitted) == nil {
				submitted++
			}
			cancel()
			s := w.Stats()
			if held := s.Queued + s.Running + s.Waiting; held > bound {
				t.Fatalf("after %d submissions the pool holds %d jobs (%s), want at most %d", submitted, held, stats(s), bound)
			}
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		// Intake went on as jobs gave up, and every job took its three
		// attempts and failed.
		if s := w.Stats(); submitted <= 2*bound || s.Failed != uint64(submitted) || s.Retried != 2*uint64(submitted) {
			t.Fatalf("%d jobs submitted, Stats = %s; want more than %d, each retried twice and failed", submitted, stats(s), 2*bound)
		}
	})
}

// A job handed to a worker just before the pool's context ends does not
// start after it: it comes back unrun, through the parent's context and
// through a hard stop alike. With one P, the new worker cannot run before
// the test goroutine blocks in Close, after the context has ended.
func TestWorkersNoStartAfterContextDone(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, hard := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			parent, cancel := context.WithCancel(context.Background())
			defer cancel()
			started := false
			w := pool.NewWorkers(parent, 1, func(ctx context.Context, j int) error {
				started = true
				return ctx.Err()
			})
			if err := w.Submit(context.Background(), 1); err != nil {
				t.Fatal(err)
			}
			closeCtx := context.Background()
			if hard {
				done, cancelDone := context.WithCancel(context.Background())
				cancelDone()
				closeCtx = done
			} else {
				cancel()
			}
			err := w.Close(closeCtx)
			var ce *pool.CloseError[int]
			if started || !errors.As(err, &ce) || !slices.Equal(ce.Unrun, []int{1}) || len(ce.Interrupted) != 0 {
				t.Fatalf("hard stop %v: job started = %v, Close = %v; want it unrun, not started", hard, started, err)
			}
			if s := w.Stats(); s.Canceled != 1 || s.Running != 0 {
				t.Fatalf("Stats = %s, want the job canceled", stats(s))
			}
		})
	}
}

// The room a job held is free as soon as it ends, even while its worker
// runs a slow OnDone hook: a waiting Submit comes in at once when another
// worker is idle. Jobs 1 and 2 wait out a retry delay and job 3 runs, which
// fills the room of 3; Submit(4) waits; job 3 ends, and its hook sleeps.
func TestWorkersRoomFreedBeforeOnDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		warm, gate3 := make(chan struct{}), make(chan struct{})
		w := pool.NewWorkers(context.Background(), 3, func(_ context.Context, job int) error {
			switch {
			case job >= 10:
				<-warm
			case job == 1 || job == 2:
				return errBoom
			case job == 3:
				<-gate3
				return retry.Permanent(errBoom)
			}
			return nil
		}, pool.Buffer(0),
			pool.Retry(retry.New(retry.Attempts(2), retry.Constant(time.Hour), retry.NoJitter())),
			pool.OnDone(func(job int, _ error) {
				if job == 3 {
					time.Sleep(10 * time.Minute)
				}
			}))
		ctx := context.Background()
		for j := 10; j < 13; j++ {
			w.Submit(ctx, j) // three workers
		}
		close(warm)
		synctest.Wait() // all three idle
		w.Submit(ctx, 1)
		w.Submit(ctx, 2)
		synctest.Wait() // both wait out an hour's delay
		w.Submit(ctx, 3)
		synctest.Wait() // running: the room of 3 is full
		done := make(chan error, 1)
		go func() { done <- w.Submit(ctx, 4) }()
		synctest.Wait()
		close(gate3)
		start := time.Now()
		if err := <-done; err != nil || time.Since(start) != 0 {
			t.Fatalf("Submit(4) = %v after %v, want nil at once", err, time.Since(start))
		}
		w.Close(ctx)
	})
}

// A retry hook that calls runtime.Goexit still leaves the job's letter
// among the undelivered when there is a sink, since the sink never saw it.
func TestWorkersGoexitInRetryHookKeepsTheLetter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got []retry.Letter[int]
		w := pool.NewWorkers(context.Background(), 1, func(context.Context, int) error { return errBoom },
			pool.Retry(retry.New(retry.Attempts(3), retry.OnRetry(func(int, error, time.Duration) { runtime.Goexit() }))),
			pool.DeadLetter[int](retry.DeadLetterFunc[int](func(_ context.Context, l retry.Letter[int]) error {
				got = append(got, l)
				return nil
			})))
		w.Submit(context.Background(), 7)
		err := w.Close(context.Background())
		var ce *pool.CloseError[int]
		if !errors.As(err, &ce) || len(ce.Undelivered) != 1 || ce.Undelivered[0].Item != 7 || !errors.Is(ce.Undelivered[0].Err, weft.ErrGoexit) || len(got) != 0 {
			t.Fatalf("Close = %v, sink got %v; want job 7's letter undelivered with weft.ErrGoexit", err, got)
		}
	})
}

// Unrun keeps its documented order when the pool's own context ends: the
// queued jobs first, then one just handed to a worker.
func TestWorkersUnrunOrderAfterParentCancel(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1)) // the handed job cannot start before cancel
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		w := pool.NewWorkers(ctx, 1, func(context.Context, int) error { return nil }, pool.Buffer(1))
		w.Submit(context.Background(), 0)
		synctest.Wait()                   // worker idle
		w.Submit(context.Background(), 1) // handed to the idle worker
		w.Submit(context.Background(), 2) // queued
		cancel()
		synctest.Wait() // the worker finds the stop before it starts job 1
		var ce *pool.CloseError[int]
		if err := w.Close(context.Background()); !errors.As(err, &ce) || !slices.Equal(ce.Unrun, []int{2, 1}) {
			t.Fatalf("Close = %v, want Unrun [2 1]", err)
		}
	})
}

// A panic in a retry policy's hook ends the job with it, on its error path,
// instead of crashing the process from the worker goroutine.
func TestWorkersRetryHookPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var got error
		w := pool.NewWorkers(ctx, 1, func(context.Context, int) error { return errBoom },
			pool.Retry(retry.New(retry.RetryIf(func(error) bool { panic("classifier") }))),
			pool.OnDone(func(_ int, err error) { got = err }))
		w.Submit(ctx, 1)
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if s := w.Stats(); s.Panicked != 1 || s.Running != 0 || !isPanic(got, "classifier") || !errors.Is(got, errBoom) {
			t.Fatalf("Stats = %s, OnDone got %v; want the job panicked with the hook's panic and its own error", stats(s), got)
		}
	})
}

// A sink or a retry hook that calls runtime.Goexit ends its worker, but the
// job is still counted, and its letter kept as undelivered.
func TestWorkersGoexitInSinkOrRetryHook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		fail := func(context.Context, int) error { return errBoom }
		w := pool.NewWorkers(ctx, 1, fail,
			pool.DeadLetter[int](retry.DeadLetterFunc[int](func(context.Context, retry.Letter[int]) error {
				runtime.Goexit()
				return nil
			})))
		w.Submit(ctx, 1)
		w.Submit(ctx, 2)
		err := w.Close(ctx)
		var ce *pool.CloseError[int]
		if !errors.As(err, &ce) || len(ce.Undelivered) != 2 || !errors.Is(ce.Undelivered[0].Err, weft.ErrGoexit) {
			t.Fatalf("Close = %v, want both letters undelivered with weft.ErrGoexit", err)
		}
		if s := w.Stats(); s.Failed != 2 || s.Running != 0 {
			t.Fatalf("Stats = %s, want 2 failed and none running", stats(s))
		}

		var got error
		w2 := pool.NewWorkers(ctx, 1, fail,
			pool.Retry(retry.New(retry.OnRetry(func(int, error, time.Duration) { runtime.Goexit() }))),
			pool.OnDone(func(_ int, err error) { got = err }))
		w2.Submit(ctx, 1)
		if err := w2.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if s := w2.Stats(); s.Failed != 1 || s.Running != 0 || !errors.Is(got, weft.ErrGoexit) || !errors.Is(got, errBoom) {
			t.Fatalf("Stats = %s, OnDone got %v; want the job failed with its error and weft.ErrGoexit", stats(s), got)
		}
	})
}

// A handler that panics while a hard stop cuts the drain short is a bug to
// report: it is counted as a panic and reaches OnDone, not filed among the
// interrupted jobs.
func TestWorkersPanicDuringHardStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got error
		w := pool.NewWorkers(context.Background(), 1,
			func(ctx context.Context, _ int) error { <-ctx.Done(); panic("cleanup") },
			pool.OnDone(func(_ int, err error) { got = err }))
		w.Submit(context.Background(), 1)
		synctest.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := w.Close(ctx); err != nil {
			t.Fatalf("Close = %v, want nil: no job to give back", err)
		}
		if s := w.Stats(); s.Panicked != 1 || s.Canceled != 0 || !isPanic(got, "cleanup") {
			t.Fatalf("Stats = %s, OnDone got %v; want the panic counted and delivered", stats(s), got)
		}
	})
}

func TestCloseErrorMessages(t *testing.T) {
	tests := []struct {
		e    *pool.CloseError[int]
		want string
	}{
		{&pool.CloseError[int]{Cause: context.Canceled}, "pool: close: drain cut short: context canceled"},
		{&pool.CloseError[int]{Unrun: []int{1}, Interrupted: []int{2, 3}}, "pool: close: 1 job unrun, 2 interrupted"},
		{&pool.CloseError[int]{Undelivered: make([]retry.Letter[int], 2), Panics: []error{errBoom, errBoom}}, "pool: close: 2 dead letters refused, 2 hook panics"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// A job interrupted by a stop goes to the sink, which gets a context that
// is not cancelled; since the sink kept it, nothing was lost and Close
// returns nil.
func TestWorkersInterruptedJobToSink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var sinkCtxErr error
		sink := retry.DeadLetterFunc[int](func(ctx context.Context, l retry.Letter[int]) error {
			sinkCtxErr = ctx.Err()
			return nil
		})
		w := pool.NewWorkers(ctx, 1, func(ctx context.Context, j int) error {
			<-ctx.Done()
			return ctx.Err()
		}, pool.DeadLetter[int](sink), pool.Retry(retry.New()))
		w.Submit(ctx, 1)
		closeCtx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		start := time.Now()
		if err := w.Close(closeCtx); err != nil || time.Since(start) != time.Second {
			t.Fatalf("Close = %v after %v, want nil after the 1s deadline", err, time.Since(start))
		}
		if sinkCtxErr != nil {
			t.Fatalf("the sink's context was done: %v", sinkCtxErr)
		}
		if s := w.Stats(); s.DeadLettered != 1 || s.Canceled != 0 {
			t.Fatalf("Stats = %s", stats(s))
		}
	})
}

func TestWorkersMisuse(t *testing.T) {
	ctx := context.Background()
	h := func(context.Context, int) error { return nil }
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"zero workers", func() { pool.NewWorkers(ctx, 0, h) }, "pool: NewWorkers(workers=0): need at least one worker"},
		{"nil handler", func() { pool.NewWorkers[int](ctx, 1, nil) }, "pool: NewWorkers: nil handler"},
		{"nil context", func() { pool.NewWorkers(noContext, 1, h) }, "pool: NewWorkers: nil Context"},
		{"negative queue", func() { pool.Buffer(-1) }, "pool: Buffer(-1): negative buffer size"},
		{"negative idle", func() { pool.IdleTimeout(-time.Second) }, "pool: IdleTimeout(-1s): negative timeout"},
		{"nil sink", func() { pool.DeadLetter[int](nil) }, "pool: DeadLetter(nil)"},
		{"nil Submit ctx", func() { pool.NewWorkers(ctx, 1, h).Submit(noContext, 1) }, "pool: Workers.Submit: nil Context"},
		{"nil Close ctx", func() { pool.NewWorkers(ctx, 1, h).Close(noContext) }, "pool: Workers.Close: nil Context"},
		{"nil sink func", func() { pool.DeadLetter[int](retry.DeadLetterFunc[int](nil)) }, "pool: DeadLetter(nil)"},
		{"nil hook", func() { pool.OnDone[int](nil) }, "pool: OnDone(nil)"},
		{"nil option", func() { pool.NewWorkers(ctx, 1, h, nil) }, "pool: NewWorkers: nil option"},
		{"sink type", func() {
			pool.NewWorkers(ctx, 1, h, pool.DeadLetter[string](retry.DeadLetterFunc[string](func(context.Context, retry.Letter[string]) error { return nil })))
		}, "pool: NewWorkers: DeadLetter sink retry.DeadLetterFunc[string] does not take jobs of type int"},
		{"hook type", func() { pool.NewWorkers(ctx, 1, h, pool.OnDone(func(string, error) {})) }, "pool: NewWorkers: OnDone hook func(string, error) does not take jobs of type int"},
		{"resize to zero", func() { pool.NewWorkers(ctx, 1, h).Resize(0) }, "pool: Resize(0): need at least one worker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustPanic(t, tt.f); !strings.HasPrefix(got, tt.want) {
				t.Fatalf("panic %q, want %q", got, tt.want)
			}
		})
	}
}

// A worker that finishes while jobs waiting to retry hold all the queue's
// room takes a waiting Submit's job itself, rather than idling until a
// retry comes back.
func TestWorkersFreedWorkerTakesWaitingSubmit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		rec := newRecorder()
		rec.plan[1] = func(context.Context, int) error { return errBoom } // waits an hour to retry
		release := make(chan struct{})
		rec.plan[2] = func(context.Context, int) error { <-release; return nil }
		w := pool.NewWorkers(ctx, 1, rec.handle, pool.Buffer(1),
			pool.Retry(retry.New(retry.Constant(time.Hour), retry.NoJitter())))
		w.Submit(ctx, 1)
		synctest.Wait()
		w.Submit(ctx, 2)
		submitted := make(chan error, 1)
		go func() { submitted <- w.Submit(ctx, 3) }()
		synctest.Wait()
		if s := w.Stats(); s.Blocked != 1 || s.Waiting != 1 {
			t.Fatalf("Stats = %s, blocked %d", stats(s), s.Blocked)
		}
		start := time.Now()
		close(release)
		if err := <-submitted; err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if rec.attempts(3) != 1 || time.Since(start) != 0 {
			t.Fatalf("job 3 ran %d times after %v, want at once", rec.attempts(3), time.Since(start))
		}
		closeCtx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		var ce *pool.CloseError[int]
		if err := w.Close(closeCtx); !errors.As(err, &ce) || !slices.Equal(ce.Unrun, []int{1}) {
			t.Fatalf("Close = %v, want job 1 unrun", err)
		}
	})
}

// Close refuses the Submit calls waiting for room, which get ErrClosed and
// are counted as rejected.
func TestWorkersCloseRefusesWaitingSubmits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		release := make(chan struct{})
		w := pool.NewWorkers(ctx, 1, func(context.Context, int) error { <-release; return nil }, pool.Buffer(0))
		w.Submit(ctx, 1)
		results := make(chan error, 2)
		for j := 2; j <= 3; j++ {
			go func() { results <- w.Submit(ctx, j) }()
		}
		synctest.Wait()
		closed := make(chan error, 1)
		go func() { closed <- w.Close(ctx) }()
		for range 2 {
			if err := <-results; !errors.Is(err, pool.ErrClosed) {
				t.Fatalf("waiting Submit during Close = %v, want ErrClosed", err)
			}
		}
		close(release)
		if err := <-closed; err != nil {
			t.Fatal(err)
		}
		s := w.Stats()
		checkLaw(t, s)
		if s.Rejected != 2 || s.Succeeded != 1 || s.Blocked != 0 {
			t.Fatalf("Stats = %s, blocked %d", stats(s), s.Blocked)
		}
	})
}

// Jobs waiting to retry when Close's deadline passes come back in the order
// they were due, after the queued ones.
func TestWorkersUnrunOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		w := pool.NewWorkers(ctx, 2, func(ctx context.Context, j int) error {
			if j >= 10 {
				return retry.After(errBoom, time.Duration(100-j)*time.Minute) // 11 is due before 10
			}
			<-ctx.Done()
			return nil
		}, pool.Retry(retry.New()), pool.Buffer(4))
		w.Submit(ctx, 10)
		w.Submit(ctx, 11)
		synctest.Wait()
		w.Submit(ctx, 0)
		w.Submit(ctx, 1)
		w.Submit(ctx, 2) // queued behind 0 and 1
		w.Submit(ctx, 3)
		synctest.Wait()
		closeCtx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		var ce *pool.CloseError[int]
		err := w.Close(closeCtx)
		if !errors.As(err, &ce) || !slices.Equal(ce.Unrun, []int{2, 3, 11, 10}) {
			t.Fatalf("Close = %v, want unrun [2 3 11 10]", err)
		}
	})
}

// A worker that waits with an idle timeout more than once reuses its timer,
// and a job that arrives in time keeps it alive.
func TestWorkersIdleTimeoutReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		w := pool.NewWorkers(ctx, 1, func(context.Context, int) error { return nil }, pool.IdleTimeout(time.Minute))
		for j := range 3 {
			w.Submit(ctx, j)
			time.Sleep(30 * time.Second) // idle, but not for long enough
			synctest.Wait()
			if s := w.Stats(); s.Workers != 1 {
				t.Fatalf("after %d jobs: %d workers, want the one that is kept", j+1, s.Workers)
			}
		}
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if s := w.Stats(); s.Workers != 0 {
			t.Fatalf("after a minute idle: %d workers", s.Workers)
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
