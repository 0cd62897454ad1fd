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

// Map calls f on every item of items, on at most workers goroutines at
// once, and returns the results in the order of items: out[i] is what
// f(ctx, items[i]) returned.
//
// Map stops at the first failure: the first error f returns, or the first
// panic, cancels the context f gets (with that error as its
// [context.Cause]), no further item starts (each worker finishes at most
// the call it is in), and Map returns that error, with any panic that
// happened meanwhile joined to it. It also stops when ctx is done: items
// stop starting within moments (a callback on ctx stops the workers), and
// Map returns [context.Cause](ctx), unless f failed first with an error of
// its own. It never drops results: out always
// has len(items) values, and an item that failed holds what f returned with
// the error, an item that panicked or never started holds R's zero value.
//
// Map runs f on the calling goroutine and on up to workers-1 goroutines it
// starts, and returns only when all of them have returned. A panic in f is
// recovered and returned as a *weft.PanicError; a runtime.Goexit in f ends
// Map with weft.ErrGoexit, or, if it happened on the calling goroutine,
// lets that goroutine exit once the others have stopped.
//
// # Cost
//
// Workers claim items from a shared counter in small batches, whose size
// shrinks as the items run out so that slow items still spread over every
// worker. There is no task, closure or channel operation per item. Map
// allocates the result slice, a context and its goroutines, and a callback
// on ctx when ctx can be cancelled. Measured costs are in the repository's
// docs/benchmarks.md.
//
// It panics if workers < 1, or if ctx or f is nil.
func Map[T, R any](ctx context.Context, workers int, items []T, f func(ctx context.Context, item T) (R, error)) ([]R, error) {
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
		// Guided self-scheduling: a share of what is left, so that
		// batches are big while many items remain and single items at
		// the end.
		size := (n - m.next.Load()) / (claimDiv * int64(m.workers))
		size = max(1, min(size, maxClaim))
		hi := m.next.Add(size)
		lo := hi - size
		if lo >= n {
			return
		}
		m.batch(int(lo), int(min(hi, n)))
	}
}

// batch runs f on items[lo:hi], stopping early if Map stops. One recovery
// covers the whole batch: a panic ends the batch, and Map, at the item that
// panicked.
func (m *mapper[T, R]) batch(lo, hi int) {
	catch.Guard(func() error {
		for i := lo; i < hi && !m.stopped.Load(); i++ {
			v, err := m.f(m.ctx, m.items[i])
			m.out[i] = v
			if err != nil {
				return err
			}
		}
		return nil
	}, func(err error) {
		if err != nil {
			_, panicked := err.(*weft.PanicError)
			m.fail(err, panicked)
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
	if m.parentDone && errors.Is(first, m.parent.Err()) {
		first = context.Cause(m.parent)
	}
	if len(m.panics) == 0 {
		return first
	}
	return errors.Join(append([]error{first}, m.panics...)...)
}
