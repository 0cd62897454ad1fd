package retry_test

// Tests named after bugs that retry libraries have shipped, which this
// package must never have.

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft/retry"
)

// sharedPolicy is kept in a package-level variable, as programs keep theirs.
var sharedPolicy = retry.New(retry.Attempts(4), retry.Exponential(time.Millisecond, 2, 10*time.Millisecond), retry.DecorrelatedJitter())

// A backoff whose state lives in a shared value races and mixes the
// attempts of concurrent calls. A Policy holds no per-call state: under
// -race, many goroutines use one at once, each seeing its own attempts.
func TestSharedPolicyNoRace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var wg sync.WaitGroup
		results := make([]string, 32)
		for g := range results {
			wg.Go(func() {
				calls := 0
				err := retry.Run(t.Context(), sharedPolicy, func(context.Context) error {
					calls++
					if calls <= g%5 {
						return errTransient
					}
					return nil
				})
				results[g] = fmt.Sprint(calls, err == nil)
			})
		}
		wg.Wait()
		for g, got := range results {
			want := fmt.Sprint(min(g%5+1, 4), g%5 < 4)
			if got != want {
				t.Errorf("goroutine %d: attempts, success = %s, want %s", g, got, want)
			}
		}
	})
}

// A caller that cancels during the wait must still get the last attempt's
// error, not only context.Canceled.
func TestLastErrorKeptOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errDB := errors.New("db: connection refused")
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(1500*time.Millisecond, cancel)
		p := retry.New(retry.Attempts(retry.Unlimited), retry.Constant(time.Second), retry.NoJitter())
		err := retry.Run(ctx, p, func(context.Context) error { return errDB })
		var re *retry.Error
		if !errors.As(err, &re) || re.Last != errDB || re.Cause != context.Canceled || re.Attempts != 2 {
			t.Fatalf("Run = %#v, want Cause context.Canceled, Last errDB, 2 attempts", err)
		}
		if !errors.Is(err, errDB) || !errors.Is(err, context.Canceled) {
			t.Errorf("errors.Is misses the last error or the cancellation in %v", err)
		}
		if want := "retry: context canceled after 2 attempts: db: connection refused"; err.Error() != want {
			t.Errorf("Error() = %q, want %q", err, want)
		}
	})
}

// tree returns every error in err's tree, depth first.
func tree(err error) []error {
	if err == nil {
		return nil
	}
	out := []error{err}
	switch x := err.(type) {
	case interface{ Unwrap() error }:
		out = append(out, tree(x.Unwrap())...)
	case interface{ Unwrap() []error }:
		for _, e := range x.Unwrap() {
			out = append(out, tree(e)...)
		}
	}
	return out
}

// The Permanent and After markers are messages to the policy; the caller
// gets the error they wrapped, and nothing of the markers in the returned
// error's tree.
func TestPermanentNeverLeaks(t *testing.T) {
	errInvalid := errors.New("invalid input")
	markers := map[string]func(error) error{
		"Permanent":        retry.Permanent,
		"Permanent(After)": func(err error) error { return retry.Permanent(retry.After(err, 0)) },
		"After(Permanent)": func(err error) error { return retry.After(retry.Permanent(err), 0) },
		"After":            func(err error) error { return retry.After(err, 0) },
	}
	for name, mark := range markers {
		t.Run(name, func(t *testing.T) {
			err := retry.Run(context.Background(), retry.New(retry.Attempts(1)), func(context.Context) error {
				return mark(errInvalid)
			})
			var re *retry.Error
			if !errors.As(err, &re) || re.Last != errInvalid {
				t.Fatalf("Run = %v, want an *Error whose Last is the inner error itself", err)
			}
			for _, e := range tree(err) {
				if e != err && e != re.Cause && e != errInvalid {
					t.Errorf("the returned error's tree holds %T (%v), which is neither the *Error, its cause nor the inner error", e, e)
				}
			}
			if reflect.TypeOf(errors.Unwrap(re.Last)) != nil {
				t.Errorf("Last wraps %T", errors.Unwrap(re.Last))
			}
		})
	}
	// The marker is not an error type callers can match either.
	var target interface{ Unwrap() error }
	err := retry.Run(context.Background(), instant, func(context.Context) error { return retry.Permanent(errInvalid) })
	if errors.As(err, &target) {
		t.Errorf("errors.As found a wrapper %T in %v", target, err)
	}
}

// Jitter is applied before the cap, never after: at the cap, no jitter kind
// yields a longer delay, even at attempt 10 000.
func TestJitterNeverExceedsCap(t *testing.T) {
	const cap = 3 * time.Second
	jitters := map[string]retry.Option{
		"none": retry.NoJitter(), "full": retry.FullJitter(), "equal": retry.EqualJitter(),
		"decorrelated": retry.DecorrelatedJitter(), "proportional 1": retry.ProportionalJitter(1),
		"proportional 0.5": retry.ProportionalJitter(0.5),
	}
	backoffs := map[string]retry.Option{
		"constant":    retry.Constant(cap),
		"linear":      retry.Linear(time.Second, time.Second, cap),
		"exponential": retry.Exponential(time.Second, 3, cap),
	}
	for jn, j := range jitters {
		for bn, b := range backoffs {
			p := retry.New(retry.Attempts(retry.Unlimited), b, j)
			ds, err := delays(p, 10_000)
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range ds {
				if d < 0 || d > cap {
					t.Fatalf("%s jitter on %s backoff: delay %d = %v, outside [0, %v]", jn, bn, i+1, d, cap)
				}
			}
		}
	}
	p := retry.New(retry.Attempts(retry.Unlimited), retry.BackoffFunc(func(int) time.Duration { return cap }), retry.ProportionalJitter(1))
	ds, _ := delays(p, 10_000)
	for i, d := range ds {
		if d > cap {
			t.Fatalf("proportional jitter on a BackoffFunc: delay %d = %v, above what the func returned", i+1, d)
		}
	}
}

// A default that waits for most of a minute holds requests hostage. The
// zero Policy's total wait is bounded: at most 300ms over 3 attempts.
func TestDefaultsAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for range 200 {
			start := time.Now()
			calls := 0
			err := retry.Run(t.Context(), retry.Policy{}, func(context.Context) error {
				calls++
				return errTransient
			})
			if took := time.Since(start); took > 300*time.Millisecond || calls != 3 || !errors.Is(err, retry.ErrExhausted) {
				t.Fatalf("default policy: %d attempts over %v, %v; want 3 within 300ms, ErrExhausted", calls, took, err)
			}
		}
	})
}
