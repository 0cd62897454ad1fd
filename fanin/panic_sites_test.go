package fanin_test

import (
	"cmp"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/fanin"
)

// Every place this package recovers a panic and where it is delivered: the
// only user code fanin runs is MergeSorted's comparison function, and its
// panic comes back from Sorted.Err, the error path of the merge, once the
// output is closed. Merge and Merger run no user code.
func TestPanicSites(t *testing.T) {
	panicky := func(a, b int) int {
		if a == 2 || b == 2 {
			panic("site")
		}
		return cmp.Compare(a, b)
	}
	tests := []struct {
		name string
		ins  func() []<-chan int
	}{
		{"cmp choosing between inputs", func() []<-chan int { return []<-chan int{filled(1, 2), filled(3)} }},
		{"cmp checking that one input is sorted", func() []<-chan int { return []<-chan int{filled(1, 2, 3)} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fanin.MergeSorted(context.Background(), panicky, tt.ins()...)
			for range s.Out() {
			}
			var pe *weft.PanicError
			require.ErrorAs(t, s.Err(), &pe)
			assert.Equal(t, "site", pe.Value)
			assert.NotEmpty(t, pe.Stack)
		})
	}
}
