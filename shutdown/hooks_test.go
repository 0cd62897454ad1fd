package shutdown_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/shutdown"
)

// hookEvent is one call of the OnStart or OnStop hook.
type hookEvent struct {
	hook string // "start" or "stop"
	name string
	err  string // the error's text, "" for nil
	took time.Duration
}

// hookLog records the calls of both hooks.
type hookLog struct {
	mu     sync.Mutex
	events []hookEvent
}

func (l *hookLog) options() []shutdown.Option {
	rec := func(hook string) func(string, error, time.Duration) {
		return func(name string, err error, took time.Duration) {
			e := hookEvent{hook: hook, name: name, took: took}
			if err != nil {
				e.err = err.Error()
			}
			l.mu.Lock()
			l.events = append(l.events, e)
			l.mu.Unlock()
		}
	}
	return []shutdown.Option{shutdown.OnStart(rec("start")), shutdown.OnStop(rec("stop"))}
}

func (l *hookLog) get() []hookEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]hookEvent(nil), l.events...)
}

// The hooks see each start and stop of a scripted run, with its outcome and
// its exact duration: a Start that returns once ready, one that blocks and
// marks itself ready, a Stop that fails.
func TestHooksSeeEveryStartAndStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log hookLog
		g := shutdown.New(append(log.options(), shutdown.DrainDelay(time.Second))...)
		g.Add("db", shutdown.Func(func(context.Context) error {
			time.Sleep(time.Second)
			return nil
		}, func(context.Context) error {
			time.Sleep(500 * time.Millisecond)
			return errors.New("flush failed")
		}))
		stop := make(chan struct{})
		g.Add("api", shutdown.Func(func(ctx context.Context) error {
			time.Sleep(2 * time.Second)
			shutdown.MarkReady(ctx)
			<-stop
			return nil
		}, func(context.Context) error {
			time.Sleep(3 * time.Second)
			close(stop)
			return nil
		}))
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-g.Started(); time.Sleep(time.Minute); cancel() }()
		err := g.Run(ctx)
		require.Error(t, err)
		assert.Equal(t, []hookEvent{
			{"start", "db", "", time.Second},
			{"start", "api", "", 2 * time.Second},
			{"stop", "api", "", 3 * time.Second},
			{"stop", "db", `shutdown: stop "db": flush failed`, 500 * time.Millisecond},
		}, log.get())
	})
}

// A Start that fails is reported to OnStart with the *StartError Run
// returns, and not to OnStop, since it is not stopped.
func TestOnStartSeesAFailedStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log hookLog
		g := shutdown.New(log.options()...)
		g.Add("db", shutdown.Func(nil, nil))
		g.Add("cache", shutdown.Func(func(context.Context) error {
			time.Sleep(250 * time.Millisecond)
			return errors.New("no route")
		}, nil))
		g.Add("api", shutdown.Func(nil, nil))
		err := g.Run(context.Background())
		var se *shutdown.StartError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, []hookEvent{
			{"start", "db", "", 0},
			{"start", "cache", `shutdown: start "cache": no route`, 250 * time.Millisecond},
			{"stop", "db", "", 0},
		}, log.get())
	})
}

// A component still starting when shutdown begins is reported to OnStart
// with ErrInterrupted, after the time it was given, and then stopped.
func TestOnStartSeesAnInterruptedStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var errs []error
		var tooks []time.Duration
		g := shutdown.New(shutdown.OnStart(func(name string, err error, took time.Duration) {
			errs = append(errs, err)
			tooks = append(tooks, took)
		}))
		g.Add("slow", shutdown.Func(func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		}, nil))
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		defer cancel()
		require.NoError(t, g.Run(ctx))
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], shutdown.ErrInterrupted)
		assert.Equal(t, []time.Duration{4 * time.Second}, tooks)
	})
}

// A panic or runtime.Goexit in the OnStart hook is reported by Run, and the
// group still starts and stops every component.
func TestOnStartHookPanicAndGoexitAreReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var starts, stops []string
		g := shutdown.New(shutdown.DrainDelay(0), shutdown.OnStart(func(name string, _ error, _ time.Duration) {
			switch name {
			case "db":
				panic("hook bug")
			case "api":
				runtime.Goexit()
			}
		}))
		for _, name := range []string{"db", "api", "jobs"} {
			g.Add(name, shutdown.Func(func(context.Context) error {
				starts = append(starts, name)
				return nil
			}, func(context.Context) error {
				stops = append(stops, name)
				return nil
			}))
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-g.Started(); cancel() }()
		err := g.Run(ctx)
		var pe *weft.PanicError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "hook bug", pe.Value)
		assert.ErrorIs(t, err, weft.ErrGoexit)
		assert.Contains(t, err.Error(), `OnStart hook for "db"`)
		assert.Contains(t, err.Error(), `OnStart hook for "api"`)
		assert.Equal(t, []string{"db", "api", "jobs"}, starts)
		assert.Equal(t, []string{"jobs", "api", "db"}, stops)
	})
}

func TestOnStartNilPanics(t *testing.T) {
	assert.PanicsWithValue(t, "shutdown: OnStart(nil)", func() { shutdown.OnStart(nil) })
}
