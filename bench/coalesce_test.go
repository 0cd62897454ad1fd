package bench

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weftgo/weft/coalesce"
)

// coalesceImpl is a coalescing wake-up: notify never blocks, and wake
// delivers at most one pending wake-up however many notify calls made it.
type coalesceImpl struct {
	name string
	make func() (notify func(), wake <-chan struct{})
}

var coalesceImpls = []coalesceImpl{
	// floor-len: the hand-written idiom as careful code writes it: a
	// channel with room for one, a len check that skips the send when a
	// wake-up is already pending, and a send that gives up when the
	// channel is full. The len check reads the channel's count without
	// its lock, so a storm of notifies costs no contention once one is
	// pending.
	{"floor-len", func() (func(), <-chan struct{}) {
		ch := make(chan struct{}, 1)
		return func() {
			if len(ch) > 0 {
				return
			}
			select {
			case ch <- struct{}{}:
			default:
			}
		}, ch
	}},
	// floor-send: the same without the len check: every notify tries
	// the send.
	{"floor-send", func() (func(), <-chan struct{}) {
		ch := make(chan struct{}, 1)
		return func() {
			select {
			case ch <- struct{}{}:
			default:
			}
		}, ch
	}},
	// weft: coalesce.Signal.
	{"weft", func() (func(), <-chan struct{}) {
		s := coalesce.NewSignal()
		return s.Notify, s.C()
	}},
}

// receiver is the slow consumer of a notify storm: it takes wake-ups from
// wake, and for each one reads version, spends about 1 µs of work
// (receiverIters rounds of arith), and records the version it read.
type receiver struct {
	version atomic.Int64 // written by notifiers before they notify
	seen    atomic.Int64 // the version read at the start of the last wake-up
	wakes   atomic.Int64
	stop    chan struct{}
	done    sync.WaitGroup
	sink    uint64
	want    int64 // if > 0, reached is closed once seen reaches it
	reached chan struct{}
}

func startReceiver(wake <-chan struct{}, want int64) *receiver {
	r := &receiver{stop: make(chan struct{}), want: want, reached: make(chan struct{})}
	r.done.Add(1)
	go func() {
		defer r.done.Done()
		for {
			select {
			case <-r.stop:
				return
			case <-wake:
				v := r.version.Load()
				r.sink += arith(uint64(v), receiverIters)
				r.seen.Store(v)
				r.wakes.Add(1)
				if r.want > 0 && v == r.want {
					close(r.reached)
					r.want = 0
				}
			}
		}
	}()
	return r
}

func (r *receiver) close() {
	close(r.stop)
	r.done.Wait()
}

// BenchmarkCoalesce measures one Notify, made from b.RunParallel's
// goroutines (GOMAXPROCS of them) against a receiver that works about 1 µs
// per wake-up. wakes/op is the share of notifications that woke it.
func BenchmarkCoalesce(b *testing.B) {
	noCurve(b)
	for _, im := range coalesceImpls {
		b.Run("case=notify-storm/impl="+im.name, func(b *testing.B) {
			notify, wake := im.make()
			r := startReceiver(wake, 0)
			defer r.close()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					notify()
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(r.wakes.Load())/float64(b.N), "wakes/op")
		})
	}
}

// TestAgreeCoalesce checks that no notification is lost: after a storm from
// several goroutines, each of which bumps the version before it notifies,
// the receiver ends up seeing the last version.
func TestAgreeCoalesce(t *testing.T) {
	const (
		senders = 4
		each    = 20_000
	)
	for _, im := range coalesceImpls {
		notify, wake := im.make()
		r := startReceiver(wake, senders*each)
		var wg sync.WaitGroup
		wg.Add(senders)
		for range senders {
			go func() {
				defer wg.Done()
				for range each {
					r.version.Add(1)
					notify()
				}
			}()
		}
		wg.Wait()
		select {
		case <-r.reached:
		case <-time.After(10 * time.Second): // a lost wake-up: fail below
		}
		r.close()
		if got := r.seen.Load(); got != senders*each {
			t.Errorf("impl=%s: receiver saw version %d, want %d", im.name, got, senders*each)
		}
		if w := r.wakes.Load(); w == 0 || w > senders*each {
			t.Errorf("impl=%s: %d wake-ups for %d notifications", im.name, w, senders*each)
		}
	}
}
