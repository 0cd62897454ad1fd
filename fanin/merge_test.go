package fanin_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft/fanin"
)

func TestMergeAll(t *testing.T) {
	got := drain(fanin.Merge(context.Background(), filled(1, 2, 3), filled[int](), filled(4, 5)))
	slices.Sort(got)
	if want := []int{1, 2, 3, 4, 5}; !slices.Equal(got, want) {
		t.Fatalf("Merge = %v, want %v", got, want)
	}
}

func TestMergeNoInputsIsClosed(t *testing.T) {
	if out := fanin.Merge[int](context.Background()); !closedNow(out) {
		t.Fatal("Merge() with no inputs returned an open channel")
	}
}

func TestMergeMisuse(t *testing.T) {
	wantPanic(t, "fanin: Merge: input 1 is a nil channel", func() {
		fanin.Merge(context.Background(), filled(1), nil)
	})
	wantPanic(t, "fanin: Merge with a nil context", func() {
		//lint:ignore SA1012 the nil context is the point of the test
		fanin.Merge(nil, filled(1))
	})
}

// The output closes when the last input closes, not before.
func TestMergeClosesAfterLastInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := make(chan int), make(chan int)
		out := fanin.Merge(context.Background(), a, b)
		close(a)
		synctest.Wait()
		if closedNow(out) {
			t.Fatal("output closed while an input was still open")
		}
		go func() { b <- 7; close(b) }()
		if v := <-out; v != 7 {
			t.Fatalf("got %d, want 7", v)
		}
		if _, ok := <-out; ok {
			t.Fatal("output open after every input closed")
		}
	})
}

// When ctx ends the goroutines stop even though no input closes, and the
// output closes at that moment.
func TestMergeCancelStopsEverything(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errStop := errors.New("stop")
		ctx, cancel := context.WithTimeoutCause(context.Background(), time.Second, errStop)
		defer cancel()
		idle := make(chan int)    // never sends, never closes
		busy := make(chan int, 1) // has one value, then nothing
		busy <- 1
		out := fanin.Merge(ctx, idle, busy)
		if v := <-out; v != 1 {
			t.Fatalf("got %d, want 1", v)
		}
		time.Sleep(time.Second - time.Nanosecond)
		synctest.Wait()
		if closedNow(out) {
			t.Fatal("output closed before ctx was done")
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if !closedNow(out) {
			t.Fatal("output still open after ctx was done")
		}
	})
}

func TestMergeCancelledBeforeStartReadsNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	in := filled(1, 2, 3)
	out := fanin.Merge(ctx, in)
	if got := drain(out); len(got) != 0 {
		t.Fatalf("Merge on a done ctx gave %v, want nothing", got)
	}
	if len(in) != 3 {
		t.Fatalf("Merge on a done ctx read the input: %d values left, want 3", len(in))
	}
}

// A merge whose inputs and consumer never make it wait still stops soon
// after ctx ends.
func TestMergeStopsWhenEverythingIsReady(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	endless := func() <-chan int {
		ch := make(chan int, 64)
		go func() {
			defer close(ch)
			for i := 0; ; i++ {
				select {
				case ch <- i:
				case <-ctx.Done():
					return
				}
			}
		}()
		return ch
	}
	out := fanin.Merge(ctx, endless(), endless())
	n := 0
	for range out {
		n++
		if n == 1000 {
			cancel()
		}
	}
	if n < 1000 {
		t.Fatalf("got %d values before the output closed, want at least 1000", n)
	}
}
