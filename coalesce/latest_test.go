package coalesce_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft/coalesce"
)

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestLatestEmpty(t *testing.T) {
	var l coalesce.Latest[string] // the zero value is ready to use
	if v, ver := l.Load(); v != "" || ver != 0 {
		t.Fatalf("Load() = %q, %d, want \"\", 0", v, ver)
	}
	if got := l.Version(); got != 0 {
		t.Fatalf("Version() = %d, want 0", got)
	}
	if isClosed(l.Changed(0)) {
		t.Fatal("Changed(0) is closed before any Set")
	}
}

func TestLatestSetLoad(t *testing.T) {
	l := coalesce.NewLatest[int]()
	for i, v := range []int{10, 20, 30} {
		if got := l.Set(v); got != uint64(i+1) {
			t.Fatalf("Set(%d) = %d, want %d", v, got, i+1)
		}
	}
	if v, ver := l.Load(); v != 30 || ver != 3 {
		t.Fatalf("Load() = %d, %d, want 30, 3", v, ver)
	}
	if got := l.Version(); got != 3 {
		t.Fatalf("Version() = %d, want 3", got)
	}
}

func TestLatestChanged(t *testing.T) {
	l := coalesce.NewLatest[int]()
	l.Set(1)
	if !isClosed(l.Changed(0)) {
		t.Fatal("Changed(0) open while version is 1")
	}
	ch := l.Changed(1)
	if isClosed(ch) {
		t.Fatal("Changed(1) closed while version is 1")
	}
	if other := l.Changed(1); other != ch {
		t.Fatal("two readers at the same version got different channels")
	}
	l.Set(2)
	if !isClosed(ch) {
		t.Fatal("Changed(1) still open after Set")
	}
	if isClosed(l.Changed(2)) {
		t.Fatal("Changed(2) closed while version is 2")
	}
}

func TestLatestNextReturnsNewestAtOnce(t *testing.T) {
	l := coalesce.NewLatest[string]()
	l.Set("a")
	l.Set("b")
	l.Set("c")
	// A reader that was away sees only the newest value, not a backlog.
	v, ver, err := l.Next(context.Background(), 0)
	if v != "c" || ver != 3 || err != nil {
		t.Fatalf("Next(0) = %q, %d, %v, want c, 3, nil", v, ver, err)
	}
}

func TestLatestNextWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := coalesce.NewLatest[string]()
		l.Set("a")
		type result struct {
			v   string
			ver uint64
			err error
		}
		got := make(chan result, 1)
		go func() {
			v, ver, err := l.Next(context.Background(), 1)
			got <- result{v, ver, err}
		}()
		synctest.Wait()
		select {
		case r := <-got:
			t.Fatalf("Next(1) returned %v before a new Set", r)
		default:
		}
		l.Set("b")
		if r := <-got; r.v != "b" || r.ver != 2 || r.err != nil {
			t.Fatalf("Next(1) = %+v, want b, 2, nil", r)
		}
	})
}

func TestLatestNextContextCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := coalesce.NewLatest[int]()
		l.Set(5)
		errStop := errors.New("stop")
		ctx, cancel := context.WithTimeoutCause(context.Background(), time.Minute, errStop)
		defer cancel()
		v, ver, err := l.Next(ctx, 1)
		if v != 0 || ver != 1 || !errors.Is(err, errStop) {
			t.Fatalf("Next = %d, %d, %v, want 0, 1, %v", v, ver, err, errStop)
		}
	})
}

// Every waiting reader wakes on one Set and sees the same newest value.
func TestLatestWakesEveryReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := coalesce.NewLatest[int]()
		const readers = 5
		got := make(chan int, readers)
		for range readers {
			go func() {
				v, _, err := l.Next(context.Background(), 0)
				if err != nil {
					v = -1
				}
				got <- v
			}()
		}
		synctest.Wait()
		l.Set(42)
		for range readers {
			if v := <-got; v != 42 {
				t.Fatalf("reader got %d, want 42", v)
			}
		}
	})
}

func TestLatestConcurrentWritersGetDistinctVersions(t *testing.T) {
	l := coalesce.NewLatest[int]()
	const writers, each = 4, 500
	versions := make(chan uint64, writers*each)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				versions <- l.Set(w*each + i)
			}
		})
	}
	wg.Wait()
	close(versions)
	seen := make(map[uint64]bool)
	for v := range versions {
		if seen[v] {
			t.Fatalf("version %d handed out twice", v)
		}
		seen[v] = true
	}
	if got := l.Version(); got != writers*each {
		t.Fatalf("Version() = %d, want %d", got, writers*each)
	}
}
