package fanout

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// core is the part of a Gather that does not depend on the result type: the
// call contexts and what cancels them.
//
// Each call runs with a callCtx instead of a context derived with
// context.WithTimeout: a derived context costs several allocations (the
// context, its cancel func, its timer, its done channel), while a callCtx
// lives in the Gather's one allocation and allocates its done channel only
// when the call asks for it. The deadlines of all calls share one timer, set
// for the earliest, and one context.AfterFunc on the parent context stands
// for all of them; both are set up only when a call first watches its
// context, so a call that never looks at it costs nothing.
type core struct {
	parent context.Context
	// parentCancels is whether parent can be done at all; asked once,
	// because parent's methods are user code, never called under mu.
	parentCancels bool
	calls         []callCtx
	wg            sync.WaitGroup // the call goroutines

	mu         sync.Mutex
	timer      *time.Timer    // the shared deadline timer; nil until a call needs it
	schedule   []int32        // the calls with deadlines of their own, earliest first; made with timer
	nextDue    int            // schedule[nextDue:] are the deadlines the timer has not passed
	timerArmed bool           // a run of onTimer is scheduled or running
	stopParent func() bool    // stops the AfterFunc watching parent; nil until a call needs it
	closing    bool           // the Gather is returning: arm nothing more
	helpers    sync.WaitGroup // runs of onTimer and parentDone, so that Gather can join them
}

// closedChan is the Done channel of a call context that was done before
// anyone asked for it.
var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// callCtx is the context of one call of a Gather: done when the call's own
// deadline passes, when the parent context is done, when the Gather cancels
// the call because a required call failed, and once the call has returned.
type callCtx struct {
	g           *core
	name        string
	deadline    time.Time // the earlier of the call's own deadline and the parent's
	hasDeadline bool
	own         bool // deadline is the call's own, so the shared timer must enforce it

	isDone atomic.Bool // err is set; read without the lock by Err

	// Guarded by g.mu.
	done       chan struct{} // made when first asked for
	err        error
	fromParent bool // err is the parent's: the parent ended the call
	watched    bool // the timer and the parent watcher cover this call
	afters     []*afterFunc
}

type afterFunc struct {
	f     func()
	state int // 0 pending, 1 started, 2 stopped
}

// Deadline returns the earlier of the call's own deadline and the parent's.
func (c *callCtx) Deadline() (time.Time, bool) {
	return c.deadline, c.hasDeadline
}

// Done returns a channel closed when the call's context is done.
func (c *callCtx) Done() <-chan struct{} {
	g := c.g
	perr := g.parentErr()
	g.mu.Lock()
	defer g.mu.Unlock()
	if c.done == nil {
		g.check(c, time.Now(), perr)
		if c.err != nil {
			c.done = closedChan
		} else {
			c.done = make(chan struct{})
			g.watch(c)
		}
	}
	return c.done
}

// Err returns nil until the context is done, then why: context.Canceled or
// context.DeadlineExceeded, or the parent's error.
func (c *callCtx) Err() error {
	if !c.isDone.Load() {
		// Done may not have been asked for, so no timer enforces the
		// deadline: look at the clock and the parent.
		if (!c.hasDeadline || time.Now().Before(c.deadline)) && c.g.parentErr() == nil {
			return nil
		}
	}
	g := c.g
	perr := g.parentErr()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.check(c, time.Now(), perr)
	return c.err
}

// Value returns the parent's value for key. The one exception is the key by
// which context.Cause finds the nearest cancelable context: once the call
// has ended for a reason of its own (its deadline, a required call's
// failure, its return), Cause must not find the parent's, whose cause may
// be something that happened later, and falls back on Err.
func (c *callCtx) Value(key any) any {
	if key == cancelCtxKey {
		g := c.g
		perr := g.parentErr()
		g.mu.Lock()
		g.check(c, time.Now(), perr)
		own := c.err != nil && !c.fromParent
		g.mu.Unlock()
		if own {
			return nil
		}
	}
	return c.g.parent.Value(key)
}

// cancelCtxKey is the context package's private key for the nearest
// cancelable context, as context.Cause asks for it: read once, by a
// context that records the key it is asked for.
var cancelCtxKey = func() any {
	var p keyProbe
	_ = context.Cause(&p)
	return p.key
}()

type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	p.key = key
	return nil
}

// Err says the probe is done: Cause asks for the key only then.
func (p *keyProbe) Err() error { return context.Canceled }

// AfterFunc runs f on a goroutine of its own once the context is done, and
// returns a func that stops that if it has not happened yet. Contexts derived
// from a call context use it to be cancelled with it without a goroutine
// each; context.AfterFunc on a call context comes here too.
func (c *callCtx) AfterFunc(f func()) func() bool {
	g := c.g
	perr := g.parentErr()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.check(c, time.Now(), perr)
	if c.err != nil {
		go f()
		return func() bool { return false }
	}
	g.watch(c)
	a := &afterFunc{f: f}
	c.afters = append(c.afters, a)
	return func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		if a.state != 0 {
			return false
		}
		a.state = 2
		return true
	}
}

// String names the context for debugging.
func (c *callCtx) String() string {
	return contextName(c.g.parent) + `.Gather("` + c.name + `")`
}

type stringer interface{ String() string }

func contextName(ctx context.Context) string {
	if s, ok := ctx.(stringer); ok {
		return s.String()
	}
	return "context"
}

// parentErr returns the parent's error, without asking a parent that can
// never be done.
func (g *core) parentErr() error {
	if !g.parentCancels {
		return nil
	}
	return g.parent.Err()
}

// check cancels c if its deadline has passed or the parent is done (perr is
// the parent's error, asked before g.mu was taken), for when no timer or
// watcher has done it yet. g.mu must be held.
func (g *core) check(c *callCtx, now time.Time, perr error) {
	if c.err != nil {
		return
	}
	if perr != nil {
		g.cancelByParent(c, perr)
	} else if c.hasDeadline && !now.Before(c.deadline) {
		g.cancel(c, context.DeadlineExceeded)
	}
}

// cancel makes c done with err. g.mu must be held.
//
// A call's own deadline may have passed without anyone noticing: no timer
// runs for a call that never asked for Done. Under context.WithTimeout the
// deadline would have ended the context when it passed, and whatever came
// later could not change that, so a deadline that has passed wins over err.
// A parent that ended before the deadline while nobody looked cannot be told
// from one that ended after it; the deadline is what the call overran.
func (g *core) cancel(c *callCtx, err error) {
	if c.err != nil {
		return
	}
	if c.own && !time.Now().Before(c.deadline) {
		err, c.fromParent = context.DeadlineExceeded, false
	}
	c.err = err
	c.isDone.Store(true)
	if c.done != nil {
		close(c.done)
	}
	for _, a := range c.afters {
		if a.state == 0 {
			a.state = 1
			go a.f()
		}
	}
	c.afters = nil
}

// cancelByParent cancels c with perr, the parent's error. g.mu must be
// held.
func (g *core) cancelByParent(c *callCtx, perr error) {
	if c.err == nil {
		c.fromParent = true
		g.cancel(c, perr)
	}
}

// cancelAll cancels every call that is not done yet with err. g.mu must be
// held.
func (g *core) cancelAll(err error) {
	for i := range g.calls {
		g.cancel(&g.calls[i], err)
	}
}

// watch makes sure that the parent and, if c has its own deadline, the
// shared timer will cancel c, now that somebody waits for it. g.mu must be
// held and c not done.
func (g *core) watch(c *callCtx) {
	if c.watched || g.closing {
		return
	}
	c.watched = true
	if g.stopParent == nil && g.parentCancels {
		g.helpers.Add(1)
		g.stopParent = context.AfterFunc(g.parent, g.parentDone)
	}
	if c.own && g.timer == nil {
		// The timer is always set for the earliest deadline still to come,
		// so once it exists it covers c too.
		if at, ok := g.nextDeadline(); ok {
			g.helpers.Add(1)
			g.timerArmed = true
			g.timer = time.AfterFunc(time.Until(at), g.onTimer)
		}
	}
}

// nextDeadline returns the earliest own deadline of a call not done yet,
// moving past the calls that are done. g.mu must be held.
func (g *core) nextDeadline() (time.Time, bool) {
	if g.schedule == nil {
		// The deadlines are fixed: sorting them once makes each run of the
		// timer cost only the calls it ends, where a scan of every call per
		// run would cost O(n²) for n distinct timeouts.
		g.schedule = make([]int32, 0, len(g.calls))
		for i := range g.calls {
			if g.calls[i].own {
				g.schedule = append(g.schedule, int32(i))
			}
		}
		slices.SortFunc(g.schedule, func(a, b int32) int {
			return g.calls[a].deadline.Compare(g.calls[b].deadline)
		})
	}
	for ; g.nextDue < len(g.schedule); g.nextDue++ {
		if c := &g.calls[g.schedule[g.nextDue]]; c.err == nil {
			return c.deadline, true
		}
	}
	return time.Time{}, false
}

// onTimer cancels the calls whose deadline has passed and sets the timer
// for the next one.
func (g *core) onTimer() {
	defer g.helpers.Done()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.timerArmed = false
	now := time.Now()
	for ; g.nextDue < len(g.schedule); g.nextDue++ {
		c := &g.calls[g.schedule[g.nextDue]]
		if c.err == nil && now.Before(c.deadline) {
			break
		}
		g.check(c, now, nil) // the parent has a watcher of its own
	}
	if at, ok := g.nextDeadline(); ok && !g.closing {
		g.helpers.Add(1)
		g.timerArmed = true
		g.timer.Reset(at.Sub(now))
	}
}

// parentDone cancels every call when the parent context is done.
func (g *core) parentDone() {
	defer g.helpers.Done()
	perr := g.parent.Err()
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := range g.calls {
		g.cancelByParent(&g.calls[i], perr)
	}
}

// close ends the Gather: it cancels any call still running (only a Goexit
// on the caller's goroutine leaves one), waits for the call goroutines,
// stops the timer and the parent watcher, and waits for any run of them in
// progress.
func (g *core) close() {
	g.mu.Lock()
	g.cancelAll(context.Canceled)
	g.mu.Unlock()
	g.wg.Wait()
	g.mu.Lock()
	g.closing = true
	if g.timerArmed && g.timer.Stop() {
		g.timerArmed = false
		g.helpers.Done()
	}
	if g.stopParent != nil && g.stopParent() {
		g.helpers.Done()
	}
	g.mu.Unlock()
	g.helpers.Wait()
}
