package breaker

import (
	"context"
	"errors"
	"strconv"
)

// Outcome is how a call's result counts for a [Breaker].
type Outcome uint8

const (
	// Success counts as a healthy call (or a slow one, see [SlowCall]).
	Success Outcome = iota
	// Failure counts against the trip rules.
	Failure
	// Ignore does not count at all: it neither fails nor succeeds, and it
	// takes no place in a window. In the half-open state it frees the probe
	// slot without deciding anything.
	Ignore
)

// String returns "success", "failure" or "ignore".
func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case Failure:
		return "failure"
	case Ignore:
		return "ignore"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// DefaultOutcome is the classification a [Breaker] uses unless [Classify]
// replaces it:
//
//   - nil is a [Success];
//   - an error that matches [ErrOpen], a rejection by another breaker
//     further down, is ignored: it says nothing about this dependency;
//   - an error that matches [context.Canceled] is ignored: the caller gave
//     up, the dependency did not fail ([Breaker.Run] and [Do], without a
//     [Classify] option, narrow this to the case where the caller's own
//     context is done; a classifier that falls back on DefaultOutcome
//     makes that choice itself);
//   - any other error is a [Failure], [context.DeadlineExceeded] from a
//     per-call timeout included.
//
// A custom classifier can fall back on it:
//
//	breaker.Classify(func(err error) breaker.Outcome {
//		if errors.Is(err, ErrNotFound) {
//			return breaker.Success // the dependency answered
//		}
//		return breaker.DefaultOutcome(err)
//	})
func DefaultOutcome(err error) Outcome {
	switch {
	case err == nil:
		return Success
	case errors.Is(err, ErrOpen), errors.Is(err, context.Canceled):
		return Ignore
	}
	return Failure
}

// classify returns the outcome of a non-nil err reported by a two-step
// caller.
func (b *Breaker) classify(err error) Outcome {
	if b.cfg.classify == nil {
		return DefaultOutcome(err)
	}
	if o := b.cfg.classify(err); o <= Ignore {
		return o
	}
	return Failure
}

// classifyCall returns the outcome of a non-nil err returned by a call made
// through Run or Do with ctx. Unlike a two-step caller, these know the
// caller's context: a cancellation that did not come from it is a failure.
func (b *Breaker) classifyCall(ctx context.Context, err error) Outcome {
	o := b.classify(err)
	if o == Ignore && b.cfg.classify == nil && ctx.Err() == nil && !errors.Is(err, ErrOpen) {
		return Failure
	}
	return o
}

// Ticket is an admitted call, returned by [Breaker.Allow]. Report its result
// exactly once with [Ticket.Done] or [Ticket.Report]; the first report
// counts and later ones on the same Ticket do nothing. A Ticket is a small
// value: returning and reporting one allocates nothing.
//
// A result reported after the breaker changed state (it tripped, closed, was
// reset or forced open since the call was admitted) is ignored: it never
// moves the state or the counters. Reports are safe from any goroutine, but
// one Ticket must not be reported from two goroutines at once, and a copy of
// a Ticket is a second report waiting to happen: pass it by pointer.
type Ticket struct {
	p     *period
	start int64
	lease uint64 // probe slot lease; 0 for a call admitted while closed
}

// Done reports the call's result, classified by the breaker's [Classify]
// option or [DefaultOutcome]. A nil error is a success. Done on the zero
// Ticket, or on a Ticket already reported, does nothing.
//
// In the closed state reporting a success takes no lock and allocates
// nothing; it reads the clock only with a [SlowCall] rule or a [TimeWindow].
// A report that changes the state delivers the [OnStateChange] events before
// it returns, unless another goroutine is already delivering.
func (t *Ticket) Done(err error) {
	p := t.p
	switch {
	case p == nil:
	case err != nil:
		t.classified(p.b, err)
	case p.quick:
		t.p = nil // report's fast path, one call shorter
		p.succeeded()
	default:
		t.report(Success)
	}
}

// Report reports the call's outcome directly, bypassing classification: for
// results that are not errors, such as an HTTP response with status 503.
// A value other than [Success], [Failure] or [Ignore] counts as a failure.
// Report on the zero Ticket, or on a Ticket already reported, does nothing.
func (t *Ticket) Report(o Outcome) {
	if o > Ignore {
		o = Failure
	}
	t.report(o)
}

// Probe reports whether the call was admitted as a probe of a half-open
// breaker, for callers that want to give probes a shorter timeout or log
// them.
func (t *Ticket) Probe() bool { return t.lease != 0 }

// report records outcome o, once.
func (t *Ticket) report(o Outcome) {
	p := t.p
	if p == nil {
		return
	}
	t.p = nil
	if o == Success && p.quick {
		// A success in the closed state needs no staleness check: a
		// period that is no longer current is never read again.
		p.succeeded()
		return
	}
	p.b.record(p, t.start, t.lease, o)
}

// classified reports err as b classifies it. If Classify panics, the call
// is reported as a failure before the panic goes on up, so that a probe's
// slot is not held until its lease runs out.
func (t *Ticket) classified(b *Breaker, err error) {
	o := Failure
	defer func() { t.report(o) }()
	o = b.classify(err)
}

// fail reports err, a non-nil error returned by a call made through Run or
// Do with ctx, before anything else was reported.
func (t *Ticket) fail(ctx context.Context, err error) {
	t.report(t.p.b.classifyCall(ctx, err))
}

// succeeded records a success in a closed period without a slow-call rule:
// it resets the run of consecutive failures and counts the success in the
// window, if there is one. A time window reads the clock.
func (p *period) succeeded() {
	// consec stays 0 without a ConsecutiveFailures rule. Loading it first
	// keeps the common success from writing a shared line, which is what
	// lets the success path scale.
	if p.consec.Load() != 0 {
		p.consec.Store(0)
	}
	if p.cw != nil {
		p.cw.success()
	} else if p.tw != nil {
		p.tw.add(p.b.now(), kindSuccess)
	}
}
