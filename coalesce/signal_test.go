package coalesce_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft/coalesce"
)

func received(s *coalesce.Signal) bool {
	select {
	case <-s.C():
		return true
	default:
		return false
	}
}

func TestSignalCoalesces(t *testing.T) {
	s := coalesce.NewSignal()
	if s.Pending() {
		t.Fatal("new Signal is pending")
	}
	for range 100 {
		s.Notify()
	}
	if !s.Pending() {
		t.Fatal("Pending() = false after Notify")
	}
	if !received(s) {
		t.Fatal("no wake-up after 100 Notify calls")
	}
	if received(s) {
		t.Fatal("second wake-up after one burst of Notify calls")
	}
}

// A Signal not made by NewSignal would drop every wake-up: its methods
// panic instead.
func TestZeroSignalPanics(t *testing.T) {
	var s coalesce.Signal
	for name, f := range map[string]func(){
		"Notify":  s.Notify,
		"C":       func() { s.C() },
		"Wait":    func() { s.Wait(context.Background()) },
		"Pending": func() { s.Pending() },
	} {
		func() {
			defer func() {
				if r := recover(); r != "coalesce: Signal not created with NewSignal" {
					t.Errorf("%s on a zero Signal: panic %v, want the NewSignal message", name, r)
				}
			}()
			f()
		}()
	}
}

func TestSignalNotifyAfterReceiveIsKept(t *testing.T) {
	s := coalesce.NewSignal()
	s.Notify()
	if !received(s) {
		t.Fatal("first Notify lost")
	}
	s.Notify()
	if !received(s) {
		t.Fatal("Notify after a receive lost")
	}
}

func TestSignalWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := coalesce.NewSignal()
		woke := make(chan error, 1)
		go func() { woke <- s.Wait(context.Background()) }()
		synctest.Wait()
		select {
		case err := <-woke:
			t.Fatalf("Wait returned %v before Notify", err)
		default:
		}
		s.Notify()
		if err := <-woke; err != nil {
			t.Fatalf("Wait() = %v, want nil", err)
		}
		if s.Pending() {
			t.Fatal("Wait did not take the wake-up")
		}
	})
}

func TestSignalWaitPrefersPendingOverDoneContext(t *testing.T) {
	s := coalesce.NewSignal()
	s.Notify()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Wait(ctx); err != nil {
		t.Fatalf("Wait(cancelled ctx) with a pending wake-up = %v, want nil", err)
	}
}

func TestSignalWaitContextCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := coalesce.NewSignal()
		errStop := errors.New("stop")
		ctx, cancel := context.WithTimeoutCause(context.Background(), time.Second, errStop)
		defer cancel()
		start := time.Now()
		if err := s.Wait(ctx); !errors.Is(err, errStop) {
			t.Fatalf("Wait() = %v, want %v", err, errStop)
		}
		if got := time.Since(start); got != time.Second {
			t.Fatalf("Wait returned after %v, want 1s", got)
		}
		s.Notify()
		if !received(s) {
			t.Fatal("a cancelled Wait consumed a later wake-up")
		}
	})
}

// Many notifiers, one receiver: the receiver always ends up seeing the last
// state the notifiers published, however the calls interleave.
func TestSignalConcurrentNoLostWakeup(t *testing.T) {
	const notifiers, each = 8, 1000
	s := coalesce.NewSignal()
	var mu sync.Mutex
	published := 0
	var wg sync.WaitGroup
	for range notifiers {
		wg.Go(func() {
			for range each {
				mu.Lock()
				published++
				mu.Unlock()
				s.Notify()
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if err := s.Wait(ctx); err != nil {
			t.Fatalf("receiver stuck: %v (published %d)", err, published)
		}
		mu.Lock()
		seen := published
		mu.Unlock()
		if seen == notifiers*each {
			break
		}
	}
	wg.Wait()
}
