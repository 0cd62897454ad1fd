package shutdown

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// ErrSignal is matched, with [errors.Is], by the [*SignalError] that is the
// cause of a context cancelled by [OnSignal].
var ErrSignal = errors.New("shutdown: signal received")

// SignalError is the [context.Cause] of a context cancelled by a signal.
type SignalError struct {
	// Signal is the signal that arrived.
	Signal os.Signal
}

// Error returns "shutdown: received " followed by the signal's name.
func (e *SignalError) Error() string {
	return "shutdown: received " + e.Signal.String()
}

// Is reports whether target is [ErrSignal].
func (e *SignalError) Is(target error) bool { return target == ErrSignal }

// OnSignal returns a copy of ctx that is cancelled when one of sigs arrives
// (SIGINT and SIGTERM when none are named), with a [*SignalError] as its
// [context.Cause]. A second signal other than SIGTERM exits the process at
// once with status 128 plus the signal's number, as a shell reports a
// process killed by it: the operator who presses Ctrl-C twice means it. A
// repeated SIGTERM does not: supervisors send it again (a second delete with
// a shorter grace period) and enforce their deadline with SIGKILL.
//
// OnSignal starts one goroutine that watches for the signals. The returned
// stop function unregisters the handlers, so the signals have their default
// effect again, cancels the context, and waits for that goroutine to exit;
// call it when the program no longer needs the signals, usually with defer.
// Calling stop more than once is safe.
//
// Tests that must not exit the process use [Signals.Notify] with an Exit
// function of their own.
func OnSignal(ctx context.Context, sigs ...os.Signal) (context.Context, context.CancelFunc) {
	return Signals{Signals: sigs}.Notify(ctx)
}

// Signals configures [Signals.Notify], the form of [OnSignal] with every
// setting exposed. The zero value behaves as OnSignal.
type Signals struct {
	// Signals are the signals to watch; SIGINT and SIGTERM when empty.
	Signals []os.Signal
	// Exit is called with 128 plus the signal's number when a second
	// signal other than SIGTERM arrives; os.Exit when nil.
	Exit func(code int)
}

// Notify is [OnSignal] with the settings of s.
func (s Signals) Notify(ctx context.Context) (context.Context, context.CancelFunc) {
	sigs := s.Signals
	if len(sigs) == 0 {
		sigs = []os.Signal{os.Interrupt, syscall.SIGTERM}
	}
	exit := s.Exit
	if exit == nil {
		exit = os.Exit
	}
	ctx, cancel := context.WithCancelCause(ctx)
	// Two slots: the second signal must not be lost while the first is
	// being handled.
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, sigs...)
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case sig := <-ch:
			cancel(&SignalError{Signal: sig})
		case <-done:
			return
		}
		for {
			select {
			case sig := <-ch:
				if sig == syscall.SIGTERM {
					continue
				}
				exit(exitCode(sig))
				return
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			<-exited
			cancel(context.Canceled)
		})
	}
	return ctx, stop
}

// exitCode is the status a shell gives a process killed by sig.
func exitCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}
