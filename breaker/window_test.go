package breaker

// White-box tests of the windows: the paths that only concurrent writers
// reach, driven here one step at a time.

import (
	"sync"
	"testing"

	"pgregory.net/rapid"
)

// The slot index is i mod n for every position and size.
func TestPropertyCountWindowSlot(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, maxCountWindow).Draw(t, "n")
		w := newCountWindow(n)
		i := rapid.Uint32().Draw(t, "i")
		w.pos.Store(i)
		got := w.slot()
		want := &w.slots[uint64(i)%uint64(n)]
		if got != want {
			t.Fatalf("slot for position %d of %d is not slot %d", i, n, uint64(i)%uint64(n))
		}
	})
}

// After any concurrent adds, the counts describe exactly what the slots
// hold.
func TestPropertyCountWindowCountsMatchSlots(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 8).Draw(t, "n")
		w := newCountWindow(n)
		writers := rapid.SliceOfN(rapid.SliceOf(rapid.Uint32Range(kindSuccess, kindFailure)), 1, 4).Draw(t, "writers")
		var wg sync.WaitGroup
		for _, kinds := range writers {
			wg.Go(func() {
				for _, k := range kinds {
					w.add(k)
				}
			})
		}
		wg.Wait()
		var want counts
		for i := range w.slots {
			switch w.slots[i].Load() {
			case kindSuccess:
				want.calls++
			case kindSlow:
				want.calls++
				want.slow++
			case kindFailure:
				want.calls++
				want.failures++
			}
		}
		if got := w.load(); got != want {
			t.Fatalf("counts %+v, slots hold %+v", got, want)
		}
	})
}

const span = 1000 // nanoseconds per bucket in these tests

func TestTimeWindowLateWriters(t *testing.T) {
	w := newTimeWindow(span, 4, 10*span) // epochs 7–10 in the window
	w.add(10*span, kindFailure)
	w.add(8*span+1, kindSuccess) // reported late, still in the window
	w.add(6*span, kindFailure)   // reported so late its epoch has left
	if got, want := w.load(10*span), (counts{calls: 2, failures: 1}); got != want {
		t.Fatalf("load = %+v, want %+v", got, want)
	}
	w.add(14*span, kindSlow) // epochs 11–14: everything before drops out
	if got, want := w.load(14*span), (counts{calls: 1, slow: 1}); got != want {
		t.Fatalf("load after moving on = %+v, want %+v", got, want)
	}
	// A writer that computed its bucket for epoch 10 before the window moved
	// on finds the bucket holding epoch 14 and drops its outcome.
	w.cur.Store(w.pack(10))
	w.add(10*span, kindFailure)
	w.cur.Store(w.pack(14))
	if got, want := w.load(14*span), (counts{calls: 1, slow: 1}); got != want {
		t.Fatalf("load after a delayed writer = %+v, want %+v", got, want)
	}
}

func TestTimeWindowAdvanceRace(t *testing.T) {
	w := newTimeWindow(span, 4, 10*span)
	w.advance(12)
	w.advance(11) // a writer that lost the race to advance: nothing to do
	if got := w.cur.Load() >> curEpoch; got != 12 {
		t.Fatalf("epoch after advance(12), advance(11) = %d, want 12", got)
	}
}

func TestTimeWindowBucketFull(t *testing.T) {
	w := newTimeWindow(span, 2, 0)
	b := &w.buckets[0]
	b.Store(b.Load() + bucketMask*bucketCalls) // a million calls
	w.add(0, kindFailure)
	if got, want := w.load(0), (counts{calls: bucketMask}); got != want {
		t.Fatalf("load of a full bucket = %+v, want %+v", got, want)
	}
}

func TestTimeWindowSkipsBucketBeingCleared(t *testing.T) {
	w := newTimeWindow(span, 2, 5*span)
	w.add(5*span, kindFailure)
	w.add(4*span, kindSuccess)
	w.buckets[4%2].Store(w.tag(6) << tagShift) // cleared for a later epoch
	if got, want := w.load(5*span), (counts{calls: 1, failures: 1}); got != want {
		t.Fatalf("load = %+v, want %+v", got, want)
	}
}

// A breaker that is closed by the time allowSlow takes the lock admits the
// call as a closed one.
func TestAllowLockedClosed(t *testing.T) {
	b := New()
	tk, err := b.allowLocked()
	if err != nil || tk.p != b.cur.Load() || tk.Probe() {
		t.Fatalf("allowLocked on a closed breaker = %+v, %v", tk, err)
	}
}
