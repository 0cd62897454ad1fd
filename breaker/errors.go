package breaker

import (
	"errors"
	"math"
	"time"
)

// ErrOpen matches, through [errors.Is], every rejection by a [Breaker]: test
// for it to know the call was not made.
var ErrOpen = errors.New("breaker: circuit open")

// ErrTooManyProbes matches the rejection of a call by a half-open breaker
// whose probes are all in flight. It also matches [ErrOpen].
var ErrTooManyProbes error = tooManyProbes{}

type tooManyProbes struct{}

func (tooManyProbes) Error() string { return "breaker: circuit half-open, all probes in flight" }
func (tooManyProbes) Unwrap() error { return ErrOpen }

// OpenError is the error a [Breaker] returns when it rejects a call; it
// matches [ErrOpen], and [ErrTooManyProbes] when State is [HalfOpen]. One
// *OpenError is shared by the calls rejected in one period: treat it as
// read-only.
type OpenError struct {
	Name   string // the breaker's [Name]
	State  State  // [Open], or [HalfOpen] when every probe slot was taken
	Forced bool   // opened by [Breaker.ForceOpen], until [Breaker.Reset]
	// Until is when an open breaker starts admitting probes; the zero
	// Time when Forced or HalfOpen.
	Until time.Time

	// p is the half-open period that rejected the call; nil otherwise.
	// Sharing one error per period keeps a rejection allocation-free.
	p *period
}

// Error returns the message of [ErrOpen] or [ErrTooManyProbes], with
// "(forced)" and the breaker's name added when they apply.
func (e *OpenError) Error() string {
	msg := ErrOpen.Error()
	if e.State == HalfOpen {
		msg = ErrTooManyProbes.Error()
	} else if e.Forced {
		msg += " (forced)"
	}
	if e.Name != "" {
		msg += ": " + e.Name
	}
	return msg
}

// Unwrap returns [ErrTooManyProbes] when State is [HalfOpen], else [ErrOpen].
func (e *OpenError) Unwrap() error {
	if e.State == HalfOpen {
		return ErrTooManyProbes
	}
	return ErrOpen
}

// RetryAfter returns how long from now until the breaker may admit a call:
// the time left until Until, or the longest Duration when Forced. When
// HalfOpen it returns a random wait, never zero, of at most [OpenFor] or the
// time left on the first probe's lease.
func (e *OpenError) RetryAfter() time.Duration {
	// The half-open wait is random so that rejected callers come back spread
	// out; retry.HonorRetryAfter reads it.
	switch {
	case e.Forced:
		return math.MaxInt64
	case e.p != nil:
		return e.p.retryAfter()
	case e.Until.IsZero():
		return 0
	}
	return max(time.Until(e.Until), 0)
}
