package jetstream_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft"
	wjs "github.com/weftgo/weft/jetstream"
	"github.com/weftgo/weft/retry"
)

func TestWorkersRunEverySubmittedJob(t *testing.T) {
	srv := startServer(t)
	js := newJS(t, srv)
	q := newQueue(t, js, "basic")
	o := newOutcomes()
	ctx := context.Background()
	const n = 50
	for i := range n {
		require.NoError(t, q.Submit(ctx, job{ID: fmt.Sprint(i)}))
	}
	w, err := wjs.NewWorkers(ctx, q, 4, func(ctx context.Context, j job) error {
		o.ran(j.ID)
		return nil
	}, wjs.OnDone(o.onDone), wjs.FetchWait(100*time.Millisecond))
	require.NoError(t, err)
	o.wait(t, n, 20*time.Second)
	closeWorkers(t, w)
	st := w.Stats()
	assert.Equal(t, uint64(n), st.Succeeded)
	assert.Equal(t, uint64(n), st.Submitted)
	assert.Len(t, o.runs, n)
	assert.Zero(t, drained(t, js, q))
}

func TestWorkersDeadLetterAfterPolicyGivesUp(t *testing.T) {
	srv := startServer(t)
	js := newJS(t, srv)
	q := newQueue(t, js, "dlq")
	o := newOutcomes()
	ctx := context.Background()
	boom := errors.New("boom")
	require.NoError(t, q.SubmitID(ctx, "job-1", job{ID: "1"}))
	w, err := wjs.NewWorkers(ctx, q, 2, func(ctx context.Context, j job) error {
		o.ran(j.ID)
		return boom
	}, wjs.OnDone(o.onDone), wjs.FetchWait(100*time.Millisecond),
		wjs.Retry(retry.New(retry.Attempts(3), retry.Constant(50*time.Millisecond), retry.NoJitter())))
	require.NoError(t, err)
	o.wait(t, 1, 20*time.Second)
	closeWorkers(t, w)
	assert.Equal(t, 3, o.runs["1"])
	require.Len(t, o.done["1"], 1)
	assert.ErrorIs(t, o.done["1"][0], retry.ErrExhausted)
	assert.ErrorIs(t, o.done["1"][0], boom)
	ls := letters(t, js, q)
	require.Len(t, ls, 1)
	assert.Equal(t, "job-1", ls[0].JobID)
	assert.Equal(t, 3, ls[0].Attempts)
	assert.Contains(t, ls[0].Err, "boom")
	assert.JSONEq(t, `{"id":"1"}`, string(ls[0].Data))
	st := w.Stats()
	assert.Equal(t, uint64(1), st.DeadLettered)
	assert.Equal(t, uint64(2), st.Retried)
	assert.Zero(t, drained(t, js, q))
}

func TestWorkersDeadLetterUndecodableMessagesWithTheirBytes(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "undecodable")
	ctx := context.Background()
	_, err := js.Publish(ctx, "undecodable.jobs", []byte("not json"))
	require.NoError(t, err)
	o := newOutcomes()
	w, err := wjs.NewWorkers(ctx, q, 1, func(ctx context.Context, j job) error {
		o.ran(j.ID)
		return nil
	}, wjs.OnDone(o.onDone), wjs.FetchWait(50*time.Millisecond))
	require.NoError(t, err)
	o.wait(t, 1, 20*time.Second)
	closeWorkers(t, w)
	assert.Empty(t, o.runs, "the handler never sees it")
	var de *wjs.DecodeError
	require.ErrorAs(t, o.done[""][0], &de)
	assert.Equal(t, []byte("not json"), de.Data)
	var se *json.SyntaxError
	assert.ErrorAs(t, o.done[""][0], &se, "the codec's error is in the chain")
	ls := letters(t, js, q)
	require.Len(t, ls, 1)
	assert.Equal(t, []byte("not json"), ls[0].Data)
	assert.Contains(t, ls[0].Err, "cannot decode")
	assert.Equal(t, uint64(1), w.Stats().DeadLettered)
}

func TestWorkersWithoutPolicyDeadLetterTheFirstFailure(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "nopolicy")
	ctx := context.Background()
	require.NoError(t, q.Submit(ctx, job{ID: "e"}))
	require.NoError(t, q.Submit(ctx, job{ID: "p"}))
	o := newOutcomes()
	w, err := wjs.NewWorkers(ctx, q, 2, func(ctx context.Context, j job) error {
		o.ran(j.ID)
		if j.ID == "p" {
			panic("boom")
		}
		return errors.New("failed")
	}, wjs.OnDone(o.onDone), wjs.FetchWait(50*time.Millisecond))
	require.NoError(t, err)
	o.wait(t, 2, 20*time.Second)
	closeWorkers(t, w)
	assert.Equal(t, map[string]int{"e": 1, "p": 1}, o.runs)
	var pe *weft.PanicError
	require.ErrorAs(t, o.done["p"][0], &pe)
	assert.Equal(t, "boom", pe.Value)
	assert.EqualError(t, o.done["e"][0], "failed")
	ls := letters(t, js, q)
	require.Len(t, ls, 2)
	for _, l := range ls {
		assert.Equal(t, 1, l.Attempts)
		assert.False(t, l.Last.Before(l.First), "last attempt %v before first %v", l.Last, l.First)
	}
	st := w.Stats()
	assert.Equal(t, uint64(2), st.DeadLettered)
	assert.Zero(t, st.Retried)
}

// refusingSink refuses the first letter, then keeps them.
type refusingSink struct {
	mu      sync.Mutex
	calls   int
	letters []retry.Letter[job]
}

func (s *refusingSink) DeadLetter(ctx context.Context, l retry.Letter[job]) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls == 1 {
		return errors.New("disk full")
	}
	s.letters = append(s.letters, l)
	return nil
}

func TestWorkersHandBackAJobWhoseLetterWasRefused(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "refused")
	ctx := context.Background()
	require.NoError(t, q.Submit(ctx, job{ID: "1"}))
	o := newOutcomes()
	sink := &refusingSink{}
	w, err := wjs.NewWorkers(ctx, q, 1, func(ctx context.Context, j job) error {
		o.ran(j.ID)
		return errors.New("failed")
	}, wjs.OnDone(o.onDone), wjs.FetchWait(50*time.Millisecond),
		wjs.Retry(retry.New(retry.Attempts(1))), wjs.DeadLetter[job](sink))
	require.NoError(t, err)
	o.wait(t, 2, 20*time.Second)
	closeWorkers(t, w)
	assert.Equal(t, 2, o.runs["1"], "the job came back and ran again")
	require.Len(t, o.done["1"], 2)
	assert.ErrorContains(t, o.done["1"][0], "disk full")
	assert.ErrorIs(t, o.done["1"][1], retry.ErrExhausted)
	require.Len(t, sink.letters, 1)
	assert.Equal(t, 2, sink.letters[0].Attempts)
	st := w.Stats()
	assert.Equal(t, uint64(1), st.Undelivered)
	assert.Equal(t, uint64(1), st.Failed)
	assert.Equal(t, uint64(1), st.DeadLettered)
	assert.Zero(t, drained(t, js, q))
}

var errTransient = errors.New("transient")

func TestWorkersRetryWithAClassifierThatRefusesOtherErrors(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "classifier")
	ctx := context.Background()
	require.NoError(t, q.Submit(ctx, job{ID: "1"}))
	require.NoError(t, q.Submit(ctx, job{ID: "2"}))
	o := newOutcomes()
	w, err := wjs.NewWorkers(ctx, q, 2, func(ctx context.Context, j job) error {
		n := o.ran(j.ID)
		switch {
		case j.ID == "2":
			return errors.New("not transient")
		case n < 3:
			return errTransient
		}
		return nil
	}, wjs.OnDone(o.onDone), wjs.FetchWait(50*time.Millisecond),
		wjs.Retry(retry.New(retry.Attempts(5), retry.Constant(0), // a NAK without delay
			retry.RetryIf(func(err error) bool { return errors.Is(err, errTransient) }))))
	require.NoError(t, err)
	o.wait(t, 2, 20*time.Second)
	closeWorkers(t, w)
	assert.Equal(t, map[string]int{"1": 3, "2": 1}, o.runs)
	assert.NoError(t, o.done["1"][0])
	assert.ErrorIs(t, o.done["2"][0], retry.ErrNotRetryable)
}

func TestWorkersKeepASlowJobPastTheAckWait(t *testing.T) {
	if testing.Short() {
		t.Skip("takes seconds")
	}
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "slow")
	ctx := context.Background()
	require.NoError(t, q.Submit(ctx, job{ID: "1"}))
	o := newOutcomes()
	const ackWait = time.Second
	w, err := wjs.NewWorkers(ctx, q, 2, func(ctx context.Context, j job) error {
		o.ran(j.ID)
		time.Sleep(ackWait * 5 / 2) // the job's own work, longer than the AckWait
		return nil
	}, wjs.OnDone(o.onDone), wjs.FetchWait(50*time.Millisecond), wjs.AckWait(ackWait))
	require.NoError(t, err)
	o.wait(t, 1, 20*time.Second)
	closeWorkers(t, w)
	assert.Equal(t, 1, o.runs["1"], "delivered again while it ran")
	assert.Equal(t, uint64(1), w.Stats().Submitted)
}

func TestWorkersCloseWithADeadlineHandsRunningJobsBackAtOnce(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "close")
	ctx := context.Background()
	const n = 100
	for i := range n {
		require.NoError(t, q.SubmitID(ctx, fmt.Sprint(i), job{ID: fmt.Sprint(i)}))
	}
	started := make(chan struct{}, n)
	first, err := wjs.NewWorkers(ctx, q, 8, func(ctx context.Context, j job) error {
		started <- struct{}{}
		<-ctx.Done() // runs until Close cuts it short
		return ctx.Err()
	}, wjs.FetchWait(50*time.Millisecond)) // the default AckWait, 30s: only a NAK brings a job back in time
	require.NoError(t, err)
	for range 8 {
		<-started
	}
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	err = first.Close(cctx)
	var ce *wjs.CloseError
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.EqualError(t, err, "jetstream: close: 8 jobs interrupted: context deadline exceeded")
	assert.Equal(t, 8, ce.Interrupted)
	st := first.Stats()
	assert.Equal(t, uint64(8), st.Canceled)
	assert.Equal(t, st.Submitted, st.Canceled, "every delivery was handed back")
	assert.Zero(t, st.Running)
	assert.ErrorIs(t, first.Close(ctx), wjs.ErrClosed)

	o := newOutcomes()
	second, err := wjs.NewWorkers(ctx, q, 8, func(ctx context.Context, j job) error {
		o.ran(j.ID)
		return nil
	}, wjs.OnDone(o.onDone), wjs.FetchWait(50*time.Millisecond))
	require.NoError(t, err)
	o.wait(t, n, 10*time.Second)
	closeWorkers(t, second)
	assert.Len(t, o.runs, n)
	assert.Zero(t, drained(t, js, q))
}

// runOneJobUntilCanceled starts a Workers of one worker on a new queue,
// gives it a job whose handler waits for its context, and, once the job
// runs, cancels the context the Workers were made with. It returns the
// cause it cancelled with.
func runOneJobUntilCanceled(t *testing.T, name string) (jetstream.JetStream, *wjs.Queue[job], *wjs.Workers[job], error) {
	t.Helper()
	js := newJS(t, startServer(t))
	q := newQueue(t, js, name)
	ctx, cancel := context.WithCancelCause(context.Background())
	require.NoError(t, q.Submit(ctx, job{ID: "1"}))
	started := make(chan struct{})
	w, err := wjs.NewWorkers(ctx, q, 1, func(ctx context.Context, j job) error {
		close(started)
		<-ctx.Done()
		return context.Cause(ctx)
	}, wjs.FetchWait(50*time.Millisecond))
	require.NoError(t, err)
	<-started
	stop := errors.New("shutting down")
	cancel(stop)
	return js, q, w, stop
}

func TestWorkersStopWhenTheirContextIsDone(t *testing.T) {
	js, q, w, stop := runOneJobUntilCanceled(t, "ctxdone")
	err := w.Close(context.Background())
	var ce *wjs.CloseError
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 1, ce.Interrupted)
	assert.Equal(t, uint64(1), pending(t, js, q), "the job is back on the server")
}

func TestWorkersCloseNamesTheContextThatInterruptedJobsBeforeIt(t *testing.T) {
	_, _, w, stop := runOneJobUntilCanceled(t, "ctxfirst")
	// The job is handed back before Close is called: Close finds the
	// Workers stopped, and must still say why.
	require.Eventually(t, func() bool { return w.Stats().Canceled == 1 }, 10*time.Second, time.Millisecond)
	err := w.Close(context.Background())
	var ce *wjs.CloseError
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, 1, ce.Interrupted)
}

func TestWorkersCloseReturnsOnDonePanics(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "hookpanic")
	ctx := context.Background()
	require.NoError(t, q.Submit(ctx, job{ID: "1"}))
	done := make(chan struct{})
	w, err := wjs.NewWorkers(ctx, q, 1, func(ctx context.Context, j job) error { return nil },
		wjs.OnDone(func(j job, err error) { close(done); panic("hook") }), wjs.FetchWait(50*time.Millisecond))
	require.NoError(t, err)
	<-done
	err = w.Close(ctx)
	var ce *wjs.CloseError
	require.ErrorAs(t, err, &ce)
	require.Len(t, ce.Panics, 1)
	assert.EqualError(t, err, "jetstream: close: 0 jobs interrupted, 1 hook panics")
	var pe *weft.PanicError
	assert.ErrorAs(t, err, &pe)
	assert.Zero(t, ce.Interrupted)
	assert.Equal(t, uint64(1), w.Stats().Succeeded, "the job is counted by its own outcome")
}

func TestWorkersOptionsPanicWhenTheyCanNeverWork(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "opts")
	ctx := context.Background()
	h := func(context.Context, job) error { return nil }
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"workers 0", func() { _, _ = wjs.NewWorkers(ctx, q, 0, h) }, "NewWorkers(0)"},
		{"nil handler", func() { _, _ = wjs.NewWorkers[job](ctx, q, 1, nil) }, "nil"},
		{"AckWait", func() { wjs.AckWait(time.Millisecond) }, "AckWait(1ms)"},
		{"FetchWait", func() { wjs.FetchWait(time.Millisecond) }, "FetchWait(1ms)"},
		{"MaxAckPending", func() { wjs.MaxAckPending(0) }, "MaxAckPending(0)"},
		{"Buffer", func() { wjs.Buffer(-1) }, "Buffer(-1)"},
		{"Consumer", func() { wjs.Consumer("") }, "Consumer"},
		{"OnDone(nil)", func() { wjs.OnDone[job](nil) }, "OnDone(nil)"},
		{"OnError(nil)", func() { wjs.OnError(nil) }, "OnError(nil)"},
		{"DeadLetter(nil)", func() { wjs.DeadLetter[job](nil) }, "DeadLetter(nil)"},
		{"OnDone of another type", func() {
			_, _ = wjs.NewWorkers(ctx, q, 1, h, wjs.OnDone(func(string, error) {}))
		}, "OnDone[string]"},
		{"DeadLetter of another type", func() {
			_, _ = wjs.NewWorkers(ctx, q, 1, h, wjs.DeadLetter[string](retry.DeadLetterFunc[string](nil)))
		}, "DeadLetter[string]"},
		{"Close(nil)", func() {
			//lint:ignore SA1012 the nil context is the misuse under test
			_ = (&wjs.Workers[job]{}).Close(nil)
		}, "nil context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Contains(t, panicValue(t, tt.f), tt.want)
		})
	}
}

func TestWorkersShareAConsumerAcrossProcesses(t *testing.T) {
	srv := startServer(t)
	q := newQueue(t, newJS(t, srv), "shared")
	ctx := context.Background()
	const n = 60
	for i := range n {
		require.NoError(t, q.Submit(ctx, job{ID: fmt.Sprint(i)}))
	}
	o := newOutcomes()
	var ws []*wjs.Workers[job]
	for range 3 {
		// Each Workers on a connection of its own, as in three processes.
		nc, err := nats.Connect(srv.URL())
		require.NoError(t, err)
		defer nc.Close()
		js, err := jetstream.New(nc)
		require.NoError(t, err)
		q, err := wjs.NewQueue[job](ctx, js, "shared")
		require.NoError(t, err)
		w, err := wjs.NewWorkers(ctx, q, 2, func(ctx context.Context, j job) error {
			o.ran(j.ID)
			time.Sleep(time.Millisecond)
			return nil
		}, wjs.OnDone(o.onDone), wjs.FetchWait(50*time.Millisecond), wjs.MaxAckPending(4))
		require.NoError(t, err)
		ws = append(ws, w)
	}
	o.wait(t, n, 20*time.Second)
	var total uint64
	for _, w := range ws {
		closeWorkers(t, w)
		total += w.Stats().Succeeded
	}
	assert.Equal(t, uint64(n), total)
	assert.Len(t, o.runs, n)
}

func TestWorkersReportFetchErrorsToOnError(t *testing.T) {
	srv := startServer(t)
	q := newQueue(t, newJS(t, srv), "onerror")
	ctx := context.Background()
	errs := make(chan error, 100)
	w, err := wjs.NewWorkers(ctx, q, 1, func(context.Context, job) error { return nil },
		wjs.FetchWait(50*time.Millisecond),
		wjs.OnError(func(err error) {
			select {
			case errs <- err:
			default:
			}
			panic("hook")
		}))
	require.NoError(t, err)
	srv.Stop() // closes the Workers' connection too
	got := <-errs
	assert.ErrorContains(t, got, "jetstream: fetch")
	err = w.Close(ctx)
	var ce *wjs.CloseError
	require.ErrorAs(t, err, &ce)
	assert.NotEmpty(t, ce.Panics, "the hook's panics")
	assert.Zero(t, ce.Interrupted)
}

func TestWorkersCountAJobWhoseSinkCalledGoexit(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "goexit")
	ctx := context.Background()
	require.NoError(t, q.Submit(ctx, job{ID: "1"}))
	calls := make(chan struct{}, 10)
	sink := retry.DeadLetterFunc[job](func(ctx context.Context, l retry.Letter[job]) error {
		calls <- struct{}{}
		runtime.Goexit()
		return nil
	})
	w, err := wjs.NewWorkers(ctx, q, 1, func(context.Context, job) error { return errors.New("failed") },
		wjs.DeadLetter[job](sink), wjs.FetchWait(50*time.Millisecond))
	require.NoError(t, err)
	<-calls
	require.Eventually(t, func() bool { return w.Stats().Failed == 1 }, 10*time.Second, time.Millisecond)
	closeWorkers(t, w)
	st := w.Stats()
	assert.Equal(t, st.Submitted, st.Failed+st.Canceled, "each delivery counted once")
	assert.Zero(t, st.Running)
	assert.Zero(t, st.DeadLettered)
	assert.Equal(t, uint64(1), pending(t, js, q), "the job was handed back")
}

func TestWorkersBufferHoldsJobsForTheNextWorkerAndCloseHandsThemBack(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "buffer")
	ctx := context.Background()
	const n = 10
	for i := range n {
		require.NoError(t, q.SubmitID(ctx, fmt.Sprint(i), job{ID: fmt.Sprint(i)}))
	}
	started := make(chan struct{}, n)
	first, err := wjs.NewWorkers(ctx, q, 1, func(ctx context.Context, j job) error {
		started <- struct{}{}
		<-ctx.Done() // runs until Close cuts it short
		return ctx.Err()
	}, wjs.Buffer(2), wjs.FetchWait(50*time.Millisecond))
	require.NoError(t, err)
	<-started
	require.Eventually(t, func() bool { return first.Stats().Queued == 2 }, 10*time.Second, time.Millisecond)
	cons, err := js.Consumer(ctx, q.Name(), q.Name()+"_workers")
	require.NoError(t, err)
	info, err := cons.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, info.NumAckPending, "one job running and two waiting, no more")

	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	var ce *wjs.CloseError
	require.ErrorAs(t, first.Close(cctx), &ce)
	assert.Equal(t, 1, ce.Interrupted)
	st := first.Stats()
	assert.Equal(t, uint64(3), st.Submitted)
	assert.Equal(t, uint64(3), st.Canceled, "the running job and the two waiting were handed back")
	assert.Zero(t, st.Queued)
	assert.GreaterOrEqual(t, st.QueueHighWater, uint64(2))
	assert.Equal(t, uint64(n), pending(t, js, q))

	// Handed back at once: the default AckWait, 30s, would outlast the wait.
	o := newOutcomes()
	second, err := wjs.NewWorkers(ctx, q, 2, func(ctx context.Context, j job) error {
		o.ran(j.ID)
		return nil
	}, wjs.OnDone(o.onDone), wjs.Buffer(4), wjs.FetchWait(50*time.Millisecond))
	require.NoError(t, err)
	o.wait(t, n, 10*time.Second)
	closeWorkers(t, second)
	assert.Len(t, o.runs, n)
	assert.Zero(t, drained(t, js, q))
}

func TestWorkersKeepABufferedJobPastTheAckWait(t *testing.T) {
	if testing.Short() {
		t.Skip("takes seconds")
	}
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "slowbuffer")
	ctx := context.Background()
	require.NoError(t, q.Submit(ctx, job{ID: "1"}))
	require.NoError(t, q.Submit(ctx, job{ID: "2"}))
	o := newOutcomes()
	const ackWait = time.Second
	w, err := wjs.NewWorkers(ctx, q, 1, func(ctx context.Context, j job) error {
		o.ran(j.ID)
		time.Sleep(ackWait * 5 / 2) // the job's own work, longer than the AckWait
		return nil
	}, wjs.OnDone(o.onDone), wjs.Buffer(1), wjs.FetchWait(50*time.Millisecond), wjs.AckWait(ackWait))
	require.NoError(t, err)
	o.wait(t, 2, 20*time.Second)
	closeWorkers(t, w)
	assert.Equal(t, map[string]int{"1": 1, "2": 1}, o.runs, "delivered again while it ran or waited")
	assert.Equal(t, uint64(2), w.Stats().Submitted)
}
