package fanin_test

import (
	"cmp"
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/fanin"
)

type tagged struct {
	key, in, seq int
}

func byKey(a, b tagged) int { return cmp.Compare(a.key, b.key) }

func TestMergeSortedIsStable(t *testing.T) {
	a := filled(tagged{1, 0, 0}, tagged{2, 0, 1}, tagged{2, 0, 2})
	b := filled(tagged{1, 1, 0}, tagged{2, 1, 1}, tagged{3, 1, 2})
	c := filled(tagged{0, 2, 0}, tagged{2, 2, 1})
	s := fanin.MergeSorted(context.Background(), byKey, a, b, c)
	got := drain(s.Out())
	want := []tagged{{0, 2, 0}, {1, 0, 0}, {1, 1, 0}, {2, 0, 1}, {2, 0, 2}, {2, 1, 1}, {2, 2, 1}, {3, 1, 2}}
	if !slices.Equal(got, want) {
		t.Fatalf("MergeSorted = %v\nwant %v", got, want)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("Err() = %v, want nil", err)
	}
}

func TestMergeSortedNoInputs(t *testing.T) {
	s := fanin.MergeSorted(context.Background(), cmp.Compare[int])
	if got := drain(s.Out()); len(got) != 0 {
		t.Fatalf("MergeSorted() = %v, want nothing", got)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("Err() = %v, want nil", err)
	}
}

func TestMergeSortedUnsortedInput(t *testing.T) {
	s := fanin.MergeSorted(context.Background(), cmp.Compare[int], filled(1, 5, 9), filled(2, 4, 3, 8))
	got := drain(s.Out())
	if want := []int{1, 2, 4}; !slices.Equal(got, want) {
		t.Fatalf("MergeSorted gave %v before stopping, want %v", got, want)
	}
	err := s.Err()
	var ue *fanin.UnsortedError
	if !errors.As(err, &ue) || ue.Input != 1 {
		t.Fatalf("Err() = %v, want an UnsortedError for input 1", err)
	}
	if want := "fanin: input 1 of MergeSorted is not sorted"; err.Error() != want {
		t.Fatalf("Error() = %q, want %q", err.Error(), want)
	}
}

func TestMergeSortedComparePanics(t *testing.T) {
	calls := 0
	s := fanin.MergeSorted(context.Background(), func(a, b int) int {
		calls++
		if calls == 3 {
			panic("bad compare")
		}
		return cmp.Compare(a, b)
	}, filled(1, 3, 5), filled(2, 4, 6))
	drain(s.Out())
	var pe *weft.PanicError
	if err := s.Err(); !errors.As(err, &pe) || pe.Value != "bad compare" {
		t.Fatalf("Err() = %v, want a PanicError with value %q", err, "bad compare")
	}
}

func TestMergeSortedCompareGoexit(t *testing.T) {
	s := fanin.MergeSorted(context.Background(), func(a, b int) int {
		runtime.Goexit()
		return 0
	}, filled(1), filled(2))
	drain(s.Out())
	if err := s.Err(); !errors.Is(err, weft.ErrGoexit) {
		t.Fatalf("Err() = %v, want weft.ErrGoexit", err)
	}
}

func TestMergeSortedCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errStop := errors.New("stop")
		ctx, cancel := context.WithCancelCause(context.Background())
		open := make(chan int) // never closes, so nothing can be emitted
		s := fanin.MergeSorted(ctx, cmp.Compare[int], filled(1, 2), open)
		synctest.Wait()
		if closedNow(s.Out()) {
			t.Fatal("output closed before ctx was done")
		}
		cancel(errStop)
		if got := drain(s.Out()); len(got) != 0 {
			t.Fatalf("got %v, want nothing", got)
		}
		if err := s.Err(); !errors.Is(err, errStop) {
			t.Fatalf("Err() = %v, want %v", err, errStop)
		}
	})
}

// A consumer that stops reading and cancels ctx frees the merge goroutine.
func TestMergeSortedCancelWhileSending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		a, b := make([]int, 200), make([]int, 100)
		for i := range a {
			a[i] = i
		}
		for i := range b {
			b[i] = 200 + i
		}
		s := fanin.MergeSorted(ctx, cmp.Compare[int], filled(a...), filled(b...))
		if v := <-s.Out(); v != 0 {
			t.Fatalf("first value %d, want 0", v)
		}
		synctest.Wait() // the buffer is full again and the merge waits to send
		cancel()
		if err := s.Err(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Err() = %v, want context.Canceled", err)
		}
	})
}

func TestMergeSortedMisuse(t *testing.T) {
	wantPanic(t, "fanin: MergeSorted with a nil cmp function", func() {
		fanin.MergeSorted[int](context.Background(), nil, filled(1))
	})
	wantPanic(t, "fanin: MergeSorted: input 0 is a nil channel", func() {
		fanin.MergeSorted(context.Background(), cmp.Compare[int], nil)
	})
	wantPanic(t, "fanin: MergeSorted with a nil context", func() {
		//lint:ignore SA1012 the nil context is the point of the test
		fanin.MergeSorted(nil, cmp.Compare[int], filled(1))
	})
}

// A consumer slower than the merge makes it wait to send, and loses nothing.
func TestMergeSortedSlowConsumer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		evens, odds := make([]int, 100), make([]int, 100)
		for i := range evens {
			evens[i], odds[i] = 2*i, 2*i+1
		}
		s := fanin.MergeSorted(context.Background(), cmp.Compare[int], filled(evens...), filled(odds...))
		var got []int
		for v := range s.Out() {
			got = append(got, v)
			time.Sleep(time.Millisecond)
		}
		if len(got) != 200 || !slices.IsSorted(got) {
			t.Fatalf("got %d values, sorted %v; want 0..199", len(got), slices.IsSorted(got))
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
	})
}

// A merge that never has to wait still stops at the next value once ctx is
// done.
func TestMergeSortedCancelWhileRunning(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	s := fanin.MergeSorted(ctx, func(a, b int) int {
		if calls++; calls == 3 {
			cancel()
		}
		return cmp.Compare(a, b)
	}, filled(1, 3, 5, 7), filled(2, 4, 6, 8))
	got := drain(s.Out())
	if err := s.Err(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Err() = %v, want context.Canceled", err)
	}
	if len(got) >= 8 {
		t.Fatalf("got %v, want the merge cut short", got)
	}
}
