package fanout_test

import (
	"fmt"
	"strings"
	"testing"
)

// filled returns a closed channel holding vs.
func filled[T any](vs ...T) <-chan T {
	ch := make(chan T, len(vs))
	for _, v := range vs {
		ch <- v
	}
	close(ch)
	return ch
}

func ints(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// drain reads ch to its end.
func drain[T any](ch <-chan T) []T {
	var got []T
	for v := range ch {
		got = append(got, v)
	}
	return got
}

// drainAll reads every channel to its end, each on its own goroutine, and
// returns what each gave.
func drainAll[T any](chans []<-chan T) [][]T {
	got := make([][]T, len(chans))
	done := make(chan struct{})
	for i, ch := range chans {
		go func() {
			got[i] = drain(ch)
			done <- struct{}{}
		}()
	}
	for range chans {
		<-done
	}
	return got
}

// closedNow reports whether ch is closed with nothing left in it, without
// waiting.
func closedNow[T any](ch <-chan T) bool {
	select {
	case _, ok := <-ch:
		return !ok
	default:
		return false
	}
}

// wantPanic fails t unless f panics with a message containing want.
func wantPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one containing %q", want)
		}
		if msg := fmt.Sprint(r); !strings.Contains(msg, want) {
			t.Fatalf("panic %q, want one containing %q", msg, want)
		}
	}()
	f()
}
