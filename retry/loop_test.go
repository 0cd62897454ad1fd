package retry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft/retry"
)

func TestLoopSucceeds(t *testing.T) {
	loop := instant.Loop(context.Background())
	var numbers []int
	for a := range loop.Attempts() {
		numbers = append(numbers, a.Number())
		var err error
		if a.Number() < 3 {
			err = errTransient
		}
		if a.Done(err) {
			break
		}
	}
	if err := loop.Err(); err != nil || fmt.Sprint(numbers) != "[1 2 3]" {
		t.Errorf("attempts %v, Err = %v; want [1 2 3], nil", numbers, err)
	}
}

// Without break, the loop still ends once Done reports true.
func TestLoopEndsByItself(t *testing.T) {
	loop := instant.Loop(context.Background())
	n := 0
	for a := range loop.Attempts() {
		n++
		a.Done(errTransient)
	}
	var re *retry.Error
	if err := loop.Err(); n != 3 || !errors.As(err, &re) || re.Cause != retry.ErrExhausted || re.Attempts != 3 || re.Last != errTransient {
		t.Errorf("%d attempts, Err = %v; want 3, ErrExhausted with the last error", n, err)
	}
}

func TestLoopWaitsLikeDo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.New(retry.Attempts(4), retry.Exponential(time.Second, 2, time.Minute), retry.NoJitter())
		start := time.Now()
		var at []time.Duration
		loop := p.Loop(t.Context())
		for a := range loop.Attempts() {
			at = append(at, time.Since(start))
			if a.Done(errTransient) {
				break
			}
		}
		if fmt.Sprint(at) != "[0s 1s 3s 7s]" || !errors.Is(loop.Err(), retry.ErrExhausted) {
			t.Errorf("attempts at %v, Err = %v; want [0s 1s 3s 7s], ErrExhausted", at, loop.Err())
		}
	})
}

func TestLoopCancelDuringWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(1500*time.Millisecond, cancel)
		p := retry.New(retry.Attempts(retry.Unlimited), retry.Constant(time.Second), retry.NoJitter())
		start := time.Now()
		loop := p.Loop(ctx)
		n := 0
		for a := range loop.Attempts() {
			n++
			if a.Done(errTransient) {
				break
			}
		}
		var re *retry.Error
		if err := loop.Err(); !errors.As(err, &re) || re.Cause != context.Canceled || re.Last != errTransient || n != 2 {
			t.Errorf("%d attempts, Err = %v; want 2, context.Canceled with the last error", n, err)
		}
		if time.Since(start) != 1500*time.Millisecond {
			t.Errorf("loop ended after %v, want 1.5s", time.Since(start))
		}
	})
}

func TestLoopContextDoneBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	loop := instant.With(retry.MaxElapsed(time.Hour)).Loop(ctx)
	for range loop.Attempts() {
		t.Fatal("the body ran with a done context")
	}
	var re *retry.Error
	if err := loop.Err(); !errors.As(err, &re) || re.Cause != context.Canceled || re.Attempts != 0 {
		t.Errorf("Err = %v, want context.Canceled after 0 attempts", err)
	}
}

// Leaving the body early reports ErrAbandoned, with the last failure.
func TestLoopAbandoned(t *testing.T) {
	tests := []struct {
		name         string
		body         func(a retry.Attempt) bool // reports whether to break
		wantAttempts int
		wantLast     error
	}{
		{"break without Done on the first attempt", func(a retry.Attempt) bool { return true }, 1, nil},
		{"break without Done on the second attempt", func(a retry.Attempt) bool {
			if a.Number() == 1 {
				a.Done(errTransient)
				return false
			}
			return true
		}, 2, errTransient},
		{"break after a Done that retries", func(a retry.Attempt) bool {
			a.Done(errTransient)
			return true
		}, 1, errTransient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loop := instant.Loop(context.Background())
			for a := range loop.Attempts() {
				if tt.body(a) {
					break
				}
			}
			var re *retry.Error
			err := loop.Err()
			if !errors.As(err, &re) || re.Cause != retry.ErrAbandoned || re.Attempts != tt.wantAttempts || re.Last != tt.wantLast {
				t.Errorf("Err = %v, want ErrAbandoned after %d attempts with Last %v", err, tt.wantAttempts, tt.wantLast)
			}
		})
	}
}

func TestLoopErrBeforeTheLoop(t *testing.T) {
	loop := instant.Loop(context.Background())
	if err := loop.Err(); !errors.Is(err, retry.ErrAbandoned) {
		t.Errorf("Err before ranging = %v, want ErrAbandoned", err)
	}
	var inside error
	for a := range loop.Attempts() {
		inside = loop.Err()
		a.Done(nil)
	}
	if !errors.Is(inside, retry.ErrAbandoned) || loop.Err() != nil {
		t.Errorf("Err inside the body = %v, after = %v; want ErrAbandoned, nil", inside, loop.Err())
	}
}

func TestLoopMisusePanics(t *testing.T) {
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"continue without Done", func() {
			loop := instant.Loop(context.Background())
			for range loop.Attempts() {
				continue
			}
		}, "retry: attempt 1 of a Loop ended without a call to Done"},
		{"Done twice", func() {
			loop := instant.Loop(context.Background())
			for a := range loop.Attempts() {
				a.Done(errTransient)
				a.Done(errTransient)
			}
		}, "retry: Attempt.Done called for attempt 1 after it was done"},
		{"Done after the loop", func() {
			loop := instant.Loop(context.Background())
			var last retry.Attempt
			for a := range loop.Attempts() {
				last = a
				a.Done(nil)
			}
			last.Done(nil)
		}, "retry: Attempt.Done called for attempt 1 after it was done"},
		{"Done on an old attempt", func() {
			loop := instant.Loop(context.Background())
			var first retry.Attempt
			for a := range loop.Attempts() {
				if a.Number() == 1 {
					first = a
					a.Done(errTransient)
					continue
				}
				first.Done(nil)
			}
		}, "retry: Attempt.Done called for attempt 1 after it was done"},
		{"range twice", func() {
			loop := instant.Loop(context.Background())
			for a := range loop.Attempts() {
				a.Done(nil)
			}
			for range loop.Attempts() {
			}
		}, "retry: Loop.Attempts ranged over twice"},
		{"zero Attempt", func() { retry.Attempt{}.Done(nil) }, "retry: Attempt.Done on the zero Attempt"},
		{"zero Attempt context", func() { retry.Attempt{}.Context() }, "retry: Attempt.Context on the zero Attempt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := panicMessage(tt.f); got != tt.want {
				t.Errorf("panic = %q, want %q", got, tt.want)
			}
		})
	}
}

// Each attempt has its own context, valid until the next attempt starts
// and cancelled when the loop ends, even by a panic.
func TestLoopAttemptContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.New(retry.Attempts(2), retry.Constant(time.Second), retry.AttemptTimeout(5*time.Second))
		loop := p.Loop(t.Context())
		var ctxs []context.Context
		for a := range loop.Attempts() {
			ctx := a.Context()
			if dl, ok := ctx.Deadline(); !ok || time.Until(dl) != 5*time.Second {
				t.Errorf("attempt %d: deadline in %v, want 5s", a.Number(), time.Until(dl))
			}
			ctxs = append(ctxs, ctx)
			done := a.Done(errTransient)
			if ctx.Err() != nil || a.Context() != ctx {
				t.Errorf("attempt %d: context %v after Done, want still valid", a.Number(), ctx.Err())
			}
			if a.Number() == 2 && ctxs[0].Err() == nil {
				t.Errorf("attempt 1's context is still live during attempt 2")
			}
			if done {
				break
			}
		}
		if len(ctxs) != 2 || ctxs[1].Err() == nil {
			t.Errorf("the last attempt's context is live after the loop")
		}

		var ctx context.Context
		msg := panicMessage(func() {
			for a := range p.Loop(t.Context()).Attempts() {
				ctx = a.Context()
				panic("boom")
			}
		})
		if msg != "boom" || ctx.Err() == nil {
			t.Errorf("after a panic %q in the body, the attempt's context is %v, want cancelled", msg, ctx.Err())
		}
	})
}

// The loop's decisions are those of Do: Permanent, After, OnRetry.
func TestLoopSharesTheRules(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var retries []string
		p := retry.New(retry.Attempts(5), retry.Constant(time.Second), retry.NoJitter(),
			retry.OnRetry(func(attempt int, err error, delay time.Duration) {
				retries = append(retries, fmt.Sprint(attempt, " ", delay))
			}))
		loop := p.Loop(t.Context())
		for a := range loop.Attempts() {
			var err error
			switch a.Number() {
			case 1:
				err = retry.After(errTransient, time.Minute)
			case 2:
				err = errTransient
			default:
				err = retry.Permanent(errTransient)
			}
			if a.Done(err) {
				break
			}
		}
		err := loop.Err()
		if !errors.Is(err, retry.ErrNotRetryable) || strings.Join(retries, ",") != "1 1m0s,2 1s" {
			t.Errorf("Err = %v, retries %v; want ErrNotRetryable after [1 1m0s, 2 1s]", err, retries)
		}
	})
}
