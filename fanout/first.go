package fanout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/internal/catch"
)

// First runs every call at once and returns the first success: use it to
// race equivalent sources (replicas, mirrors, caches) when the fastest
// answer is all that matters. The calls that lose are cancelled, and First
// returns only after every call has returned.
//
// If every call fails, the error wraps [errors.Join] of their errors in call
// order; if ctx is done first, it wraps [context.Cause] of ctx too. A panic
// in a call cancels the others and comes back as a *weft.PanicError. A panic
// in a call that lost is not hidden by the success: First then returns the
// winner's value together with a non-nil error in which [errors.As] finds
// the *weft.PanicError. First is [Hedged] with no delay; it panics if ctx or
// a call is nil or there are no calls.
func First[R any](ctx context.Context, calls ...func(ctx context.Context) (R, error)) (R, error) {
	return hedged(ctx, "First", 0, calls)
}

// errWon is the cause with which the calls that lost to a success, or that
// were still running when First or Hedged returned, are cancelled.
var errWon = errors.New("fanout: another call answered first")

// Hedged runs calls one after another, each as a hedge against the ones
// before it being slow, and returns the first success: the technique of
// "The Tail at Scale" (Dean and Barroso, 2013). The first call starts at
// once; each next one starts when delay has passed since the previous one
// started without a success, or at once when the calls running have all
// failed. To hedge one call twice at most, pass it three times:
//
//	v, err := fanout.Hedged(ctx, 20*time.Millisecond, get, get, get)
//
// The first call to succeed wins: the others are cancelled (their context's
// cause says another call answered first), and Hedged returns only after
// every call it started has returned. Calls not started by then never start.
// If every call fails, the error wraps [errors.Join] of their errors in call
// order. If ctx is done first, the calls are cancelled, no other starts,
// and the error wraps [context.Cause] of ctx and the errors of the calls
// that ran, unless one of them succeeded in the meantime: a success that
// comes before Hedged returns is returned.
//
// A panic in a call is a bug, not a slow or failed answer to hedge around:
// it cancels the others and Hedged returns it as a *weft.PanicError once
// they have returned. A panic is never hidden by a success: when a call
// that lost panics (while being cancelled, say), Hedged returns the
// winner's value and a non-nil error in which [errors.As] finds the
// *weft.PanicError; the value is valid, the error reports the bug.
//
// Hedged runs each call on a goroutine of its own and waits on the caller's
// goroutine. It panics if ctx or a call is nil, if there are no calls, or if
// delay is negative.
func Hedged[R any](ctx context.Context, delay time.Duration, calls ...func(ctx context.Context) (R, error)) (R, error) {
	if delay < 0 {
		panic(fmt.Sprintf("fanout: Hedged(delay=%v): negative delay", delay))
	}
	return hedged(ctx, "Hedged", delay, calls)
}

type outcome[R any] struct {
	i       int
	v       R
	err     error
	panicky bool // err is a panic, not a failure
}

func hedged[R any](ctx context.Context, fn string, delay time.Duration, calls []func(context.Context) (R, error)) (R, error) {
	var zero R
	if ctx == nil {
		panic(fmt.Sprintf("fanout: %s with a nil context", fn))
	}
	if len(calls) == 0 {
		panic(fmt.Sprintf("fanout: %s with no calls", fn))
	}
	for i, c := range calls {
		if c == nil {
			panic(fmt.Sprintf("fanout: %s: call %d is nil", fn, i))
		}
	}
	if ctx.Err() != nil {
		return zero, fmt.Errorf("fanout: %s: no call ran: %w", fn, context.Cause(ctx))
	}

	callCtx, cancel := context.WithCancelCause(ctx)
	var wg sync.WaitGroup
	results := make(chan outcome[R], len(calls)) // never blocks a call
	started, running := 0, 0
	start := func() {
		i := started
		started++
		running++
		wg.Go(func() {
			var o outcome[R]
			o.i = i
			returned := false
			catch.Guard(func() error {
				var err error
				o.v, err = calls[i](callCtx)
				returned = true
				return err
			}, func(err error) {
				o.err = err
				_, o.panicky = err.(*weft.PanicError)
				o.panicky = o.panicky && !returned
				results <- o
			})
		})
	}

	var next <-chan time.Time // fires when the next hedge is due
	var timer *time.Timer
	startNext := func() {
		start()
		switch {
		case started == len(calls):
			next = nil
		case delay == 0:
			next = nil
		case timer == nil:
			timer = time.NewTimer(delay)
			next = timer.C
		default:
			timer.Reset(delay)
			next = timer.C
		}
	}
	startNext()
	for delay == 0 && started < len(calls) {
		startNext()
	}

	// The loop ends with the outcome that decides (a success or a panic),
	// or with none when every call failed or ctx ended.
	errs := make([]error, len(calls))
	var end *outcome[R]
	ctxDone := false
loop:
	for {
		select {
		case o := <-results:
			running--
			if o.panicky || o.err == nil {
				end = &o
				break loop
			}
			errs[o.i] = o.err
			switch {
			case running > 0:
			case started == len(calls):
				break loop
			case ctx.Err() != nil:
				// A failure and the end of ctx came together: start
				// nothing on a context that is already done.
				ctxDone = true
				break loop
			default:
				startNext()
			}
		case <-next:
			if ctx.Err() != nil {
				ctxDone = true
				break loop
			}
			startNext()
		case <-ctx.Done():
			ctxDone = true
			break loop
		}
	}
	if timer != nil {
		timer.Stop()
	}

	// Join every call before returning. The outcomes that come meanwhile
	// are read too, so that nothing a call did is lost: a loser's panic is
	// reported next to the winner's value, and when ctx ended, a success
	// that was already waiting, which select may have passed over, still
	// wins.
	switch {
	case end == nil && ctxDone:
		cancel(context.Cause(ctx))
	case end != nil && end.panicky:
		cancel(end.err)
	default:
		cancel(errWon)
	}
	wg.Wait()
	close(results)
	var panics []error
	if end != nil && end.panicky {
		panics = append(panics, end.err)
	}
	for o := range results {
		switch {
		case o.panicky:
			panics = append(panics, o.err)
		case o.err == nil && end == nil:
			end = &o
		case o.err != nil:
			errs[o.i] = o.err
		}
	}
	switch {
	case end != nil && !end.panicky && len(panics) > 0:
		return end.v, fmt.Errorf("fanout: %s: call %d succeeded, but %s: %w", fn, end.i, panicked(len(panics)), join(panics))
	case end != nil && !end.panicky:
		return end.v, nil
	case len(panics) == 1:
		return zero, panics[0]
	case len(panics) > 1:
		return zero, fmt.Errorf("fanout: %s: %s: %w", fn, panicked(len(panics)), join(panics))
	case ctxDone:
		return zero, fmt.Errorf("fanout: %s: no call succeeded before ctx was done: %w", fn, join(append([]error{context.Cause(ctx)}, errs...)))
	}
	return zero, fmt.Errorf("fanout: %s: all %d calls failed: %w", fn, len(calls), join(errs))
}

// joinError is [errors.Join] on one line: an error message holds no
// newline of ours, so a log line or a wrapping fmt.Errorf stays whole.
type joinError struct{ errs []error }

// join returns the non-nil errors of errs as one error, or nil if there are
// none.
func join(errs []error) error {
	var e joinError
	for _, err := range errs {
		if err != nil {
			e.errs = append(e.errs, err)
		}
	}
	if len(e.errs) == 0 {
		return nil
	}
	return &e
}

func (e *joinError) Error() string {
	var b strings.Builder
	for i, err := range e.errs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(err.Error())
	}
	return b.String()
}

func (e *joinError) Unwrap() []error { return e.errs }

// panicked says how many calls panicked.
func panicked(n int) string {
	if n == 1 {
		return "another call panicked"
	}
	return fmt.Sprintf("%d calls panicked", n)
}
