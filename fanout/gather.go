package fanout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/internal/catch"
)

// Call is one call of a [Gather]: a named function, its own timeout, and
// whether the answer can do without it. [Required] and [Optional] build one.
type Call[R any] struct {
	// Name names the call in its [Result] and in a [CallError].
	Name string
	// Fn makes the call. Its context is done when the call's Timeout
	// passes, when Gather's context is done, when a required call fails,
	// and once Fn has returned. Fn must return soon after its context is
	// done: Gather waits for it.
	Fn func(ctx context.Context) (R, error)
	// Timeout bounds the call, counted from the start of the Gather and
	// within the deadline of Gather's context. Zero means no timeout of
	// its own.
	Timeout time.Duration
	// Optional marks a call the answer can do without: its failure leaves
	// Gather's error nil and marks the results [Results.Degraded]. A
	// required call's failure fails the Gather.
	Optional bool
}

// Required returns a required [Call]: if it fails, Gather cancels the other
// calls and returns a [*CallError] naming it. A timeout of 0 means none of
// its own.
func Required[R any](name string, timeout time.Duration, fn func(ctx context.Context) (R, error)) Call[R] {
	return Call[R]{Name: name, Fn: fn, Timeout: timeout}
}

// Optional returns an optional [Call]: if it fails, times out or panics, the
// other calls go on and the results are [Results.Degraded]. A timeout of 0
// means none of its own.
func Optional[R any](name string, timeout time.Duration, fn func(ctx context.Context) (R, error)) Call[R] {
	return Call[R]{Name: name, Fn: fn, Timeout: timeout, Optional: true}
}

// Status is how a call of a [Gather] ended.
type Status uint8

const (
	// OK: Fn returned a nil error.
	OK Status = iota + 1
	// Failed: Fn returned an error while its context was live, or called
	// runtime.Goexit (its Err is weft.ErrGoexit).
	Failed
	// TimedOut: Fn returned an error after its deadline (its own Timeout,
	// or the deadline of Gather's context) had passed.
	TimedOut
	// Canceled: Fn returned an error after its context was cancelled,
	// because a required call failed or Gather's context was cancelled;
	// or Fn never ran because Gather's context was done when Gather
	// began.
	Canceled
	// Panicked: Fn panicked; the Result's Err is the *weft.PanicError.
	Panicked
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
	// Name and Optional are the call's.
	Name     string
	Optional bool
	// Value is what Fn returned, also when it returned an error; R's zero
	// value if it panicked or never ran.
	Value R
	// Err is Fn's error, or a *weft.PanicError if it panicked (a
	// weft.ErrGoexit if it called runtime.Goexit), or the cause of
	// Gather's context if Fn never ran.
	Err error
	// Status says how the call ended.
	Status Status
	// Duration is how long Fn ran.
	Duration time.Duration
}

// Results holds the results of a [Gather], one per call, in call order.
type Results[R any] []Result[R]

// Degraded reports whether an optional call did not succeed: the answer
// built from these results lacks a part. It says nothing of required calls,
// whose failure is Gather's error.
func (rs Results[R]) Degraded() bool {
	for i := range rs {
		if rs[i].Optional && rs[i].Status != OK {
			return true
		}
	}
	return false
}

// CallError is the error [Gather] returns when a required call does not
// succeed. It names the first required call to fail; the others were
// cancelled because of it. Match the cause with [errors.Is] or [errors.As]
// through it.
type CallError struct {
	// Name and Index identify the call: its name and its position among
	// Gather's arguments.
	Name  string
	Index int
	// Status is how it ended: Failed, TimedOut, Canceled or Panicked.
	Status Status
	// Err is the call's error, as in its [Result].
	Err error
	// Cause is [context.Cause] of Gather's context when that context ended
	// the call (Status is Canceled, or TimedOut at its deadline) and Err
	// does not already carry it; nil otherwise.
	Cause error
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

// Unwrap returns the call's error, and the cause of Gather's context when
// that ended the call.
func (e *CallError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

// Gather runs every call at once (scatter-gather) and returns when all of
// them have returned, with one [Result] per call in call order: value,
// error, [Status] and duration.
//
// Each call runs with a context that is done at its own Timeout, counted
// from the start of the Gather, or at the deadline of ctx if that is
// earlier; as with [context.WithTimeout], once the Timeout has passed its
// Err is context.DeadlineExceeded and the call [TimedOut], whatever ends
// the Gather later. When a required call fails (returns an error, times out or
// panics), Gather cancels every other call and returns a [*CallError]
// naming the first required call that failed. When only optional calls
// fail, the error is nil and [Results.Degraded] reports true: answer with
// what came back. A panic in a call is recovered and reported as that
// call's failure, with status [Panicked].
//
// Every call goroutine has exited when Gather returns; a call whose function
// ignores its context makes Gather wait for it. If ctx is done when Gather
// begins, no call runs: each result is [Canceled] (or [TimedOut] after a
// deadline) with the cause of ctx as its error, and a required call makes
// that Gather's error. With no calls Gather returns no results and a nil
// error.
//
// The last call runs on the caller's goroutine and each other on a goroutine
// of its own. Gather allocates once for its state and results (up to four
// calls; more take two allocations more) and once per goroutine: three
// calls that return at once cost three allocations and about 3 µs. A call's
// context allocates its Done channel only if Fn asks for it, and Gather
// allocates one timer (and its schedule) for all Timeouts and one watcher
// of ctx only once some Fn watches its context. The context a call gets is
// not one of the standard library's, but behaves as one: contexts derived
// from it, and context.AfterFunc on it, follow it without a goroutine each.
//
// Gather panics if ctx or a call's Fn is nil, or a Timeout is negative.
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
// calls also the call contexts and the results.
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
