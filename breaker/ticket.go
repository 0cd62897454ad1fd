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
	// Ignore counts as neither and takes no place in a window; a probe
	// reported so frees its slot without deciding anything.
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

// DefaultOutcome is how a [Breaker] classifies results unless [Classify]
// replaces it, and what a classifier can fall back on: nil is a [Success]; an
// error matching [ErrOpen] (another breaker's rejection) or
// [context.Canceled] (the caller gave up) is ignored; any other error,
// [context.DeadlineExceeded] included, is a [Failure].
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

// Ticket is a call admitted by [Breaker.Allow]. Report its result once, from
// any one goroutine; later reports are ignored. Pass it by pointer: a copy is
// a second report waiting to happen.
type Ticket struct {
	// A small value: returning and reporting one allocates nothing.
	p     *period
	start int64
	lease uint64 // probe slot lease; 0 for a call admitted while closed
}

// Done reports the call's result as classified by [Classify] or
// [DefaultOutcome]. It does nothing on the zero or a reported Ticket.
func (t *Ticket) Done(err error) {
	// A success in the closed state takes no lock and allocates nothing; it
	// reads the clock only for a SlowCall rule or a TimeWindow.
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

// Report reports the call's outcome without classifying it, for results
// that are not errors (an HTTP 503). An unknown Outcome counts as a
// [Failure]; Report on the zero or a reported Ticket does nothing.
func (t *Ticket) Report(o Outcome) {
	if o > Ignore {
		o = Failure
	}
	t.report(o)
}

// Probe reports whether the call was admitted as a half-open breaker's probe.
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
