package coalesce_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft/coalesce"
	"pgregory.net/rapid"
)

// signalMachine checks Signal against a one-bit model: Notify sets the bit, a
// receive takes it. Any sequence of operations must agree with the model.
type signalMachine struct {
	s        *coalesce.Signal
	pending  bool
	notifies int
	wakeups  int
}

func (m *signalMachine) Notify(t *rapid.T) {
	m.s.Notify()
	m.pending = true
	m.notifies++
}

func (m *signalMachine) Receive(t *rapid.T) {
	got := received(m.s)
	if got != m.pending {
		t.Fatalf("receive got a wake-up = %v, model says %v", got, m.pending)
	}
	if got {
		m.wakeups++
	}
	m.pending = false
}

func (m *signalMachine) WaitCancelled(t *rapid.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := m.s.Wait(ctx)
	if (err == nil) != m.pending {
		t.Fatalf("Wait(cancelled) = %v with pending = %v", err, m.pending)
	}
	if err == nil {
		m.wakeups++
	}
	m.pending = false
}

func (m *signalMachine) Check(t *rapid.T) {
	if got := m.s.Pending(); got != m.pending {
		t.Fatalf("Pending() = %v, model says %v", got, m.pending)
	}
	if m.wakeups > m.notifies {
		t.Fatalf("%d wake-ups from %d notifies", m.wakeups, m.notifies)
	}
}

func TestPropertySignalStateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := &signalMachine{s: coalesce.NewSignal()}
		t.Repeat(rapid.StateMachineActions(m))
	})
}

// With notifiers and a receiver running concurrently, the receiver sees at
// least one wake-up after every Notify (it ends up seeing the last published
// state without any further Notify) and never more wake-ups than Notifies.
func TestPropertySignalConcurrent(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		counts := rapid.SliceOfN(rapid.IntRange(0, 20), 1, 6).Draw(rt, "notifies per goroutine")
		total := int64(0)
		for _, n := range counts {
			total += int64(n)
		}
		var failure string
		synctest.Test(t, func(t *testing.T) {
			s := coalesce.NewSignal()
			var published atomic.Int64
			var wg sync.WaitGroup
			for _, n := range counts {
				wg.Go(func() {
					for range n {
						published.Add(1)
						s.Notify()
					}
				})
			}
			wakeups := int64(0)
			// A lost wake-up leaves the receiver blocked; in the bubble the
			// timer then fires at once instead of the test hanging.
			timeout := time.After(time.Hour)
			for seen := int64(0); seen < total; {
				select {
				case <-s.C():
					wakeups++
					seen = published.Load()
				case <-timeout:
					failure = fmt.Sprintf("receiver saw %d of %d published notifies and no wake-up came", seen, total)
					wg.Wait()
					return
				}
			}
			wg.Wait()
			if received(s) {
				wakeups++
			}
			if wakeups > total {
				failure = fmt.Sprintf("%d wake-ups from %d notifies", wakeups, total)
			}
		})
		if failure != "" {
			rt.Fatal(failure)
		}
	})
}

// latestMachine checks Latest against a model holding the newest value and
// its version.
type latestMachine struct {
	l       *coalesce.Latest[int]
	value   int
	version uint64
	waiting []waiter // channels from Changed, checked after every step
}

type waiter struct {
	seen uint64
	ch   <-chan struct{}
}

func (m *latestMachine) Set(t *rapid.T) {
	v := rapid.Int().Draw(t, "v")
	got := m.l.Set(v)
	m.version++
	m.value = v
	if got != m.version {
		t.Fatalf("Set(%d) = %d, want version %d", v, got, m.version)
	}
}

func (m *latestMachine) Load(t *rapid.T) {
	if v, ver := m.l.Load(); v != m.value || ver != m.version {
		t.Fatalf("Load() = %d, %d, want %d, %d", v, ver, m.value, m.version)
	}
}

// Next draws seen up to a few versions ahead too, and gives up at once if
// no newer version exists: a wait it leaves behind for a version ahead must
// not disturb a channel Changed handed out for the same version.
func (m *latestMachine) Next(t *rapid.T) {
	seen := rapid.Uint64Range(0, m.version+3).Draw(t, "seen")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Next must answer without waiting when a newer version exists
	v, ver, err := m.l.Next(ctx, seen)
	if seen < m.version {
		if err != nil || v != m.value || ver != m.version {
			t.Fatalf("Next(%d) = %d, %d, %v, want %d, %d, nil", seen, v, ver, err, m.value, m.version)
		}
		return
	}
	if err == nil || ver != seen {
		t.Fatalf("Next(%d) on version %d = %d, %d, %v, want the context error", seen, m.version, v, ver, err)
	}
}

// Changed draws seen up to a few versions ahead too: a reader holding a
// version from elsewhere waits for the Set that passes it, not the next one.
func (m *latestMachine) Changed(t *rapid.T) {
	seen := rapid.Uint64Range(0, m.version+3).Draw(t, "seen")
	ch := m.l.Changed(seen)
	if got, want := isClosed(ch), seen < m.version; got != want {
		t.Fatalf("Changed(%d) closed = %v on version %d, want %v", seen, got, m.version, want)
	}
	m.waiting = append(m.waiting, waiter{seen, ch})
}

func (m *latestMachine) Check(t *rapid.T) {
	if got := m.l.Version(); got != m.version {
		t.Fatalf("Version() = %d, want %d", got, m.version)
	}
	for _, w := range m.waiting {
		if got, want := isClosed(w.ch), w.seen < m.version; got != want {
			t.Fatalf("channel of Changed(%d) closed = %v on version %d, want %v", w.seen, got, m.version, want)
		}
	}
}

func TestPropertyLatestStateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := &latestMachine{l: coalesce.NewLatest[int]()}
		t.Repeat(rapid.StateMachineActions(m))
	})
}

// With writers and readers running concurrently: every read returns at least
// the newest version whose Set had returned before the read began, the value
// read is the one set with that version, and no reader sees versions go
// backwards.
func TestPropertyLatestConcurrent(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		writers := rapid.IntRange(1, 4).Draw(rt, "writers")
		sets := rapid.IntRange(1, 50).Draw(rt, "sets per writer")
		readers := rapid.IntRange(1, 4).Draw(rt, "readers")
		useNext := rapid.Bool().Draw(rt, "readers wait with Next")

		l := coalesce.NewLatest[int]()
		var done atomic.Int64 // the newest version whose Set has returned
		var setBy sync.Map    // version → value
		var failure atomic.Pointer[string]
		fail := func(format string, args ...any) {
			msg := fmt.Sprintf(format, args...)
			failure.CompareAndSwap(nil, &msg)
		}
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range sets {
					v := w*1_000_000 + i
					ver := l.Set(v)
					setBy.Store(ver, v)
					for {
						old := done.Load()
						if int64(ver) <= old || done.CompareAndSwap(old, int64(ver)) {
							break
						}
					}
				}
			})
		}
		final := uint64(writers * sets)
		type seenPair struct {
			v   int
			ver uint64
		}
		observed := make([][]seenPair, readers)
		for r := range readers {
			wg.Go(func() {
				var last uint64
				for last < final {
					floor := uint64(done.Load())
					var v int
					var ver uint64
					if useNext {
						var err error
						v, ver, err = l.Next(context.Background(), last)
						if err != nil {
							fail("Next: %v", err)
							return
						}
					} else {
						v, ver = l.Load()
					}
					if ver < floor {
						fail("read version %d after version %d was set", ver, floor)
					}
					if ver < last {
						fail("reader saw version %d after %d", ver, last)
					}
					last = ver
					if ver > 0 {
						observed[r] = append(observed[r], seenPair{v, ver})
					}
				}
			})
		}
		wg.Wait()
		if msg := failure.Load(); msg != nil {
			rt.Fatal(*msg)
		}
		for _, pairs := range observed {
			for _, p := range pairs {
				want, ok := setBy.Load(p.ver)
				if !ok || want.(int) != p.v {
					rt.Fatalf("read %d with version %d, but that version was set to %v", p.v, p.ver, want)
				}
			}
		}
	})
}
