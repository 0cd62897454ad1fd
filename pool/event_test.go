package pool_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/pool"
	"github.com/weftgo/weft/retry"
)

// events records what an OnEvent hook receives, one line per event.
type events struct {
	mu    sync.Mutex
	lines []string
}

func (ev *events) hook(ctx context.Context, e pool.Event[int]) context.Context {
	var b strings.Builder
	fmt.Fprintf(&b, "%s job=%d", e.Kind, e.Job)
	switch e.Kind {
	case pool.Started:
		fmt.Fprintf(&b, " attempt=%d wait=%v", e.Attempt, e.Wait)
	case pool.Ended:
		fmt.Fprintf(&b, " attempt=%d run=%v %s", e.Attempt, e.Run, e.Outcome)
		if e.Outcome == pool.Retried {
			fmt.Fprintf(&b, " delay=%v", e.Delay)
		}
	case pool.Unrun:
		fmt.Fprintf(&b, " attempt=%d %s", e.Attempt, e.Outcome)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, " err=%q", errLabel(e.Err))
	}
	ev.mu.Lock()
	ev.lines = append(ev.lines, b.String())
	ev.mu.Unlock()
	return ctx
}

func (ev *events) take() []string {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	out := ev.lines
	ev.lines = nil
	return out
}

// errLabel names an error by what matters to the tests.
func errLabel(err error) string {
	var pe *weft.PanicError
	var re *retry.Error
	switch {
	case errors.As(err, &pe):
		return fmt.Sprintf("panic: %v", pe.Value)
	case errors.As(err, &re):
		return fmt.Sprintf("retry: %v after %d", re.Cause, re.Attempts)
	}
	return err.Error()
}

// sleeper is a handler that sleeps job seconds and returns what fail says
// for the job, or panics if it says so.
func sleeper(fail map[int]error) func(context.Context, int) error {
	return func(ctx context.Context, job int) error {
		select {
		case <-time.After(time.Duration(job%10) * time.Second):
		case <-ctx.Done():
			return ctx.Err()
		}
		err := fail[job]
		if err != nil && err.Error() == "panic" {
			panic("job")
		}
		return err
	}
}

// Every job that succeeds is seen submitted, started after its wait in the
// queue and ended after its run, with exact times.
func TestOnEventSucceeded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		ev := &events{}
		w := pool.NewWorkers(ctx, 1, sleeper(nil), pool.OnEvent(ev.hook))
		require.NoError(t, w.Submit(ctx, 3))
		synctest.Wait()
		require.NoError(t, w.Submit(ctx, 2))
		require.NoError(t, w.Close(ctx))
		assert.Equal(t, []string{
			"submitted job=3",
			"started job=3 attempt=1 wait=0s",
			"submitted job=2",
			"ended job=3 attempt=1 run=3s succeeded",
			"started job=2 attempt=1 wait=3s",
			"ended job=2 attempt=1 run=2s succeeded",
		}, ev.take())
	})
}

// A job that fails, or panics, without a policy or a sink ends failed or
// panicked with its error.
func TestOnEventFailedAndPanicked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		ev := &events{}
		w := pool.NewWorkers(ctx, 1, sleeper(map[int]error{1: errBoom, 2: errors.New("panic")}), pool.OnEvent(ev.hook))
		require.NoError(t, w.Submit(ctx, 1))
		synctest.Wait()
		require.NoError(t, w.Submit(ctx, 2))
		require.NoError(t, w.Close(ctx))
		assert.Equal(t, []string{
			"submitted job=1",
			"started job=1 attempt=1 wait=0s",
			"submitted job=2",
			"ended job=1 attempt=1 run=1s failed err=\"boom\"",
			"started job=2 attempt=1 wait=1s",
			"ended job=2 attempt=1 run=2s panicked err=\"panic: job\"",
		}, ev.take())
	})
}

// A job retried under a policy has one Started and one Ended per attempt,
// the retried ones with their delay, and a wait counted from the end of
// the delay; a job the policy gives up on goes to the sink.
func TestOnEventRetriedAndDeadLettered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		ev := &events{}
		w := pool.NewWorkers(ctx, 1, sleeper(map[int]error{1: errBoom}), pool.OnEvent(ev.hook),
			pool.Retry(retry.New(retry.Attempts(3), retry.Constant(5*time.Second), retry.NoJitter())),
			pool.DeadLetter[int](&letters{}))
		require.NoError(t, w.Submit(ctx, 1))
		require.NoError(t, w.Close(ctx))
		assert.Equal(t, []string{
			"submitted job=1",
			"started job=1 attempt=1 wait=0s",
			"ended job=1 attempt=1 run=1s retried delay=5s err=\"boom\"",
			"started job=1 attempt=2 wait=0s",
			"ended job=1 attempt=2 run=1s retried delay=5s err=\"boom\"",
			"started job=1 attempt=3 wait=0s",
			"ended job=1 attempt=3 run=1s dead_lettered err=\"retry: retry: attempts exhausted after 3\"",
		}, ev.take())
		s := w.Stats()
		assert.Equal(t, uint64(2), s.Retried)
		assert.Equal(t, uint64(1), s.DeadLettered)
	})
}

// A refused Submit or TrySubmit is seen submitted, then unrun as rejected
// with the error it returned, in the submitter's context.
func TestOnEventRejected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		ev := &events{}
		w := pool.NewWorkers(ctx, 1, sleeper(nil), pool.Buffer(0), pool.OnEvent(ev.hook))
		require.NoError(t, w.Submit(ctx, 1))
		synctest.Wait()
		require.ErrorIs(t, w.TrySubmit(2), pool.ErrFull)
		done, cancel := context.WithCancel(ctx)
		cancel()
		require.ErrorIs(t, w.Submit(done, 3), context.Canceled)
		require.NoError(t, w.Close(ctx))
		require.ErrorIs(t, w.Submit(ctx, 4), pool.ErrClosed)
		assert.Equal(t, []string{
			"submitted job=1",
			"started job=1 attempt=1 wait=0s",
			"submitted job=2",
			"unrun job=2 attempt=0 rejected err=\"pool: queue full\"",
			"submitted job=3",
			"unrun job=3 attempt=0 rejected err=\"context canceled\"",
			"ended job=1 attempt=1 run=1s succeeded",
			"submitted job=4",
			"unrun job=4 attempt=0 rejected err=\"pool: closed\"",
		}, ev.take())
		assert.Equal(t, uint64(3), w.Stats().Rejected)
	})
}

// A drain cut short ends the running job as canceled and returns the
// queued one and the one waiting to retry as unrun, each with the cause,
// before Close returns.
func TestOnEventCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		ev := &events{}
		w := pool.NewWorkers(ctx, 1, sleeper(map[int]error{1: errBoom}), pool.OnEvent(ev.hook),
			pool.Retry(retry.New(retry.Attempts(3), retry.Constant(time.Hour), retry.NoJitter())))
		require.NoError(t, w.Submit(ctx, 1))
		time.Sleep(time.Second) // job 1 fails and waits an hour
		synctest.Wait()
		require.NoError(t, w.Submit(ctx, 9))
		synctest.Wait()
		require.NoError(t, w.Submit(ctx, 2))
		synctest.Wait()
		stop, cancel := context.WithTimeout(ctx, 4*time.Second)
		defer cancel()
		var ce *pool.CloseError[int]
		require.ErrorAs(t, w.Close(stop), &ce)
		assert.Equal(t, []int{2, 1}, ce.Unrun)
		assert.Equal(t, []int{9}, ce.Interrupted)
		got := ev.take()
		require.Len(t, got, 9)
		assert.Equal(t, []string{
			"submitted job=1",
			"started job=1 attempt=1 wait=0s",
			"ended job=1 attempt=1 run=1s retried delay=1h0m0s err=\"boom\"",
			"submitted job=9",
			"started job=9 attempt=1 wait=0s",
			"submitted job=2",
		}, got[:6])
		// At the deadline Close hands back the queued job and the one it
		// took off retrying while the interrupted job's worker returns, so
		// these three come in no set order.
		assert.ElementsMatch(t, []string{
			"unrun job=2 attempt=0 canceled err=\"context deadline exceeded\"",
			"unrun job=1 attempt=1 canceled err=\"context deadline exceeded\"",
			"ended job=9 attempt=1 run=4s canceled err=\"retry: context deadline exceeded after 1\"",
		}, got[6:])
		assert.Equal(t, uint64(3), w.Stats().Canceled)
	})
}

// The context the hook returns at Started is the handler's and the Ended
// event's; a panic in the hook there fails the attempt as a panic, and a
// panic elsewhere is returned by Close.
func TestOnEventContextAndPanics(t *testing.T) {
	type key struct{}
	ctx := context.Background()
	var got []any
	var mu sync.Mutex
	w := pool.NewWorkers(ctx, 1, func(ctx context.Context, job int) error {
		mu.Lock()
		got = append(got, ctx.Value(key{}))
		mu.Unlock()
		return nil
	}, pool.OnEvent(func(ctx context.Context, e pool.Event[int]) context.Context {
		switch {
		case e.Kind == pool.Started && e.Job == 1:
			return context.WithValue(ctx, key{}, "attempt")
		case e.Kind == pool.Ended && e.Job == 1:
			mu.Lock()
			got = append(got, ctx.Value(key{}))
			mu.Unlock()
		case e.Kind == pool.Started && e.Job == 2:
			panic("in Started")
		case e.Kind == pool.Submitted && e.Job == 3:
			panic("in Submitted")
		}
		return nil // a nil context is taken as ctx
	}))
	require.NoError(t, w.Submit(ctx, 1))
	require.NoError(t, w.Submit(ctx, 2))
	require.NoError(t, w.Submit(ctx, 3))
	var ce *pool.CloseError[int]
	require.ErrorAs(t, w.Close(ctx), &ce)
	require.Len(t, ce.Panics, 1)
	assert.ErrorContains(t, ce.Panics[0], "in Submitted")
	assert.Equal(t, []any{"attempt", "attempt", nil}, got)
	s := w.Stats()
	assert.Equal(t, uint64(2), s.Succeeded)
	assert.Equal(t, uint64(1), s.Panicked)
}

// An OnEvent hook for another job type is refused at construction.
func TestOnEventWrongJobType(t *testing.T) {
	hook := func(ctx context.Context, e pool.Event[string]) context.Context { return ctx }
	assert.PanicsWithValue(t, "pool: NewWorkers: OnEvent hook func(context.Context, pool.Event[string]) context.Context does not take jobs of type int", func() {
		pool.NewWorkers(context.Background(), 1, func(context.Context, int) error { return nil }, pool.OnEvent(hook))
	})
	assert.PanicsWithValue(t, "pool: OnEvent(nil)", func() { pool.OnEvent[int](nil) })
}

func TestEventNames(t *testing.T) {
	assert.Equal(t, "unrun", pool.Unrun.String())
	assert.Equal(t, "EventKind(9)", pool.EventKind(9).String())
	assert.Equal(t, "dead_lettered", pool.DeadLettered.String())
	assert.Equal(t, "Outcome(0)", pool.Outcome(0).String())
}

type requestID struct{}

// Under PropagateValues a handler sees the submitter's values, and its
// context ends with the Workers' context, never with the submitter's.
func TestPropagateValues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type poolKey struct{}
		poolCtx, stopPool := context.WithCancelCause(context.WithValue(context.Background(), poolKey{}, "p"))
		type seen struct {
			id, pool any
			err      error
			cause    error
		}
		got := make(chan seen, 2)
		release := make(chan struct{})
		w := pool.NewWorkers(poolCtx, 2, func(ctx context.Context, job int) error {
			<-release
			s := seen{id: ctx.Value(requestID{}), pool: ctx.Value(poolKey{}), err: ctx.Err()}
			if job == 2 {
				<-ctx.Done()
				s.err, s.cause = ctx.Err(), context.Cause(ctx)
			}
			got <- s
			return nil
		}, pool.PropagateValues(true))

		sub, cancelSub := context.WithCancel(context.WithValue(context.Background(), requestID{}, "r-1"))
		require.NoError(t, w.Submit(sub, 1))
		require.NoError(t, w.Submit(sub, 2))
		cancelSub() // the submitter is done as soon as Submit returns
		close(release)
		assert.Equal(t, seen{id: "r-1", pool: "p"}, <-got)
		synctest.Wait()
		errStop := errors.New("stop")
		stopPool(errStop)
		assert.Equal(t, seen{id: "r-1", pool: "p", err: context.Canceled, cause: errStop}, <-got)
		assert.NoError(t, w.Close(context.Background()))
	})
}

// Without PropagateValues, and for TrySubmit, a handler gets the Workers'
// context alone.
func TestPropagateValuesOff(t *testing.T) {
	ctx := context.Background()
	sub := context.WithValue(ctx, requestID{}, "r-1")
	for _, on := range []bool{false, true} {
		got := make(chan any, 2)
		w := pool.NewWorkers(ctx, 1, func(ctx context.Context, job int) error {
			got <- ctx.Value(requestID{})
			return nil
		}, pool.PropagateValues(on), pool.Buffer(4))
		require.NoError(t, w.TrySubmit(1))
		require.NoError(t, w.Submit(sub, 2))
		require.NoError(t, w.Close(ctx))
		close(got)
		var values []any
		for v := range got {
			values = append(values, v)
		}
		want := []any{nil, nil}
		if on {
			want = []any{nil, "r-1"}
		}
		assert.ElementsMatch(t, want, values, "PropagateValues(%v)", on)
	}
}

// A job's context under PropagateValues carries the submitter's values
// through a retry delay, and a context derived from it, such as an
// attempt's timeout, attaches to the Workers' cancellation.
func TestPropagateValuesThroughRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var ids []any
		w := pool.NewWorkers(ctx, 1, func(ctx context.Context, job int) error {
			ids = append(ids, ctx.Value(requestID{}))
			if len(ids) < 3 {
				return errBoom
			}
			return nil
		}, pool.PropagateValues(true), pool.Retry(retry.New(retry.AttemptTimeout(time.Minute), retry.Constant(time.Second), retry.NoJitter())))
		require.NoError(t, w.Submit(context.WithValue(ctx, requestID{}, "r-2"), 1))
		require.NoError(t, w.Close(ctx))
		assert.Equal(t, []any{"r-2", "r-2", "r-2"}, ids)
		assert.Equal(t, uint64(1), w.Stats().Succeeded)
	})
}

// Under PropagateValues the dead-letter sink sees the job's values too.
func TestPropagateValuesToTheSink(t *testing.T) {
	ctx := context.Background()
	var got any
	w := pool.NewWorkers(ctx, 1, func(context.Context, int) error { return errBoom },
		pool.PropagateValues(true),
		pool.DeadLetter[int](retry.DeadLetterFunc[int](func(ctx context.Context, _ retry.Letter[int]) error {
			got = ctx.Value(requestID{})
			return nil
		})))
	require.NoError(t, w.Submit(context.WithValue(ctx, requestID{}, "r-3"), 1))
	require.NoError(t, w.Close(ctx))
	assert.Equal(t, "r-3", got)
}

// A job's context under PropagateValues names both contexts it is made of.
func TestPropagateValuesContextString(t *testing.T) {
	ctx := context.Background()
	var s string
	w := pool.NewWorkers(ctx, 1, func(ctx context.Context, _ int) error {
		s = fmt.Sprint(ctx)
		return nil
	}, pool.PropagateValues(true))
	require.NoError(t, w.Submit(context.WithValue(ctx, requestID{}, "r-4"), 1))
	require.NoError(t, w.Close(ctx))
	assert.Contains(t, s, ".WithValuesOf(")
	assert.Contains(t, s, "r-4")
}

// TrySubmit after Close is seen submitted and rejected.
func TestOnEventTrySubmitAfterClose(t *testing.T) {
	ctx := context.Background()
	ev := &events{}
	w := pool.NewWorkers(ctx, 1, sleeper(nil), pool.OnEvent(ev.hook))
	require.NoError(t, w.Close(ctx))
	require.ErrorIs(t, w.TrySubmit(5), pool.ErrClosed)
	assert.Equal(t, []string{"submitted job=5", "unrun job=5 attempt=0 rejected err=\"pool: closed\""}, ev.take())
}
