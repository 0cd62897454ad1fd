package coalesce_test

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/weftgo/weft/coalesce"
	"golang.org/x/sync/singleflight"
)

// One caller, no contention: the cost of the bookkeeping around fn.
func BenchmarkGroupDoUncontended(b *testing.B) {
	b.ReportAllocs()
	var g coalesce.Flight[string, int]
	ctx := context.Background()
	fn := func(context.Context) (int, error) { return 1, nil }
	for b.Loop() {
		g.Do(ctx, "k", fn)
	}
}

// The same with a caller context that can be cancelled: fn runs on a
// goroutine of the Flight's so that the caller can leave.
func BenchmarkGroupDoUncontendedCancellable(b *testing.B) {
	b.ReportAllocs()
	var g coalesce.Flight[string, int]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fn := func(context.Context) (int, error) { return 1, nil }
	for b.Loop() {
		g.Do(ctx, "k", fn)
	}
}

func BenchmarkSingleflightDoUncontended(b *testing.B) {
	b.ReportAllocs()
	var g singleflight.Group
	fn := func() (any, error) { return 1, nil }
	for b.Loop() {
		g.Do("k", fn)
	}
}

// 64 goroutines hammering one key: most calls join an execution in flight.
func BenchmarkGroupDoOneKey64(b *testing.B) {
	b.ReportAllocs()
	var g coalesce.Flight[string, int]
	ctx := context.Background()
	fn := func(context.Context) (int, error) { return 1, nil }
	hammer(b, 64, func() { g.Do(ctx, "k", fn) })
}

func BenchmarkSingleflightDoOneKey64(b *testing.B) {
	b.ReportAllocs()
	var g singleflight.Group
	fn := func() (any, error) { return 1, nil }
	hammer(b, 64, func() { g.Do("k", fn) })
}

// Many keys, parallel callers: the map and lock under spread load.
func BenchmarkGroupDoManyKeysParallel(b *testing.B) {
	b.ReportAllocs()
	var g coalesce.Flight[string, int]
	ctx := context.Background()
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = strconv.Itoa(i)
	}
	fn := func(context.Context) (int, error) { return 1, nil }
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			g.Do(ctx, keys[i%len(keys)], fn)
			i++
		}
	})
}

// hammer runs b.N calls of do spread over n goroutines.
func hammer(b *testing.B, n int, do func()) {
	b.Helper()
	var wg sync.WaitGroup
	per := b.N / n
	b.ResetTimer()
	for i := range n {
		calls := per
		if i < b.N%n {
			calls++
		}
		wg.Go(func() {
			for range calls {
				do()
			}
		})
	}
	wg.Wait()
}
