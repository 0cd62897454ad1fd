package retry

import (
	"context"
	"fmt"
	"iter"
	"time"
)

// Loop runs the attempts of one call as the body of a for loop, for code that
// does not fit in a function literal: several results, a resource to close
// between attempts, an early return. Get one from [Policy.Loop], range over
// [Loop.Attempts], report each attempt's outcome with [Attempt.Done], and
// read the result with [Loop.Err] after the loop:
//
//	loop := policy.Loop(ctx)
//	for a := range loop.Attempts() {
//		resp, err := client.Get(a.Context(), key)
//		if a.Done(err) {
//			break
//		}
//	}
//	if err := loop.Err(); err != nil {
//		return err
//	}
//
// The loop decides exactly as [Do] does and waits between attempts in the
// same way, on the goroutine that ranges; it starts no goroutines. The body
// runs once per attempt and not at all if ctx is already done. The rules for
// the body:
//
//   - Call Done exactly once per attempt. When it returns true the call is
//     over (success, or the policy gave up) and the loop ends after the
//     body, so break is optional but reads well; when it returns false the
//     next attempt follows after the policy's delay.
//   - Leaving the body by break or return without Done, or after a Done that
//     returned false, ends the loop there: Err then reports [ErrAbandoned].
//   - Going round (continue, or the end of the body) without calling Done
//     is a bug, and panics; so does calling Done twice, or after the loop.
//
// A Loop is for one call and one goroutine: range over Attempts once. A Loop
// costs one allocation, and a timer if it waits.
type Loop struct {
	ctx      context.Context
	s        State
	t        *time.Timer
	actx     context.Context
	cancel   context.CancelFunc
	n        int           // the number of the current attempt
	open     bool          // attempt n has been yielded and not yet Done
	delay    time.Duration // before the next attempt, set by Done
	finished bool          // the policy has decided; err is the outcome
	ranged   bool
	err      error
}

// Attempt is one attempt of a [Loop]: its number and its context, and the
// [Attempt.Done] method that reports how it went.
type Attempt struct {
	l *Loop
	n int
}

// Loop returns a [Loop] running one call under p with the context ctx. The
// call starts when the loop is ranged over, and [MaxElapsed] counts from
// then.
func (p Policy) Loop(ctx context.Context) *Loop {
	return &Loop{ctx: ctx, s: State{c: p.config()}}
}

// Attempts returns the sequence of attempts, to range over once; ranging
// again panics. Between attempts it waits for the policy's delay, or until
// the loop's context is done, which ends the loop.
func (l *Loop) Attempts() iter.Seq[Attempt] {
	return func(yield func(Attempt) bool) {
		if l.ranged {
			panic("retry: Loop.Attempts ranged over twice")
		}
		l.ranged = true
		defer l.release()
		// The call starts here, not when the Loop was made: MaxElapsed
		// counts from the first attempt.
		if l.s.config().maxElapsed > 0 {
			l.s.start = time.Now()
		}
		for {
			if l.ctx.Err() != nil {
				l.finish(l.s.stop(l.ctx, nil, time.Time{}))
				return
			}
			l.release()
			l.actx, l.cancel = l.s.Context(l.ctx)
			l.n++
			l.open = true
			more := yield(Attempt{l: l, n: l.n})
			if l.open {
				l.open = false
				if more {
					panic(fmt.Sprintf("retry: attempt %d of a Loop ended without a call to Done", l.n))
				}
				// The attempt was made but its outcome is unknown.
				l.s.attempts++
				l.finish(l.s.stop(l.ctx, ErrAbandoned, time.Time{}))
				return
			}
			if l.finished {
				return
			}
			if !more {
				l.finish(l.s.stop(l.ctx, ErrAbandoned, time.Time{}))
				return
			}
			l.release()
			if l.delay > 0 && !sleep(l.ctx, &l.t, l.delay) {
				l.finish(l.s.stop(l.ctx, nil, time.Time{}))
				return
			}
		}
	}
}

// Err returns the outcome of the loop: nil if an attempt succeeded,
// otherwise an [*Error] saying why the loop ended, as [Do] would return it.
// A loop that was not ranged over, or was left before the policy decided,
// reports [ErrAbandoned]. Call it after the loop.
func (l *Loop) Err() error {
	if !l.finished {
		return &Error{Cause: ErrAbandoned, Last: l.s.err, Attempts: l.n}
	}
	return l.err
}

func (l *Loop) finish(err error) {
	l.finished = true
	l.err = err
}

// release cancels the context of the last attempt. The timer needs no
// stopping: sleep leaves it fired or stopped.
func (l *Loop) release() {
	if l.cancel != nil {
		l.cancel()
		l.cancel = nil
	}
}

// Number returns the attempt's number: 1 for the first.
func (a Attempt) Number() int { return a.n }

// Context returns the context for this attempt: the loop's context, or one
// derived from it with the policy's [AttemptTimeout]. The derived one is
// cancelled when the body goes round to the next attempt or leaves the
// loop, so the body may still use it after Done; the loop's own context, the
// one without an AttemptTimeout, lives as long as the caller made it.
func (a Attempt) Context() context.Context {
	a.check("Context")
	return a.l.actx
}

// Done reports the outcome of the attempt, err being nil for success, and
// returns true when the call is over: the attempt succeeded, or the policy
// gave up (then [Loop.Err] says why). It returns false when the policy will
// retry; the loop then waits and starts the next attempt. Done calls the
// policy's hooks as [Do] does. Calling it twice for an attempt, or after the
// loop ended, panics.
func (a Attempt) Done(err error) bool {
	a.check("Done")
	l := a.l
	l.open = false
	if err == nil {
		l.s.succeeded()
		l.finish(nil)
		return true
	}
	d, final := l.s.failed(l.ctx, err, time.Time{})
	if final != nil {
		l.finish(final)
		return true
	}
	l.delay = d
	return false
}

func (a Attempt) check(method string) {
	if a.l == nil {
		panic("retry: Attempt." + method + " on the zero Attempt")
	}
	if a.n != a.l.n || !a.l.open && method == "Done" {
		panic(fmt.Sprintf("retry: Attempt.%s called for attempt %d after it was done", method, a.n))
	}
}
