package fanout_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/fanout"
)

var errBoom = errors.New("boom")

// after returns a call that waits d, or until its context is done, and then
// returns v and err.
func after(d time.Duration, v string, err error) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		select {
		case <-time.After(d):
			return v, err
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

type want struct {
	status fanout.Status
	value  string
	dur    time.Duration
}

func checkResults(t *testing.T, rs fanout.Results[string], wants ...want) {
	t.Helper()
	if len(rs) != len(wants) {
		t.Fatalf("got %d results, want %d", len(rs), len(wants))
	}
	for i, w := range wants {
		r := rs[i]
		if r.Status != w.status || r.Value != w.value || r.Duration != w.dur {
			t.Errorf("result %d (%s) = %v %q after %v (err %v), want %v %q after %v", i, r.Name, r.Status, r.Value, r.Duration, r.Err, w.status, w.value, w.dur)
		}
	}
}

func TestGatherAllOK(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		rs, err := fanout.Gather(context.Background(),
			fanout.Required("a", 0, after(30*time.Millisecond, "A", nil)),
			fanout.Optional("b", time.Second, after(10*time.Millisecond, "B", nil)),
			fanout.Required("c", time.Second, after(20*time.Millisecond, "C", nil)),
		)
		if err != nil {
			t.Fatalf("Gather() error = %v, want nil", err)
		}
		if d := time.Since(start); d != 30*time.Millisecond {
			t.Fatalf("Gather took %v, want 30ms", d)
		}
		checkResults(t, rs,
			want{fanout.OK, "A", 30 * time.Millisecond},
			want{fanout.OK, "B", 10 * time.Millisecond},
			want{fanout.OK, "C", 20 * time.Millisecond},
		)
		if rs.Degraded() {
			t.Fatal("Degraded() = true with every call OK")
		}
		if rs[0].Name != "a" || rs[0].Optional || !rs[1].Optional {
			t.Fatalf("names and optional flags not kept: %+v", rs)
		}
	})
}

// The seed pattern: the optional call gets 150ms, times out, and the answer
// is degraded, not failed.
func TestGatherOptionalTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		rs, err := fanout.Gather(ctx,
			fanout.Required("profile", 0, after(40*time.Millisecond, "P", nil)),
			fanout.Required("cart", 0, after(60*time.Millisecond, "C", nil)),
			fanout.Optional("recs", 150*time.Millisecond, after(time.Second, "R", nil)),
		)
		if err != nil {
			t.Fatalf("Gather() error = %v, want nil", err)
		}
		if d := time.Since(start); d != 150*time.Millisecond {
			t.Fatalf("Gather took %v, want 150ms", d)
		}
		checkResults(t, rs,
			want{fanout.OK, "P", 40 * time.Millisecond},
			want{fanout.OK, "C", 60 * time.Millisecond},
			want{fanout.TimedOut, "", 150 * time.Millisecond},
		)
		if !errors.Is(rs[2].Err, context.DeadlineExceeded) {
			t.Fatalf("timed-out call's Err = %v, want DeadlineExceeded", rs[2].Err)
		}
		if !rs.Degraded() {
			t.Fatal("Degraded() = false with an optional call timed out")
		}
	})
}

func TestGatherRequiredFailureCancelsTheRest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		rs, err := fanout.Gather(context.Background(),
			fanout.Optional("slow", 0, after(time.Hour, "S", nil)),
			fanout.Required("bad", 0, after(10*time.Millisecond, "", errBoom)),
			fanout.Required("other", time.Hour, after(time.Hour, "O", nil)),
		)
		if d := time.Since(start); d != 10*time.Millisecond {
			t.Fatalf("Gather took %v, want 10ms", d)
		}
		checkResults(t, rs,
			want{fanout.Canceled, "", 10 * time.Millisecond},
			want{fanout.Failed, "", 10 * time.Millisecond},
			want{fanout.Canceled, "", 10 * time.Millisecond},
		)
		var ce *fanout.CallError
		if !errors.As(err, &ce) || ce.Name != "bad" || ce.Index != 1 || ce.Status != fanout.Failed {
			t.Fatalf("Gather() error = %#v, want a CallError for call 1 %q", err, "bad")
		}
		if !errors.Is(err, errBoom) {
			t.Fatalf("errors.Is(%v, errBoom) = false", err)
		}
		if want := `fanout: required call "bad" failed: boom`; err.Error() != want {
			t.Fatalf("Error() = %q, want %q", err.Error(), want)
		}
	})
}

func TestGatherRequiredTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rs, err := fanout.Gather(context.Background(),
			fanout.Required("db", 50*time.Millisecond, after(time.Second, "D", nil)),
			fanout.Optional("cache", 0, after(time.Second, "C", nil)),
		)
		checkResults(t, rs,
			want{fanout.TimedOut, "", 50 * time.Millisecond},
			want{fanout.Canceled, "", 50 * time.Millisecond},
		)
		var ce *fanout.CallError
		if !errors.As(err, &ce) || ce.Status != fanout.TimedOut || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Gather() error = %v, want a timed-out CallError", err)
		}
		if want := `fanout: required call "db" timed out: context deadline exceeded`; err.Error() != want {
			t.Fatalf("Error() = %q, want %q", err.Error(), want)
		}
	})
}

func TestGatherPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rs, err := fanout.Gather(context.Background(),
			fanout.Optional("flaky", 0, func(context.Context) (string, error) { panic("optional bug") }),
			fanout.Required("fine", 0, after(time.Millisecond, "F", nil)),
		)
		if err != nil {
			t.Fatalf("Gather() error = %v, want nil", err)
		}
		var pe *weft.PanicError
		if rs[0].Status != fanout.Panicked || !errors.As(rs[0].Err, &pe) || pe.Value != "optional bug" {
			t.Fatalf("result 0 = %v %v, want Panicked with the panic", rs[0].Status, rs[0].Err)
		}
		if !rs.Degraded() {
			t.Fatal("Degraded() = false with a panicked optional call")
		}

		_, err = fanout.Gather(context.Background(),
			fanout.Required("fine", 0, after(time.Hour, "F", nil)),
			fanout.Required("", 0, func(context.Context) (string, error) { panic(errBoom) }),
		)
		var ce *fanout.CallError
		if !errors.As(err, &ce) || ce.Status != fanout.Panicked || !errors.As(err, &pe) || !errors.Is(err, errBoom) {
			t.Fatalf("Gather() error = %v, want a CallError holding a PanicError of errBoom", err)
		}
		if want := `fanout: required call #1 panicked: weft: panic: boom`; err.Error() != want {
			t.Fatalf("Error() = %q, want %q", err.Error(), want)
		}
	})
}

// A call that returns an error wrapping a panic from code it called has
// failed; it did not panic itself.
func TestGatherReturnedPanicErrorIsAFailure(t *testing.T) {
	rs, _ := fanout.Gather(context.Background(),
		fanout.Optional("a", 0, func(context.Context) (string, error) { return "", &weft.PanicError{Value: 1} }),
		fanout.Optional("b", 0, func(context.Context) (string, error) { return "", nil }),
	)
	if rs[0].Status != fanout.Failed {
		t.Fatalf("status %v, want failed", rs[0].Status)
	}
}

func TestGatherGoexit(t *testing.T) {
	for _, last := range []bool{false, true} {
		t.Run(fmt.Sprint("caller's goroutine: ", last), func(t *testing.T) {
			goexit := func(context.Context) (string, error) { runtime.Goexit(); return "", nil }
			ok := func(context.Context) (string, error) { return "ok", nil }
			calls := []fanout.Call[string]{fanout.Optional("exit", 0, goexit), fanout.Required("ok", 0, ok)}
			if last {
				calls[0], calls[1] = calls[1], calls[0]
				done := make(chan struct{})
				go func() {
					defer close(done)
					fanout.Gather(context.Background(), calls...)
					t.Error("Gather returned after a Goexit on its own goroutine")
				}()
				<-done
				return
			}
			rs, err := fanout.Gather(context.Background(), calls...)
			if err != nil || rs[0].Status != fanout.Failed || !errors.Is(rs[0].Err, weft.ErrGoexit) {
				t.Fatalf("Gather = %+v, %v; want call 0 failed with ErrGoexit", rs, err)
			}
		})
	}
}

// A Goexit in the call on the caller's goroutine still cancels and joins
// the others.
func TestGatherGoexitOnCallerJoinsTheOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var other error
		exited := make(chan struct{})
		go func() {
			defer close(exited)
			fanout.Gather(context.Background(),
				fanout.Required("slow", 0, func(ctx context.Context) (string, error) {
					<-ctx.Done()
					other = ctx.Err()
					return "", ctx.Err()
				}),
				fanout.Required("exit", 0, func(context.Context) (string, error) { runtime.Goexit(); return "", nil }),
			)
		}()
		<-exited
		if !errors.Is(other, context.Canceled) {
			t.Fatalf("the other call's ctx ended with %v, want Canceled", other)
		}
	})
}

func TestGatherContextDoneBeforeStart(t *testing.T) {
	errStop := errors.New("stop")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errStop)
	ran := false
	call := func(context.Context) (string, error) { ran = true; return "", nil }
	rs, err := fanout.Gather(ctx, fanout.Optional("a", 0, call), fanout.Required("b", 0, call), fanout.Required("c", 0, call))
	if ran {
		t.Fatal("a call ran on a done context")
	}
	for _, r := range rs {
		if r.Status != fanout.Canceled || !errors.Is(r.Err, errStop) {
			t.Fatalf("result %s = %v %v, want canceled with the cause", r.Name, r.Status, r.Err)
		}
	}
	var ce *fanout.CallError
	if !errors.As(err, &ce) || ce.Name != "b" || !errors.Is(err, errStop) {
		t.Fatalf("Gather() error = %v, want a CallError for b with the cause", err)
	}

	dctx, dcancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer dcancel()
	rs, err = fanout.Gather(dctx, fanout.Optional("a", 0, call))
	if err != nil || rs[0].Status != fanout.TimedOut || !rs.Degraded() {
		t.Fatalf("Gather after the deadline = %+v, %v; want a timed-out optional call and no error", rs, err)
	}
}

func TestGatherParentCancelledOrExpired(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		rs, err := fanout.Gather(ctx,
			fanout.Required("a", time.Second, after(time.Hour, "A", nil)),
			fanout.Optional("b", 0, after(time.Hour, "B", nil)),
		)
		checkResults(t, rs,
			want{fanout.Canceled, "", 20 * time.Millisecond},
			want{fanout.Canceled, "", 20 * time.Millisecond},
		)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Gather() error = %v, want context.Canceled in it", err)
		}

		// The parent's deadline comes before the call's own timeout.
		dctx, dcancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer dcancel()
		var deadline time.Time
		rs, _ = fanout.Gather(dctx, fanout.Optional("a", time.Second, func(ctx context.Context) (string, error) {
			deadline, _ = ctx.Deadline()
			return after(time.Hour, "A", nil)(ctx)
		}))
		checkResults(t, rs, want{fanout.TimedOut, "", 30 * time.Millisecond})
		if want, _ := dctx.Deadline(); !deadline.Equal(want) {
			t.Fatalf("call's Deadline() = %v, want the parent's %v", deadline, want)
		}
	})
}

// A Gather ended by its context carries context.Cause of it, whether the
// context was done before Gather began or while the calls ran, and whether
// it was cancelled or reached its deadline.
func TestGatherCarriesTheCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cause := errors.New("client went away")
		wait := func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, ctx.Err() }

		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(cause)
		_, before := fanout.Gather(ctx, fanout.Required("a", 0, wait))

		ctx, cancel = context.WithCancelCause(context.Background())
		time.AfterFunc(time.Millisecond, func() { cancel(cause) })
		_, during := fanout.Gather(ctx, fanout.Required("a", 0, wait))

		dctx, dcancel := context.WithTimeoutCause(context.Background(), time.Millisecond, cause)
		defer dcancel()
		_, deadline := fanout.Gather(dctx, fanout.Required("a", time.Hour, wait))

		for _, err := range []error{before, during, deadline} {
			var ce *fanout.CallError
			if !errors.Is(err, cause) || !errors.As(err, &ce) || ce.Name != "a" {
				t.Errorf("Gather() error = %v, want a *CallError naming a that carries the cause", err)
			}
		}
		if got, want := during.Error(), `fanout: required call "a" was canceled: context canceled (client went away)`; got != want {
			t.Errorf("Error() = %q, want %q", got, want)
		}
	})
}

// A call that ignores its context is waited for; a success that comes late
// is still a success.
func TestGatherWaitsForCallsThatIgnoreTheirContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		rs, _ := fanout.Gather(context.Background(),
			fanout.Optional("stubborn", 10*time.Millisecond, func(context.Context) (string, error) {
				time.Sleep(50 * time.Millisecond)
				return "late", nil
			}),
			fanout.Optional("stubborn-fail", 10*time.Millisecond, func(context.Context) (string, error) {
				time.Sleep(50 * time.Millisecond)
				return "", errBoom
			}),
			fanout.Optional("in time", 100*time.Millisecond, func(context.Context) (string, error) {
				time.Sleep(50 * time.Millisecond)
				return "", errBoom
			}),
		)
		if d := time.Since(start); d != 50*time.Millisecond {
			t.Fatalf("Gather took %v, want 50ms", d)
		}
		checkResults(t, rs,
			want{fanout.OK, "late", 50 * time.Millisecond},
			want{fanout.TimedOut, "", 50 * time.Millisecond},
			want{fanout.Failed, "", 50 * time.Millisecond},
		)
	})
}

func TestGatherManyCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls []fanout.Call[string]
		for i := range 9 {
			calls = append(calls, fanout.Optional(fmt.Sprint(i), time.Duration(i)*10*time.Millisecond+5*time.Millisecond,
				after(40*time.Millisecond, fmt.Sprint(i), nil)))
		}
		rs, err := fanout.Gather(context.Background(), calls...)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rs {
			wantStatus := fanout.OK
			if i < 4 {
				wantStatus = fanout.TimedOut
			}
			if r.Status != wantStatus || r.Name != fmt.Sprint(i) {
				t.Errorf("result %d = %s %v, want %d %v", i, r.Name, r.Status, i, wantStatus)
			}
		}
	})
}

func TestGatherNoCalls(t *testing.T) {
	rs, err := fanout.Gather[int](context.Background())
	if rs != nil || err != nil {
		t.Fatalf("Gather() = %v, %v, want nil, nil", rs, err)
	}
}

func TestGatherMisuse(t *testing.T) {
	ok := func(context.Context) (int, error) { return 0, nil }
	wantPanic(t, `fanout: Gather: call 1 ("b") has a nil Fn`, func() {
		fanout.Gather(context.Background(), fanout.Required("a", 0, ok), fanout.Required[int]("b", 0, nil))
	})
	wantPanic(t, `fanout: Gather: call 0 ("a") has a negative Timeout -1s`, func() {
		fanout.Gather(context.Background(), fanout.Required("a", -time.Second, ok))
	})
	wantPanic(t, "fanout: Gather with a nil context", func() {
		//lint:ignore SA1012 the nil context is the point of the test
		fanout.Gather(nil, fanout.Required("a", 0, ok))
	})
}

func TestStatusString(t *testing.T) {
	tests := []struct {
		s    fanout.Status
		want string
	}{
		{fanout.OK, "ok"},
		{fanout.Failed, "failed"},
		{fanout.TimedOut, "timed out"},
		{fanout.Canceled, "canceled"},
		{fanout.Panicked, "panicked"},
		{fanout.Status(0), "Status(0)"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("Status(%d).String() = %q, want %q", uint8(tt.s), got, tt.want)
		}
	}
}

func TestCallErrorMessage(t *testing.T) {
	tests := []struct {
		err  *fanout.CallError
		want string
	}{
		{&fanout.CallError{Name: "db", Status: fanout.Canceled, Err: context.Canceled}, `fanout: required call "db" was canceled: context canceled`},
		{&fanout.CallError{Index: 3, Status: fanout.Failed, Err: errBoom}, `fanout: required call #3 failed: boom`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestResultsDegraded(t *testing.T) {
	tests := []struct {
		rs   fanout.Results[int]
		want bool
	}{
		{nil, false},
		{fanout.Results[int]{{Status: fanout.OK}, {Optional: true, Status: fanout.OK}}, false},
		{fanout.Results[int]{{Status: fanout.Failed}, {Optional: true, Status: fanout.OK}}, false},
		{fanout.Results[int]{{Status: fanout.OK}, {Optional: true, Status: fanout.Canceled}}, true},
	}
	for _, tt := range tests {
		if got := tt.rs.Degraded(); got != tt.want {
			t.Errorf("%+v.Degraded() = %v, want %v", tt.rs, got, tt.want)
		}
	}
}

// context.Cause on a call's context says why the call ended, as it would on
// a context from context.WithTimeout: its own deadline or a required call's
// failure, not a cancellation of Gather's context that came after.
func TestGatherCallContextCause(t *testing.T) {
	errLater := errors.New("client went away")
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancelCause(context.Background())
		go func() { time.Sleep(15 * time.Millisecond); cancel(errLater) }()
		var own, derived error
		fanout.Gather(parent, fanout.Optional("slow", 10*time.Millisecond, func(ctx context.Context) (int, error) {
			d, dcancel := context.WithCancel(ctx)
			defer dcancel()
			<-ctx.Done()
			time.Sleep(10 * time.Millisecond) // cleaning up while the parent ends
			own, derived = context.Cause(ctx), context.Cause(d)
			return 0, ctx.Err()
		}))
		if !errors.Is(own, context.DeadlineExceeded) || !errors.Is(derived, context.DeadlineExceeded) {
			t.Fatalf("Cause = %v, of a derived context %v; want the call's own deadline", own, derived)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		parent, cancel := context.WithCancelCause(context.Background())
		go func() { time.Sleep(15 * time.Millisecond); cancel(errLater) }()
		var got error
		fanout.Gather(parent,
			fanout.Optional("slow", 0, func(ctx context.Context) (int, error) {
				<-ctx.Done()
				time.Sleep(20 * time.Millisecond)
				got = context.Cause(ctx)
				return 0, ctx.Err()
			}),
			fanout.Required("bad", 0, func(context.Context) (int, error) {
				time.Sleep(10 * time.Millisecond)
				return 0, errBoom
			}))
		if errors.Is(got, errLater) || !errors.Is(got, context.Canceled) {
			t.Fatalf("Cause = %v, want the sibling's cancellation, not the parent's later cause", got)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		// Ended by the parent: the parent's cause, as a derived context has.
		parent, cancel := context.WithCancelCause(context.Background())
		go func() { time.Sleep(5 * time.Millisecond); cancel(errLater) }()
		var got error
		fanout.Gather(parent, fanout.Optional("slow", 0, func(ctx context.Context) (int, error) {
			<-ctx.Done()
			got = context.Cause(ctx)
			return 0, ctx.Err()
		}))
		if !errors.Is(got, errLater) {
			t.Fatalf("Cause = %v, want the parent's cause", got)
		}
	})
}
