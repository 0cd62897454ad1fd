package pool_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/internal/catch"
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
			r := pool.NewResultPool[int](context.Background(), 2, pool.FailFast(true))
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
			{"Buffer(MaxInt)", func(h func(context.Context, int) error) *pool.Workers[int] {
				return pool.NewWorkers(context.Background(), 1, h, pool.Buffer(math.MaxInt))
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

	// A Pool or ResultPool of any size works, and allocates nothing per unit
	// of its limit.
	for _, n := range []int{1 << 22, 1 << 25, math.MaxInt} {
		p := pool.New(context.Background(), n)
		r := pool.NewResultPool[int](context.Background(), n)
		require.NoError(t, p.Go(nop))
		require.NoError(t, r.Go(func(context.Context) (int, error) { return 7, nil }))
		require.NoError(t, p.Wait())
		got, err := r.Wait()
		require.NoError(t, err)
		require.Equal(t, []int{7}, got)
	}
	ctx := context.Background()
	assert.Less(t, allocated(func() { pool.New(ctx, 1<<22) }), uint64(64<<10), "New(ctx, 1<<22)")
	assert.Less(t, allocated(func() { pool.NewResultPool[int](ctx, 1<<22) }), uint64(64<<10), "NewResultPool(ctx, 1<<22)")

	// A queue the caller asks a Pool for that it will not allocate up
	// front is refused by the option's name.
	msg := mustPanic(t, func() { pool.New(ctx, 4, pool.Buffer(math.MaxInt)) })
	assert.Contains(t, msg, "Buffer")
	msg = mustPanic(t, func() { pool.NewResultPool[int](ctx, 1<<25, pool.Buffer(1<<30)) })
	assert.Contains(t, msg, "Buffer")
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
		pool.DeadLetter(retry.DeadLetterFunc[int](func(context.Context, retry.Letter[int]) error {
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
	nested := &weft.PanicError{Value: "in a nested pool"}

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
	gate := make(chan struct{})
	require.NoError(t, p.Go(func(context.Context) error { <-gate; return errBoom }))
	require.NoError(t, p.Go(func(context.Context) error { return nested })) // in the channel
	close(gate)
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
		}, pool.Retry(retry.New(retry.Attempts(2))))
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
		pool.DeadLetter(retry.DeadLetterFunc[int](func(context.Context, retry.Letter[int]) error {
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
		r := pool.NewResultPool[int](ctx, 1, pool.Buffer(0))
		require.NoError(t, r.Go(func(context.Context) (int, error) { return 1, nil }))
		cancel()
		got, err := r.Wait()
		require.NoError(t, err)
		require.Equal(t, []int{1}, got)
	}
}

// Code that ignores Go's error cannot lose a task silently: Wait reports
// that Go refused tasks, by the reason, matchable with errors.Is; and
// ResultPool.Wait has one value per accepted task.
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
	r := pool.NewResultPool[int](ctx, 2)
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
	p = pool.New(context.Background(), 1, pool.Buffer(0))
	release := make(chan struct{})
	require.NoError(t, p.Go(func(context.Context) error { <-release; return nil }))
	assert.ErrorIs(t, p.TryGo(nop), pool.ErrFull)
	close(release)
	assert.NoError(t, p.Wait())
}

// The memory a long-lived Workers holds does not grow with the jobs it has
// run, even when every job fails, its letter is refused and its OnDone hook
// panics.
func TestWorkersMemoryDoesNotGrowWithJobs(t *testing.T) {
	w := pool.NewWorkers(context.Background(), 2,
		func(context.Context, int) error { return errBoom },
		pool.DeadLetter(retry.DeadLetterFunc[int](func(context.Context, retry.Letter[int]) error {
			return errors.New("sink full")
		})),
		pool.OnDone(func(int, error) { panic("hook") }),
	)
	run := func(n int) uint64 {
		for j := range n {
			require.NoError(t, w.Submit(context.Background(), j))
		}
		for w.Stats().Running+w.Stats().Queued > 0 {
			runtime.Gosched()
		}
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := run(500)
	after := run(5000)
	assert.Less(t, int64(after)-int64(before), int64(512<<10), "heap grew from %d to %d bytes over 5,000 jobs", before, after)
	var ce *pool.CloseError[int]
	require.ErrorAs(t, w.Close(context.Background()), &ce)
	assert.Equal(t, 5500-64, ce.OmittedLetters)
}

// errKind is what a task of the hostile property does.
type errKind int

const (
	eNil            errKind = iota
	eComparable             // errBoom
	eUncomparable           // a fieldErrors holding a slice
	eSlice                  // a validationErrors
	eWrapped                // fmt.Errorf("%w") around an uncomparable error
	eJoined                 // errors.Join of two uncomparable errors
	eReturnedPanic          // a *weft.PanicError, returned
	eReturnedGoexit         // weft.ErrGoexit, returned
	ePanicValue             // panic with an uncomparable value
	ePanicError             // panic with an error
	eGoexit                 // runtime.Goexit
)

// act does what k says, returning the error a task of that kind returns.
func (k errKind) act() error {
	uncomparable := fieldErrors{Code: 400, Err: validationErrors{"bad"}}
	switch k {
	case eComparable:
		return errBoom
	case eUncomparable:
		return uncomparable
	case eSlice:
		return validationErrors{"a", "b"}
	case eWrapped:
		return fmt.Errorf("request: %w", uncomparable)
	case eJoined:
		return errors.Join(uncomparable, validationErrors{"c"})
	case eReturnedPanic:
		return &weft.PanicError{Value: uncomparable}
	case eReturnedGoexit:
		return weft.ErrGoexit
	case ePanicValue:
		panic(validationErrors{"in a panic"})
	case ePanicError:
		panic(uncomparable)
	case eGoexit:
		runtime.Goexit()
	}
	return nil
}

// Hostile but legal inputs: sizes from 0 to math.MaxInt, and errors of
// every shape, returned or panicked. Construction either panics naming what
// the caller passed, or the pool works: every accepted task runs once and is
// counted by its own outcome, no panic escapes but through Repanic on the
// caller's goroutine, nothing is kept per job past a bound, and no pool
// goroutine is left once Wait or Close has returned.
func TestPropertyHostileInputs(t *testing.T) {
	sizes := rapid.SampledFrom([]int{-1, 0, 1, 2, 3, 64, 1 << 16, 1<<16 + 1, 1 << 40, math.MaxInt/2 + 1, math.MaxInt})
	rapid.Check(t, func(rt *rapid.T) {
		inBubble(t, func(t *testing.T) {
			ctor := rapid.SampledFrom([]string{"New", "NewResultPool", "NewWorkers", "Map"}).Draw(rt, "constructor")
			workers := sizes.Draw(rt, "workers")
			var shared []pool.Option // options every constructor takes
			passed := []string{fmt.Sprintf("workers=%d", workers)}
			if ctor != "Map" && rapid.Bool().Draw(rt, "Buffer") {
				q := sizes.Draw(rt, "queue")
				passed = append(passed, "Buffer")
				if msg := panicOf(func() { shared = append(shared, pool.Buffer(q)) }); msg != "" {
					requireNames(rt, msg, passed)
					return
				}
			}
			failFast := rapid.Bool().Draw(rt, "FailFast")
			repanic := rapid.Bool().Draw(rt, "Repanic")
			jobs := rapid.SliceOfN(rapid.IntRange(int(eNil), int(eGoexit)), 0, 40).Draw(rt, "jobs")
			ran := make([]atomic.Int32, len(jobs))
			task := func(ctx context.Context, i int) (int, error) {
				ran[i].Add(1)
				return i, errKind(jobs[i]).act()
			}
			var want pool.Stats
			want.Submitted = uint64(len(jobs))
			for _, k := range jobs {
				switch errKind(k) {
				case eNil:
					want.Succeeded++
				case ePanicValue, ePanicError:
					want.Panicked++
				default:
					want.Failed++
				}
			}

			switch ctor {
			case "New", "NewResultPool":
				opts := []pool.PoolOption{pool.FailFast(failFast), pool.Repanic(repanic)}
				for _, o := range shared {
					opts = append(opts, o)
				}
				var s interface {
					Go(f func(context.Context) (int, error)) error
					Wait() ([]int, error)
					Stats() pool.Stats
				}
				if msg := panicOf(func() {
					if ctor == "New" {
						s = poolSubject{pool.New(context.Background(), workers, opts...)}
					} else {
						s = pool.NewResultPool[int](context.Background(), workers, opts...)
					}
				}); msg != "" {
					requireNames(rt, msg, passed)
					return
				}
				accepted := make([]bool, len(jobs))
				nAccepted := 0
				for i := range jobs {
					err := s.Go(func(ctx context.Context) (int, error) { return task(ctx, i) })
					switch {
					case err == nil:
						accepted[i] = true
						nAccepted++
					case !failFast:
						rt.Fatalf("Go = %v on a live pool", err)
					default:
						// Refused after FailFast's first error: not run,
						// counted as rejected.
						want.Rejected++
						switch errKind(jobs[i]) {
						case eNil:
							want.Succeeded--
						case ePanicValue, ePanicError:
							want.Panicked--
						default:
							want.Failed--
						}
					}
				}
				var values []int
				var err error
				msg := panicOf(func() { values, err = s.Wait() })
				if wantPanic := repanic && want.Panicked > 0; (msg != "") != wantPanic {
					rt.Fatalf("Wait panicked with %q; want a panic: %v", msg, wantPanic)
				}
				if msg == "" && (err == nil) != (want.Failed+want.Panicked+want.Rejected == 0) {
					rt.Fatalf("Wait = %v with %d failures and %d refusals", err, want.Failed+want.Panicked, want.Rejected)
				}
				if ctor == "NewResultPool" && msg == "" && len(values) != nAccepted {
					rt.Fatalf("Wait returned %d values for %d accepted tasks", len(values), nAccepted)
				}
				got := s.Stats()
				want.Workers = got.Workers
				if got != want {
					rt.Fatalf("Stats = %s\nwant    %s", stats(got), stats(want))
				}
				for i := range ran {
					if n, want := ran[i].Load(), accepted[i]; (n == 1) != want || n > 1 {
						rt.Fatalf("task %d (%d) ran %d times; accepted: %v", i, jobs[i], n, want)
					}
				}
			case "Map":
				// A Goexit on the caller's goroutine would end it, as Map's
				// doc says; the others do as they do elsewhere.
				for i, k := range jobs {
					if errKind(k) == eGoexit {
						jobs[i] = int(eReturnedGoexit)
					}
				}
				items := make([]int, len(jobs))
				for i := range items {
					items[i] = i
				}
				var out []int
				if msg := panicOf(func() {
					out, _ = pool.Map(context.Background(), workers, items, task)
				}); msg != "" {
					requireNames(rt, msg, passed)
					return
				}
				if len(out) != len(jobs) {
					rt.Fatalf("Map returned %d values for %d items", len(out), len(jobs))
				}
			case "NewWorkers":
				refuse := rapid.Bool().Draw(rt, "sink refuses")
				hookPanics := rapid.Bool().Draw(rt, "OnDone panics")
				var told atomic.Int64
				opts := []pool.WorkersOption{
					pool.DeadLetter(retry.DeadLetterFunc[int](func(context.Context, retry.Letter[int]) error {
						if refuse {
							return validationErrors{"sink full"}
						}
						return nil
					})),
					pool.OnDone(func(int, error) {
						told.Add(1)
						if hookPanics {
							panic(validationErrors{"hook"})
						}
					}),
				}
				for _, o := range shared {
					opts = append(opts, o)
				}
				if rapid.Bool().Draw(rt, "Retry") {
					opts = append(opts, pool.Retry(retry.New(retry.Attempts(2), retry.Constant(time.Second))))
				}
				var w *pool.Workers[int]
				if msg := panicOf(func() {
					w = pool.NewWorkers(context.Background(), workers, func(ctx context.Context, i int) error {
						_, err := task(ctx, i)
						return err
					}, opts...)
				}); msg != "" {
					requireNames(rt, msg, passed)
					return
				}
				if rapid.Bool().Draw(rt, "Resize") {
					n := sizes.Draw(rt, "Resize to")
					if msg := panicOf(func() { w.Resize(n) }); msg != "" {
						requireNames(rt, msg, []string{fmt.Sprintf("Resize(%d)", n)})
						n = 0
					}
				}
				for i := range jobs {
					if err := w.Submit(context.Background(), i); err != nil {
						rt.Fatalf("Submit = %v on a live Workers", err)
					}
				}
				err := w.Close(context.Background())
				s := w.Stats()
				checkLaw(rt, s)
				if done := s.Succeeded + s.Failed + s.Panicked + s.DeadLettered; done != uint64(len(jobs)) || told.Load() != int64(len(jobs)) {
					rt.Fatalf("%d of %d jobs ended, OnDone told of %d: %s", done, len(jobs), told.Load(), stats(s))
				}
				var ce *pool.CloseError[int]
				if errors.As(err, &ce) && (len(ce.Undelivered) > 64 || len(ce.Panics) > 64 || ce.Cause != nil) {
					rt.Fatalf("Close = %v, holding %d letters and %d panics", err, len(ce.Undelivered), len(ce.Panics))
				}
			}
			synctest.Wait()
			if left := poolGoroutines(); len(left) > 0 {
				rt.Fatalf("%d pool goroutines left:\n%s", len(left), left[0])
			}
		})
	})
}

// panicOf returns what f panicked with, as text, or "" if it returned.
func panicOf(f func()) string {
	err := catch.Call(func() error { f(); return nil })
	var pe *weft.PanicError
	if errors.As(err, &pe) {
		return fmt.Sprint(pe.Value)
	}
	return ""
}

// requireNames fails unless the panic message msg names one of the things
// the caller passed.
func requireNames(t *rapid.T, msg string, passed []string) {
	t.Helper()
	for _, p := range passed {
		if strings.Contains(msg, p) {
			return
		}
	}
	t.Fatalf("panic %q names none of %v, which the caller passed", msg, passed)
}

// panickyIs is an error whose Is method panics.
type panickyIs struct{}

func (panickyIs) Error() string { return "panicky" }
func (panickyIs) Is(error) bool { panic("Is") }

// Map's report of its error calls no user code that can panic into the
// caller: an error whose Is method panics is returned as it is.
func TestMapReportsAnErrorWhoseIsPanics(t *testing.T) {
	// f fails after ctx is done, with an error of its own.
	parent, stop := context.WithCancel(context.Background())
	defer stop()
	var err error
	require.NotPanics(t, func() {
		_, err = pool.Map(parent, 1, []int{1}, func(context.Context, int) (int, error) {
			stop()
			return 0, panickyIs{}
		})
	})
	// f's own error is kept, and the panic in its Is method is reported
	// beside it, never dropped.
	var joined interface{ Unwrap() []error }
	require.ErrorAs(t, err, &joined)
	errs := joined.Unwrap()
	require.Len(t, errs, 2)
	assert.Equal(t, panickyIs{}, errs[0])
	var pe *weft.PanicError
	require.ErrorAs(t, errs[1], &pe)
	assert.Equal(t, "Is", pe.Value)
}
