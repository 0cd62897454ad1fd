package fanin_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft/fanin"
)

func TestMergerAddThenClose(t *testing.T) {
	m := fanin.NewMerger[int](context.Background())
	if err := m.Add(filled(1, 2)); err != nil {
		t.Fatalf("Add = %v, want nil", err)
	}
	if err := m.Add(filled(3)); err != nil {
		t.Fatalf("Add = %v, want nil", err)
	}
	m.Close()
	m.Close() // a second Close does nothing
	got := drain(m.Out())
	slices.Sort(got)
	if want := []int{1, 2, 3}; !slices.Equal(got, want) {
		t.Fatalf("Merger gave %v, want %v", got, want)
	}
	if err := m.Add(filled(4)); !errors.Is(err, fanin.ErrClosed) {
		t.Fatalf("Add after Close = %v, want ErrClosed", err)
	}
}

func TestMergerCloseWithNoInputs(t *testing.T) {
	m := fanin.NewMerger[int](context.Background())
	m.Close()
	if !closedNow(m.Out()) {
		t.Fatal("Close with no inputs left the output open")
	}
}

// Between inputs the output stays open: the consumer can range over it while
// inputs come and go.
func TestMergerStaysOpenBetweenInputs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := fanin.NewMerger[string](context.Background())
		var got []string
		done := make(chan struct{})
		go func() {
			defer close(done)
			got = drain(m.Out())
		}()
		for _, word := range []string{"a", "b", "c"} {
			if err := m.Add(filled(word)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
			synctest.Wait()
			select {
			case <-done:
				t.Fatal("output closed while the Merger was open")
			default:
			}
		}
		m.Close()
		<-done
		if want := []string{"a", "b", "c"}; !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
}

// An idle Merger closes its output when ctx ends, and refuses inputs after.
func TestMergerContextDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errStop := errors.New("stop")
		ctx, cancel := context.WithCancelCause(context.Background())
		m := fanin.NewMerger[int](ctx)
		synctest.Wait()
		if closedNow(m.Out()) {
			t.Fatal("output closed before ctx was done")
		}
		cancel(errStop)
		synctest.Wait()
		if !closedNow(m.Out()) {
			t.Fatal("output open after ctx was done")
		}
		in := filled(1)
		if err := m.Add(in); !errors.Is(err, errStop) {
			t.Fatalf("Add after ctx done = %v, want %v", err, errStop)
		}
		if len(in) != 1 {
			t.Fatal("Add after ctx done read the input")
		}
		m.Close()
		if err := m.Add(in); !errors.Is(err, fanin.ErrClosed) {
			t.Fatalf("Add after Close and ctx done = %v, want ErrClosed", err)
		}
	})
}

// Cancelling a Merger with inputs that never close and a consumer that
// stopped reading ends every goroutine and closes the output.
func TestMergerCancelWithBlockedInputs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		m := fanin.NewMerger[int](ctx, fanin.Buffer(1))
		busy := make(chan int, 3)
		busy <- 1
		busy <- 2
		busy <- 3
		for _, in := range []<-chan int{make(chan int), busy} {
			if err := m.Add(in); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if n := len(m.Out()); n != 1 {
			t.Fatalf("buffered output holds %d values, want 1", n)
		}
		cancel()
		synctest.Wait()
		got := drain(m.Out()) // the buffered value, then the close
		if len(got) > 1 {
			t.Fatalf("got %v after cancel, want at most the buffered value", got)
		}
	})
}

// Adds racing with Close either succeed, and then their values are
// delivered, or fail with ErrClosed.
func TestMergerConcurrentAddAndClose(t *testing.T) {
	m := fanin.NewMerger[int](context.Background(), fanin.Buffer(8))
	var wg sync.WaitGroup
	accepted := make(chan int, 100)
	for i := range 100 {
		wg.Go(func() {
			switch err := m.Add(filled(i)); {
			case err == nil:
				accepted <- i
			case !errors.Is(err, fanin.ErrClosed):
				t.Errorf("Add = %v, want nil or ErrClosed", err)
			}
		})
		if i == 50 {
			m.Close()
		}
	}
	got := drain(m.Out())
	wg.Wait()
	close(accepted)
	want := drain(accepted)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want the accepted inputs %v", got, want)
	}
}

func TestMergerMisuse(t *testing.T) {
	wantPanic(t, "fanin: NewMerger with a nil context", func() {
		//lint:ignore SA1012 the nil context is the point of the test
		fanin.NewMerger[int](nil)
	})
	wantPanic(t, "fanin: Merger.Add(nil)", func() {
		fanin.NewMerger[int](context.Background()).Add(nil)
	})
	wantPanic(t, "fanin: Buffer(-1)", func() { fanin.Buffer(-1) })
	wantPanic(t, "fanin: nil Option", func() { fanin.NewMerger[int](context.Background(), nil) })
}
