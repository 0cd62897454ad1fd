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

// First runs every call at once and returns the first success, for racing
// replicas or mirrors; it is [Hedged] with no delay. The losers are
// cancelled, and First returns only after every call has returned. If every
// call fails, or ctx ends first, the error wraps the calls' errors in call
// order (and [context.Cause] of ctx). A panic in a call comes back as a
// [*github.com/weftgo/weft.PanicError], even beside a winner's value. First
// panics if ctx or a call is nil or there are no calls.
func First[R any](ctx context.Context, calls ...func(ctx context.Context) (R, error)) (R, error) {
	return hedged(ctx, "First", 0, calls)
}

// errWon is the cause with which the calls that lost to a success, or that
// were still running when First or Hedged returned, are cancelled.
var errWon = errors.New("fanout: another call answered first")

// Hedged starts the calls one at a time, the next when delay has passed
// without a success or when all running calls have failed, and returns the
// first success, as in "The Tail at Scale". It cancels the others, starts no
// more, and returns once every call it started has returned. Its errors are
// those of [First]. Hedged panics if ctx or a call is nil, there are no
// calls, or delay is negative.
//
//	v, err := fanout.Hedged(ctx, 20*time.Millisecond, get, get, get) // at most two hedges
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
			// A panic is a bug, not a slow or failed answer to hedge
			// around: it ends the race like a success does.
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
