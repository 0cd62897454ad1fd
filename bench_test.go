package weft_test

import (
	"testing"

	"github.com/weftgo/weft"
)

// A PanicError's message is built when it is read, on the failure path.
func BenchmarkPanicErrorError(b *testing.B) {
	pe := &weft.PanicError{Value: "boom"}
	b.ReportAllocs()
	for b.Loop() {
		_ = pe.Error()
	}
}
