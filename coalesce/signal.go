package coalesce

import "context"

// Signal is a wake-up that coalesces: any number of [Signal.Notify] calls made
// while nobody is receiving collapse into exactly one pending wake-up, and a
// Notify made after a receive is never lost, because the next receive sees
// it. It is the tool for "something changed, go and look": a worker that
// flushes a buffer, re-reads a config or re-scans a queue wants to run once
// after a burst of events, not once per event.
//
// A Signal carries no data; pair it with state the receiver reads after it
// wakes (under a lock, or with atomics), and have notifiers update that state
// before they call Notify. The Go memory model then guarantees the receiver
// sees the update: Notify is a send on [Signal.C], and a send happens before
// the receive it completes.
//
// A Signal is safe for use by any number of notifiers and receivers; each
// pending wake-up is delivered to one receiver. It starts no goroutines and
// needs no Close. Create it with [NewSignal]; the zero value is not usable,
// and its methods panic.
type Signal struct {
	ch chan struct{}
}

// NewSignal returns a Signal with no pending wake-up.
func NewSignal() *Signal {
	return &Signal{ch: make(chan struct{}, 1)}
}

// Notify records a wake-up and returns at once; it never blocks and never
// allocates. If a wake-up is already pending, Notify does nothing: it costs
// about one memory load and takes no lock, so many goroutines may call it on
// a hot path.
func (s *Signal) Notify() {
	// The pending case is the common one in a burst: answer it with one
	// load, inlined at the call site. A receiver racing with this check takes
	// the pending wake-up after the check, so the Notify is not lost.
	if len(s.ch) != 0 {
		return
	}
	s.send()
}

func (s *Signal) send() {
	if s.ch == nil {
		panic(errZeroSignal)
	}
	select {
	case s.ch <- struct{}{}:
	default:
	}
}

// C returns the channel a receiver reads to take the pending wake-up. The
// channel is never closed. Use it in a select with the receiver's other
// cases:
//
//	for {
//		select {
//		case <-ctx.Done():
//			return
//		case <-sig.C():
//			flush()
//		}
//	}
func (s *Signal) C() <-chan struct{} {
	if s.ch == nil {
		panic(errZeroSignal)
	}
	return s.ch
}

// errZeroSignal is the panic of a Signal not made by NewSignal, whose
// wake-ups would otherwise be dropped without a word.
const errZeroSignal = "coalesce: Signal not created with NewSignal"

// Wait blocks until a wake-up is pending and takes it, or until ctx is done,
// in which case it returns [context.Cause](ctx) without taking a wake-up.
// When both are ready, Wait prefers the wake-up.
func (s *Signal) Wait(ctx context.Context) error {
	if s.ch == nil {
		panic(errZeroSignal)
	}
	select {
	case <-s.ch:
		return nil
	default:
	}
	select {
	case <-s.ch:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Pending reports whether a wake-up is waiting to be taken. The answer may be
// stale by the time the caller acts on it; it is meant for metrics and tests.
func (s *Signal) Pending() bool {
	if s.ch == nil {
		panic(errZeroSignal)
	}
	return len(s.ch) > 0
}
