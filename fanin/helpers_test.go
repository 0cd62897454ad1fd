package fanin_test

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

// drain reads ch to its end.
func drain[T any](ch <-chan T) []T {
	var got []T
	for v := range ch {
		got = append(got, v)
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
