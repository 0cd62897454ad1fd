package shutdown_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/shutdown"
)

// recorder keeps the order of starts and stops across components.
type recorder struct {
	mu   sync.Mutex
	log  []string
	when map[string]time.Time
}

func (r *recorder) add(event string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, event)
	if r.when == nil {
		r.when = make(map[string]time.Time)
	}
	r.when[event] = time.Now()
}

func (r *recorder) events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log)
}

// fake is a component whose behaviour each test sets.
type fake struct {
	name string
	rec  *recorder

	startErr  error
	block     bool          // Start serves until Stop
	exitAfter time.Duration // with block: Start returns on its own after this
	stopTook  time.Duration
	stopErr   error
	stopPanic bool
	hang      chan struct{} // Stop waits for this to close

	stopping chan struct{}
	once     sync.Once
	startCtx context.Context
}

func (f *fake) Start(ctx context.Context) error {
	f.rec.add("start " + f.name)
	f.startCtx = ctx
	if f.startErr != nil {
		return f.startErr
	}
	if !f.block {
		return nil
	}
	shutdown.MarkReady(ctx)
	var exit <-chan time.Time
	if f.exitAfter > 0 {
		exit = time.After(f.exitAfter)
	}
	select {
	case <-f.stopChan():
	case <-exit:
	}
	return nil
}

func (f *fake) stopChan() chan struct{} {
	f.once.Do(func() { f.stopping = make(chan struct{}) })
	return f.stopping
}

func (f *fake) Stop(ctx context.Context) error {
	f.rec.add("stop " + f.name)
	if f.stopPanic {
		panic("stop " + f.name)
	}
	if f.hang != nil {
		<-f.hang
	}
	time.Sleep(f.stopTook)
	close(f.stopChan())
	return f.stopErr
}

func TestGroupOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		g := shutdown.New()
		for _, name := range []string{"db", "cache", "http"} {
			g.Add(name, &fake{name: name, rec: rec, block: name == "http"})
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- g.Run(ctx) }()
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run = %v, want nil after a requested stop", err)
		}
		want := []string{"start db", "start cache", "start http", "stop http", "stop cache", "stop db"}
		if got := rec.events(); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
	})
}

func TestGroupStartFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		errDial := errors.New("dial failed")
		g := shutdown.New()
		g.Add("a", &fake{name: "a", rec: rec})
		g.Add("b", &fake{name: "b", rec: rec, startErr: errDial})
		g.Add("c", &fake{name: "c", rec: rec})
		err := g.Run(context.Background())
		var se *shutdown.StartError
		if !errors.Is(err, errDial) || !errors.As(err, &se) || se.Name != "b" {
			t.Fatalf("Run = %v, want a *StartError for b", err)
		}
		if !strings.Contains(err.Error(), `shutdown: start "b": dial failed`) {
			t.Fatalf("message %q", err)
		}
		want := []string{"start a", "start b", "stop a"}
		if got := rec.events(); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v: the failed one is not stopped, c never starts", got, want)
		}
	})
}

func TestGroupComponentExitsOnItsOwn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		g := shutdown.New(shutdown.DrainDelay(0))
		g.Add("a", &fake{name: "a", rec: rec})
		g.Add("loop", &fake{name: "loop", rec: rec, block: true, exitAfter: time.Second})
		start := time.Now()
		err := g.Run(context.Background())
		if !errors.Is(err, shutdown.ErrExited) || !strings.Contains(err.Error(), `"loop"`) {
			t.Fatalf("Run = %v, want ErrExited naming loop", err)
		}
		if d := time.Since(start); d != time.Second {
			t.Fatalf("Run returned after %v, want 1s", d)
		}
		want := []string{"start a", "start loop", "stop loop", "stop a"}
		if got := rec.events(); !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v", got, want)
		}
	})
}

func TestGroupStopErrorsAndPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		errFlush := errors.New("flush failed")
		g := shutdown.New()
		g.Add("a", &fake{name: "a", rec: rec, stopErr: errFlush})
		g.Add("b", &fake{name: "b", rec: rec, stopPanic: true})
		g.Add("c", &fake{name: "c", rec: rec})
		ctx2, cancel2 := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- g.Run(ctx2) }()
		synctest.Wait()
		cancel2()
		err := <-done
		var pe *weft.PanicError
		if !errors.Is(err, errFlush) || !errors.As(err, &pe) || pe.Value != "stop b" {
			t.Fatalf("Run = %v, want both the stop error of a and the panic of b", err)
		}
		var stops []string
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			var se *shutdown.StopError
			if errors.As(e, &se) {
				stops = append(stops, se.Name)
			}
		}
		if !slices.Equal(stops, []string{"b", "a"}) {
			t.Fatalf("stop errors name %v, want [b a]", stops)
		}
		if got := rec.events(); !slices.Equal(got, []string{"start a", "start b", "start c", "stop c", "stop b", "stop a"}) {
			t.Fatalf("events %v: every Stop must run despite the panic", got)
		}
	})
}

// A hung Stop is abandoned at its budget; the next Stops still run, with
// whatever time is left; Run returns by the overall deadline.
func TestGroupHungStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		hang := make(chan struct{})
		var stopCtxErr error
		g := shutdown.New(shutdown.Timeout(10*time.Second), shutdown.StopTimeout(3*time.Second), shutdown.DrainDelay(0))
		g.Add("a", shutdown.Func(nil, func(ctx context.Context) error {
			rec.add("stop a")
			stopCtxErr = ctx.Err()
			return nil
		}))
		g.Add("stuck", &fake{name: "stuck", rec: rec, hang: hang})
		g.Add("slow", &fake{name: "slow", rec: rec, stopTook: 8 * time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- g.Run(ctx) }()
		synctest.Wait()
		start := time.Now()
		cancel()
		err := <-done
		if d := time.Since(start); d != 6*time.Second {
			t.Fatalf("Run took %v to stop, want 6s (two budgets of 3s)", d)
		}
		if !errors.Is(err, shutdown.ErrAbandoned) {
			t.Fatalf("Run = %v, want ErrAbandoned", err)
		}
		if got := g.Unfinished(); !slices.Equal(got, []string{"slow", "stuck"}) {
			t.Fatalf("Unfinished() = %v, want [slow stuck]", got)
		}
		if got, want := rec.events(), []string{"start stuck", "start slow", "stop slow", "stop stuck", "stop a"}; !slices.Equal(got, want) {
			t.Fatalf("events %v, want %v: a must still be stopped", got, want)
		}
		if stopCtxErr != nil {
			t.Fatalf("a's stop got a done context (%v) with 4s of the overall budget left", stopCtxErr)
		}
		// Let the abandoned Stops finish before the bubble ends.
		close(hang)
		time.Sleep(10 * time.Second)
	})
}

// When the overall deadline has passed, the remaining Stops are still
// called, with a context that is already done.
func TestGroupOverallDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		hang := make(chan struct{})
		var lastErr error
		g := shutdown.New(shutdown.Timeout(5 * time.Second))
		g.Add("first", shutdown.Func(nil, func(ctx context.Context) error {
			lastErr = ctx.Err()
			rec.add("stop first")
			return nil
		}))
		g.Add("stuck", &fake{name: "stuck", rec: rec, hang: hang})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- g.Run(ctx) }()
		synctest.Wait()
		start := time.Now()
		cancel()
		err := <-done
		if d := time.Since(start); d != 5*time.Second {
			t.Fatalf("Run took %v, want the 5s deadline", d)
		}
		if !errors.Is(err, shutdown.ErrAbandoned) || !strings.Contains(err.Error(), `"stuck"`) {
			t.Fatalf("Run = %v, want ErrAbandoned naming stuck", err)
		}
		// Run does not wait for a Stop called after the deadline; let it
		// finish before looking at what it saw.
		synctest.Wait()
		if !slices.Contains(rec.events(), "stop first") || !errors.Is(lastErr, context.DeadlineExceeded) {
			t.Fatalf("first was not stopped with an expired context: events %v, ctx err %v", rec.events(), lastErr)
		}
		close(hang)
	})
}

func TestGroupReadyLiveAndDrain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		status := func(h http.Handler) int {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
			return w.Code
		}
		rec := &recorder{}
		var hooked []string
		g := shutdown.New(shutdown.DrainDelay(5*time.Second), shutdown.OnStop(func(name string, err error, took time.Duration) {
			hooked = append(hooked, fmt.Sprint(name, " ", err, " ", took))
		}))
		release := make(chan struct{})
		g.Add("slow-start", shutdown.Func(func(context.Context) error { <-release; return nil }, nil))
		g.Add("server", &fake{name: "server", rec: rec, block: true, stopTook: time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- g.Run(ctx) }()
		synctest.Wait()
		if got := status(g.Ready()); got != 503 {
			t.Fatalf("Ready while starting = %d, want 503", got)
		}
		if got := status(g.Live()); got != 200 {
			t.Fatalf("Live while starting = %d, want 200", got)
		}
		close(release)
		synctest.Wait()
		if got := status(g.Ready()); got != 200 {
			t.Fatalf("Ready while running = %d, want 200", got)
		}
		cancel()
		<-g.ShuttingDown()
		shutdownAt := time.Now()
		if got := status(g.Ready()); got != 503 {
			t.Fatalf("Ready while shutting down = %d, want 503", got)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		<-g.Stopped()
		if got := status(g.Live()); got != 503 {
			t.Fatalf("Live after stop = %d, want 503", got)
		}
		if d := rec.when["stop server"].Sub(shutdownAt); d != 5*time.Second {
			t.Fatalf("first Stop %v after shutdown began, want the 5s drain delay", d)
		}
		if want := []string{"server <nil> 1s", "slow-start <nil> 0s"}; !slices.Equal(hooked, want) {
			t.Fatalf("OnStop saw %v, want %v", hooked, want)
		}
	})
}

// A Start's context is not cancelled by Run's context, only after its own
// Stop.
func TestGroupStartContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		type key struct{}
		f := &fake{name: "s", rec: rec, block: true}
		var errAtStop error
		g := shutdown.New()
		g.Add("s", f)
		g.Add("observer", shutdown.Func(nil, func(context.Context) error {
			errAtStop = f.startCtx.Err()
			return nil
		}))
		ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
		done := make(chan error, 1)
		go func() { done <- g.Run(ctx) }()
		synctest.Wait()
		cancel()
		<-done
		if errAtStop != nil {
			t.Fatalf("Start's context was cancelled (%v) before its Stop", errAtStop)
		}
		if f.startCtx.Err() == nil {
			t.Fatal("Start's context still live after Run returned")
		}
		if f.startCtx.Value(key{}) != "v" {
			t.Fatal("Start's context lacks Run's values")
		}
	})
}

// A Start that runs until its context is done, with no Stop of its own,
// ends as soon as shutdown reaches it: its context is cancelled once its
// (empty) Stop has returned, before the group waits for Start.
func TestGroupStartUntilContextDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		loop := func(ctx context.Context) error {
			shutdown.MarkReady(ctx)
			<-ctx.Done()
			return nil
		}
		g := shutdown.New(shutdown.Timeout(10*time.Second), shutdown.DrainDelay(0))
		g.Add("loop", shutdown.Func(loop, nil))
		g.Add("loop2", shutdown.Func(loop, func(context.Context) error { return nil }))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- g.Run(ctx) }()
		<-g.Started()
		start := time.Now()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("Run took %v to stop, want no time at all", d)
		}
		if got := g.Unfinished(); len(got) != 0 {
			t.Fatalf("Unfinished() = %v, want none", got)
		}
	})
}

// A Start or a Stop that calls runtime.Goexit (t.FailNow in a test helper)
// is reported as weft.ErrGoexit; it neither hangs Run nor is lost.
func TestGroupGoexit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := shutdown.New()
		g.Add("exits", shutdown.Func(func(context.Context) error { runtime.Goexit(); return nil }, nil))
		err := g.Run(context.Background())
		var se *shutdown.StartError
		if !errors.As(err, &se) || se.Name != "exits" || !errors.Is(err, weft.ErrGoexit) {
			t.Fatalf("Run = %v, want a *StartError naming exits that matches weft.ErrGoexit", err)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		g := shutdown.New()
		g.Add("exits", shutdown.Func(nil, func(context.Context) error { runtime.Goexit(); return nil }))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- g.Run(ctx) }()
		<-g.Started()
		cancel()
		err := <-done
		var se *shutdown.StopError
		if !errors.As(err, &se) || se.Name != "exits" || !errors.Is(err, weft.ErrGoexit) {
			t.Fatalf("Run = %v, want a *StopError naming exits that matches weft.ErrGoexit", err)
		}
		if got := g.Unfinished(); len(got) != 0 {
			t.Fatalf("Unfinished() = %v, want none: the Stop ended", got)
		}
	})
}

// A Start that fails before its component is ready, after shutdown began
// (here during the drain delay, which the ready "config" makes the group
// wait), is a start failure: reported as a *StartError, and its Stop is not
// called.
func TestGroupStartFailsDuringShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := shutdown.New(shutdown.DrainDelay(100*time.Millisecond), shutdown.Timeout(time.Second))
		g.Add("config", shutdown.Func(nil, nil))
		stopped := false
		errDial := errors.New("dial failed")
		g.Add("db", shutdown.Func(func(context.Context) error {
			time.Sleep(50 * time.Millisecond) // still connecting when shutdown begins
			return errDial
		}, func(context.Context) error { stopped = true; return nil }))
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(10*time.Millisecond, cancel)
		err := g.Run(ctx)
		var se *shutdown.StartError
		var sp *shutdown.StopError
		if stopped || !errors.As(err, &se) || se.Name != "db" || !errors.Is(err, errDial) || errors.As(err, &sp) {
			t.Fatalf("Run = %v, Stop called = %v; want only a *StartError for db and no Stop", err, stopped)
		}
	})
}

// A blocking Start that breaks during shutdown and a Stop that fails are
// both reported, each as what it is; a Start that returns its context's
// error once the group cancelled it is a clean end.
func TestGroupStartAndStopErrorsDuringShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errServe, errClose := errors.New("serve broke"), errors.New("close failed")
		g := shutdown.New(shutdown.DrainDelay(time.Second))
		g.Add("loop", shutdown.Func(func(ctx context.Context) error {
			shutdown.MarkReady(ctx)
			<-ctx.Done()
			return ctx.Err()
		}, nil))
		g.Add("srv", shutdown.Func(func(ctx context.Context) error {
			shutdown.MarkReady(ctx)
			<-g.ShuttingDown()
			return errServe // breaks during the drain
		}, func(context.Context) error { return errClose }))
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-g.Started(); cancel() }()
		err := g.Run(ctx)
		var se *shutdown.StartError
		var sp *shutdown.StopError
		if !errors.As(err, &se) || se.Name != "srv" || !errors.Is(se, errServe) ||
			!errors.As(err, &sp) || sp.Name != "srv" || !errors.Is(sp, errClose) {
			t.Fatalf("Run = %v; want srv's *StartError (serve broke) and *StopError (close failed), and nothing of loop", err)
		}
		if strings.Contains(err.Error(), "loop") {
			t.Fatalf("Run = %v; loop ended cleanly when its context was cancelled", err)
		}
	})
}

// A Start that fails on its own during shutdown, before the group cancelled
// its context, is reported even if its error wraps context.Canceled: only
// the group's own cancellation makes that error a clean end.
func TestGroupStartFailsWithCanceledDuringShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := shutdown.New(shutdown.DrainDelay(time.Second), shutdown.Timeout(10*time.Second))
		errPool := fmt.Errorf("db pool: %w", context.Canceled)
		g.Add("db", shutdown.Func(func(ctx context.Context) error {
			shutdown.MarkReady(ctx)
			<-g.ShuttingDown()
			return errPool // on its own, during the drain delay
		}, nil))
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-g.Started(); cancel() }()
		err := g.Run(ctx)
		var se *shutdown.StartError
		if !errors.As(err, &se) || se.Name != "db" || !errors.Is(err, errPool) {
			t.Fatalf("Run = %v; want db's *StartError", err)
		}
	})
}

// A Stop called after the overall deadline is reported abandoned, however
// soon it returns.
// The Stop that returns at once races the deadline that has already
// passed; outside a bubble, a few hundred runs used to lose that race.
func TestGroupStopAfterDeadlineIsAbandoned(t *testing.T) {
	for range 300 {
		g := shutdown.New(shutdown.Timeout(2 * time.Millisecond))
		release := make(chan struct{})
		var stopped sync.WaitGroup
		stopped.Add(2)
		g.Add("fast", shutdown.Func(nil, func(context.Context) error { stopped.Done(); return nil }))
		g.Add("hang", shutdown.Func(nil, func(context.Context) error { <-release; stopped.Done(); return nil }))
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-g.Started(); cancel() }()
		err := g.Run(ctx)
		close(release)
		stopped.Wait() // the Stops Run left behind, joined before the next run
		if got := g.Unfinished(); !slices.Equal(got, []string{"hang", "fast"}) || !errors.Is(err, shutdown.ErrAbandoned) {
			t.Fatalf("Run = %v, Unfinished() = %v; want both abandoned", err, got)
		}
	}
}

// A panic in the OnStop hook is reported, and the other components are
// still stopped.
func TestGroupOnStopPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var stopped []string
		g := shutdown.New(shutdown.OnStop(func(name string, _ error, _ time.Duration) {
			if name == "b" {
				panic("hook")
			}
		}))
		for _, name := range []string{"a", "b"} {
			g.Add(name, shutdown.Func(nil, func(context.Context) error { stopped = append(stopped, name); return nil }))
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-g.Started(); cancel() }()
		err := g.Run(ctx)
		var pe *weft.PanicError
		if !errors.As(err, &pe) || !slices.Equal(stopped, []string{"b", "a"}) {
			t.Fatalf("Run = %v, stopped %v; want the hook's panic and both stopped", err, stopped)
		}
	})
}

func TestGroupCancelledBeforeRun(t *testing.T) {
	rec := &recorder{}
	g := shutdown.New()
	g.Add("a", &fake{name: "a", rec: rec})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.Run(ctx); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if got := rec.events(); len(got) != 0 {
		t.Fatalf("events %v, want nothing started", got)
	}
	if err := g.Run(ctx); !errors.Is(err, shutdown.ErrRunTwice) {
		t.Fatalf("second Run = %v, want ErrRunTwice", err)
	}
}

func TestGroupMisuse(t *testing.T) {
	c := shutdown.Func(nil, nil)
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"nil component", func() { shutdown.New().Add("a", nil) }, "nil Component"},
		{"empty name", func() { shutdown.New().Add("", c) }, "empty name"},
		{"duplicate", func() { g := shutdown.New(); g.Add("a", c); g.Add("a", c) }, "already taken"},
		{"after Run", func() {
			g := shutdown.New()
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			g.Run(ctx)
			g.Add("a", c)
		}, "after Run"},
		{"Timeout", func() { shutdown.Timeout(0) }, "Timeout(0s)"},
		{"StopTimeout", func() { shutdown.StopTimeout(-1) }, "StopTimeout(-1ns)"},
		{"DrainDelay", func() { shutdown.DrainDelay(-1) }, "DrainDelay(-1ns)"},
		{"OnStop", func() { shutdown.OnStop(nil) }, "OnStop(nil)"},
		{"DrainDelay = Timeout", func() { shutdown.New(shutdown.Timeout(time.Second), shutdown.DrainDelay(time.Second)) }, "DrainDelay(1s) is not shorter than Timeout(1s)"},
		{"DrainDelay > default Timeout", func() { shutdown.New(shutdown.DrainDelay(30 * time.Second)) }, "DrainDelay(30s)"},
		{"nil option", func() { shutdown.New(nil) }, "nil Option"},
		{"HTTPServer", func() { shutdown.HTTPServer(nil) }, "HTTPServer(nil)"},
		{"Listener", func() { shutdown.Listener(nil) }, "Listener(nil)"},
		{"Graceful", func() { shutdown.Graceful(nil, nil) }, "nil server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if msg := fmt.Sprint(r); r == nil || !strings.HasPrefix(msg, "shutdown: ") || !strings.Contains(msg, tt.want) {
					t.Fatalf("panic %v, want one containing %q", r, tt.want)
				}
			}()
			tt.f()
		})
	}
}
