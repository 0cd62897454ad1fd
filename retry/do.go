package retry

import (
	"context"
	"time"
)

// Do calls f until it succeeds or p gives up, and returns the value of the
// attempt that succeeded, or T's zero value and an [*Error]. f gets ctx, or a
// context under [AttemptTimeout]. No attempt starts once ctx is done; a wait
// between attempts then ends at once, with ctx's cause in the *Error.
func Do[T any](ctx context.Context, p Policy, f func(context.Context) (T, error)) (T, error) {
	c := p.config()
	if c.maxElapsed == 0 && c.attemptTimeout == 0 && ctx.Err() == nil {
		// The common case, kept small: a first attempt needs no state. A
		// call that succeeds, or retries without waiting, allocates nothing.
		v, err := f(ctx)
		if err == nil {
			if !c.quiet {
				c.succeeded(ctx, 1)
			}
			return v, nil
		}
		s := State{c: c}
		return do(ctx, &s, f, err)
	}
	s := State{c: c}
	if c.maxElapsed > 0 {
		s.start = time.Now()
	}
	return do(ctx, &s, f, nil)
}

// Run is [Do] for functions that return only an error.
func Run(ctx context.Context, p Policy, f func(context.Context) error) error {
	_, err := Do(ctx, p, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, f(ctx)
	})
	return err
}

// do runs the attempts of one call on s. If err is not nil, an attempt has
// already failed with it.
func do[T any](ctx context.Context, s *State, f func(context.Context) (T, error), err error) (T, error) {
	// One timer per call, made at the first wait and reused: a call that
	// succeeds or retries without delay allocates nothing, and none is made
	// when ctx can never be cancelled.
	var t *time.Timer
	var zero T
	for {
		if err != nil {
			d, final := s.failed(ctx, err, time.Time{})
			if final != nil {
				return zero, final
			}
			if d > 0 && !sleep(ctx, &t, d) {
				return zero, s.stop(ctx, nil, time.Time{})
			}
		}
		if ctx.Err() != nil {
			return zero, s.stop(ctx, nil, time.Time{})
		}
		var v T
		if s.c.attemptTimeout > 0 {
			v, err = attempt(ctx, s.c.attemptTimeout, f)
		} else {
			v, err = f(ctx)
		}
		if err == nil {
			s.succeeded(ctx)
			return v, nil
		}
	}
}

// attempt calls f with a context that ends after d. The context is
// released when f returns, and also when it panics, so that its timer does
// not outlive a panic on its way up.
func attempt[T any](ctx context.Context, d time.Duration, f func(context.Context) (T, error)) (T, error) {
	actx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return f(actx)
}

// sleep waits for d or until ctx is done, and reports whether d passed. It
// makes *t on first use and reuses it after, and leaves it fired or stopped,
// so it never needs stopping later. A context that can never be done needs
// no timer.
func sleep(ctx context.Context, t **time.Timer, d time.Duration) bool {
	done := ctx.Done()
	if done == nil {
		time.Sleep(d)
		return true
	}
	if *t == nil {
		*t = time.NewTimer(d)
	} else {
		(*t).Reset(d)
	}
	select {
	case <-(*t).C:
		return true
	case <-done:
		(*t).Stop()
		return false
	}
}
