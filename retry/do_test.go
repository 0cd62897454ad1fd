package retry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft/retry"
)

// attemptTimes runs f under p and ctx and returns the times, since the
// start, at which the attempts began, and the error.
func attemptTimes(ctx context.Context, p retry.Policy, f func(ctx context.Context, call int) error) ([]time.Duration, error) {
	start := time.Now()
	var at []time.Duration
	err := retry.Run(ctx, p, func(ctx context.Context) error {
		at = append(at, time.Since(start))
		return f(ctx, len(at))
	})
	return at, err
}

func alwaysFail(context.Context, int) error { return errTransient }

func TestDoReturnsTheValue(t *testing.T) {
	calls := 0
	v, err := retry.Do(context.Background(), instant, func(context.Context) (int, error) {
		calls++
		if calls < 3 {
			return -1, errTransient
		}
		return 42, nil
	})
	if v != 42 || err != nil {
		t.Errorf("Do = %v, %v; want 42, nil", v, err)
	}
	v, err = retry.Do(context.Background(), instant, func(context.Context) (int, error) { return -1, errTransient })
	if v != 0 || err == nil {
		t.Errorf("Do = %v, %v; want the zero value and an error", v, err)
	}
}

func TestDoWaitsTheBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.New(retry.Attempts(5), retry.Exponential(time.Second, 2, 5*time.Second), retry.NoJitter())
		at, err := attemptTimes(t.Context(), p, alwaysFail)
		if want := "[0s 1s 3s 7s 12s]"; fmt.Sprint(at) != want {
			t.Errorf("attempts at %v, want %v", at, want)
		}
		var re *retry.Error
		if !errors.As(err, &re) || re.Cause != retry.ErrExhausted || re.Attempts != 5 || re.Last != errTransient {
			t.Fatalf("Run = %#v, want ErrExhausted after 5 attempts with the last error", err)
		}
		// Without MaxElapsed, Elapsed runs from the end of the first attempt.
		if re.Elapsed != 12*time.Second {
			t.Errorf("Elapsed = %v, want 12s", re.Elapsed)
		}
	})
}

// The policy gives up before an attempt that would start after MaxElapsed,
// counting the time the attempts took, and says so.
func TestDoMaxElapsed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.New(retry.Attempts(retry.Unlimited), retry.Constant(3*time.Second), retry.NoJitter(), retry.MaxElapsed(10*time.Second))
		at, err := attemptTimes(t.Context(), p, alwaysFail)
		var re *retry.Error
		if fmt.Sprint(at) != "[0s 3s 6s 9s]" || !errors.As(err, &re) || re.Cause != retry.ErrMaxElapsed {
			t.Fatalf("attempts at %v, %v; want [0s 3s 6s 9s], ErrMaxElapsed", at, err)
		}
		if re.Elapsed != 9*time.Second || re.Attempts != 4 {
			t.Errorf("Elapsed, Attempts = %v, %d; want 9s, 4", re.Elapsed, re.Attempts)
		}

		slow := func(ctx context.Context, call int) error {
			time.Sleep(4 * time.Second)
			return errTransient
		}
		p = p.With(retry.Constant(time.Second))
		at, err = attemptTimes(t.Context(), p, slow)
		// Attempts end at 4s, 9s, 14s: the third starts at exactly 10s,
		// which is allowed; after it 14s have passed.
		if fmt.Sprint(at) != "[0s 5s 10s]" || !errors.As(err, &re) || re.Cause != retry.ErrMaxElapsed || re.Elapsed != 14*time.Second {
			t.Errorf("slow attempts at %v, %v; want [0s 5s 10s], ErrMaxElapsed after 14s", at, err)
		}
	})
}

// A wait that would end at or after the caller's deadline is not started:
// the call gives up at once with ErrDeadline and the last error.
func TestDoSkipsAWaitPastTheDeadline(t *testing.T) {
	tests := []struct {
		deadline time.Duration
		wantAt   string
		wantEnd  time.Duration
	}{
		{5 * time.Second, "[0s 2s 4s]", 4 * time.Second},
		{4 * time.Second, "[0s 2s]", 2 * time.Second}, // a wait ending exactly at the deadline is pointless
		{4*time.Second + 1, "[0s 2s 4s]", 4 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.deadline.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(t.Context(), tt.deadline)
				defer cancel()
				start := time.Now()
				p := retry.New(retry.Attempts(retry.Unlimited), retry.Constant(2*time.Second), retry.NoJitter())
				at, err := attemptTimes(ctx, p, alwaysFail)
				if fmt.Sprint(at) != tt.wantAt || !errors.Is(err, retry.ErrDeadline) || !errors.Is(err, errTransient) {
					t.Errorf("attempts at %v, %v; want %v, ErrDeadline with the last error", at, err, tt.wantAt)
				}
				if end := time.Since(start); end != tt.wantEnd {
					t.Errorf("returned after %v, want %v", end, tt.wantEnd)
				}
			})
		})
	}
}

// Each attempt gets its own timeout; an attempt that times out is retried,
// and the caller's own deadline ends the call.
func TestDoAttemptTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.New(retry.Attempts(3), retry.Constant(time.Second), retry.NoJitter(), retry.AttemptTimeout(2*time.Second))
		hang := func(ctx context.Context, call int) error {
			<-ctx.Done()
			return ctx.Err()
		}
		at, err := attemptTimes(t.Context(), p, hang)
		if fmt.Sprint(at) != "[0s 3s 6s]" || !errors.Is(err, retry.ErrExhausted) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("attempts at %v, %v; want [0s 3s 6s], ErrExhausted after timeouts", at, err)
		}

		ctx, cancel := context.WithTimeout(t.Context(), 4*time.Second)
		defer cancel()
		start := time.Now()
		at, err = attemptTimes(ctx, p, hang)
		var re *retry.Error
		if fmt.Sprint(at) != "[0s 3s]" || !errors.As(err, &re) || re.Cause != context.DeadlineExceeded {
			t.Errorf("with a 4s deadline: attempts at %v, %v; want [0s 3s], the caller's deadline", at, err)
		}
		if time.Since(start) != 4*time.Second {
			t.Errorf("returned after %v, want 4s", time.Since(start))
		}

		// The attempt's context is a child of the caller's: values pass.
		type key struct{}
		vctx := context.WithValue(t.Context(), key{}, "v")
		_ = retry.Run(vctx, p, func(ctx context.Context) error {
			if dl, ok := ctx.Deadline(); ctx.Value(key{}) != "v" || !ok || time.Until(dl) != 2*time.Second {
				t.Errorf("attempt context: value %v, deadline in %v; want the caller's value and 2s", ctx.Value(key{}), time.Until(dl))
			}
			return nil
		})
	})
}

func TestDoContextDoneBeforeTheFirstAttempt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	_, err := retry.Do(ctx, instant, func(context.Context) (int, error) { calls++; return 0, nil })
	var re *retry.Error
	if calls != 0 || !errors.As(err, &re) || re.Cause != context.Canceled || re.Attempts != 0 || re.Last != nil {
		t.Errorf("Do = %v after %d calls, want context.Canceled before any attempt", err, calls)
	}
	// With MaxElapsed the call takes the other path in.
	_, err = retry.Do(ctx, instant.With(retry.MaxElapsed(time.Hour)), func(context.Context) (int, error) { calls++; return 0, nil })
	if calls != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("Do with MaxElapsed = %v after %d calls, want context.Canceled before any attempt", err, calls)
	}
}

// A caller that cancels during an attempt ends the call when the attempt
// returns, even if the attempt's error would be retried.
func TestDoCancelDuringAnAttempt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	err := retry.Run(ctx, instant, func(context.Context) error {
		calls++
		cancel()
		return errTransient
	})
	var re *retry.Error
	if calls != 1 || !errors.As(err, &re) || re.Cause != context.Canceled || re.Last != errTransient {
		t.Errorf("Run = %v after %d calls, want context.Canceled with the last error after 1", err, calls)
	}
	// A success still counts, even if the caller cancelled meanwhile.
	ctx, cancel = context.WithCancel(context.Background())
	err = retry.Run(ctx, instant, func(context.Context) error { cancel(); return nil })
	if err != nil {
		t.Errorf("Run = %v, want nil: the attempt succeeded", err)
	}
}

func TestDoZeroDelayDoesNotSleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		at, err := attemptTimes(t.Context(), retry.New(retry.Attempts(50), retry.Constant(0)), alwaysFail)
		if len(at) != 50 || at[49] != 0 || !errors.Is(err, retry.ErrExhausted) {
			t.Errorf("%d attempts, the last at %v, %v; want 50 at 0s, ErrExhausted", len(at), at[len(at)-1], err)
		}
	})
}

// A context that can never be done is waited on with a plain sleep.
func TestDoUncancellableContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.New(retry.Constant(time.Second), retry.NoJitter())
		at, err := attemptTimes(context.WithoutCancel(t.Context()), p, alwaysFail)
		if fmt.Sprint(at) != "[0s 1s 2s]" || !errors.Is(err, retry.ErrExhausted) {
			t.Errorf("attempts at %v, %v; want [0s 1s 2s], ErrExhausted", at, err)
		}
	})
}

// A panic in f reaches the caller unchanged, on the caller's goroutine.
func TestDoDoesNotRecoverPanics(t *testing.T) {
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("recovered %v, want boom", r)
		}
	}()
	_ = retry.Run(context.Background(), instant, func(context.Context) error { panic("boom") })
	t.Error("Run returned, want a panic")
}

// OnRetry is called once per retry that really happens, before its wait,
// with the failed attempt's number, its error and the delay.
func TestOnRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log []string
		start := time.Now()
		hook := retry.OnRetry(func(attempt int, err error, delay time.Duration) {
			log = append(log, fmt.Sprintf("%d %v %v at %v", attempt, err, delay, time.Since(start)))
		})
		p := retry.New(retry.Attempts(3), retry.Constant(time.Second), retry.NoJitter(), hook)
		_ = retry.Run(t.Context(), p, func(context.Context) error { return retry.Permanent(errTransient) })
		if len(log) != 0 {
			t.Errorf("OnRetry called %v for a permanent error, want never", log)
		}
		_ = retry.Run(t.Context(), p, func(context.Context) error { return errTransient })
		if want := "[1 transient 1s at 0s 2 transient 1s at 1s]"; fmt.Sprint(log) != want {
			t.Errorf("OnRetry calls = %v, want %v", log, want)
		}
		log, start = nil, time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
		defer cancel()
		_ = retry.Run(ctx, p, func(context.Context) error { return errTransient })
		if want := "[1 transient 1s at 0s]"; fmt.Sprint(log) != want {
			t.Errorf("OnRetry calls with a deadline = %v, want %v: no call for the skipped wait", log, want)
		}
	})
}

func TestRunIsDo(t *testing.T) {
	err := retry.Run(context.Background(), instant, func(context.Context) error { return retry.Permanent(errTransient) })
	if !errors.Is(err, retry.ErrNotRetryable) || !errors.Is(err, errTransient) {
		t.Errorf("Run = %v, want ErrNotRetryable with errTransient", err)
	}
}

// A hook that cancels the caller's context stops the next attempt, even
// without a wait in between.
func TestDoNoAttemptAfterAHookCancels(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := instant.With(retry.OnRetry(func(int, error, time.Duration) { cancel() }))
	calls := 0
	err := retry.Run(ctx, p, func(context.Context) error { calls++; return errTransient })
	if calls != 1 || !errors.Is(err, context.Canceled) || !errors.Is(err, errTransient) {
		t.Errorf("Run = %v after %d calls, want context.Canceled with the last error after 1", err, calls)
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	p = instant.With(retry.OnRetry(func(int, error, time.Duration) { cancel() }))
	loop := p.Loop(ctx)
	calls = 0
	for a := range loop.Attempts() {
		calls++
		a.Done(errTransient)
	}
	if calls != 1 || !errors.Is(loop.Err(), context.Canceled) {
		t.Errorf("Loop: %d attempts, %v; want 1, context.Canceled", calls, loop.Err())
	}
}
