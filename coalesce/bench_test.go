package coalesce_test

import (
	"context"
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
