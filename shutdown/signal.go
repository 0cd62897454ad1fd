package shutdown

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// ErrSignal matches, with [errors.Is], the cause of a context cancelled by
// [OnSignal].
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

// OnSignal returns a copy of ctx cancelled, with a [*SignalError] as its
// cause, when one of sigs (by default SIGINT and SIGTERM) arrives; a second
// signal other than SIGTERM exits the process with status 128 plus its
// number. The returned function restores the signals' default effect, cancels
// the context and waits for OnSignal's goroutine; it may be called twice.
func OnSignal(ctx context.Context, sigs ...os.Signal) (context.Context, context.CancelFunc) {
	return Signals{Signals: sigs}.Notify(ctx)
}

// Signals is [OnSignal] with an exit function a test can replace; its zero
// value behaves as OnSignal.
type Signals struct {
	// The signals to watch; SIGINT and SIGTERM when empty.
	Signals []os.Signal
	// Exit ends the process on a second signal; os.Exit when nil.
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
				// The operator who presses Ctrl-C twice means it. A
				// repeated SIGTERM is a supervisor's (a second delete with
				// a shorter grace period), which enforces its deadline
				// with SIGKILL: the drain goes on.
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
