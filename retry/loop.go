package retry

import (
	"context"
	"fmt"
	"iter"
	"time"
)

// Loop runs the attempts of one call as the body of a for loop, for code
// that does not fit in a function literal. It decides and waits as [Do] does,
// on the goroutine that ranges over it; the body runs once per attempt, not
// at all if ctx is already done:
//
//	var user User
//	loop := policy.Loop(ctx)
//	for a := range loop.Attempts() {
//		var err error
//		user, err = client.GetUser(a.Context(), id)
//		if a.Done(err) {
//			break
//		}
//	}
//	if err := loop.Err(); err != nil {
//		return err
//	}
//
// Call [Attempt.Done] exactly once per attempt. Leaving the body without Done,
// or after a Done that returned false, ends the loop with [ErrAbandoned];
// going round without Done, or calling Done twice, panics. A Loop is for one
// call on one goroutine.
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

// Attempt is one attempt of a [Loop].
type Attempt struct {
	l *Loop
	n int
}

// Loop returns a [Loop] running one call under p; the call, and [MaxElapsed],
// start when it is ranged over.
func (p Policy) Loop(ctx context.Context) *Loop {
	return &Loop{ctx: ctx, s: State{c: p.config()}}
}

// Attempts returns the attempts, to range over once; ranging again panics.
// Between attempts it waits for the policy's delay, and ends if ctx is done.
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

// Err returns nil if an attempt succeeded, otherwise the [*Error] as [Do]
// would return it ([ErrAbandoned] if the loop was not ranged over or was left
// early). Call it after the loop.
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

// Context returns the attempt's context: the loop's, or one with the policy's
// [AttemptTimeout], cancelled when the body goes round or leaves the loop.
func (a Attempt) Context() context.Context {
	a.check("Context")
	return a.l.actx
}

// Done reports the attempt's outcome (nil for success) and returns true when
// the call is over, succeeded or given up ([Loop.Err] says which), or false
// when the policy will retry. It calls the policy's hooks as [Do] does; a
// second Done for the attempt, or one after the loop, panics.
func (a Attempt) Done(err error) bool {
	a.check("Done")
	l := a.l
	l.open = false
	if err == nil {
		l.s.succeeded(l.ctx)
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
