package fanout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/internal/catch"
)

// Call is one call of a [Gather]; [Required] and [Optional] make one.
type Call[R any] struct {
	Name     string                               // names the call in its Result and CallError
	Fn       func(ctx context.Context) (R, error) // must return soon after ctx is done
	Timeout  time.Duration                        // from the start of the Gather; 0: none of its own
	Optional bool                                 // its failure does not fail the Gather
}

// Required returns a [Call] whose failure makes [Gather] cancel the others
// and return a [*CallError]. A timeout of 0 means none of its own.
func Required[R any](name string, timeout time.Duration, fn func(ctx context.Context) (R, error)) Call[R] {
	return Call[R]{Name: name, Fn: fn, Timeout: timeout}
}

// Optional returns a [Call] whose failure leaves the others running and
// makes the results [Results.Degraded]. A timeout of 0 means none of its
// own.
func Optional[R any](name string, timeout time.Duration, fn func(ctx context.Context) (R, error)) Call[R] {
	return Call[R]{Name: name, Fn: fn, Timeout: timeout, Optional: true}
}

// Status is how a call of a [Gather] ended.
type Status uint8

const (
	OK       Status = iota + 1 // Fn returned a nil error
	Failed                     // Fn returned an error, or called runtime.Goexit
	TimedOut                   // Fn returned an error after its deadline
	Canceled                   // Fn returned an error after a cancel, or never ran
	Panicked                   // Fn panicked; Err is the [*weft.PanicError]
)

// String returns "ok", "failed", "timed out", "canceled" or "panicked".
func (s Status) String() string {
	switch s {
	case OK:
		return "ok"
	case Failed:
		return "failed"
	case TimedOut:
		return "timed out"
	case Canceled:
		return "canceled"
	case Panicked:
		return "panicked"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Result is the outcome of one call of a [Gather].
type Result[R any] struct {
	Name     string // the call's
	Optional bool   // the call's
	Value    R      // what Fn returned, even with an error
	Err      error  // Fn's error, a [*weft.PanicError], or the cause of ctx if Fn never ran
	Status   Status
	Duration time.Duration // how long Fn ran
}

// Results holds the results of a [Gather], one per call, in call order.
type Results[R any] []Result[R]

// Degraded reports whether an optional call did not succeed.
func (rs Results[R]) Degraded() bool {
	for i := range rs {
		if rs[i].Optional && rs[i].Status != OK {
			return true
		}
	}
	return false
}

// CallError is the error [Gather] returns when a required call does not
// succeed; it names the first one. [errors.Is] and [errors.As] see through
// it to the call's error and to the cause of ctx.
type CallError struct {
	Name   string // the call's Name
	Index  int    // the call's position among Gather's arguments
	Status Status
	Err    error // as in the call's Result
	Cause  error // context.Cause of Gather's ctx if it ended the call and Err lacks it
}

// Error returns `fanout: required call "NAME" ` followed by what happened and
// the call's error.
func (e *CallError) Error() string {
	name := fmt.Sprintf("%q", e.Name)
	if e.Name == "" {
		name = fmt.Sprintf("#%d", e.Index)
	}
	what := e.Status.String()
	if e.Status == Canceled {
		what = "was canceled"
	}
	if e.Cause != nil {
		return fmt.Sprintf("fanout: required call %s %s: %v (%v)", name, what, e.Err, e.Cause)
	}
	return fmt.Sprintf("fanout: required call %s %s: %v", name, what, e.Err)
}

// Unwrap returns Err, and Cause if it is set.
func (e *CallError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

// Gather runs every call at once and returns, once all have returned, one
// [Result] per call in call order. A call's context is done at its Timeout
// or when ctx is done. When a required call fails, times out, panics or ends
// with ctx, Gather cancels the others and returns a [*CallError]; when only
// optional calls fail, the error is nil and [Results.Degraded] is true. If
// ctx is done when Gather begins, no call runs. The last call runs on the
// caller's goroutine. Gather panics if ctx or an Fn is nil or a Timeout is
// negative.
func Gather[R any](ctx context.Context, calls ...Call[R]) (Results[R], error) {
	if ctx == nil {
		panic("fanout: Gather with a nil context")
	}
	for i := range calls {
		if calls[i].Fn == nil {
			panic(fmt.Sprintf("fanout: Gather: call %d (%q) has a nil Fn", i, calls[i].Name))
		}
		if calls[i].Timeout < 0 {
			panic(fmt.Sprintf("fanout: Gather: call %d (%q) has a negative Timeout %v", i, calls[i].Name, calls[i].Timeout))
		}
	}
	n := len(calls)
	if n == 0 {
		return nil, nil
	}
	g := newGather[R](ctx, n)
	for i := range calls {
		g.results[i].Name = calls[i].Name
		g.results[i].Optional = calls[i].Optional
	}
	if ctx.Err() != nil {
		return g.notRun()
	}
	start := time.Now()
	parentDeadline, parentHas := ctx.Deadline()
	for i := range calls {
		c := &g.calls[i]
		c.g = &g.core
		c.name = calls[i].Name
		c.deadline, c.hasDeadline = parentDeadline, parentHas
		if t := calls[i].Timeout; t > 0 {
			if own := start.Add(t); !parentHas || own.Before(parentDeadline) {
				c.deadline, c.hasDeadline, c.own = own, true, true
			}
		}
	}
	defer g.close()
	g.wg.Add(n - 1)
	for i := range n - 1 {
		go g.run(calls[i].Fn, i, true)
	}
	g.run(calls[n-1].Fn, n-1, false)
	g.wg.Wait()
	return g.results, g.err()
}

// gather is a Gather's state: one allocation holds it, and for up to four
// calls also the call contexts and the results (more calls take two
// allocations more). Each goroutine but the caller's is one allocation
// more. A call's context allocates its Done channel only if Fn asks for it,
// and the Gather allocates one timer for all Timeouts and one watcher of
// ctx only once some Fn watches its context (see callctx.go).
type gather[R any] struct {
	core
	results []Result[R]
	failed  int // the first required call to fail, or -1; guarded by mu

	smallCalls   [4]callCtx
	smallResults [4]Result[R]
}

func newGather[R any](ctx context.Context, n int) *gather[R] {
	g := &gather[R]{failed: -1}
	g.parent = ctx
	g.parentCancels = ctx.Done() != nil
	if n <= len(g.smallCalls) {
		g.calls = g.smallCalls[:n]
		g.results = g.smallResults[:n:n]
	} else {
		g.calls = make([]callCtx, n)
		g.results = make([]Result[R], n)
	}
	return g
}

// run calls fn with call i's context and records the outcome.
func (g *gather[R]) run(fn func(context.Context) (R, error), i int, own bool) {
	if own {
		defer g.wg.Done()
	}
	c := &g.calls[i]
	var v R
	returned := false
	begin := time.Now()
	catch.Guard(func() error {
		var err error
		v, err = fn(c)
		returned = true
		return err
	}, func(err error) {
		g.record(i, v, err, returned, time.Since(begin))
	})
}

// record fills in the result of call i, releases its context, and cancels
// the other calls if it is a required call that failed.
func (g *gather[R]) record(i int, v R, err error, returned bool, d time.Duration) {
	r := &g.results[i]
	r.Value, r.Err, r.Duration = v, err, d
	c := &g.calls[i]
	perr := g.parentErr()
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case err == nil:
		r.Status = OK
	case !returned:
		r.Status = Failed // runtime.Goexit
		if _, ok := err.(*weft.PanicError); ok {
			r.Status = Panicked
		}
	default:
		g.check(c, time.Now(), perr)
		switch {
		case c.err == nil:
			r.Status = Failed
		case errors.Is(c.err, context.DeadlineExceeded):
			r.Status = TimedOut
		default:
			r.Status = Canceled
		}
	}
	g.cancel(c, context.Canceled) // as a WithTimeout's cancel would on return
	if r.Status != OK && !r.Optional && g.failed < 0 {
		g.failed = i
		g.cancelAll(context.Canceled)
	}
}

// notRun fills in the results of a Gather whose context was done before it
// began.
func (g *gather[R]) notRun() (Results[R], error) {
	status := Canceled
	if errors.Is(g.parent.Err(), context.DeadlineExceeded) {
		status = TimedOut
	}
	cause := context.Cause(g.parent)
	for i := range g.results {
		r := &g.results[i]
		r.Status, r.Err = status, cause
		if !r.Optional && g.failed < 0 {
			g.failed = i
		}
	}
	return g.results, g.err()
}

// err returns the Gather's error, once every call has returned.
func (g *gather[R]) err() error {
	if g.failed < 0 {
		return nil
	}
	r := &g.results[g.failed]
	e := &CallError{Name: r.Name, Index: g.failed, Status: r.Status, Err: r.Err}
	// The first required call to fail was cancelled, or timed out without
	// a timeout of its own: only ctx can have done that.
	byParent := r.Status == Canceled || r.Status == TimedOut && !g.calls[g.failed].own
	if byParent && g.parent.Err() != nil {
		if cause := context.Cause(g.parent); !errors.Is(r.Err, cause) {
			e.Cause = cause
		}
	}
	return e
}
