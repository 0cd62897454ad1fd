package fanout_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft/fanout"
)

// inCall runs f as the only call of a Gather with the given timeout and
// parent, and returns its result.
func inCall(parent context.Context, timeout time.Duration, f func(ctx context.Context) (string, error)) fanout.Result[string] {
	rs, _ := fanout.Gather(parent, fanout.Optional("probe", timeout, f))
	return rs[0]
}

type key struct{}

// A call's context answers like a standard one: deadline, values, Err that
// is nil until Done is closed, and a cause.
func TestCallContextBasics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent := context.WithValue(context.Background(), key{}, "v")
		start := time.Now()
		inCall(parent, time.Second, func(ctx context.Context) (string, error) {
			if d, ok := ctx.Deadline(); !ok || !d.Equal(start.Add(time.Second)) {
				t.Errorf("Deadline() = %v, %v; want %v, true", d, ok, start.Add(time.Second))
			}
			if v := ctx.Value(key{}); v != "v" {
				t.Errorf("Value(key) = %v, want v", v)
			}
			if err := ctx.Err(); err != nil {
				t.Errorf("Err() = %v before the deadline", err)
			}
			if s := ctx.(interface{ String() string }).String(); !strings.Contains(s, `Gather("probe")`) {
				t.Errorf("String() = %q, want it to name the call", s)
			}
			done := ctx.Done()
			if done != ctx.Done() {
				t.Error("Done() returned two channels")
			}
			time.Sleep(time.Second - time.Nanosecond)
			synctest.Wait()
			select {
			case <-done:
				t.Error("Done closed before the deadline")
			default:
			}
			if err := ctx.Err(); err != nil {
				t.Errorf("Err() = %v before the deadline", err)
			}
			<-done
			if time.Since(start) != time.Second {
				t.Errorf("Done closed after %v, want 1s", time.Since(start))
			}
			if err := ctx.Err(); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Err() = %v after the deadline, want DeadlineExceeded", err)
			}
			if err := context.Cause(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("context.Cause() = %v after the deadline, want DeadlineExceeded", err)
			}
			return "", ctx.Err()
		})
	})
}

// A call that never asks for Done still sees Err change at its deadline,
// with no timer behind it.
func TestCallContextErrWithoutDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := inCall(context.Background(), 10*time.Millisecond, func(ctx context.Context) (string, error) {
			for ctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
			return "", ctx.Err()
		})
		if r.Status != fanout.TimedOut || r.Duration != 10*time.Millisecond {
			t.Fatalf("result %v after %v, want timed out after 10ms", r.Status, r.Duration)
		}
		// Err must not turn non-nil while Done is open.
		inCall(context.Background(), 10*time.Millisecond, func(ctx context.Context) (string, error) {
			time.Sleep(20 * time.Millisecond)
			if ctx.Err() == nil {
				t.Error("Err() = nil after the deadline")
			}
			select {
			case <-ctx.Done():
			default:
				t.Error("Done open while Err is set")
			}
			return "", nil
		})
	})
}

// Done asked for after the context is done is closed at once.
func TestCallContextDoneAfterTheFact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var leaked context.Context
		inCall(context.Background(), 0, func(ctx context.Context) (string, error) {
			leaked = ctx
			return "", nil
		})
		// Once the call has returned its context is done, as one from
		// WithTimeout is after its cancel.
		if !closedNowStruct(leaked.Done()) || !errors.Is(leaked.Err(), context.Canceled) {
			t.Fatalf("context after the call returned: Err() = %v, want a closed Done and Canceled", leaked.Err())
		}
		ran := make(chan struct{})
		stop := context.AfterFunc(leaked, func() { close(ran) })
		<-ran
		if stop() {
			t.Fatal("stop() = true for an AfterFunc that has run")
		}
	})
}

func closedNowStruct(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Contexts derived from a call's context follow it without a goroutine each,
// and context.AfterFunc on it runs once and can be stopped.
func TestCallContextDerived(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ran, stopped atomic.Int32
		r := inCall(context.Background(), 50*time.Millisecond, func(ctx context.Context) (string, error) {
			child, cancel := context.WithCancel(ctx)
			defer cancel()
			grandchild, cancel2 := context.WithTimeout(child, time.Hour)
			defer cancel2()
			context.AfterFunc(ctx, func() { ran.Add(1) })
			stop := context.AfterFunc(ctx, func() { stopped.Add(1) })
			if !stop() {
				t.Error("stop() = false for an AfterFunc that has not run")
			}
			if stop() {
				t.Error("second stop() = true")
			}
			<-grandchild.Done()
			if err := grandchild.Err(); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("grandchild Err() = %v, want DeadlineExceeded from the call's timeout", err)
			}
			return "", grandchild.Err()
		})
		synctest.Wait()
		if r.Status != fanout.TimedOut || r.Duration != 50*time.Millisecond {
			t.Fatalf("result %v after %v, want timed out after 50ms", r.Status, r.Duration)
		}
		if ran.Load() != 1 || stopped.Load() != 0 {
			t.Fatalf("AfterFuncs ran %d and %d times, want 1 and 0", ran.Load(), stopped.Load())
		}
	})
}

// A parent cancelled with a cause: the call's context reports the parent's
// error and the cause.
func TestCallContextParentCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errStop := errors.New("stop")
		parent, cancel := context.WithCancelCause(context.Background())
		time.AfterFunc(time.Millisecond, func() { cancel(errStop) })
		r := inCall(parent, time.Hour, func(ctx context.Context) (string, error) {
			<-ctx.Done()
			if !errors.Is(ctx.Err(), context.Canceled) || !errors.Is(context.Cause(ctx), errStop) {
				t.Errorf("Err() = %v, Cause = %v; want Canceled and %v", ctx.Err(), context.Cause(ctx), errStop)
			}
			return "", ctx.Err()
		})
		if r.Status != fanout.Canceled {
			t.Fatalf("status %v, want canceled", r.Status)
		}
	})
}

// Deadlines of several calls share one timer, which fires for each in turn.
func TestCallContextSharedTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		wait := func(ctx context.Context) (string, error) { <-ctx.Done(); return "", ctx.Err() }
		rs, _ := fanout.Gather(context.Background(),
			fanout.Optional("30", 30*time.Millisecond, wait),
			fanout.Optional("10", 10*time.Millisecond, wait),
			fanout.Optional("20", 20*time.Millisecond, wait),
			fanout.Optional("10 again", 10*time.Millisecond, wait),
		)
		for _, r := range rs {
			want := map[string]time.Duration{"30": 30, "10": 10, "20": 20, "10 again": 10}[r.Name] * time.Millisecond
			if r.Status != fanout.TimedOut || r.Duration != want {
				t.Errorf("call %s: %v after %v, want timed out after %v", r.Name, r.Status, r.Duration, want)
			}
		}
	})
}

// The AfterFunc method, as contexts derived from a call's context use it:
// on a context already done it runs f at once, and a stop after f started
// reports false.
func TestCallContextAfterFuncMethod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type afterFuncer interface {
			AfterFunc(func()) func() bool
		}
		inCall(context.Background(), 10*time.Millisecond, func(ctx context.Context) (string, error) {
			af, ok := ctx.(afterFuncer)
			if !ok {
				t.Fatal("a call's context has no AfterFunc method")
			}
			ran := make(chan struct{})
			stop := af.AfterFunc(func() { close(ran) })
			<-ran // at the deadline
			if stop() {
				t.Error("stop() = true after f ran")
			}
			again := make(chan struct{})
			if af.AfterFunc(func() { close(again) })() {
				t.Error("stop() = true for an AfterFunc on a done context")
			}
			<-again
			return "", ctx.Err()
		})
	})
}

// plain hides the String method of the context it holds.
type plain struct{ context.Context }

// A call that polls Err sees its parent's cancellation, and the context of a
// parent without a String method still names the call.
func TestCallContextPollsParent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancel(context.Background())
		time.AfterFunc(4*time.Millisecond+halfMillisecond, cancel) // between two polls
		r := inCall(plain{parent}, 0, func(ctx context.Context) (string, error) {
			if s := ctx.(interface{ String() string }).String(); s != `context.Gather("probe")` {
				t.Errorf("String() = %q", s)
			}
			for ctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
			return "", ctx.Err()
		})
		if r.Status != fanout.Canceled || r.Duration != 5*time.Millisecond {
			t.Fatalf("result %v after %v, want canceled after 5ms", r.Status, r.Duration)
		}
	})
}
