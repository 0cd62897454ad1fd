package coalesce_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/weftgo/weft/coalesce"
)

// Notify with nothing pending, taken by a receive each time: the full cost of
// one wake-up.
func BenchmarkSignalNotifyReceive(b *testing.B) {
	b.ReportAllocs()
	s := coalesce.NewSignal()
	for b.Loop() {
		s.Notify()
		<-s.C()
	}
}

// Notify when a wake-up is already pending: the common case in a burst.
func BenchmarkSignalNotifyPending(b *testing.B) {
	b.ReportAllocs()
	s := coalesce.NewSignal()
	s.Notify()
	for b.Loop() {
		s.Notify()
	}
}

// Many goroutines notifying a signal that is already pending must not contend
// on a lock.
func BenchmarkSignalNotifyPendingParallel(b *testing.B) {
	b.ReportAllocs()
	s := coalesce.NewSignal()
	s.Notify()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Notify()
		}
	})
}

func BenchmarkLatestSet(b *testing.B) {
	b.ReportAllocs()
	l := coalesce.NewLatest[int]()
	i := 0
	for b.Loop() {
		l.Set(i)
		i++
	}
}

func BenchmarkLatestLoad(b *testing.B) {
	b.ReportAllocs()
	l := coalesce.NewLatest[int]()
	l.Set(1)
	for b.Loop() {
		l.Load()
	}
}

func BenchmarkLatestLoadParallel(b *testing.B) {
	b.ReportAllocs()
	l := coalesce.NewLatest[int]()
	l.Set(1)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Load()
		}
	})
}

// Set followed by a read that was behind: the cost of one update seen by one
// reader.
func BenchmarkLatestSetNext(b *testing.B) {
	b.ReportAllocs()
	l := coalesce.NewLatest[int]()
	ctx := context.Background()
	var seen uint64
	i := 0
	for b.Loop() {
		l.Set(i)
		_, seen, _ = l.Next(ctx, seen)
		i++
	}
}

// A DoChan caller that joins a hot key and leaves, while n others wait on
// the same execution: leaving must cost the same whatever n is (compare
// n=1000 with n=16000).
func BenchmarkGroupDoChanLeave(b *testing.B) {
	for _, n := range []int{1000, 16000} {
		b.Run(fmt.Sprintf("waiters=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var g coalesce.Flight[string, int]
			release := make(chan struct{})
			fn := func(context.Context) (int, error) {
				<-release
				return 1, nil
			}
			waiting := make([]<-chan coalesce.Result[int], n)
			for i := range waiting {
				waiting[i] = g.DoChan(context.Background(), "hot", fn)
			}
			for b.Loop() {
				ctx, cancel := context.WithCancel(context.Background())
				ch := g.DoChan(ctx, "hot", fn)
				cancel()
				<-ch
			}
			b.StopTimer()
			close(release)
			for _, ch := range waiting {
				<-ch
			}
		})
	}
}

// Set while n readers that waited for a version ahead of the current one
// have given up: a Set must cost the same whatever n is (compare n=1000
// with n=16000).
func BenchmarkLatestSetAfterAbandonedReaders(b *testing.B) {
	for _, n := range []int{1000, 16000} {
		b.Run(fmt.Sprintf("abandoned=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			l := coalesce.NewLatest[int]()
			gone, cancel := context.WithCancel(context.Background())
			cancel()
			for i := range n {
				// Far ahead, so that no Set below reaches them.
				l.Next(gone, 1<<40+uint64(i))
			}
			i := 0
			for b.Loop() {
				l.Set(i)
				i++
			}
		})
	}
}
