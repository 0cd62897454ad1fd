package breaker

import (
	"errors"
	"math"
	"time"
)

// ErrOpen matches, through [errors.Is], every error a [Breaker] returns when
// it rejects a call: an open circuit, and a half-open circuit whose probe
// slots are all taken ([ErrTooManyProbes]). A caller that only needs to know
// "the call was not made" tests for ErrOpen.
//
// An error that wraps ErrOpen should not be retried right away: the
// dependency behind the breaker is known to be failing, and retrying only
// adds rejected calls. [*OpenError.RetryAfter] says when trying again makes
// sense.
var ErrOpen = errors.New("breaker: circuit open")

// ErrTooManyProbes matches, through [errors.Is], the rejection of a call by a
// half-open breaker whose [HalfOpenProbes] are all in flight. It also matches
// [ErrOpen], so callers that treat both rejections alike need test only for
// ErrOpen.
var ErrTooManyProbes error = tooManyProbes{}

type tooManyProbes struct{}

func (tooManyProbes) Error() string { return "breaker: circuit half-open, all probes in flight" }
func (tooManyProbes) Unwrap() error { return ErrOpen }

// OpenError is the error a [Breaker] returns when it rejects a call. Match it
// with [errors.As] to read when the breaker will admit calls again; it
// matches [ErrOpen] through [errors.Is], and also [ErrTooManyProbes] when
// State is [HalfOpen].
//
// A breaker returns the same *OpenError to every call it rejects during one
// open or half-open period, so a rejection allocates nothing; treat it as
// read-only.
type OpenError struct {
	// Name is the breaker's [Name], empty if none was set.
	Name string
	// State is [Open], or [HalfOpen] when every probe slot was taken.
	State State
	// Forced reports that the breaker was opened by [Breaker.ForceOpen] and
	// stays open until [Breaker.Reset].
	Forced bool
	// Until is when the open period ends and the breaker starts admitting
	// probes. It is the zero Time when Forced, or when State is HalfOpen
	// (a probe slot may free up at any moment).
	Until time.Time

	p *period // the half-open period that rejected the call; nil otherwise
}

// Error returns "breaker: circuit open", or the half-open message of
// [ErrTooManyProbes], with the breaker's name and "(forced)" added when they
// apply. The message does not depend on the clock.
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

// Unwrap returns [ErrTooManyProbes] when State is [HalfOpen] and [ErrOpen]
// otherwise.
func (e *OpenError) Unwrap() error {
	if e.State == HalfOpen {
		return ErrTooManyProbes
	}
	return ErrOpen
}

// RetryAfter returns how long from now until the breaker may admit the call:
// the time left until Until (zero once that has passed), and the longest
// Duration when Forced, since only [Breaker.Reset] ends that. When State is
// [HalfOpen], a slot frees up when a probe is reported, which cannot be
// foreseen, or at the latest when the first probe's [ProbeTimeout] runs
// out: RetryAfter then returns a random wait, never zero, of at most
// [OpenFor] or the time left on that lease, whichever is shorter, so that
// the callers turned away come back spread out; once a slot is free again
// or the breaker has changed state, it returns a nanosecond. It reads the
// clock. A retry policy can honour it through the interface
// interface{ RetryAfter() time.Duration } without importing this package.
func (e *OpenError) RetryAfter() time.Duration {
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
