package pool_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/internal/catch"
	"github.com/weftgo/weft/pool"
)

var errBoom = errors.New("boom")

// noContext is a nil Context, to test that constructors refuse one.
var noContext context.Context

// poolGoroutines returns the stacks of the goroutines, other than the
// caller's, that the pool package started or that are running its code.
// Called in a synctest bubble, it returns only the bubble's goroutines: a
// goroutine of an earlier test outside the bubble may still be returning
// from its last act, which no synctest.Wait waits for.
func poolGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	bubble := "" // the caller's, as goroutine headers name it
	for i, g := range strings.Split(string(buf), "\n\n") {
		header, _, _ := strings.Cut(g, "\n")
		if i == 0 {
			// The caller.
			if _, b, ok := strings.Cut(header, ", synctest bubble "); ok {
				bubble = ", synctest bubble " + strings.TrimRight(b, "]:")
			}
			continue
		}
		if bubble != "" && !strings.HasSuffix(header, bubble+"]:") {
			continue
		}
		if strings.Contains(g, "github.com/weftgo/weft/pool.") {
			out = append(out, g)
		}
	}
	return out
}

// noLeftover fails unless no goroutine of the pool package is left. Wait and
// Close return once every worker has done its last act, which leaves each a
// few instructions of returning to do, so outside a synctest bubble this
// looks again a few times before it reports, as goleak does. Inside a
// bubble, call synctest.Wait first and the answer is exact.
func noLeftover(t interface {
	Helper()
	Fatalf(string, ...any)
}) {
	t.Helper()
	var left []string
	for range 200 {
		if left = poolGoroutines(); len(left) == 0 {
			return
		}
		runtime.Gosched()
		time.Sleep(50 * time.Microsecond)
	}
	t.Fatalf("%d pool goroutines still running:\n%s", len(left), strings.Join(left, "\n\n"))
}

// checkLaw fails unless s obeys the conservation law of Stats.
func checkLaw(t interface {
	Helper()
	Fatalf(string, ...any)
}, s pool.Stats) {
	t.Helper()
	sum := s.Succeeded + s.Failed + s.Panicked + s.Canceled + s.DeadLettered + s.Rejected + s.Queued + s.Running + s.Waiting
	if s.Submitted != sum || s.Queued > 1<<40 || s.Running > 1<<40 || s.Waiting > 1<<40 {
		t.Fatalf("Stats break the conservation law: Submitted %d, sum of outcomes %d: %+v", s.Submitted, sum, s)
	}
}

// stats renders the counts of the law, for messages.
func stats(s pool.Stats) string {
	return fmt.Sprintf("sub %d ok %d fail %d panic %d cancel %d dl %d rej %d | queued %d running %d waiting %d",
		s.Submitted, s.Succeeded, s.Failed, s.Panicked, s.Canceled, s.DeadLettered, s.Rejected, s.Queued, s.Running, s.Waiting)
}

// isPanic reports whether err holds a *weft.PanicError with value v.
func isPanic(err error, v any) bool {
	var pe *weft.PanicError
	return errors.As(err, &pe) && pe.Value == v
}

// mustPanic calls f and returns the value it panicked with, as a string,
// failing if it did not panic.
func mustPanic(t *testing.T, f func()) string {
	t.Helper()
	err := catch.Call(func() error { f(); return nil })
	var pe *weft.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("no panic")
	}
	return fmt.Sprint(pe.Value)
}

// highWater tracks how many callers are inside a section at once.
type highWater struct {
	now, max atomic.Int64
}

func (h *highWater) enter() {
	n := h.now.Add(1)
	for {
		m := h.max.Load()
		if n <= m || h.max.CompareAndSwap(m, n) {
			return
		}
	}
}

func (h *highWater) leave() { h.now.Add(-1) }

func (h *highWater) peak() int { return int(h.max.Load()) }
