package coalesce

import (
	"context"
	"sync"

	"github.com/weftgo/weft/internal/catch"
)

// Group coalesces concurrent calls that share a key into one execution: when
// 500 requests miss a cache for the same key at once, one load runs and all
// 500 callers get its result. It is a generic, context-aware counterpart of
// golang.org/x/sync/singleflight.
//
// Use it in front of expensive, idempotent reads: cache fills, metadata
// lookups, token refreshes. Do not use it for calls with side effects that
// must happen once per caller (writes, payments, messages): joined callers do
// not run fn at all.
//
// # Cancellation
//
// The shared execution runs fn with a context that carries the values of the
// caller that started it, but neither that caller's cancellation nor its
// deadline; give fn a timeout of its own if it needs one. While fn runs,
// that context is cancelled when, and only when, every caller waiting on the
// execution has given up, with the cause of the last one to leave; like a
// context from context.WithCancel, it is also cancelled once fn has
// returned, so work fn leaves behind must not rely on it. (When fn runs on
// its caller's goroutine, see Goroutines, it gets that caller's context,
// which can never be cancelled.) A caller whose
// context ends returns at once with
// [context.Cause] of its context; the other callers keep waiting and get the
// result. This fixes the flaw that makes singleflight unsafe in
// context-taking code, where the first caller's cancellation fails every
// caller that joined it.
//
// An execution whose callers have all given up stays in flight until fn
// returns. A caller that arrives for the same key in the meantime does not
// join it (its context is cancelled) and does not run beside it: a fresh
// execution starts once the abandoned one has returned. So at most one
// execution per key runs at a time, unless [Group.Forget] asks for more.
//
// # Results
//
// Nothing is cached: once an execution returns, its result goes to the
// callers waiting on it and the next call for the key starts a new execution.
// Put a cache in front of the Group to keep results (see the example).
//
// A panic in fn is recovered and every caller of that execution gets the same
// *weft.PanicError; the key is not poisoned, the next call starts afresh. If
// fn calls runtime.Goexit, the callers that joined get weft.ErrGoexit
// instead of hanging; when fn ran on the goroutine of the caller that
// started it, that goroutine exits, as runtime.Goexit makes it.
//
// # Goroutines
//
// When the caller that starts an execution has a context that can never be
// cancelled (its Done channel is nil, as for [context.Background]), fn runs on
// that caller's goroutine, as singleflight does, and costs no goroutine.
// Otherwise, and always for [Group.DoChan], fn runs on a goroutine the Group
// starts; it ends when fn returns. A Group has no Close: an execution nobody
// waits for is cancelled, and fn is expected to return when its context is
// done.
//
// # Cost
//
// An uncontended Do on a context that cannot be cancelled costs one small
// allocation and about as much as singleflight's Do. When fn runs on its own
// goroutine the goroutine hand-off adds one to two microseconds, small beside
// the loads a Group is meant for.
//
// The zero Group is ready to use and safe for concurrent use. A Group must not
// be copied after first use.
type Group[K comparable, V any] struct {
	mu    sync.Mutex
	calls map[K]*call[V] // guarded by mu
}

// Result is the outcome of a call to [Group.DoResult] or [Group.DoChan].
type Result[V any] struct {
	// Value is what fn returned, or V's zero value when the caller's context
	// ended first.
	Value V
	// Err is fn's error, a *weft.PanicError if fn panicked, or
	// context.Cause of the caller's context if it ended first.
	Err error
	// Shared reports whether more than one caller joined the execution,
	// counting callers that left before it finished.
	Shared bool
}

// call is one execution of fn for a key.
type call[V any] struct {
	value V
	err   error

	// Guarded by Group.mu.
	done      chan struct{}           // closed once value and err are set; made by the first caller that waits
	waiters   int                     // callers still waiting
	joined    int                     // callers beyond the first, ever
	finished  bool                    // fn has returned and the result is set
	abandoned bool                    // every caller gave up; cancel was called
	cancel    context.CancelCauseFunc // nil when fn runs on a caller's goroutine
	chans     []*chanWaiter[V]        // DoChan callers still waiting
}

type chanWaiter[V any] struct {
	ch   chan Result[V]
	stop func() bool // stops the context.AfterFunc watching the caller's ctx
}

// Do runs fn once for all concurrent callers that pass the same key and
// returns its result to each of them. If an execution for key is in flight,
// Do joins it; otherwise Do starts one.
//
// Do blocks until the execution returns or ctx is done. In the second case it
// returns V's zero value and [context.Cause](ctx) at once, and the execution
// goes on for the other callers; it is cancelled only when all of them have
// gone. See [Group] for the rules on contexts, panics and goroutines.
func (g *Group[K, V]) Do(ctx context.Context, key K, fn func(context.Context) (V, error)) (V, error) {
	r := g.DoResult(ctx, key, fn)
	return r.Value, r.Err
}

// DoResult is [Group.Do] that also reports, in [Result.Shared], whether
// more than one caller joined the execution.
func (g *Group[K, V]) DoResult(ctx context.Context, key K, fn func(context.Context) (V, error)) Result[V] {
	checkKey(key)
	if err := ctx.Err(); err != nil {
		return Result[V]{Err: context.Cause(ctx)}
	}
	g.mu.Lock()
	c, started := g.join(ctx, key, fn, ctx.Done() == nil)
	if started && c.cancel == nil {
		g.mu.Unlock()
		// This caller can never give up, so it runs fn itself.
		g.run(ctx, key, c, fn)
		return c.result()
	}
	done := c.waitChan()
	g.mu.Unlock()
	if ctx.Done() == nil {
		// A caller that cannot give up waits on the result alone, which is
		// cheaper than a select.
		<-done
		return c.result()
	}
	select {
	case <-done:
		return c.result()
	case <-ctx.Done():
	}
	g.mu.Lock()
	if c.finished {
		// The result arrived while the caller was giving up: keep it.
		g.mu.Unlock()
		<-done
		return c.result()
	}
	g.leave(ctx, c)
	g.mu.Unlock()
	return Result[V]{Err: context.Cause(ctx)}
}

// waitChan returns the channel closed when c finishes, making it if needed.
// g.mu must be held and c not finished.
func (c *call[V]) waitChan() chan struct{} {
	if c.done == nil {
		c.done = make(chan struct{})
	}
	return c.done
}

// DoChan is [Group.Do] for callers that wait on several things at once: it
// returns at once with a channel that receives exactly one [Result], either
// the execution's or, if ctx ends first, one whose Err is
// [context.Cause](ctx). The channel is buffered, so the result is never lost
// if the caller stops listening, and it is never closed.
//
// fn always runs on a goroutine of the Group's for DoChan callers that start
// an execution.
func (g *Group[K, V]) DoChan(ctx context.Context, key K, fn func(context.Context) (V, error)) <-chan Result[V] {
	checkKey(key)
	ch := make(chan Result[V], 1)
	if err := ctx.Err(); err != nil {
		ch <- Result[V]{Err: context.Cause(ctx)}
		return ch
	}
	w := &chanWaiter[V]{ch: ch}
	g.mu.Lock()
	c, _ := g.join(ctx, key, fn, false)
	c.chans = append(c.chans, w)
	// Registering the watcher under the lock orders it before finish can
	// deliver the result and call w.stop.
	w.stop = context.AfterFunc(ctx, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if c.finished {
			return // finish has delivered the result
		}
		for i, other := range c.chans {
			if other == w {
				c.chans = append(c.chans[:i], c.chans[i+1:]...)
				break
			}
		}
		g.leave(ctx, c)
		w.ch <- Result[V]{Err: context.Cause(ctx)}
	})
	g.mu.Unlock()
	return ch
}

// Forget makes the next call for key start a fresh execution even if one is
// in flight. The execution in flight goes on and its callers still get its
// result. Use it when the value behind key has changed and an execution that
// started earlier may return stale data. Forget does not cancel anything.
func (g *Group[K, V]) Forget(key K) {
	checkKey(key)
	g.mu.Lock()
	delete(g.calls, key)
	g.mu.Unlock()
}

// join returns the execution for key that the caller now waits on, counting
// the caller as a waiter, and whether the caller started it. When inline is
// true and no execution is in flight, the new execution has no cancel func
// and the caller must run fn itself. g.mu must be held.
func (g *Group[K, V]) join(ctx context.Context, key K, fn func(context.Context) (V, error), inline bool) (*call[V], bool) {
	prev, ok := g.calls[key]
	if ok && !prev.abandoned {
		prev.waiters++
		prev.joined++
		return prev, false
	}
	c := &call[V]{waiters: 1}
	if g.calls == nil {
		g.calls = make(map[K]*call[V])
	}
	g.calls[key] = c
	if inline && !ok {
		return c, true
	}
	execCtx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	c.cancel = cancel
	var prevDone chan struct{}
	if ok {
		prevDone = prev.waitChan()
	}
	go func() {
		if prevDone != nil {
			// An abandoned execution is still running: wait for it, so that
			// one key never has two executions at once.
			<-prevDone
		}
		g.run(execCtx, key, c, fn)
	}()
	return c, true
}

// leave takes a caller whose context ended off c's waiters and cancels the
// execution when it was the last one. g.mu must be held and c not finished.
func (g *Group[K, V]) leave(ctx context.Context, c *call[V]) {
	c.waiters--
	if c.waiters == 0 {
		c.abandoned = true
		c.cancel(context.Cause(ctx))
	}
}

// run calls fn and publishes its outcome, whatever way fn ends.
func (g *Group[K, V]) run(ctx context.Context, key K, c *call[V], fn func(context.Context) (V, error)) {
	catch.Guard(func() error {
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx) // every caller left before fn started
		}
		v, err := fn(ctx)
		c.value = v
		return err
	}, func(err error) {
		c.err = err
		g.finish(key, c)
	})
}

// finish removes c from the group, so that nothing is cached, and hands its
// result to every caller still waiting.
func (g *Group[K, V]) finish(key K, c *call[V]) {
	g.mu.Lock()
	if g.calls[key] == c {
		delete(g.calls, key)
	}
	c.finished = true
	chans := c.chans
	c.chans = nil
	r := c.result()
	done := c.done
	g.mu.Unlock()
	if done != nil {
		close(done)
	}
	if c.cancel != nil {
		c.cancel(nil) // release the context's resources
	}
	for _, w := range chans {
		// A watcher that fires from now on sees c.finished and sends
		// nothing, and one that fired earlier took w out of c.chans, so this
		// is the channel's only send.
		w.stop()
		w.ch <- r
	}
}

// result is c's outcome. It may be called once c.done is closed, by the
// caller that ran fn after it returned, or with g.mu held after c.finished is
// set.
func (c *call[V]) result() Result[V] {
	return Result[V]{Value: c.value, Err: c.err, Shared: c.joined > 0}
}

// checkKey panics, as a map would, if key cannot be hashed (a slice in an
// interface-typed key): here, before the Group's lock is taken, so that the
// panic does not leave the lock held and the Group stuck for every key. A
// lookup in a nil map hashes the key and costs nothing else.
func checkKey[K comparable](key K) {
	_ = map[K]struct{}(nil)[key]
}
