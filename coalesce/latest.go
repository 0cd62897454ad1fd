package coalesce

import (
	"context"
	"sync"
	"sync/atomic"
)

// Latest holds the newest value of something readers watch, with a version
// that starts at 0 and goes up by one with every [Latest.Set]. A reader
// waits for a newer version with [Latest.Next] or [Latest.Changed] and gets
// only the newest value, never a backlog.
// Readers share the value Set stores, so treat it as read-only. The zero
// value is ready to use; a Latest must not be copied after first use.
type Latest[T any] struct {
	// cur is the newest value and its version. Readers load it without a
	// lock; writers replace it under mu.
	cur atomic.Pointer[versioned[T]]

	mu sync.Mutex
	// changedCh is closed by the next Set; nil while no reader waits, so that
	// Set allocates a channel only when somebody is listening.
	changedCh chan struct{}
	// ahead holds the waits of readers for a version more than one above
	// the current one, by the version they have seen: a reader that is
	// ahead, which only a version from elsewhere can make. Every key is
	// above the current version, so a Set needs to look at one entry only:
	// the one it reaches, whose channel it makes the next Set's.
	ahead map[uint64]*aheadWait
}

// aheadWait is the channel readers that have seen the same future version
// wait on, and who still does.
type aheadWait struct {
	ch      chan struct{}
	waiters int  // calls of Next waiting on ch
	pinned  bool // handed out by Changed, whose caller cannot say it is gone
}

type versioned[T any] struct {
	value   T
	version uint64
}

// closed is a channel that is always closed, returned by [Latest.Changed]
// when the caller is already behind.
var closed = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// NewLatest returns an empty Latest, the same as a zero one.
func NewLatest[T any]() *Latest[T] {
	return new(Latest[T])
}

// Set makes v the newest value with the next version, which it returns, and
// wakes every reader waiting for it, without waiting for them.
func (l *Latest[T]) Set(v T) uint64 {
	// The lock is held only to publish the value and take the channel to
	// close; readers are woken after it is released.
	next := &versioned[T]{value: v}
	l.mu.Lock()
	if cur := l.cur.Load(); cur != nil {
		next.version = cur.version + 1
	} else {
		next.version = 1
	}
	l.cur.Store(next)
	ch := l.changedCh
	l.changedCh = nil
	if w := l.ahead[next.version]; w != nil {
		// Rare: readers ahead, who have seen the version this Set makes.
		// The next Set closes their channel.
		l.changedCh = w.ch
		delete(l.ahead, next.version)
	}
	l.mu.Unlock()
	if ch != nil {
		close(ch)
	}
	return next.version
}

// Load returns the newest value and its version without blocking: T's zero
// value and 0 before the first Set.
func (l *Latest[T]) Load() (T, uint64) {
	if cur := l.cur.Load(); cur != nil {
		return cur.value, cur.version
	}
	var zero T
	return zero, 0
}

// Version returns the newest version: 0 before the first Set.
func (l *Latest[T]) Version() uint64 {
	if cur := l.cur.Load(); cur != nil {
		return cur.version
	}
	return 0
}

// Changed returns a channel closed once the version is greater than seen,
// for a select; read the value with [Latest.Load] after it fires. A channel
// for a seen above the current version is kept until a Set passes seen;
// [Latest.Next] keeps nothing once ctx ends.
func (l *Latest[T]) Changed(seen uint64) <-chan struct{} {
	ch, _ := l.changed(seen, false)
	return ch
}

// changed returns the channel closed once the version is greater than seen,
// and, when seen is ahead of the current version and next is true, the
// wait it counted the caller in, for release.
func (l *Latest[T]) changed(seen uint64, next bool) (<-chan struct{}, *aheadWait) {
	if l.Version() > seen {
		return closed, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch v := l.Version(); {
	case v > seen:
		return closed, nil
	case v < seen:
		// Ahead of this Latest: wait for the Set that passes seen, not the
		// next one.
		if l.ahead == nil {
			l.ahead = make(map[uint64]*aheadWait)
		}
		w := l.ahead[seen]
		if w == nil {
			w = &aheadWait{ch: make(chan struct{})}
			l.ahead[seen] = w
		}
		if !next {
			w.pinned = true
			return w.ch, nil
		}
		w.waiters++
		return w.ch, w
	}
	if l.changedCh == nil {
		l.changedCh = make(chan struct{})
	}
	return l.changedCh, nil
}

// release takes a call of Next that gave up off w, the wait for a version
// after seen, and forgets w once nobody can be waiting on it.
func (l *Latest[T]) release(seen uint64, w *aheadWait) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ahead[seen] != w {
		return // a Set has reached seen and taken w out
	}
	if w.waiters--; w.waiters == 0 && !w.pinned {
		delete(l.ahead, seen)
	}
}

// Next returns the newest value and its version once the version is greater
// than seen: at once if it already is, otherwise after a [Latest.Set]. If
// ctx is done first, it returns T's zero value, seen and [context.Cause] of
// ctx.
func (l *Latest[T]) Next(ctx context.Context, seen uint64) (T, uint64, error) {
	for {
		if v, ver := l.Load(); ver > seen {
			return v, ver, nil
		}
		ch, w := l.changed(seen, true)
		select {
		case <-ch:
		case <-ctx.Done():
			if w != nil {
				l.release(seen, w)
			}
			var zero T
			return zero, seen, context.Cause(ctx)
		}
	}
}
