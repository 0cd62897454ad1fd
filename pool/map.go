package pool

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/internal/catch"
)

// Map calls f on every item of items, on at most workers goroutines
// including the caller's, and returns the results in order: out[i] is what f
// returned for items[i], even with an error, and R's zero value if f
// panicked or never ran. The first error or panic cancels the context f
// gets, no further item starts, and Map returns that error, joined with any
// panic that happened meanwhile; when ctx is done first, it returns
// [context.Cause](ctx). It panics if workers < 1, or if ctx or f is nil.
func Map[T, R any](ctx context.Context, workers int, items []T, f func(ctx context.Context, item T) (R, error)) ([]R, error) {
	// A panic in f comes back as a *weft.PanicError and a runtime.Goexit as
	// weft.ErrGoexit (package rules); a Goexit on the calling goroutine lets
	// it exit once the other workers have stopped.
	//
	// Workers claim items from a shared counter in small batches, whose size
	// shrinks as the items run out so that slow items still spread over every
	// worker. There is no task, closure or channel operation per item, which is
	// why Map is cheaper per item than a Pool or a loop that claims one index
	// at a time (bench_test.go). Map allocates the result slice, a context and
	// its goroutines, and a callback on ctx when ctx can be cancelled; the
	// callback stops the workers within moments of ctx ending.
	if ctx == nil {
		panic("pool: Map: nil Context")
	}
	if workers < 1 {
		panic(fmt.Sprintf("pool: Map(workers=%d): need at least one worker", workers))
	}
	if f == nil {
		panic("pool: Map: nil func")
	}
	out := make([]R, len(items))
	if err := ctx.Err(); err != nil {
		return out, context.Cause(ctx)
	}
	if len(items) == 0 {
		return out, nil
	}
	m := &mapper[T, R]{parent: ctx, items: items, out: out, f: f, workers: min(workers, len(items))}
	m.ctx, m.cancel = context.WithCancelCause(ctx)
	defer m.cancel(nil)
	m.done = m.ctx.Done()
	if ctx.Done() != nil {
		// The batch loop checks only stopped, so that an item costs no
		// channel operation; this sets it the moment ctx is done.
		fired := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			m.stopped.Store(true)
			close(fired)
		})
		defer func() {
			if !stop() {
				<-fired // the AfterFunc's goroutine is Map's to join
			}
		}()
	}
	m.wg.Add(m.workers - 1)
	for range m.workers - 1 {
		go func() {
			defer m.wg.Done()
			m.work()
		}()
	}
	m.caller()
	m.wg.Wait()
	return out, m.err()
}

type mapper[T, R any] struct {
	parent  context.Context
	ctx     context.Context
	cancel  context.CancelCauseFunc
	done    <-chan struct{}
	items   []T
	out     []R
	f       func(context.Context, T) (R, error)
	workers int
	wg      sync.WaitGroup

	next    atomic.Int64 // the first item not claimed
	stopped atomic.Bool

	mu         sync.Mutex // guards the errors; never held while waiting
	first      error
	parentDone bool // ctx had ended when the first error was recorded
	panics     []error
}

// maxClaim bounds a batch, so that the last items are not all claimed by
// one worker; claimDiv is how many batches per worker the remaining items
// are split into.
const (
	maxClaim = 64
	claimDiv = 4
)

// caller is the calling goroutine's share of the work. If f calls
// runtime.Goexit here, the deferred function stops the other workers and
// waits for them before the goroutine goes on exiting, so that none
// outlives the call.
func (m *mapper[T, R]) caller() {
	normal := false
	defer func() {
		if !normal {
			m.wg.Wait()
		}
	}()
	m.work()
	normal = true
}

// work claims batches of items until none is left or Map stops.
func (m *mapper[T, R]) work() {
	n := int64(len(m.items))
	for {
		if m.stopped.Load() {
			if m.parent.Err() != nil {
				m.fail(context.Cause(m.parent), false)
			}
			return
		}
		select {
		case <-m.done:
			m.fail(context.Cause(m.ctx), false)
			return
		default:
		}
		lo, hi, ok := m.claim(n)
		if !ok {
			return
		}
		m.batch(int(lo), int(hi))
	}
}

// claim takes the next batch of items, [lo, hi), or reports that none is
// left. Guided self-scheduling: a share of what is left, so that batches are
// big while many items remain and single items at the end. The share is of
// what is left at the claim itself: a size worked out from an earlier look
// could, after a preemption, take the whole slow tail in one batch.
func (m *mapper[T, R]) claim(n int64) (lo, hi int64, ok bool) {
	for {
		lo = m.next.Load()
		if lo >= n {
			return 0, 0, false
		}
		size := max(1, min((n-lo)/(claimDiv*int64(m.workers)), maxClaim))
		if m.next.CompareAndSwap(lo, lo+size) {
			return lo, lo + size, true
		}
	}
}

// batch runs f on items[lo:hi], stopping early if Map stops. One recovery
// covers the whole batch: a panic ends the batch, and Map, at the item that
// panicked.
func (m *mapper[T, R]) batch(lo, hi int) {
	returned := false
	catch.Guard(func() error {
		for i := lo; i < hi && !m.stopped.Load(); i++ {
			v, err := m.f(m.ctx, m.items[i])
			m.out[i] = v
			if err != nil {
				returned = true
				return err
			}
		}
		returned = true
		return nil
	}, func(err error) {
		if err != nil {
			// Only a panic recovered here is one: f may return a
			// *weft.PanicError of its own.
			_, isPanic := err.(*weft.PanicError)
			m.fail(err, isPanic && !returned)
		}
	})
}

// fail records err and stops Map.
func (m *mapper[T, R]) fail(err error, panicked bool) {
	m.stopped.Store(true)
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.first == nil:
		m.first = err
		// Whether ctx had ended when f failed decides whether f's error
		// was the echo of that (see err), not whether it has by the end.
		m.parentDone = m.parent.Err() != nil
		m.cancel(err)
	case panicked:
		m.panics = append(m.panics, err)
	}
}

// err returns Map's error. An error f returned because ctx was done, such
// as ctx.Err(), gives way to ctx's cause, which says why.
func (m *mapper[T, R]) err() error {
	first := m.first
	panics := m.panics
	if m.parentDone {
		echoes, pe := m.echoes(first)
		if echoes {
			first = context.Cause(m.parent)
		}
		if pe != nil {
			panics = append(panics, pe)
		}
	}
	if len(panics) == 0 {
		return first
	}
	return errors.Join(append([]error{first}, panics...)...)
}

// echoes reports whether err, which f returned after ctx was done, is ctx's
// own error handed back. errors.Is runs err's Is methods, which are user
// code: one that panics is taken as a no, keeping f's error, and its panic
// is returned to be reported beside it.
func (m *mapper[T, R]) echoes(err error) (bool, error) {
	var is bool
	pe := catch.Call(func() error { is = errors.Is(err, m.parent.Err()); return nil })
	return is, pe
}
