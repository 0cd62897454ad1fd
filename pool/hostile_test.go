package pool_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/pool"
	"github.com/weftgo/weft/retry"
)

// fieldErrors is an error whose type == can compare at compile time, but
// whose values it cannot: the interface field may hold a slice.
type fieldErrors struct {
	Code int
	Err  error
}

func (e fieldErrors) Error() string { return fmt.Sprintf("code %d: %v", e.Code, e.Err) }
func (e fieldErrors) Unwrap() error { return e.Err }

// validationErrors is a slice-typed error, as validators return.
type validationErrors []string

func (v validationErrors) Error() string { return fmt.Sprint([]string(v)) }

// With FailFast, a first error that == would panic on is returned, and no
// worker goroutine crashes the process while reporting it.
func TestFailFastReportsAnErrorOfUncomparableValue(t *testing.T) {
	first := fieldErrors{Code: 422, Err: validationErrors{"name is empty"}}
	for _, results := range []bool{false, true} {
		var err error
		if results {
			r := pool.NewResults[int](context.Background(), 2, pool.FailFast(true))
			require.NoError(t, r.Go(func(context.Context) (int, error) { return 0, first }))
			_, err = r.Wait()
		} else {
			p := pool.New(context.Background(), 2, pool.FailFast(true))
			require.NoError(t, p.Go(func(context.Context) error { return first }))
			err = p.Wait()
		}
		var got fieldErrors
		require.ErrorAs(t, err, &got)
		assert.Equal(t, 422, got.Code)
	}
}

// Sizes up to math.MaxInt either work or are refused at construction by a
// message naming what the caller passed; none overflows into a Workers that
// refuses every job.
func TestHugeSizesWorkOrNameTheOption(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tests := []struct {
			name string
			make func(handle func(context.Context, int) error) *pool.Workers[int]
		}{
			{"WithQueue(MaxInt)", func(h func(context.Context, int) error) *pool.Workers[int] {
				return pool.NewWorkers(context.Background(), 1, h, pool.WithQueue(math.MaxInt))
			}},
			{"NewWorkers(MaxInt/2+1)", func(h func(context.Context, int) error) *pool.Workers[int] {
				return pool.NewWorkers(context.Background(), math.MaxInt/2+1, h)
			}},
			{"NewWorkers(MaxInt)", func(h func(context.Context, int) error) *pool.Workers[int] {
				return pool.NewWorkers(context.Background(), math.MaxInt, h)
			}},
			{"Resize(MaxInt)", func(h func(context.Context, int) error) *pool.Workers[int] {
				w := pool.NewWorkers(context.Background(), 1, h)
				w.Resize(math.MaxInt)
				return w
			}},
		}
		for _, tt := range tests {
			release := make(chan struct{})
			w := tt.make(func(context.Context, int) error { <-release; return nil })
			for j := range 100 {
				require.NoError(t, w.TrySubmit(j), "%s: TrySubmit(%d)", tt.name, j)
			}
			close(release)
			require.NoError(t, w.Close(context.Background()), tt.name)
			assert.Equal(t, uint64(100), w.Stats().Succeeded, tt.name)
		}
	})

	// A Pool or Results of any size works, and allocates nothing per unit
	// of its limit.
	for _, n := range []int{1 << 22, 1 << 25, math.MaxInt} {
		p := pool.New(context.Background(), n)
		r := pool.NewResults[int](context.Background(), n)
		require.NoError(t, p.Go(nop))
		require.NoError(t, r.Go(func(context.Context) (int, error) { return 7, nil }))
		require.NoError(t, p.Wait())
		got, err := r.Wait()
		require.NoError(t, err)
		require.Equal(t, []int{7}, got)
	}
	ctx := context.Background()
	assert.Less(t, allocated(func() { pool.New(ctx, 1<<22) }), uint64(64<<10), "New(ctx, 1<<22)")
	assert.Less(t, allocated(func() { pool.NewResults[int](ctx, 1<<22) }), uint64(64<<10), "NewResults(ctx, 1<<22)")

	// A queue the caller asks a Pool for that it will not allocate up
	// front is refused by the option's name.
	msg := mustPanic(t, func() { pool.New(ctx, 4, pool.WithQueue(math.MaxInt)) })
	assert.Contains(t, msg, "WithQueue")
	msg = mustPanic(t, func() { pool.NewResults[int](ctx, 1<<25, pool.WithQueue(1<<30)) })
	assert.Contains(t, msg, "WithQueue")
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A long-lived Workers keeps a bounded number of OnDone panics and refused
// dead letters for Close, counting the rest, so its memory does not grow
// with the jobs it has processed.
func TestWorkersKeepBoundedPanicsAndRefusedLetters(t *testing.T) {
	const jobs = 1000
	var told atomic.Int64
	w := pool.NewWorkers(context.Background(), 1,
		func(context.Context, int) error { return errBoom },
		pool.WithDeadLetter(retry.DeadLetterFunc[int](func(context.Context, retry.Letter[int]) error {
			return errors.New("sink full")
		})),
		pool.OnDone(func(int, error) { told.Add(1); panic("hook") }),
	)
	for j := range jobs {
		require.NoError(t, w.Submit(context.Background(), j))
	}
	err := w.Close(context.Background())
	var ce *pool.CloseError[int]
	require.ErrorAs(t, err, &ce)
	const kept = 64 // the bound CloseError's doc states
	assert.Equal(t, kept, len(ce.Undelivered))
	assert.Equal(t, kept, len(ce.Panics))
	assert.Equal(t, jobs-kept, ce.OmittedLetters)
	assert.Equal(t, jobs-kept, ce.OmittedPanics)
	assert.Equal(t, 0, ce.Undelivered[0].Item, "the first letters are kept")
	s := w.Stats()
	assert.Equal(t, uint64(jobs), s.Undelivered)
	assert.Equal(t, int64(jobs), told.Load(), "the hook saw every refused letter")
	assert.Contains(t, err.Error(), fmt.Sprintf("%d dead letters refused", jobs))
}

// A *weft.PanicError or weft.ErrGoexit that a function returns (a nested
// pool's error, say) is an error like any other: only a panic recovered on
// the pool's own worker is a panic.
func TestReturnedPanicErrorIsNotAPanic(t *testing.T) {
	nested := weft.NewPanicError("in a nested pool")

	p := pool.New(context.Background(), 1, pool.Repanic(true))
	require.NoError(t, p.Go(func(context.Context) error { return nested }))
	require.NoError(t, p.Go(func(context.Context) error { return weft.ErrGoexit }))
	var err error
	require.NotPanics(t, func() { err = p.Wait() }, "Repanic on a returned PanicError")
	assert.ErrorIs(t, err, nested)
	s := p.Stats()
	assert.Equal(t, uint64(2), s.Failed)
	assert.Equal(t, uint64(0), s.Panicked)

	// With FailFast, errors after the first are dropped unless they are
	// panics; a returned PanicError is not one.
	p = pool.New(context.Background(), 1, pool.FailFast(true))
	require.NoError(t, p.Go(func(context.Context) error { return errBoom }))
	require.NoError(t, p.Go(func(context.Context) error { return nested }))
	assert.NotErrorIs(t, p.Wait(), nested)

	// A Workers retries it, and counts it as failed.
	synctest.Test(t, func(t *testing.T) {
		var attempts [2]atomic.Int32
		returned := []error{nested, weft.ErrGoexit}
		w := pool.NewWorkers(context.Background(), 1, func(_ context.Context, j int) error {
			if attempts[j].Add(1) == 1 {
				return returned[j]
			}
			return nil
		}, pool.WithRetry(retry.New(retry.Attempts(2))))
		require.NoError(t, w.Submit(context.Background(), 0))
		require.NoError(t, w.Submit(context.Background(), 1))
		require.NoError(t, w.Close(context.Background()))
		s := w.Stats()
		assert.Equal(t, uint64(2), s.Retried)
		assert.Equal(t, uint64(2), s.Succeeded)
		assert.Equal(t, uint64(0), s.Panicked)
	})

	// Map returns it as the first error, and does not join it as a panic.
	_, err = pool.Map(context.Background(), 1, []int{1, 2}, func(_ context.Context, i int) (int, error) {
		if i == 1 {
			return 0, errBoom
		}
		return 0, nested
	})
	assert.Equal(t, errBoom, err)
}

// A drain that completed is not "cut short by a deadline" because a refused
// letter's own error was a deadline.
func TestCloseErrorIsOnlyItsCause(t *testing.T) {
	w := pool.NewWorkers(context.Background(), 1,
		func(context.Context, int) error { return context.DeadlineExceeded },
		pool.WithDeadLetter(retry.DeadLetterFunc[int](func(context.Context, retry.Letter[int]) error {
			return errBoom
		})),
	)
	require.NoError(t, w.Submit(context.Background(), 1))
	err := w.Close(context.Background())
	var ce *pool.CloseError[int]
	require.ErrorAs(t, err, &ce)
	assert.Nil(t, ce.Cause)
	assert.Len(t, ce.Undelivered, 1)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, errBoom)
}

// Every task Go accepted runs, even if the pool's context ends before a
// worker takes it; it sees the context done. At GOMAXPROCS=1 the new
// worker has not started when the context ends.
func TestPoolRunsEveryAcceptedTask(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for range 100 {
		ctx, cancel := context.WithCancel(context.Background())
		p := pool.New(ctx, 1)
		var ran, sawDone atomic.Int32
		task := func(ctx context.Context) error {
			ran.Add(1)
			if ctx.Err() != nil {
				sawDone.Add(1)
			}
			return nil
		}
		require.NoError(t, p.Go(task)) // on a new worker, not yet started
		require.NoError(t, p.Go(task)) // in the channel
		cancel()
		require.NoError(t, p.Wait())
		require.Equal(t, int32(2), ran.Load(), "accepted tasks that ran")
		assert.Equal(t, uint64(0), p.Stats().Canceled)

		ctx, cancel = context.WithCancel(context.Background())
		r := pool.NewResults[int](ctx, 1, pool.WithQueue(0))
		require.NoError(t, r.Go(func(context.Context) (int, error) { return 1, nil }))
		cancel()
		got, err := r.Wait()
		require.NoError(t, err)
		require.Equal(t, []int{1}, got)
	}
}

// Code that ignores Go's error cannot lose a task silently: Wait reports
// that Go refused tasks, by the reason, matchable with errors.Is; and
// Results.Wait has one value per accepted task.
func TestWaitReportsRefusedGo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := pool.New(ctx, 2)
	var ran atomic.Int32
	for range 3 {
		p.Go(func(context.Context) error { ran.Add(1); return nil })
	}
	err := p.Wait()
	assert.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, fmt.Sprint(err), "3 tasks refused")
	assert.Equal(t, int32(0), ran.Load())

	// Cancelled in the middle: the values of the accepted tasks, and the
	// refusal.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	r := pool.NewResults[int](ctx, 2)
	for i := range 4 {
		if i == 2 {
			cancel()
		}
		r.Go(func(context.Context) (int, error) { return i, nil })
	}
	got, err := r.Wait()
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []int{0, 1}, got)

	// GoContext refused by the caller's context is reported too.
	p = pool.New(context.Background(), 1)
	done, stop := context.WithCancel(context.Background())
	stop()
	p.GoContext(done, nop)
	assert.ErrorIs(t, p.Wait(), context.Canceled)

	// TryGo's refusal is its answer, and is not reported again.
	p = pool.New(context.Background(), 1, pool.WithQueue(0))
	release := make(chan struct{})
	require.NoError(t, p.Go(func(context.Context) error { <-release; return nil }))
	assert.False(t, p.TryGo(nop))
	close(release)
	assert.NoError(t, p.Wait())
}
