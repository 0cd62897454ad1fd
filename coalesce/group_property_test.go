package coalesce_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/coalesce"
	"pgregory.net/rapid"
)

// execErr is the error an execution returns or panics with; it names the
// execution so a caller's result can be traced back to it.
type execErr struct{ id int }

func (e execErr) Error() string { return fmt.Sprintf("execution %d failed", e.id) }

// callerCause is the cause with which a caller cancels its context.
type callerCause int

func (c callerCause) Error() string { return fmt.Sprintf("caller %d cancelled", int(c)) }

type groupCaller struct {
	key      int
	arrive   time.Duration
	cancelAt time.Duration // 0: never; otherwise arrive + cancelAt, always at a half millisecond
	chanForm bool
	runFor   time.Duration // how long fn runs if this caller starts it
	lag      time.Duration // how long fn takes to return once cancelled
	outcome  int           // 0 value, 1 error, 2 panic

	// Filled in by the run.
	start, end time.Time
	result     coalesce.Result[int]
	cause      error
}

type execution struct {
	id         int
	key        int
	start, end time.Time
	cancelled  bool
	panicked   bool
}

// For random callers, keys, arrival and cancel times and outcomes:
//   - at most one execution per key runs at any moment;
//   - a caller that did not cancel gets exactly the result of an execution of
//     its key that ended at the moment it returned;
//   - a caller that cancelled returns at its cancel time with its own cause;
//   - an execution's context is cancelled if and only if no caller got its
//     result, that is, if every caller that joined it gave up;
//   - a panic reaches every waiter as *weft.PanicError, and a panic in an
//     execution every caller has left goes to the OnPanic hook, once;
//   - OnDone is called once per execution, fn's runs and those whose callers
//     all left before fn could start, and its caller counts add up to the
//     callers;
//   - no goroutine is left behind (synctest.Test fails if one is).
//
// Events are placed so that a cancellation (at a half millisecond) never
// coincides with an execution ending (at a whole millisecond, or at three
// quarters for an execution that was cancelled or queued behind one).
func TestPropertyGroup(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 12).Draw(rt, "callers")
		callers := make([]*groupCaller, n)
		for i := range callers {
			c := &groupCaller{
				key:      rapid.IntRange(0, 2).Draw(rt, "key"),
				arrive:   time.Duration(rapid.IntRange(0, 20).Draw(rt, "arrive")) * time.Millisecond,
				chanForm: rapid.Bool().Draw(rt, "DoChan"),
				runFor:   time.Duration(rapid.IntRange(1, 15).Draw(rt, "runFor")) * time.Millisecond,
				outcome:  rapid.IntRange(0, 2).Draw(rt, "outcome"),
				lag:      time.Duration(rapid.IntRange(0, 5).Draw(rt, "lag"))*time.Millisecond + time.Millisecond/4,
			}
			if rapid.Bool().Draw(rt, "cancels") {
				c.cancelAt = time.Duration(rapid.IntRange(0, 15).Draw(rt, "cancelAt"))*time.Millisecond + time.Millisecond/2
			}
			callers[i] = c
		}

		var failure string
		var execs []*execution
		synctest.Test(t, func(t *testing.T) {
			var (
				mu      sync.Mutex
				running = map[int]int{}
				hooked  = map[int]int{} // OnPanic calls by execution
				// Counted by OnDone.
				doneCallers, doneRuns, unstarted int
			)
			g := coalesce.NewFlight[int, int](coalesce.OnPanic(func(key int, pe *weft.PanicError) {
				mu.Lock()
				defer mu.Unlock()
				ee, _ := pe.Value.(execErr)
				hooked[ee.id]++
			}), coalesce.OnDone(func(key int, callers int, err error) {
				mu.Lock()
				defer mu.Unlock()
				doneCallers += callers
				if errors.As(err, new(callerCause)) {
					unstarted++ // fn never ran: err is the last caller's cause
				} else {
					doneRuns++
				}
			}))
			fail := func(format string, args ...any) {
				mu.Lock()
				defer mu.Unlock()
				if failure == "" {
					failure = fmt.Sprintf(format, args...)
				}
			}
			fnFor := func(c *groupCaller) func(context.Context) (int, error) {
				return func(ctx context.Context) (int, error) {
					mu.Lock()
					e := &execution{id: len(execs) + 1, key: c.key, start: time.Now()}
					execs = append(execs, e)
					running[c.key]++
					if running[c.key] > 1 {
						failure = fmt.Sprintf("%d executions of key %d at once", running[c.key], c.key)
					}
					mu.Unlock()
					timer := time.NewTimer(c.runFor)
					defer timer.Stop()
					select {
					case <-timer.C:
					case <-ctx.Done():
						time.Sleep(c.lag)
					}
					mu.Lock()
					running[c.key]--
					e.end = time.Now()
					e.cancelled = ctx.Err() != nil
					e.panicked = c.outcome == 2
					mu.Unlock()
					switch {
					case c.outcome == 2:
						panic(execErr{e.id}) // also when nobody is left to receive it
					case e.cancelled:
						return 0, ctx.Err()
					case c.outcome == 1:
						return 0, execErr{e.id}
					}
					return e.id, nil
				}
			}
			var wg sync.WaitGroup
			for i, c := range callers {
				wg.Go(func() {
					time.Sleep(c.arrive)
					ctx := context.Background()
					if c.cancelAt > 0 {
						var cancel context.CancelCauseFunc
						ctx, cancel = context.WithCancelCause(ctx)
						c.cause = callerCause(i)
						stop := time.AfterFunc(c.cancelAt, func() { cancel(c.cause) })
						defer stop.Stop()
					} else if i%2 == 1 {
						// A caller that can cancel but does not.
						var cancel context.CancelFunc
						ctx, cancel = context.WithCancel(ctx)
						defer cancel()
					}
					c.start = time.Now()
					if c.chanForm {
						c.result = <-g.DoChan(ctx, c.key, fnFor(c))
					} else {
						c.result = g.DoResult(ctx, c.key, fnFor(c))
					}
					c.end = time.Now()
				})
			}
			wg.Wait()
			// Executions nobody waits for any more run on; let them end.
			time.Sleep(time.Second)
			synctest.Wait()
			if failure != "" {
				return
			}
			if doneCallers != n || doneRuns != len(execs) {
				fail("OnDone saw %d callers of %d executions (and %d never started), want %d callers of %d", doneCallers, doneRuns, unstarted, n, len(execs))
			}
			received := make(map[int]bool)
			for i, c := range callers {
				if c.cancelAt > 0 && c.end.Sub(c.start) >= c.cancelAt {
					if c.end.Sub(c.start) != c.cancelAt || !errors.Is(c.result.Err, c.cause) {
						fail("caller %d cancelled at %v, returned after %v with %+v", i, c.cancelAt, c.end.Sub(c.start), c.result)
					}
					continue
				}
				id := c.result.Value
				var pe *weft.PanicError
				var ee execErr
				switch {
				case errors.As(c.result.Err, &pe):
					ee, _ = pe.Value.(execErr)
					id = ee.id
				case errors.As(c.result.Err, &ee):
					id = ee.id
				case c.result.Err != nil:
					fail("caller %d got unexpected error %v", i, c.result.Err)
					continue
				}
				if id < 1 || id > len(execs) {
					fail("caller %d got %+v, from no execution", i, c.result)
					continue
				}
				e := execs[id-1]
				if e.key != c.key || !e.end.Equal(c.end) || e.cancelled {
					fail("caller %d (key %d, returned at %v) got the result of execution %+v", i, c.key, c.end, e)
				}
				received[id] = true
			}
			for _, e := range execs {
				if e.cancelled == received[e.id] {
					fail("execution %d: cancelled = %v, but a caller received its result = %v", e.id, e.cancelled, received[e.id])
				}
				if want := e.cancelled && e.panicked; (hooked[e.id] == 1) != want || hooked[e.id] > 1 {
					fail("execution %d (cancelled %v, panicked %v): OnPanic called %d times", e.id, e.cancelled, e.panicked, hooked[e.id])
				}
			}
		})
		if failure != "" {
			rt.Fatal(failure)
		}
	})
}
