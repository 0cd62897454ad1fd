package pipeline_test

import (
	"context"
	"runtime"
	"strings"
	"time"
)

func inc(_ context.Context, v int) (int, error)   { return v + 1, nil }
func even(_ context.Context, v int) (bool, error) { return v%2 == 0, nil }
func dbl(_ context.Context, v int) (int, error)   { return v * 2, nil }

func ints(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// leftover returns the stacks of goroutines still running pipeline code.
func leftover() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, line := range strings.Split(g, "\n") {
			if !strings.HasPrefix(line, "created by") && strings.Contains(line, "github.com/weftgo/weft/pipeline.") {
				out = append(out, g)
				break
			}
		}
	}
	return strings.Join(out, "\n\n")
}

// noLeftover fails unless every pipeline goroutine is gone. A sink returns
// once every stage goroutine has done its last act (leaving the wait group),
// which leaves each of them a few instructions of returning to do; so, as
// goleak does, this looks again a few times before it reports.
func noLeftover(t interface {
	Helper()
	Fatalf(string, ...any)
}) {
	t.Helper()
	var s string
	for range 100 {
		if s = leftover(); s == "" {
			return
		}
		runtime.Gosched()
		time.Sleep(100 * time.Microsecond)
	}
	t.Fatalf("pipeline goroutines still running after the sink returned:\n%s", s)
}
