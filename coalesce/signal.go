package coalesce

import "context"

// Signal is a wake-up that coalesces: [Signal.Notify] calls made while
// nobody receives collapse into one pending wake-up, and a Notify made after
// a receive is never lost. It carries no data: update shared state before
// Notify, and the receiver sees the update once it takes the wake-up. Each
// wake-up goes to one receiver. Create it with [NewSignal]; the methods of
// the zero value panic.
type Signal struct {
	// ch has room for one wake-up. Notify is a send on it and a receive
	// takes the wake-up, so by the memory model's rule that a send happens
	// before the receive it completes, the receiver sees what the notifier
	// wrote before Notify.
	ch chan struct{}
}

// NewSignal returns a Signal with no pending wake-up.
func NewSignal() *Signal {
	return &Signal{ch: make(chan struct{}, 1)}
}

// Notify records a wake-up, or does nothing if one is pending. It never
// blocks.
func (s *Signal) Notify() {
	// Notify never blocks, so it is safe on a hot path.
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

// C returns the channel a receiver reads to take the pending wake-up in a
// select. It is never closed.
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
// when it returns [context.Cause] of ctx and takes nothing. If both are
// ready, Wait takes the wake-up.
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

// Pending reports whether a wake-up is waiting; the answer may be stale at
// once.
func (s *Signal) Pending() bool {
	if s.ch == nil {
		panic(errZeroSignal)
	}
	return len(s.ch) > 0
}
