package catch_test

import (
	"testing"

	"github.com/weftgo/weft/internal/catch"
)

var sink error

// Call sits on every hot path that runs user code; it must not allocate.
func BenchmarkCall(b *testing.B) {
	b.ReportAllocs()
	f := func() error { return nil }
	for b.Loop() {
		sink = catch.Call(f)
	}
}

func BenchmarkGuard(b *testing.B) {
	b.ReportAllocs()
	f := func() error { return nil }
	report := func(err error) { sink = err }
	for b.Loop() {
		catch.Guard(f, report)
	}
}

// A panic's cost is the stack capture; it is on the failure path only.
func BenchmarkCallPanic(b *testing.B) {
	b.ReportAllocs()
	f := func() error { panic("boom") }
	for b.Loop() {
		sink = catch.Call(f)
	}
}
