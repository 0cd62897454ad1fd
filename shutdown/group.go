package shutdown

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weftgo/weft/internal/catch"
)

// Group starts and stops a service's components, as the package doc
// describes; its methods are safe for concurrent use.
type Group struct {
	cfg config

	mu      sync.Mutex
	entries []*entry
	names   map[string]bool
	ran     bool

	ready        atomic.Bool // every component is ready and shutdown has not begun
	started      chan struct{}
	shuttingDown chan struct{}
	stopped      chan struct{}
	unfinished   []string // guarded by mu; set once Run returns
}

type entry struct {
	name string
	c    Component

	marked    atomic.Bool     // MarkReady was called
	failed    bool            // Start failed before it was ready: not stopped
	reported  bool            // its end is already Run's failure
	readyCh   chan struct{}   // closed by the first MarkReady
	startDone chan struct{}   // closed when Start has returned
	startErr  error           // set before startDone is closed
	ctx       context.Context // Start's
	cancel    context.CancelFunc
}

type config struct {
	timeout     time.Duration
	stopTimeout time.Duration
	drain       time.Duration // 0 closes idle keep-alive connections under clients that may be writing to them
	drainSet    bool          // DrainDelay was given; otherwise drain is a fifth of the timeout
	onStart     func(name string, err error, took time.Duration)
	onStop      func(name string, err error, took time.Duration)
}

// hookBudget is the time the OnStop hook's calls may take in all, on top of
// the Timeout: with the defaults, 25s and 2s stay inside Kubernetes' default
// grace period of 30s.
const hookBudget = 2 * time.Second

// Option configures a [Group].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Timeout sets the time from the start of shutdown, drain included, to Run's
// return, the [OnStop] hook's time aside (default 25s). It panics if d <= 0.
func Timeout(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("shutdown: Timeout(%v): need a positive duration", d))
	}
	return optionFunc(func(c *config) { c.timeout = d })
}

// StopTimeout bounds each component's stop to d or what is left of the
// [Timeout], whichever is less (by default, what is left). Stop's context
// expires shortly before the group gives up on it, so a Stop has time to
// force things closed. It panics if d < 0.
func StopTimeout(d time.Duration) Option {
	if d < 0 {
		panic(fmt.Sprintf("shutdown: StopTimeout(%v): negative duration", d))
	}
	return optionFunc(func(c *config) { c.stopTimeout = d })
}

// DrainDelay sets how long the group serves on, not ready, before the first
// Stop (default: a fifth of the [Timeout]). With 0, idle keep-alive
// connections close without notice. It panics if d < 0.
func DrainDelay(d time.Duration) Option {
	if d < 0 {
		panic(fmt.Sprintf("shutdown: DrainDelay(%v): negative duration", d))
	}
	return optionFunc(func(c *config) { c.drain, c.drainSet = d, true })
}

// OnStop sets a hook called after each component's stop with its name, its
// errors (nil if clean) and the stop's duration. The calls have 2s in all, on
// top of the [Timeout]; one that overruns is reported as [ErrAbandoned] and
// ends them. It panics if hook is nil.
func OnStop(hook func(name string, err error, took time.Duration)) Option {
	if hook == nil {
		panic("shutdown: OnStop(nil)")
	}
	return optionFunc(func(c *config) { c.onStop = hook })
}

// OnStart sets a hook called once for each component whose Start was called,
// when the group is done waiting for it: with nil and the time the component
// took to become ready, the [*StartError] Run reports, or [ErrInterrupted].
// Its calls run one at a time, outside any lock, and Run waits for each, so
// it must return promptly. It panics if hook is nil.
func OnStart(hook func(name string, err error, took time.Duration)) Option {
	// A panic or runtime.Goexit in the hook is reported by Run (package
	// rules), and the group goes on: see started1.
	if hook == nil {
		panic("shutdown: OnStart(nil)")
	}
	return optionFunc(func(c *config) { c.onStart = hook })
}

// New returns a Group with the given options. It panics if an option is nil
// or if the [DrainDelay] is not shorter than the [Timeout].
func New(opts ...Option) *Group {
	// The defaults follow Kubernetes. When a pod is deleted, the kubelet
	// runs the preStop hook, if any, then sends SIGTERM, while the pod is
	// removed from its Service's endpoints; kube-proxy, ingress controllers
	// and cloud balancers learn of it hundreds of milliseconds to seconds
	// later and send requests to the pod until then. SIGKILL follows
	// terminationGracePeriodSeconds (30s by default) after the deletion,
	// preStop included: 25s, a fifth of it drained, and the hook's 2s fit.
	cfg := config{timeout: 25 * time.Second}
	for _, o := range opts {
		if o == nil {
			panic("shutdown: nil Option")
		}
		o.apply(&cfg)
	}
	if !cfg.drainSet {
		cfg.drain = cfg.timeout / 5
	}
	if cfg.drain >= cfg.timeout {
		panic(fmt.Sprintf("shutdown: DrainDelay(%v) is not shorter than Timeout(%v): no time would be left to stop the components", cfg.drain, cfg.timeout))
	}
	return &Group{
		cfg:          cfg,
		names:        make(map[string]bool),
		started:      make(chan struct{}),
		shuttingDown: make(chan struct{}),
		stopped:      make(chan struct{}),
	}
}

// Add appends a component under a name used in errors and hooks; components
// start in the order added. It panics if c is nil, name is empty or taken, or
// Run has been called.
func (g *Group) Add(name string, c Component) {
	if c == nil {
		panic(fmt.Sprintf("shutdown: Add(%q): nil Component", name))
	}
	if name == "" {
		panic("shutdown: Add: empty name")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ran {
		panic(fmt.Sprintf("shutdown: Add(%q) after Run", name))
	}
	if g.names[name] {
		panic(fmt.Sprintf("shutdown: Add(%q): name already taken", name))
	}
	g.names[name] = true
	g.entries = append(g.entries, &entry{name: name, c: c, readyCh: make(chan struct{}), startDone: make(chan struct{})})
}

// Run starts the components and shuts down as the package doc describes;
// each Start's context carries ctx's values. It returns nil after a clean
// stop caused by ctx, or else [errors.Join] of each failed component's
// [*StartError] or [*StopError] and an error per hook call that panicked or
// overran. When it returns, every goroutine it started has exited, except
// those of the components [Group.Unfinished] names.
func (g *Group) Run(ctx context.Context) error {
	g.mu.Lock()
	if g.ran {
		g.mu.Unlock()
		return ErrRunTwice
	}
	g.ran = true
	entries := g.entries
	g.mu.Unlock()
	defer close(g.stopped)

	ended := make(chan *entry, len(entries))
	var started []*entry
	var failure error
	var hookErrs []error

	for _, e := range entries {
		if ctx.Err() != nil {
			break
		}
		started = append(started, e)
		begin := time.Now()
		g.start(ctx, e, ended)
		var stop bool
		failure, stop = g.await(ctx, e, ended)
		if g.cfg.onStart != nil {
			if err := g.started1(e, begin); err != nil {
				hookErrs = append(hookErrs, err)
			}
		}
		if stop {
			break
		}
	}
	if failure == nil {
		// A Start may have failed while the select above took another
		// case: the group is not ready once a failure is there to see.
		failure = g.failedMeanwhile(started)
	}
	if failure == nil && ctx.Err() == nil {
		g.ready.Store(true)
		close(g.started)
	running:
		for {
			select {
			case <-ctx.Done():
				break running
			case x := <-ended:
				if failure = g.exited(x); failure != nil {
					break running
				}
			}
		}
	}

	g.ready.Store(false)
	close(g.shuttingDown)
	errs := append([]error{failure}, hookErrs...)
	errs = append(errs, g.stop(context.WithoutCancel(ctx), started)...)
	return errors.Join(errs...)
}

// await waits until e is ready, a component fails or ends, or ctx is done.
// It returns the failure, if any, and whether to start no more components.
func (g *Group) await(ctx context.Context, e *entry, ended <-chan *entry) (failure error, stop bool) {
	for {
		select {
		case <-e.readyCh:
			return nil, false
		case <-e.startDone:
			failure = g.exited(e)
			return failure, failure != nil
		case <-ctx.Done():
			return nil, true
		case x := <-ended:
			// An earlier component ended, or this one returned.
			if failure = g.exited(x); failure != nil {
				return failure, true
			}
		}
	}
}

// started1 calls the OnStart hook for e, whose Start began at begin, once the
// group is done waiting for it, and returns the hook's panic or Goexit.
func (g *Group) started1(e *entry, begin time.Time) error {
	took := time.Since(begin)
	var err error
	switch {
	case e.marked.Load() || closed(e.startDone) && e.startErr == nil:
	case closed(e.startDone):
		err = &StartError{Name: e.name, Err: e.startErr}
	default:
		err = ErrInterrupted
	}
	// On a goroutine of its own, so that a runtime.Goexit in the hook is
	// reported rather than ending Run's goroutine.
	done := make(chan error, 1)
	go catch.Guard(func() error { g.cfg.onStart(e.name, err, took); return nil }, func(err error) { done <- err })
	if herr := <-done; herr != nil {
		return fmt.Errorf("shutdown: OnStart hook for %q: %w", e.name, herr)
	}
	return nil
}

// failedMeanwhile returns the failure of a started component whose Start
// has returned but whose end the group has not handled yet.
func (g *Group) failedMeanwhile(started []*entry) error {
	for _, e := range started {
		if closed(e.startDone) {
			if err := g.exited(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// start calls e's Start on a goroutine of its own.
func (g *Group) start(ctx context.Context, e *entry, ended chan<- *entry) {
	var once sync.Once
	ready := func() {
		once.Do(func() {
			e.marked.Store(true)
			close(e.readyCh)
		})
	}
	sctx := context.WithValue(context.WithoutCancel(ctx), readyKey{}, ready)
	sctx, cancel := context.WithCancel(context.WithValue(sctx, drainingKey{}, (<-chan struct{})(g.shuttingDown)))
	e.ctx, e.cancel = sctx, cancel
	go catch.Guard(func() error { return e.c.Start(sctx) }, func(err error) {
		e.startErr = err
		close(e.startDone)
		ended <- e
	})
}

// exited handles the end of a Start while the group runs, returning the
// failure it makes, if any. A Start that returns nil before it marked itself
// ready was only starting; any other end of a Start is a failure.
func (g *Group) exited(e *entry) error {
	if e.reported {
		return nil
	}
	err := e.startErr
	switch {
	case err != nil:
		// A component that failed before it was ready is not stopped.
		e.failed = !e.marked.Load()
	case e.marked.Load():
		err = ErrExited
	default:
		return nil
	}
	e.reported = true
	return &StartError{Name: e.name, Err: err}
}

// stop waits the drain delay, if a component had become ready, then stops
// the started components in reverse order and returns their errors.
func (g *Group) stop(base context.Context, started []*entry) []error {
	deadline := time.Now().Add(g.cfg.timeout)
	if g.cfg.drain > 0 && anyReady(started) {
		t := time.NewTimer(g.cfg.drain)
		<-t.C
	}
	var errs []error
	var unfinished []string
	hookLeft := hookBudget
	for i := len(started) - 1; i >= 0; i-- {
		e := started[i]
		if !e.failed && e.startFailed() {
			// Its Start failed before the component was ready, while
			// shutdown was already under way: it is not stopped either.
			e.failed, e.reported = true, true
			errs = append(errs, &StartError{Name: e.name, Err: e.startErr})
		}
		if e.failed {
			e.cancel()
			continue
		}
		begin := time.Now()
		stopErr, startErr, finished := g.stopOne(base, deadline, e)
		var err error
		if stopErr != nil {
			err = &StopError{Name: e.name, Err: stopErr}
			errs = append(errs, err)
		}
		if startErr != nil {
			// A blocking Start that failed on its way out, as a server
			// whose Serve broke: its own error, next to Stop's.
			errs = append(errs, &StartError{Name: e.name, Err: startErr})
			err = errors.Join(err, errs[len(errs)-1])
		}
		if !finished {
			unfinished = append(unfinished, e.name)
		}
		if g.cfg.onStop != nil && hookLeft > 0 {
			took := time.Since(begin)
			hookBegin := time.Now()
			herr := g.hook(e.name, err, took, hookLeft)
			// The hook's time is its own, not the next component's.
			spent := time.Since(hookBegin)
			hookLeft -= spent
			deadline = deadline.Add(spent)
			if herr != nil {
				if errors.Is(herr, ErrAbandoned) {
					hookLeft = 0
				}
				errs = append(errs, fmt.Errorf("shutdown: OnStop hook for %q: %w", e.name, herr))
			}
		}
	}
	g.mu.Lock()
	g.unfinished = unfinished
	g.mu.Unlock()
	return errs
}

// anyReady reports whether a started component had become ready: only then
// may traffic have reached it, and the drain delay serve a purpose.
func anyReady(started []*entry) bool {
	for _, e := range started {
		if e.marked.Load() || closed(e.startDone) && e.startErr == nil {
			return true
		}
	}
	return false
}

// hook calls the OnStop hook on a goroutine of its own, outside the group's
// lock and before the next Stop, and waits for it at most budget, so that a
// hook that blocks cannot hold up the stop. The budget is the hooks' own:
// their time is not charged to the components. It
// returns the hook's panic or Goexit, or ErrAbandoned.
func (g *Group) hook(name string, err error, took, budget time.Duration) error {
	done := make(chan error, 1)
	go catch.Guard(func() error { g.cfg.onStop(name, err, took); return nil }, func(err error) { done <- err })
	t := time.NewTimer(budget)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return ErrAbandoned
	}
}

// startFailed reports whether e's Start has returned an error before the
// component was ready.
func (e *entry) startFailed() bool {
	return closed(e.startDone) && e.startErr != nil && !e.marked.Load()
}

// stopOne calls e's Stop, with a context carrying base's values, within its
// budget, which ends at the overall deadline or sooner, and waits, within the same budget, for a Start still
// running to return. It returns Stop's error, the error of a Start that
// ended with one and had not been reported, and whether the component
// finished.
func (g *Group) stopOne(base context.Context, deadline time.Time, e *entry) (stopErr, startErr error, finished bool) {
	if g.cfg.stopTimeout > 0 {
		deadline = minTime(deadline, time.Now().Add(g.cfg.stopTimeout))
	}
	ctx, cancel := context.WithDeadline(context.WithValue(base, hardKey{}, deadline), deadline)
	defer cancel()
	defer e.cancel() // the hard stop of the component's Start
	// Stop's own context expires a little before the group gives up on it,
	// so that a Stop that waited for its deadline still has time to force
	// things closed and return its error.
	// It expires a twentieth of the budget, at most a second, early.
	sctx := ctx
	if left := time.Until(deadline); left > 0 {
		var cancelStop context.CancelFunc
		sctx, cancelStop = context.WithDeadline(ctx, deadline.Add(-min(left/20, time.Second)))
		defer cancelStop()
	}
	done := make(chan error, 1)
	go catch.Guard(func() error { return e.c.Stop(sctx) }, func(err error) { done <- err })
	if ctx.Err() != nil {
		// Called after the overall deadline: Run does not wait for it,
		// however soon it would return.
		return ErrAbandoned, nil, false
	}
	select {
	case stopErr = <-done:
	case <-ctx.Done():
		return ErrAbandoned, nil, false
	}
	// Stop has returned: a Start still running, one that waits for its
	// context rather than for Stop, ends now.
	endedBefore := closed(e.startDone)
	e.cancel()
	select {
	case <-e.startDone:
	case <-ctx.Done():
		return errors.Join(stopErr, ErrAbandoned), nil, false
	}
	err := e.startErr
	if err == nil || e.reported || !endedBefore && errors.Is(err, context.Canceled) {
		// Clean, already reported, or the end of a Start that ran until
		// the context the group just cancelled was done.
		return stopErr, nil, true
	}
	return stopErr, err, true
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// closed reports whether ch is closed.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Ready returns an http.Handler for a readiness probe: 200 once every
// component is ready, 503 before that and from the moment shutdown begins.
func (g *Group) Ready() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if g.ready.Load() {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	})
}

// Live returns an http.Handler for a liveness probe: 200 until Run has
// returned, 503 after.
func (g *Group) Live() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		select {
		case <-g.stopped:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusOK)
		}
	})
}

// Started returns a channel closed once every component is ready, when
// [Group.Ready] turns 200; never if a Start fails or shutdown begins first.
func (g *Group) Started() <-chan struct{} { return g.started }

// ShuttingDown returns a channel closed when shutdown begins, before the
// drain delay.
func (g *Group) ShuttingDown() <-chan struct{} { return g.shuttingDown }

// Stopped returns a channel closed when Run returns.
func (g *Group) Stopped() <-chan struct{} { return g.stopped }

// Unfinished names, in stop order, the components Run gave up on before they
// finished stopping; it is empty until Run has returned.
func (g *Group) Unfinished() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.unfinished...)
}
