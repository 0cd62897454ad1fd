package shutdown_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/shutdown"
	"pgregory.net/rapid"
)

// propComponent is a component whose behaviour rapid draws.
type propComponent struct {
	name      string
	startFail bool
	block     bool          // serves until stopped
	exitAfter time.Duration // with block, >0: ends on its own
	stopTook  time.Duration
	stopFail  bool
	stopPanic bool
	hang      bool

	log     *propLog
	release chan struct{} // ends a hang at the end of the case
	stopCh  chan struct{}
}

type propLog struct {
	mu     sync.Mutex
	starts []string
	stops  []string
	at     map[string]time.Time // when each Stop was called
}

func (c *propComponent) Start(ctx context.Context) error {
	c.log.mu.Lock()
	c.log.starts = append(c.log.starts, c.name)
	c.log.mu.Unlock()
	if c.startFail {
		return errors.New("start failed")
	}
	if !c.block {
		return nil
	}
	shutdown.MarkReady(ctx)
	var exit <-chan time.Time
	if c.exitAfter > 0 {
		exit = time.After(c.exitAfter)
	}
	select {
	case <-c.stopCh:
	case <-exit:
	}
	return nil
}

func (c *propComponent) Stop(ctx context.Context) error {
	c.log.mu.Lock()
	c.log.stops = append(c.log.stops, c.name)
	c.log.at[c.name] = time.Now()
	c.log.mu.Unlock()
	defer close(c.stopCh)
	if c.stopPanic {
		panic(c.name)
	}
	if c.hang {
		<-c.release
	}
	time.Sleep(c.stopTook)
	if c.stopFail {
		return errors.New("stop failed")
	}
	return nil
}

// For any components with random start outcomes, stop durations, failures,
// panics and hangs, and a cancel at a random moment: the stop order is the
// reverse of the start order of those that started; each Stop runs at most
// once, and only for a component that started; every component after a hung
// one is still stopped; Run returns within the overall deadline; and the
// error names the component that failed to start or ended, and every
// component whose stop failed, panicked or overran. The OnStart hook sees
// every Start called, in order, with a *StartError for the one that failed;
// the OnStop hook every Stop called, in stop order.
func TestPropertyGroup(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(1, 6).Draw(rt, "components")
		timeout := time.Duration(rapid.IntRange(1, 20).Draw(rt, "timeout s"))*time.Second + time.Second/2
		cancelAt := time.Duration(rapid.IntRange(0, 10).Draw(rt, "cancel at s")) * time.Second
		// The default drain delay (a fifth of the timeout), or one drawn.
		opts := []shutdown.Option{shutdown.Timeout(timeout)}
		if d := rapid.IntRange(-1, int(timeout/time.Second)).Draw(rt, "drain s"); d >= 0 {
			opts = append(opts, shutdown.DrainDelay(time.Duration(d)*time.Second))
		}
		comps := make([]*propComponent, n)
		log := &propLog{at: map[string]time.Time{}}
		for i := range comps {
			c := &propComponent{name: fmt.Sprint("c", i), log: log}
			switch rapid.IntRange(0, 5).Draw(rt, "start") {
			case 0:
				c.startFail = true
			case 1, 2:
				c.block = true
			case 3:
				c.block = true
				c.exitAfter = time.Duration(rapid.IntRange(1, 10).Draw(rt, "exit after s")) * time.Second
			}
			switch rapid.IntRange(0, 5).Draw(rt, "stop") {
			case 0:
				c.stopFail = true
			case 1:
				c.stopPanic = true
			case 2:
				c.hang = true
			}
			c.stopTook = time.Duration(rapid.IntRange(0, 6).Draw(rt, "stop took s")) * time.Second
			comps[i] = c
		}

		var hooks hookLog
		opts = append(opts, hooks.options()...)
		var failure string
		synctest.Test(t, func(t *testing.T) {
			// Channels are made inside the bubble, so that waiting on them
			// is durable.
			release := make(chan struct{})
			g := shutdown.New(opts...)
			for _, c := range comps {
				c.release = release
				c.stopCh = make(chan struct{})
				g.Add(c.name, c)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if cancelAt == 0 {
				cancel() // before Run: nothing starts
			} else {
				stopTimer := time.AfterFunc(cancelAt, cancel)
				defer stopTimer.Stop()
			}
			var shutdownAt time.Time
			go func() {
				<-g.ShuttingDown()
				shutdownAt = time.Now()
			}()
			err := g.Run(ctx)
			end := time.Now()
			// Let hung and late Stops finish before looking at the log.
			close(release)
			time.Sleep(time.Hour)
			synctest.Wait()

			fail := func(format string, args ...any) {
				if failure == "" {
					failure = fmt.Sprintf(format, args...)
				}
			}
			if end.Sub(shutdownAt) > timeout {
				fail("Run returned %v after shutdown began, past the %v deadline", end.Sub(shutdownAt), timeout)
			}

			// Expected starts: in order, up to and including the first
			// failing one.
			var wantStarts, wantStopped []string
			var startFailed string
			for _, c := range comps {
				if cancelAt == 0 {
					break
				}
				wantStarts = append(wantStarts, c.name)
				if c.startFail {
					startFailed = c.name
					break
				}
				wantStopped = append(wantStopped, c.name)
			}
			slices.Reverse(wantStopped)
			if !slices.Equal(log.starts, wantStarts) {
				fail("starts %v, want %v", log.starts, wantStarts)
			}
			// Stops called before the deadline run one after the other in
			// reverse start order; those called at the deadline are called
			// without waiting for each other, so only their set is fixed.
			deadline := shutdownAt.Add(timeout)
			var inTime, late []string
			for _, name := range wantStopped {
				if at, ok := log.at[name]; ok && at.Before(deadline) {
					inTime = append(inTime, name)
				} else {
					late = append(late, name)
				}
			}
			got := slices.Clone(log.stops)
			if len(got) != len(wantStopped) {
				fail("stops %v, want each of %v once", got, wantStopped)
			} else if !slices.Equal(got[:len(inTime)], inTime) {
				fail("stops %v, want the reverse of the started ones, %v", got, wantStopped)
			} else if rest := got[len(inTime):]; !equalSets(rest, late) {
				fail("late stops %v, want %v", rest, late)
			}
			if len(late) > 0 && !slices.Equal(inTime, wantStopped[:len(inTime)]) {
				fail("stops before the deadline %v are not a prefix of %v", inTime, wantStopped)
			}

			// The error names the start failure and the failed stops.
			names := map[string]string{}
			var list []error
			if err != nil {
				if j, ok := err.(interface{ Unwrap() []error }); ok {
					list = j.Unwrap()
				} else {
					list = []error{err}
				}
			}
			for _, e := range list {
				var se *shutdown.StartError
				var st *shutdown.StopError
				switch {
				case errors.As(e, &se):
					names[se.Name] = "start"
				case errors.As(e, &st):
					names[st.Name] = "stop"
					var pe *weft.PanicError
					if c := comps[slices.IndexFunc(comps, func(c *propComponent) bool { return c.name == st.Name })]; c.stopPanic && !errors.As(e, &pe) && !errors.Is(e, shutdown.ErrAbandoned) {
						fail("stop of %s panicked but its error is %v", c.name, e)
					}
				default:
					fail("unexpected error %v", e)
				}
			}
			if startFailed != "" && names[startFailed] != "start" {
				fail("error %v does not name %s, which failed to start", err, startFailed)
			}
			for _, name := range wantStopped {
				c := comps[slices.IndexFunc(comps, func(c *propComponent) bool { return c.name == name })]
				if (c.stopFail || c.stopPanic || c.hang) && names[name] != "stop" {
					fail("error %v does not name %s, whose stop failed", err, name)
				}
				if names[name] == "stop" && !(c.stopFail || c.stopPanic || c.hang) && !slices.Contains(g.Unfinished(), name) {
					fail("error %v names %s, whose stop was clean and finished", err, name)
				}
			}
			for _, name := range g.Unfinished() {
				if names[name] != "stop" {
					fail("%s is unfinished but the error %v does not name it", name, err)
				}
			}

			// The hooks agree with what the components saw.
			var hookStarts, hookStops []string
			for _, e := range hooks.get() {
				switch {
				case e.hook == "stop":
					hookStops = append(hookStops, e.name)
				case e.name == startFailed:
					hookStarts = append(hookStarts, e.name)
					if want := `shutdown: start "` + e.name + `": start failed`; e.err != want {
						fail("OnStart(%s) error %q, want %q", e.name, e.err, want)
					}
				default:
					hookStarts = append(hookStarts, e.name)
					if e.err != "" {
						fail("OnStart(%s) error %q, want none", e.name, e.err)
					}
				}
			}
			if !slices.Equal(hookStarts, log.starts) {
				fail("OnStart calls %v, want one per Start called: %v", hookStarts, log.starts)
			}
			if !slices.Equal(hookStops, wantStopped) {
				fail("OnStop calls %v, want one per component stopped, in order: %v", hookStops, wantStopped)
			}
		})
		if failure != "" {
			rt.Fatal(failure)
		}
	})
}

func equalSets(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
