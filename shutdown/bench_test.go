package shutdown_test

import (
	"context"
	"testing"

	"github.com/weftgo/weft/shutdown"
)

// The cost of a whole start-and-stop of a group of ten components that
// return at once: what a test suite that builds a group per test pays.
func BenchmarkGroupRun10(b *testing.B) {
	b.ReportAllocs()
	names := []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"}
	for b.Loop() {
		g := shutdown.New()
		for _, name := range names {
			g.Add(name, shutdown.Func(nil, nil))
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-g.Started(); cancel() }()
		if err := g.Run(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
