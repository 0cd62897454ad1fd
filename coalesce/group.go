package coalesce

import (
	"context"
	"errors"
	"hash/maphash"
	"log"
	"sync"
	"sync/atomic"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/internal/catch"
)

// Flight runs one execution of fn for all concurrent callers of the same key
// and gives each its result, like [golang.org/x/sync/singleflight] but
// context-aware. Use it for idempotent reads (cache fills, token refreshes):
// joined callers do not run fn, and nothing is cached.
//
// fn's context keeps the starting caller's values but not its deadline or
// cancellation, and is cancelled once every caller has left or fn has
// returned. A key has one execution at a time unless [Flight.Forget] is
// called.
//
// If the starting caller's context can never be cancelled (Done returns
// nil), fn runs on its goroutine with that context; otherwise, and always
// for [Flight.DoChan], on a goroutine that ends when fn returns. A panic in
// fn reaches every waiting caller as a [*github.com/weftgo/weft.PanicError],
// or [OnPanic] if none waits; [runtime.Goexit] in fn gives them
// [github.com/weftgo/weft.ErrGoexit]; see [ErrCycle] for calls from fn.
//
// The zero Flight is ready to use; it must not be copied after first use.
type Flight[K comparable, V any] struct {
	onPanic func(key K, pe *weft.PanicError)    // from OnPanic; nil: logPanic
	onDone  func(key K, callers int, err error) // from OnDone; nil: none
	tab     atomic.Pointer[table[K, V]]         // made by the first call
}

// NewFlight returns an empty Flight configured by opts.
func NewFlight[K comparable, V any](opts ...FlightOption[K]) *Flight[K, V] {
	var cfg groupConfig[K]
	for _, o := range opts {
		if o == nil {
			panic("coalesce: NewFlight: nil FlightOption")
		}
		o.applyGroup(&cfg)
	}
	return &Flight[K, V]{onPanic: cfg.onPanic, onDone: cfg.onDone}
}

// FlightOption configures a [Flight] made by [NewFlight].
type FlightOption[K comparable] interface {
	applyGroup(*groupConfig[K])
}

type groupConfig[K comparable] struct {
	onPanic func(K, *weft.PanicError)
	onDone  func(K, int, error)
}

type onPanicOption[K comparable] func(K, *weft.PanicError)

func (o onPanicOption[K]) applyGroup(c *groupConfig[K]) { c.onPanic = o }

// OnPanic sets the hook that gets a panic in fn when every caller of the
// execution had left, on the execution's goroutine. Without it, such a panic
// is logged with the [log] package, prefixed "coalesce:". OnPanic panics if
// hook is nil.
func OnPanic[K comparable](hook func(key K, pe *weft.PanicError)) FlightOption[K] {
	if hook == nil {
		panic("coalesce: OnPanic(nil)")
	}
	return onPanicOption[K](hook)
}

type onDoneOption[K comparable] func(K, int, error)

func (o onDoneOption[K]) applyGroup(c *groupConfig[K]) { c.onDone = o }

// OnDone sets a hook called once per execution, after its callers have the
// result, with the key, how many callers joined it (the first included, left
// or not) and fn's error, or the cause of the last caller to leave if fn never
// started. It runs on the execution's goroutine; a panic in it goes to
// [OnPanic]. OnDone panics if hook is nil.
func OnDone[K comparable](hook func(key K, callers int, err error)) FlightOption[K] {
	if hook == nil {
		panic("coalesce: OnDone(nil)")
	}
	return onDoneOption[K](hook)
}

// done calls the OnDone hook, if any, for c, which has finished.
func (g *Flight[K, V]) done(c *call[K, V]) {
	if g.onDone == nil {
		return
	}
	// No caller joins c once it has finished: finish removed it from the
	// table under the lock the joins took.
	callers := int(c.joined) + 1
	err := catch.Call(func() error {
		g.onDone(c.key, callers, c.err)
		return nil
	})
	if pe, ok := err.(*weft.PanicError); ok {
		g.reportPanic(c.key, pe)
	}
}

// reportPanic hands a panic nobody waits for to the OnPanic hook, or logs
// it.
func (g *Flight[K, V]) reportPanic(key K, pe *weft.PanicError) {
	if g.onPanic == nil {
		logPanic(key, pe)
		return
	}
	err := catch.Call(func() error {
		g.onPanic(key, pe)
		return nil
	})
	if hpe, ok := err.(*weft.PanicError); ok {
		logPanic(key, pe)
		log.Printf("coalesce: OnPanic hook panicked on key %v: %+v", key, hpe)
	}
}

func logPanic[K comparable](key K, pe *weft.PanicError) {
	log.Printf("coalesce: panic in an execution every caller had left, key %v: %+v", key, pe)
}

// shards is how many locks a Flight's keys are spread over, so that callers
// of different keys rarely wait for one another.
const shards = 32

// table is a Flight's keys, spread over shards by a hash of the key. It is
// made on first use so that the zero Flight is small and ready.
type table[K comparable, V any] struct {
	seed   maphash.Seed
	shards [shards]shard[K, V]

	// waits holds, for each execution whose fn has calls of the Flight
	// waiting, the executions they wait on, once per call: the edges a call
	// from fn follows to find that it would wait on itself. Only calls made
	// with an execution's context take waitMu, after their shard's lock.
	waitMu sync.Mutex
	waits  map[*call[K, V]][]*call[K, V] // guarded by waitMu
}

type shard[K comparable, V any] struct {
	mu    sync.Mutex
	calls map[K]*call[K, V] // guarded by mu
	g     *Flight[K, V]     // the Flight, for its executions' contexts
	_     [64 - 24]byte     // one cache line each, so the locks do not share one
}

// Result is the outcome of a call to [Flight.DoResult] or [Flight.DoChan].
type Result[V any] struct {
	Value  V     // fn's value; zero if the caller's context ended first
	Err    error // fn's error, a [*weft.PanicError], or the caller's [context.Cause]
	Shared bool  // more than one caller joined the execution, left or not
}

// call is one execution of fn for a key.
type call[K comparable, V any] struct {
	key   K
	sh    *shard[K, V]
	value V
	err   error

	// ctx is the context fn runs with. It lives in the call so that the
	// inline path allocates nothing more for it.
	ctx execCtx[K, V]

	// Guarded by sh.mu.
	done      chan struct{}           // closed once value and err are set; made by the first caller that waits
	waiters   int32                   // callers still waiting
	joined    int32                   // callers beyond the first, ever
	finished  bool                    // fn has returned and the result is set
	abandoned bool                    // every caller gave up; cancel was called
	cancel    context.CancelCauseFunc // nil when fn runs on a caller's goroutine
	chans     *chanWaiter[V]          // sentinel of the ring of DoChan callers still waiting; nil until one waits
}

// chanWaiter is a DoChan caller waiting on a call. The waiters of a call
// form a ring through prev and next, so that one that leaves unlinks itself
// in constant time however many wait.
type chanWaiter[V any] struct {
	prev, next *chanWaiter[V]
	ch         chan Result[V]
	stop       func() bool // stops the context.AfterFunc watching the caller's ctx
	unwait     func()      // for a caller with an execution's context: ends that execution's wait on this one; else nil
}

// execCtx is the context an execution's fn runs with: the one it would get
// anyway, which also answers the Flight's key with the execution, so that a
// call fn makes on the same Flight can tell it would wait on itself.
type execCtx[K comparable, V any] struct {
	context.Context
	c *call[K, V]
}

// execKey is the context key under which an execution's context holds the
// execution, one per Flight.
type execKey[K comparable, V any] struct{ g *Flight[K, V] }

func (e *execCtx[K, V]) Value(key any) any {
	if k, ok := key.(execKey[K, V]); ok && k.g == e.c.sh.g {
		return e.c
	}
	return e.Context.Value(key)
}

// String names the context for debugging without reading the execution's
// state, which another goroutine may be writing.
func (e *execCtx[K, V]) String() string {
	if s, ok := e.Context.(interface{ String() string }); ok {
		return s.String() + ".coalesce"
	}
	return "context.coalesce"
}

// ErrCycle is returned at once by a call made with an execution's context,
// or one derived from it, for a key whose execution is that one or waits on
// it through such calls, since the call would wait on itself forever.
var ErrCycle = errors.New("coalesce: call from fn waits on its own execution")

// Do joins the execution in flight for key, or starts one that runs fn, and
// returns its result. If ctx is done first, Do returns V's zero value and
// [context.Cause] of ctx at once; the execution goes on for the other
// callers.
func (g *Flight[K, V]) Do(ctx context.Context, key K, fn func(context.Context) (V, error)) (V, error) {
	r := g.DoResult(ctx, key, fn)
	return r.Value, r.Err
}

// DoResult is [Flight.Do] that also reports, in [Result.Shared], whether more
// than one caller joined the execution.
func (g *Flight[K, V]) DoResult(ctx context.Context, key K, fn func(context.Context) (V, error)) Result[V] {
	sh := g.shard(key)
	if err := ctx.Err(); err != nil {
		return Result[V]{Err: context.Cause(ctx)}
	}
	outer := g.outer(ctx)
	sh.mu.Lock()
	c, started := g.join(ctx, sh, key, fn, outer, ctx.Done() == nil)
	if c == nil {
		sh.mu.Unlock()
		return Result[V]{Err: ErrCycle}
	}
	if outer != nil {
		defer g.unwait(outer, c)
	}
	if started && c.cancel == nil {
		sh.mu.Unlock()
		// This caller can never give up, so it runs fn itself, as
		// singleflight does: one small allocation (the call) and about the
		// cost of singleflight's Do. Running fn on a goroutine of its own,
		// which a caller that may leave needs, adds the hand-off between
		// goroutines, one to two microseconds on the benchmark machine.
		g.run(c, fn)
		return c.result()
	}
	done := c.waitChan()
	sh.mu.Unlock()
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
	sh.mu.Lock()
	if c.finished {
		// The result arrived while the caller was giving up: keep it.
		sh.mu.Unlock()
		<-done
		return c.result()
	}
	c.leave(ctx)
	sh.mu.Unlock()
	return Result[V]{Err: context.Cause(ctx)}
}

// waitChan returns the channel closed when c finishes, making it if needed.
// c.sh.mu must be held and c not finished.
func (c *call[K, V]) waitChan() chan struct{} {
	if c.done == nil {
		c.done = make(chan struct{})
	}
	return c.done
}

// DoChan is [Flight.Do] for a select: it returns at once a buffered channel
// that receives exactly one [Result], whose Err is [context.Cause] of ctx if
// ctx ends first. The channel is never closed.
func (g *Flight[K, V]) DoChan(ctx context.Context, key K, fn func(context.Context) (V, error)) <-chan Result[V] {
	sh := g.shard(key)
	ch := make(chan Result[V], 1)
	if err := ctx.Err(); err != nil {
		ch <- Result[V]{Err: context.Cause(ctx)}
		return ch
	}
	outer := g.outer(ctx)
	w := &chanWaiter[V]{ch: ch}
	sh.mu.Lock()
	c, _ := g.join(ctx, sh, key, fn, outer, false)
	if c == nil {
		sh.mu.Unlock()
		ch <- Result[V]{Err: ErrCycle}
		return ch
	}
	c.link(w)
	if outer != nil {
		w.unwait = func() { g.unwait(outer, c) }
	}
	// Registering the watcher under the lock orders it before finish can
	// deliver the result and call w.stop.
	w.stop = context.AfterFunc(ctx, func() {
		sh.mu.Lock()
		defer sh.mu.Unlock()
		if c.finished {
			return // finish has delivered the result
		}
		w.unlink()
		c.leave(ctx)
		if w.unwait != nil {
			w.unwait()
		}
		w.ch <- Result[V]{Err: context.Cause(ctx)}
	})
	sh.mu.Unlock()
	return ch
}

// link adds w to c's DoChan waiters. c.sh.mu must be held.
func (c *call[K, V]) link(w *chanWaiter[V]) {
	head := c.chans
	if head == nil {
		head = new(chanWaiter[V])
		head.next, head.prev = head, head
		c.chans = head
	}
	w.prev, w.next = head.prev, head
	head.prev.next = w
	head.prev = w
}

// unlink takes w out of the ring it is in. Its call's sh.mu must be held.
func (w *chanWaiter[V]) unlink() {
	w.prev.next = w.next
	w.next.prev = w.prev
	w.prev, w.next = nil, nil
}

// Forget makes the next call for key start a new execution even if one is in
// flight; the one in flight still delivers its result to its callers.
func (g *Flight[K, V]) Forget(key K) {
	sh := g.shard(key)
	sh.mu.Lock()
	delete(sh.calls, key)
	sh.mu.Unlock()
}

// shard returns the shard of key. Hashing the key here, before any lock is
// taken, also makes a key that cannot be hashed (a slice in an
// interface-typed key) panic as a map would, without leaving a lock held.
func (g *Flight[K, V]) shard(key K) *shard[K, V] {
	t := g.tab.Load()
	if t == nil {
		t = g.newTable()
	}
	return &t.shards[maphash.Comparable(t.seed, key)%shards]
}

// newTable makes g's table, or returns the one another caller made first.
func (g *Flight[K, V]) newTable() *table[K, V] {
	t := &table[K, V]{seed: maphash.MakeSeed()}
	for i := range t.shards {
		t.shards[i].g = g
	}
	if g.tab.CompareAndSwap(nil, t) {
		return t
	}
	return g.tab.Load()
}

// outer returns the execution of g, if any, whose context ctx is or is
// derived from. It asks ctx, which is user code, so no lock may be held.
func (g *Flight[K, V]) outer(ctx context.Context) *call[K, V] {
	c, _ := ctx.Value(execKey[K, V]{g}).(*call[K, V])
	return c
}

// join returns the execution for key that the caller now waits on, counting
// the caller as a waiter, and whether the caller started it; or nil when the
// caller's context comes from an execution (outer) that the execution for
// key is or waits on, since waiting would deadlock. When inline is true and
// no execution is in flight, the new execution has no cancel func and the
// caller must run fn itself. sh.mu must be held.
func (g *Flight[K, V]) join(ctx context.Context, sh *shard[K, V], key K, fn func(context.Context) (V, error), outer *call[K, V], inline bool) (*call[K, V], bool) {
	if outer != nil {
		return g.joinFrom(ctx, sh, key, fn, outer, inline)
	}
	prev, ok := sh.calls[key]
	if ok && !prev.abandoned {
		prev.waiters++
		prev.joined++
		return prev, false
	}
	c := &call[K, V]{key: key, sh: sh, waiters: 1}
	if sh.calls == nil {
		sh.calls = make(map[K]*call[K, V])
	}
	sh.calls[key] = c
	if inline && !ok {
		c.ctx = execCtx[K, V]{ctx, c}
		return c, true
	}
	runCtx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	c.ctx = execCtx[K, V]{runCtx, c}
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
		g.run(c, fn)
	}()
	return c, true
}

// joinFrom is join for a caller whose context comes from execution outer.
// Under waitMu, so that two calls cannot each close half of a cycle, it
// fails if the execution for key waits on outer, directly or through other
// executions, and otherwise records that outer now waits on the one joined.
// The caller must end that wait with unwait. sh.mu must be held.
func (g *Flight[K, V]) joinFrom(ctx context.Context, sh *shard[K, V], key K, fn func(context.Context) (V, error), outer *call[K, V], inline bool) (*call[K, V], bool) {
	t := g.tab.Load()
	t.waitMu.Lock()
	defer t.waitMu.Unlock()
	if prev, ok := sh.calls[key]; ok && t.reaches(prev, outer) {
		return nil, false
	}
	c, started := g.join(ctx, sh, key, fn, nil, inline)
	if t.waits == nil {
		t.waits = make(map[*call[K, V]][]*call[K, V])
	}
	t.waits[outer] = append(t.waits[outer], c)
	return c, started
}

// reaches reports whether from is to or waits on it through t.waits.
// t.waitMu must be held.
func (t *table[K, V]) reaches(from, to *call[K, V]) bool {
	if from == to {
		return true
	}
	if len(t.waits[from]) == 0 {
		return false
	}
	// joinFrom keeps the graph acyclic, but executions that wait on one
	// another's results can share what they wait on: visit each once.
	seen := map[*call[K, V]]bool{from: true}
	stack := []*call[K, V]{from}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, w := range t.waits[c] {
			if w == to {
				return true
			}
			if !seen[w] {
				seen[w] = true
				stack = append(stack, w)
			}
		}
	}
	return false
}

// unwait ends one wait of outer's fn on c, recorded by joinFrom.
func (g *Flight[K, V]) unwait(outer, c *call[K, V]) {
	t := g.tab.Load()
	t.waitMu.Lock()
	defer t.waitMu.Unlock()
	ws := t.waits[outer]
	for i, w := range ws {
		if w == c {
			ws[i] = ws[len(ws)-1]
			ws[len(ws)-1] = nil
			ws = ws[:len(ws)-1]
			break
		}
	}
	if len(ws) == 0 {
		delete(t.waits, outer)
	} else {
		t.waits[outer] = ws
	}
}

// leave takes a caller whose context ended off c's waiters and cancels the
// execution when it was the last one. c.sh.mu must be held and c not
// finished.
func (c *call[K, V]) leave(ctx context.Context) {
	c.waiters--
	if c.waiters == 0 {
		c.abandoned = true
		c.cancel(context.Cause(ctx))
	}
}

// run calls fn and publishes its outcome, whatever way fn ends.
func (g *Flight[K, V]) run(c *call[K, V], fn func(context.Context) (V, error)) {
	ctx := &c.ctx
	returned := false
	catch.Guard(func() error {
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx) // every caller left before fn started
		}
		v, err := fn(ctx)
		c.value = v
		returned = true
		return err
	}, func(err error) {
		c.err = err
		pe, panicked := err.(*weft.PanicError)
		if orphan := g.finish(c); orphan && panicked && !returned {
			g.reportPanic(c.key, pe)
		}
		g.done(c)
	})
}

// finish removes c from the group, so that nothing is cached, and hands its
// result to every caller still waiting. It reports whether none was.
func (g *Flight[K, V]) finish(c *call[K, V]) (orphan bool) {
	sh := c.sh
	sh.mu.Lock()
	if sh.calls[c.key] == c {
		delete(sh.calls, c.key)
	}
	c.finished = true
	orphan = c.waiters == 0
	r := c.result()
	done := c.done
	sh.mu.Unlock()
	if done != nil {
		close(done)
	}
	if c.cancel != nil {
		c.cancel(nil) // release the context's resources
	}
	// Nothing links to or unlinks from the ring once c is finished: a
	// watcher that fires from now on sees c.finished and sends nothing,
	// and one that fired earlier took its waiter out. So this is each
	// channel's only send.
	if head := c.chans; head != nil {
		for w := head.next; w != head; w = w.next {
			w.stop()
			if w.unwait != nil {
				w.unwait()
			}
			w.ch <- r
		}
	}
	return orphan
}

// result is c's outcome. It may be called once c.done is closed, by the
// caller that ran fn after it returned, or with c.sh.mu held after
// c.finished is set.
func (c *call[K, V]) result() Result[V] {
	return Result[V]{Value: c.value, Err: c.err, Shared: c.joined > 0}
}
