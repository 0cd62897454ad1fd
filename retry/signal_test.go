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

// openError is what a circuit breaker returns while open: it says when to
// come back.
type openError struct{ after time.Duration }

func (e *openError) Error() string             { return fmt.Sprintf("circuit open for %v", e.after) }
func (e *openError) RetryAfter() time.Duration { return e.after }

func TestMarkersOfNilAreNil(t *testing.T) {
	if err := retry.Permanent(nil); err != nil {
		t.Errorf("Permanent(nil) = %v, want nil", err)
	}
	if err := retry.After(nil, time.Second); err != nil {
		t.Errorf("After(nil, 1s) = %v, want nil", err)
	}
}

// The markers change nothing in the message and errors.Is sees through them.
func TestMarkersAreTransparent(t *testing.T) {
	for _, err := range []error{retry.Permanent(errTransient), retry.After(errTransient, time.Second)} {
		if err.Error() != errTransient.Error() || !errors.Is(err, errTransient) {
			t.Errorf("marker %q: message or errors.Is changed", err)
		}
	}
}

// runOnce runs f with a zero-delay policy and returns the error and the
// number of calls.
func runOnce(p retry.Policy, f func(call int) error) (int, error) {
	calls := 0
	err := retry.Run(context.Background(), p, func(context.Context) error {
		calls++
		return f(calls)
	})
	return calls, err
}

func TestPermanentStopsAtOnce(t *testing.T) {
	wrapped := func(err error) error { return fmt.Errorf("saving: %w", err) }
	tests := []struct {
		name     string
		err      error
		wantLast string
	}{
		{"bare", retry.Permanent(errTransient), "transient"},
		{"twice", retry.Permanent(retry.Permanent(errTransient)), "transient"},
		{"wrapped", wrapped(retry.Permanent(errTransient)), "saving: transient"},
		{"joined", errors.Join(errors.New("other"), retry.Permanent(errTransient)), "other\ntransient"},
		{"over After", retry.Permanent(retry.After(errTransient, time.Hour)), "transient"},
		{"under After", retry.After(retry.Permanent(errTransient), time.Hour), "transient"},
		{"wrapped under After", retry.After(wrapped(retry.Permanent(errTransient)), time.Hour), "saving: transient"},
	}
	p := retry.New(retry.Attempts(5), retry.Constant(0))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls, err := runOnce(p, func(int) error { return tt.err })
			var re *retry.Error
			if !errors.As(err, &re) || calls != 1 || re.Cause != retry.ErrNotRetryable {
				t.Fatalf("Run = %v after %d calls, want ErrNotRetryable after 1", err, calls)
			}
			if re.Last.Error() != tt.wantLast || !errors.Is(err, errTransient) {
				t.Errorf("Last = %q, want %q wrapping errTransient", re.Last, tt.wantLast)
			}
		})
	}
}

// After is obeyed whatever the classifier says, and its delay is a floor
// under the backoff's: not capped by it, without jitter when it is longer.
func TestAfterSetsTheDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.New(retry.Attempts(3), retry.Constant(time.Second), retry.NoJitter(),
			retry.RetryIf(func(error) bool { return false }))
		start := time.Now()
		var at []time.Duration
		_, err := runOnce(p, func(call int) error {
			at = append(at, time.Since(start))
			switch call {
			case 1:
				return retry.After(errTransient, 5*time.Second)
			case 2:
				return fmt.Errorf("wrapped: %w", retry.After(errTransient, -time.Second))
			}
			return nil
		})
		if err != nil || fmt.Sprint(at) != "[0s 5s 6s]" {
			t.Errorf("Run = %v with attempts at %v, want nil at [0s 5s 6s]", err, at)
		}
	})
}

// An After delay is still limited by the attempts, MaxElapsed and the
// deadline.
func TestAfterIsStillLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		after := func(int) error { return retry.After(errTransient, time.Minute) }

		calls, err := runOnce(retry.New(retry.Attempts(2), retry.Constant(0)), after)
		if !errors.Is(err, retry.ErrExhausted) || calls != 2 {
			t.Errorf("with 2 attempts: %v after %d calls, want ErrExhausted after 2", err, calls)
		}
		calls, err = runOnce(retry.New(retry.MaxElapsed(30*time.Second)), after)
		if !errors.Is(err, retry.ErrMaxElapsed) || calls != 1 {
			t.Errorf("with MaxElapsed: %v after %d calls, want ErrMaxElapsed after 1", err, calls)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		start := time.Now()
		err = retry.Run(ctx, retry.Policy{}, func(context.Context) error { return after(0) })
		if !errors.Is(err, retry.ErrDeadline) || time.Since(start) != 0 {
			t.Errorf("with a deadline: %v after %v, want ErrDeadline at once", err, time.Since(start))
		}
	})
}

// Errors that say when to come back are not retried by default; with
// HonorRetryAfter they are waited out when the wait is short enough.
func TestRetryAfterHints(t *testing.T) {
	wrappedOpen := func(d time.Duration) error { return fmt.Errorf("calling users: %w", &openError{d}) }
	tests := []struct {
		name      string
		policy    retry.Policy
		hint      time.Duration
		wantCause error
		wantAt    string // the start times of the attempts
	}{
		{"default", retry.New(retry.Constant(time.Second)), time.Second, retry.ErrNotRetryable, "[0s]"},
		{"honoured", retry.New(retry.Constant(time.Second), retry.HonorRetryAfter(5*time.Second)), 3 * time.Second, retry.ErrExhausted, "[0s 3s 6s]"},
		{"honoured at the limit", retry.New(retry.Constant(time.Second), retry.HonorRetryAfter(5*time.Second)), 5 * time.Second, retry.ErrExhausted, "[0s 5s 10s]"},
		{"shorter than the backoff", retry.New(retry.Constant(2*time.Second), retry.NoJitter(), retry.HonorRetryAfter(5*time.Second)), time.Second, retry.ErrExhausted, "[0s 2s 4s]"},
		{"negative hint", retry.New(retry.Constant(time.Second), retry.NoJitter(), retry.HonorRetryAfter(5*time.Second)), -time.Second, retry.ErrExhausted, "[0s 1s 2s]"},
		{"too long", retry.New(retry.Constant(time.Second), retry.HonorRetryAfter(5*time.Second)), 6 * time.Second, retry.ErrNotRetryable, "[0s]"},
		{"too long, classifier says yes", retry.New(retry.Constant(time.Second), retry.NoJitter(), retry.HonorRetryAfter(5*time.Second),
			retry.RetryIf(func(error) bool { return true })), 6 * time.Second, retry.ErrExhausted, "[0s 1s 2s]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				var at []time.Duration
				_, err := runOnce(tt.policy, func(int) error {
					at = append(at, time.Since(start))
					return wrappedOpen(tt.hint)
				})
				var oe *openError
				if !errors.Is(err, tt.wantCause) || !errors.As(err, &oe) || fmt.Sprint(at) != tt.wantAt {
					t.Errorf("Run = %v with attempts at %v, want %v with the open error, attempts at %v", err, at, tt.wantCause, tt.wantAt)
				}
			})
		})
	}
}

// The classifier gets the attempt's error, and its refusal ends the call.
func TestRetryIf(t *testing.T) {
	errFatal := errors.New("fatal")
	var seen []error
	p := retry.New(retry.Attempts(5), retry.Constant(0), retry.RetryIf(func(err error) bool {
		seen = append(seen, err)
		return !errors.Is(err, errFatal)
	}))
	calls, err := runOnce(p, func(call int) error {
		if call == 3 {
			return errFatal
		}
		return errTransient
	})
	if !errors.Is(err, retry.ErrNotRetryable) || !errors.Is(err, errFatal) || calls != 3 {
		t.Errorf("Run = %v after %d calls, want ErrNotRetryable with errFatal after 3", err, calls)
	}
	if fmt.Sprint(seen) != "[transient transient fatal]" {
		t.Errorf("classifier saw %v, want [transient transient fatal]", seen)
	}
}

// The caller's context errors are terminal, but the same errors coming
// from inside the callee, with the caller's context live, are retried.
func TestCalleeContextErrorsAreRetried(t *testing.T) {
	calls, err := runOnce(instant, func(int) error { return fmt.Errorf("query: %w", context.Canceled) })
	if !errors.Is(err, retry.ErrExhausted) || calls != 3 {
		t.Errorf("Run = %v after %d calls, want ErrExhausted after 3", err, calls)
	}
}

// nilWrapper is a wrapper whose Unwrap returns nil.
type nilWrapper struct{}

func (nilWrapper) Error() string { return "wraps nothing" }
func (nilWrapper) Unwrap() error { return nil }

// Markers and hints are found anywhere in an error's tree, joined or
// wrapped, and an error tree without them is an ordinary failure.
func TestMarkersAnywhereInTheTree(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		wantAt string
	}{
		{"After in a join", errors.Join(errTransient, retry.After(errTransient, 2*time.Second)), "[0s 2s 4s]"},
		{"first After wins", fmt.Errorf("%w, %w", retry.After(errTransient, time.Second), retry.After(errTransient, 5*time.Second)), "[0s 1s 2s]"},
		{"hint in a join", errors.Join(nilWrapper{}, &openError{3 * time.Second}), "[0s 3s 6s]"},
		{"nothing", fmt.Errorf("outer: %w", nilWrapper{}), "[0s 10ms 20ms]"},
		{"nothing joined", errors.Join(nilWrapper{}, errTransient), "[0s 10ms 20ms]"},
	}
	p := retry.New(retry.Constant(10*time.Millisecond), retry.NoJitter(), retry.HonorRetryAfter(time.Minute))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				at, err := attemptTimes(t.Context(), p, func(context.Context, int) error { return tt.err })
				if fmt.Sprint(at) != tt.wantAt || !errors.Is(err, retry.ErrExhausted) {
					t.Errorf("attempts at %v, %v; want %v, ErrExhausted", at, err, tt.wantAt)
				}
			})
		})
	}
}
