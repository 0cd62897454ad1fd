package shutdown_test

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/weftgo/weft/shutdown"
)

func TestSignalCancelsWithCause(t *testing.T) {
	exits := make(chan int, 1)
	ctx, stop := shutdown.Signals{
		Signals: []os.Signal{syscall.SIGUSR1},
		Exit:    func(code int) { exits <- code },
	}.Notify(context.Background())
	defer stop()

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("context not cancelled by the signal")
	}
	cause := context.Cause(ctx)
	var se *shutdown.SignalError
	if !errors.As(cause, &se) || se.Signal != syscall.SIGUSR1 || !errors.Is(cause, shutdown.ErrSignal) {
		t.Fatalf("cause = %v, want *SignalError(SIGUSR1) matching ErrSignal", cause)
	}
	if got := cause.Error(); got != "shutdown: received user defined signal 1" {
		t.Fatalf("Error() = %q", got)
	}

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exits:
		if code != 128+int(syscall.SIGUSR1) {
			t.Fatalf("exit code %d, want %d", code, 128+int(syscall.SIGUSR1))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second signal did not exit")
	}
}

func TestSignalStop(t *testing.T) {
	ctx, stop := shutdown.Signals{Signals: []os.Signal{syscall.SIGUSR2}, Exit: func(int) { t.Error("exit called") }}.Notify(context.Background())
	stop()
	stop() // twice is safe
	if !errors.Is(context.Cause(ctx), context.Canceled) {
		t.Fatalf("after stop, cause = %v, want context.Canceled", context.Cause(ctx))
	}
	// The handlers are gone: two more signals, caught here, make no exit.
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGUSR2)
	defer signal.Stop(ch)
	for range 2 {
		if err := syscall.Kill(syscall.Getpid(), syscall.SIGUSR2); err != nil {
			t.Fatal(err)
		}
		<-ch
	}
}

func TestOnSignalDefaults(t *testing.T) {
	ctx, stop := shutdown.OnSignal(context.Background())
	if ctx.Err() != nil {
		t.Fatal("context done before any signal")
	}
	stop()
	if ctx.Err() == nil {
		t.Fatal("stop did not cancel the context")
	}
}

// A repeated SIGTERM, as a supervisor sends it, does not exit; another
// signal after it still does.
func TestSignalRepeatedTERMDoesNotExit(t *testing.T) {
	exits := make(chan int, 2)
	ctx, stop := shutdown.Signals{
		Signals: []os.Signal{syscall.SIGTERM, syscall.SIGUSR1},
		Exit:    func(code int) { exits <- code },
	}.Notify(context.Background())
	defer stop()
	// watch sees each SIGTERM once the runtime has handed it to every
	// channel, Notify's included: the SIGUSR1 sent after it queues behind.
	watch := make(chan os.Signal, 2)
	signal.Notify(watch, syscall.SIGTERM)
	defer signal.Stop(watch)
	for range 2 {
		if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		<-watch
	}
	<-ctx.Done()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exits:
		if code != 128+int(syscall.SIGUSR1) {
			t.Fatalf("exit code %d, want %d from SIGUSR1: the second SIGTERM must not exit", code, 128+int(syscall.SIGUSR1))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SIGUSR1 after a repeated SIGTERM did not exit")
	}
}
