package bench

import (
	"context"
	"errors"
	"testing"
	"time"

	retrygo "github.com/avast/retry-go/v5"
	"github.com/cenkalti/backoff/v5"
	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	goretry "github.com/sethvargo/go-retry"
	"github.com/weftgo/weft/retry"
)

var errFlaky = errors.New("bench: transient failure")

// succeedOnce is the first-success call: it returns 1 at once. It is not
// inlined, so each implementation pays for one real call.
//
//go:noinline
func succeedOnce(context.Context) (int, error) { return 1, nil }

// flaky fails twice, then succeeds (returning 1), then starts over. One
// operation of case=three-attempts calls it exactly three times.
type flaky struct{ n int }

//go:noinline
func (f *flaky) call(context.Context) (int, error) {
	f.n++
	if f.n%3 != 0 {
		return 0, errFlaky
	}
	return 1, nil
}

// retryImpl builds whatever can be built once (a policy, an executor, the
// wrapped function) for calling f with up to three attempts and no delay
// between them, and returns one such call.
type retryImpl struct {
	name    string
	prepare func(ctx context.Context, f func(context.Context) (int, error)) func() (int, error)
}

var retryImpls = []retryImpl{
	// floor: a plain loop of up to three calls (one, for first-success).
	{"floor", func(ctx context.Context, f func(context.Context) (int, error)) func() (int, error) {
		return func() (v int, err error) {
			for range 3 {
				if v, err = f(ctx); err == nil {
					return v, nil
				}
			}
			return v, err
		}
	}},
	// weft: retry.Do with a policy of three attempts and Constant(0),
	// made once; a Policy is an immutable value meant to be shared.
	{"weft", func(ctx context.Context, f func(context.Context) (int, error)) func() (int, error) {
		p := retry.New(retry.Attempts(3), retry.Constant(0))
		return func() (int, error) { return retry.Do(ctx, p, f) }
	}},
	// backoff: backoff.Retry with ZeroBackOff and WithMaxTries(3); the
	// options are made once, but Retry builds its defaults (an
	// ExponentialBackOff and a timer) on every call before applying them:
	// the library forces that.
	{"backoff", func(ctx context.Context, f func(context.Context) (int, error)) func() (int, error) {
		opts := []backoff.RetryOption{backoff.WithBackOff(&backoff.ZeroBackOff{}), backoff.WithMaxTries(3)}
		op := func() (int, error) { return f(ctx) }
		return func() (int, error) { return backoff.Retry(ctx, op, opts...) }
	}},
	// retry-go: a RetrierWithData made once, with Attempts(3), Delay(0)
	// and DelayType(FixedDelay) (the default delay type adds up to 100ms
	// of random jitter even with Delay(0)); its context is fixed when it
	// is made.
	{"retry-go", func(ctx context.Context, f func(context.Context) (int, error)) func() (int, error) {
		r := retrygo.NewWithData[int](
			retrygo.Attempts(3),
			retrygo.Delay(0),
			retrygo.DelayType(retrygo.FixedDelay),
			retrygo.Context(ctx),
		)
		op := func() (int, error) { return f(ctx) }
		return func() (int, error) { return r.Do(op) }
	}},
	// failsafe: a retry policy of three attempts (no delay is its
	// default) in an executor with the context, both made once, then Get.
	{"failsafe", func(ctx context.Context, f func(context.Context) (int, error)) func() (int, error) {
		rp := retrypolicy.NewBuilder[int]().WithMaxAttempts(3).Build()
		exec := failsafe.With[int](rp).WithContext(ctx)
		op := func() (int, error) { return f(ctx) }
		return func() (int, error) { return exec.Get(op) }
	}},
	// go-retry: DoValue with WithMaxRetries(2, NewConstant(1ns)). Its
	// backoffs count attempts inside themselves, so one must be made per
	// call (the library forces it); NewConstant panics on zero, so 1ns is
	// the smallest constant delay it accepts, and each retry waits on a
	// timer. Errors must be wrapped with RetryableError to be retried.
	{"go-retry", func(ctx context.Context, f func(context.Context) (int, error)) func() (int, error) {
		op := func(ctx context.Context) (int, error) {
			v, err := f(ctx)
			if err != nil {
				return 0, goretry.RetryableError(err)
			}
			return v, nil
		}
		return func() (int, error) {
			b := goretry.WithMaxRetries(2, goretry.NewConstant(time.Nanosecond))
			return goretry.DoValue(ctx, b, op)
		}
	}},
}

type retryCase struct {
	name string
	f    func() func(context.Context) (int, error)
}

var retryCases = []retryCase{
	{"first-success", func() func(context.Context) (int, error) { return succeedOnce }},
	{"three-attempts", func() func(context.Context) (int, error) { return new(flaky).call }},
}

// BenchmarkRetry measures one call: a success at the first attempt, and two
// failures then a success with no delay between attempts.
func BenchmarkRetry(b *testing.B) {
	noCurve(b)
	ctx := context.Background()
	for _, c := range retryCases {
		for _, im := range retryImpls {
			b.Run("case="+c.name+"/impl="+im.name, func(b *testing.B) {
				call := im.prepare(ctx, c.f())
				b.ReportAllocs()
				for b.Loop() {
					if v, err := call(); err != nil || v != 1 {
						b.Fatalf("call() = %d, %v; want 1, nil", v, err)
					}
				}
			})
		}
	}
}

// TestAgreeRetry checks that every implementation makes exactly the
// attempts the case needs and returns the success.
func TestAgreeRetry(t *testing.T) {
	const calls = 100
	ctx := context.Background()
	for _, im := range retryImpls {
		for _, c := range retryCases {
			attempts := 0
			f := c.f()
			counted := func(ctx context.Context) (int, error) { attempts++; return f(ctx) }
			call := im.prepare(ctx, counted)
			for range calls {
				if v, err := call(); err != nil || v != 1 {
					t.Fatalf("case=%s/impl=%s: call() = %d, %v; want 1, nil", c.name, im.name, v, err)
				}
			}
			want := calls
			if c.name == "three-attempts" {
				want = 3 * calls
			}
			if attempts != want {
				t.Errorf("case=%s/impl=%s: %d attempts, want %d", c.name, im.name, attempts, want)
			}
		}
	}
}
