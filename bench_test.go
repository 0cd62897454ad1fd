package weft_test

import (
	"testing"

	"github.com/weftgo/weft"
)

// NewPanicError is on the failure path only; its cost is the stack capture.
func BenchmarkNewPanicError(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = weft.NewPanicError("boom")
	}
}
