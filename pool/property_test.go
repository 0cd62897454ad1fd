package pool_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/internal/catch"
	"github.com/weftgo/weft/pool"
	"github.com/weftgo/weft/retry"
	"pgregory.net/rapid"
)

// inBubble runs body in a synctest bubble for the rapid test rt. rapid
// reports a failed check, or a draw that ran out of data, by panicking;
// such a panic inside the bubble is carried out of it and raised again on
// rt's goroutine, where rapid expects it. body must leave no goroutine
// blocked, even when it panics: it cleans up in deferred calls.
func inBubble(t *testing.T, body func(t *testing.T)) {
	var carried error
	synctest.Test(t, func(t *testing.T) {
		carried = catch.Call(func() error { body(t); return nil })
	})
	var pe *weft.PanicError
	if errors.As(carried, &pe) {
		panic(pe.Value)
	}
}

// kind is what a task or job does.
type kind int

const (
	kOK kind = iota
	kFail
	kPanic
	kGoexit
	kBlock      // until released, or its context is done
	kBlockPanic // blocks as kBlock does, then panics
)

func (k kind) String() string {
	return [...]string{"ok", "fail", "panic", "goexit", "block", "block-panic"}[k]
}

var kinds = rapid.SampledFrom([]kind{kOK, kOK, kFail, kPanic, kGoexit, kBlock, kBlock, kBlockPanic})

// probe is what the tasks of a machine report, shared by all of them.
type probe struct {
	mu        sync.Mutex
	runs      map[int]int
	release   map[int]chan struct{}
	violation string
	h         highWater
}

func newProbe() *probe {
	return &probe{runs: map[int]int{}, release: map[int]chan struct{}{}}
}

func (p *probe) fail(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.violation == "" {
		p.violation = fmt.Sprintf(format, args...)
	}
}

func (p *probe) started(id int) {
	p.mu.Lock()
	p.runs[id]++
	n := p.runs[id]
	p.mu.Unlock()
	if n > 1 {
		p.fail("task %d ran %d times", id, n)
	}
}

func (p *probe) ran(id int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.runs[id]
}

// taskErr is the error a failing task returns.
type taskErr int

func (e taskErr) Error() string { return fmt.Sprintf("task %d failed", int(e)) }

// body returns what task id of kind k runs: it returns id as its value.
func (p *probe) body(id int, k kind) func(context.Context) (int, error) {
	rel := make(chan struct{})
	p.mu.Lock()
	p.release[id] = rel
	p.mu.Unlock()
	return func(ctx context.Context) (int, error) {
		p.started(id)
		p.h.enter()
		defer p.h.leave()
		switch k {
		case kFail:
			return id, taskErr(id)
		case kPanic:
			panic(id)
		case kGoexit:
			runtime.Goexit()
		case kBlock, kBlockPanic:
			select {
			case <-rel:
			case <-ctx.Done():
				if k == kBlock {
					return id, ctx.Err()
				}
			}
			if k == kBlockPanic {
				panic(id)
			}
		}
		return id, nil
	}
}

// subject is a Pool or a ResultPool, seen through one interface.
type subject interface {
	Go(f func(context.Context) (int, error)) error
	GoContext(ctx context.Context, f func(context.Context) (int, error)) error
	TryGo(f func(context.Context) (int, error)) error
	Wait() ([]int, error)
	Stats() pool.Stats
}

type poolSubject struct{ p *pool.Pool }

func drop(f func(context.Context) (int, error)) func(context.Context) error {
	return func(ctx context.Context) error { _, err := f(ctx); return err }
}

func (s poolSubject) Go(f func(context.Context) (int, error)) error { return s.p.Go(drop(f)) }
func (s poolSubject) GoContext(ctx context.Context, f func(context.Context) (int, error)) error {
	return s.p.GoContext(ctx, drop(f))
}
func (s poolSubject) TryGo(f func(context.Context) (int, error)) error { return s.p.TryGo(drop(f)) }
func (s poolSubject) Wait() ([]int, error)                             { return nil, s.p.Wait() }
func (s poolSubject) Stats() pool.Stats                                { return s.p.Stats() }

// pendingGo is a Go call the model says is blocked.
type pendingGo struct {
	id     int
	kind   kind
	result chan error
	cancel context.CancelFunc // for GoContext; nil for Go
}

// groupMachine checks a Pool or a ResultPool against a sequential model of
// workers, the task channel and blocked Go calls. Every step ends with the
// bubble quiescent, so the model knows exactly what has run.
type groupMachine struct {
	results  bool
	limit    int
	queue    int // room in the channel
	failFast bool
	s        subject
	cancel   context.CancelCauseFunc
	cause    error
	probe    *probe

	// The model.
	nextID  int
	kinds   map[int]kind
	live    int          // worker goroutines
	running []int        // block tasks holding a worker
	buffer  []int        // tasks in the channel
	blocked []*pendingGo // Go calls waiting for room, in arrival order
	done    bool         // the pool's context is done
	want    pool.Stats
	order   []int       // ResultPool: accepted (or still blocked) tasks in call order
	values  map[int]int // ResultPool: the value each accepted task ends with
	labels  []string    // the errors Wait must return
	first   bool        // FailFast: an error has been recorded
	parent  bool        // the parent context ended the pool, before any FailFast error
	racing  bool        // FailFast: the parent ended the pool first; the tasks still to end race to be the first error
	raced   []string    // the errors of that race, of which Wait returns one
	// A panic raced too: it may have come first, and then Wait returns
	// none of raced.
	racedPanic bool
	refused    bool           // a Go or GoContext call was refused
	outcome    map[int]string // what became of each task
}

func newGroupMachine(t *rapid.T, ctx context.Context, results bool) *groupMachine {
	m := &groupMachine{
		results:  results,
		limit:    rapid.IntRange(1, 3).Draw(t, "workers"),
		failFast: rapid.Bool().Draw(t, "FailFast"),
		probe:    newProbe(),
		kinds:    map[int]kind{},
		values:   map[int]int{},
		outcome:  map[int]string{},
		cause:    errors.New("cancelled by the test"),
	}
	ctx, m.cancel = context.WithCancelCause(ctx)
	opts := []pool.PoolOption{pool.FailFast(m.failFast)}
	// The default queue, or one set small enough for the steps to fill.
	if q := rapid.IntRange(-1, 3).Draw(t, "queue"); q < 0 {
		m.queue = max(m.limit, 64)
	} else {
		m.queue = q
		opts = append(opts, pool.Buffer(q))
	}
	if results {
		m.s = pool.NewResultPool[int](ctx, m.limit, opts...)
	} else {
		m.s = poolSubject{pool.New(ctx, m.limit, opts...)}
	}
	return m
}

func (m *groupMachine) idle() int { return m.live - len(m.running) }

// wouldBlock reports whether a Go call now waits for room.
func (m *groupMachine) wouldBlock() bool {
	return !m.done && m.live == m.limit && m.idle() == 0 && len(m.buffer) >= m.queue
}

// accept models the acceptance of task id, which runs at once if a worker
// is free and waits in the channel otherwise.
func (m *groupMachine) accept(id int) {
	if m.live < m.limit {
		m.live++
		m.run(id)
		return
	}
	m.buffer = append(m.buffer, id)
	m.drain()
}

// run models task id running on a free worker.
func (m *groupMachine) run(id int) {
	k := m.kinds[id]
	m.values[id] = id
	switch k {
	case kOK:
		m.want.Succeeded++
		m.outcome[id] = "ok"
	case kFail:
		m.want.Failed++
		m.outcome[id] = "fail"
		m.failure(fmt.Sprintf("err:%d", id), false)
	case kPanic:
		m.want.Panicked++
		m.values[id] = 0
		m.outcome[id] = "panic"
		m.failure(fmt.Sprintf("panic:%d", id), true)
	case kGoexit:
		m.want.Failed++
		m.values[id] = 0
		m.outcome[id] = "goexit"
		m.failure("goexit", false)
	case kBlock, kBlockPanic:
		if m.done {
			// It sees its context done at once.
			m.end(id, true)
			return
		}
		m.running = append(m.running, id)
		m.outcome[id] = "running"
	}
}

// end models running task id returning, released or interrupted.
func (m *groupMachine) end(id int, interrupted bool) {
	if m.count(id, interrupted) {
		m.failure(fmt.Sprintf("panic:%d", id), true)
	} else if interrupted {
		m.failure("ctxerr", false)
	}
}

// count counts the outcome of running task id, and reports whether it
// panicked.
func (m *groupMachine) count(id int, interrupted bool) bool {
	switch {
	case m.kinds[id] == kBlockPanic:
		m.want.Panicked++
		m.values[id] = 0
		m.outcome[id] = "panic"
		return true
	case interrupted:
		m.want.Failed++
		m.outcome[id] = "interrupted"
	default:
		m.want.Succeeded++
		m.outcome[id] = "ok"
	}
	return false
}

// failure records a task's error as Wait will report it.
func (m *groupMachine) failure(label string, panicked bool) {
	switch {
	case !m.failFast:
		m.labels = append(m.labels, label)
	case m.racing && panicked:
		m.labels = append(m.labels, label)
		m.racedPanic = true
	case m.racing:
		m.raced = append(m.raced, label)
	case !m.first:
		m.first = true
		m.labels = append(m.labels, label)
		m.stop()
	case panicked:
		m.labels = append(m.labels, label)
	}
}

// drain models free workers taking tasks from the channel, and blocked Go
// calls filling the room they leave, until nothing moves.
func (m *groupMachine) drain() {
	for m.idle() > 0 {
		var id int
		switch {
		case len(m.buffer) > 0:
			id = m.buffer[0]
			m.buffer = m.buffer[1:]
			if len(m.blocked) > 0 && !m.done {
				// The receive moves the first blocked sender's task into
				// the channel.
				b := m.blocked[0]
				m.blocked = m.blocked[1:]
				m.buffer = append(m.buffer, b.id)
				m.expectGo(b, nil)
			}
		case m.queue == 0 && len(m.blocked) > 0 && !m.done:
			// No room: the receive takes the first blocked sender's task.
			b := m.blocked[0]
			m.blocked = m.blocked[1:]
			m.expectGo(b, nil)
			id = b.id
		default:
			return
		}
		m.run(id)
	}
}

// stop models the pool's context ending: the running tasks return, the
// tasks in the channel run with the context done, and blocked Go calls give
// up or slip in and run too.
func (m *groupMachine) stop() {
	if m.done {
		return
	}
	m.done = true
	if m.failFast && !m.first {
		// Ended by the parent: the tasks that end from now on do so at
		// once, on several workers, and any of their errors may be
		// recorded first; a panic is kept either way.
		m.racing = true
	}
	for len(m.running) > 0 {
		id := m.running[0]
		m.running = m.running[1:]
		m.end(id, true)
	}
	m.drain()
}

// settleBlocked learns how each blocked Go call ended once the context was
// done: either way is allowed, since its select may find room and the done
// context ready at once.
func (m *groupMachine) settleBlocked(t *rapid.T) {
	for _, b := range m.blocked {
		err := <-b.result
		switch {
		case err == nil:
			// Accepted: it runs, with the context done.
			m.buffer = append(m.buffer, b.id)
			m.drain()
		case m.isCause(err):
			m.reject(b.id, true)
		default:
			t.Fatalf("blocked Go of task %d returned %v after the context ended", b.id, err)
		}
	}
	m.blocked = nil
}

// isCause reports whether err is what Go returns on a done pool.
func (m *groupMachine) isCause(err error) bool {
	if !m.failFast || !m.first || m.parent {
		return err == m.cause
	}
	return err != nil // the first task error, whatever it was
}

// reject models the refusal of task id; reported is true for a Go or
// GoContext call, whose refusal Wait reports.
func (m *groupMachine) reject(id int, reported bool) {
	m.refused = m.refused || reported
	m.want.Rejected++
	m.outcome[id] = "rejected"
	if i := slices.Index(m.order, id); i >= 0 {
		m.order = slices.Delete(m.order, i, i+1)
	}
}

// expectGo checks that a blocked Go call returned err.
func (m *groupMachine) expectGo(b *pendingGo, want error) {
	if err := <-b.result; err != want {
		panic(fmt.Sprintf("blocked Go of task %d returned %v, model says %v", b.id, err, want))
	}
}

// newTask draws a task and counts its submission.
func (m *groupMachine) newTask(t *rapid.T) (int, func(context.Context) (int, error)) {
	m.nextID++
	id := m.nextID
	k := kinds.Draw(t, "kind")
	m.kinds[id] = k
	m.want.Submitted++
	return id, m.probe.body(id, k)
}

func (m *groupMachine) Go(t *rapid.T) {
	id, f := m.newTask(t)
	m.order = append(m.order, id)
	if m.wouldBlock() {
		b := &pendingGo{id: id, kind: m.kinds[id], result: make(chan error, 1)}
		go func() { b.result <- m.s.Go(f) }()
		m.blocked = append(m.blocked, b)
		return
	}
	err := m.s.Go(f)
	m.checkGo(t, id, err)
}

func (m *groupMachine) GoContext(t *rapid.T) {
	id, f := m.newTask(t)
	m.order = append(m.order, id)
	if m.wouldBlock() {
		ctx, cancel := context.WithCancel(context.Background())
		b := &pendingGo{id: id, kind: m.kinds[id], result: make(chan error, 1), cancel: cancel}
		go func() { b.result <- m.s.GoContext(ctx, f) }()
		m.blocked = append(m.blocked, b)
		return
	}
	err := m.s.GoContext(context.Background(), f)
	m.checkGo(t, id, err)
}

// checkGo checks the result of a Go call that the model says does not
// block.
func (m *groupMachine) checkGo(t *rapid.T, id int, err error) {
	if m.done {
		if !m.isCause(err) {
			t.Fatalf("Go on a done pool = %v", err)
		}
		m.reject(id, true)
		return
	}
	if err != nil {
		t.Fatalf("Go with room = %v", err)
	}
	m.accept(id)
}

func (m *groupMachine) TryGo(t *rapid.T) {
	id, f := m.newTask(t)
	m.order = append(m.order, id)
	err := m.s.TryGo(f)
	switch {
	case m.done:
		if !m.isCause(err) {
			t.Fatalf("TryGo on a done pool = %v, want the context's cause", err)
		}
	case m.wouldBlock():
		if !errors.Is(err, pool.ErrFull) {
			t.Fatalf("TryGo = %v, model says ErrFull (%d live, %d running, %d in the channel)", err, m.live, len(m.running), len(m.buffer))
		}
	case err != nil:
		t.Fatalf("TryGo = %v, model says nil (%d live, %d running, %d in the channel)", err, m.live, len(m.running), len(m.buffer))
	}
	if err == nil {
		m.accept(id)
	} else {
		m.reject(id, false)
	}
}

// GiveUp cancels the context of a blocked GoContext call.
func (m *groupMachine) GiveUp(t *rapid.T) {
	var ctxCalls []int
	for i, b := range m.blocked {
		if b.cancel != nil {
			ctxCalls = append(ctxCalls, i)
		}
	}
	if len(ctxCalls) == 0 {
		t.Skip("no blocked GoContext call")
	}
	i := rapid.SampledFrom(ctxCalls).Draw(t, "blocked call")
	b := m.blocked[i]
	m.blocked = slices.Delete(m.blocked, i, i+1)
	b.cancel()
	if err := <-b.result; !errors.Is(err, context.Canceled) {
		t.Fatalf("GoContext whose context was cancelled = %v", err)
	}
	m.reject(b.id, true)
}

func (m *groupMachine) Release(t *rapid.T) {
	if len(m.running) == 0 {
		t.Skip("nothing running")
	}
	i := rapid.IntRange(0, len(m.running)-1).Draw(t, "running task")
	id := m.running[i]
	m.running = slices.Delete(m.running, i, i+1)
	close(m.probe.release[id])
	m.end(id, false)
	m.drain()
	synctest.Wait()
}

func (m *groupMachine) Cancel(t *rapid.T) {
	if m.done {
		t.Skip("already cancelled")
	}
	if rapid.IntRange(0, 3).Draw(t, "cancel now") != 0 {
		t.Skip("not yet")
	}
	m.cancel(m.cause)
	m.parent = !m.first
	m.stop()
	synctest.Wait()
	m.settleBlocked(t)
}

// Check runs after every step, with the bubble quiescent.
func (m *groupMachine) Check(t *rapid.T) {
	synctest.Wait()
	if m.done && len(m.blocked) > 0 {
		m.settleBlocked(t)
	}
	for _, b := range m.blocked {
		select {
		case err := <-b.result:
			t.Fatalf("Go of task %d returned %v; the model says it blocks", b.id, err)
		default:
		}
	}
	s := m.s.Stats()
	checkLaw(t, s)
	m.want.Running = uint64(len(m.running))
	m.want.Queued = uint64(len(m.buffer) + len(m.blocked))
	m.want.Workers = uint64(m.live)
	if s != m.want {
		t.Fatalf("Stats = %s, workers %d\nmodel   %s, workers %d", stats(s), s.Workers, stats(m.want), m.want.Workers)
	}
	if p := m.probe.h.peak(); p > m.limit {
		t.Fatalf("%d tasks ran at once, limit %d", p, m.limit)
	}
	if v := m.probe.violation; v != "" {
		t.Fatal(v)
	}
}

// finish lets every task end, calls Wait and checks what it returns.
func (m *groupMachine) finish(t *rapid.T) {
	for len(m.running) > 0 {
		id := m.running[0]
		m.running = m.running[1:]
		close(m.probe.release[id])
		m.end(id, false)
		m.drain()
		synctest.Wait()
	}
	m.Check(t)
	values, err := m.s.Wait()
	synctest.Wait()
	if left := poolGoroutines(); len(left) > 0 {
		t.Fatalf("Wait returned with %d pool goroutines left", len(left))
	}
	m.live = 0
	m.Check(t)
	if m.refused {
		m.labels = append(m.labels, "refused")
	}
	got := m.labelsOf(err)
	slices.Sort(got)
	alts := [][]string{nil}
	if len(m.raced) > 0 {
		// One of the errors that raced is recorded first, or a panic.
		alts = nil
		if m.racedPanic {
			alts = append(alts, nil)
		}
		for _, label := range m.raced {
			alts = append(alts, []string{label})
		}
	}
	var wants [][]string
	for _, alt := range alts {
		want := slices.Sorted(slices.Values(append(slices.Clone(m.labels), alt...)))
		if slices.Equal(got, want) {
			wants = nil
			break
		}
		wants = append(wants, want)
	}
	if wants != nil {
		t.Fatalf("Wait = %v\nas labels %v\nmodel says one of %v", err, got, wants)
	}
	for id, o := range m.outcome {
		runs := m.probe.ran(id)
		if ranWant := o != "rejected"; (runs == 1) != ranWant {
			t.Fatalf("task %d (%v, %s) ran %d times", id, m.kinds[id], o, runs)
		}
	}
	if !m.results {
		return
	}
	var wantValues []int
	for _, id := range m.order {
		wantValues = append(wantValues, m.values[id])
	}
	if !slices.Equal(values, wantValues) && len(values)+len(wantValues) > 0 {
		t.Fatalf("Wait values = %v, model says %v", values, wantValues)
	}
}

// labelsOf names each error in err as the model does.
func (m *groupMachine) labelsOf(err error) []string {
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var out []string
	for _, e := range errs {
		var pe *weft.PanicError
		var te taskErr
		switch {
		case strings.HasPrefix(e.Error(), "pool: ") && strings.Contains(e.Error(), " refused: "):
			out = append(out, "refused")
		case e == m.cause:
			out = append(out, "cause")
		case e == context.Canceled:
			out = append(out, "ctxerr")
		case e == weft.ErrGoexit:
			out = append(out, "goexit")
		case errors.As(e, &pe):
			out = append(out, fmt.Sprintf("panic:%v", pe.Value))
		case errors.As(e, &te):
			out = append(out, fmt.Sprintf("err:%d", int(te)))
		default:
			out = append(out, "unknown:"+e.Error())
		}
	}
	return out
}

// cleanup releases everything a failed run left blocked, so the bubble can
// end.
func (m *groupMachine) cleanup() {
	m.cancel(m.cause)
	for _, b := range m.blocked {
		if b.cancel != nil {
			b.cancel()
		}
	}
	m.s.Wait()
}

// groupActions weights the actions by listing some more than once: rapid
// picks among the names evenly, and a pool cancelled early has little left
// to show.
func groupActions(m *groupMachine) map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"Go":        m.Go,
		"Go ":       m.Go,
		"Go  ":      m.Go,
		"GoContext": m.GoContext,
		"TryGo":     m.TryGo,
		"GiveUp":    m.GiveUp,
		"Release":   m.Release,
		"Release ":  m.Release,
		"Cancel":    m.Cancel,
		"":          m.Check,
	}
}

func runGroupMachine(t *testing.T, results bool) {
	rapid.Check(t, func(rt *rapid.T) {
		inBubble(t, func(*testing.T) {
			m := newGroupMachine(rt, context.Background(), results)
			finished := false
			defer func() {
				if !finished {
					m.cleanup()
				}
			}()
			rt.Repeat(groupActions(m))
			m.finish(rt)
			finished = true
		})
	})
}

// Pool against its model: every task ends in exactly one outcome, none
// starts after the pool's context ended, no more than the limit run at
// once, Stats match the model and obey their law at every step, and Wait
// returns every error the model expects once no pool goroutine is left.
func TestPropertyPoolStateMachine(t *testing.T) {
	runGroupMachine(t, false)
}

// ResultPool against the same model, and its values in submission order.
func TestPropertyResultPoolStateMachine(t *testing.T) {
	runGroupMachine(t, true)
}

// Map returns f of every item, in order, when nothing fails; otherwise it
// returns the first error, and no item starts after the failure (in virtual
// time, where each item takes a millisecond).
func TestPropertyMap(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(0, 300).Draw(rt, "items")
		workers := rapid.IntRange(1, 8).Draw(rt, "workers")
		failAt := rapid.IntRange(-1, n-1).Draw(rt, "failing item")
		in := make([]int, n)
		for i := range in {
			in[i] = i
		}
		var failure string
		synctest.Test(t, func(*testing.T) {
			start := time.Now()
			var failedAt atomic.Int64
			failedAt.Store(-1)
			var late, calls atomic.Int64
			got, err := pool.Map(context.Background(), workers, in, func(_ context.Context, i int) (int, error) {
				calls.Add(1)
				if at := failedAt.Load(); at >= 0 && int64(time.Since(start)) > at {
					late.Add(1)
				}
				if i == failAt {
					failedAt.Store(int64(time.Since(start)))
					return -1, taskErr(i)
				}
				time.Sleep(time.Millisecond)
				return 3 * i, nil
			})
			switch {
			case len(got) != n:
				failure = fmt.Sprintf("Map returned %d values for %d items", len(got), n)
			case failAt < 0 && (err != nil || calls.Load() != int64(n)):
				failure = fmt.Sprintf("Map = %v after %d calls, want nil after %d", err, calls.Load(), n)
			case failAt >= 0 && (err != taskErr(failAt) || got[failAt] != -1):
				failure = fmt.Sprintf("Map = %v, value %d; want the failure of item %d", err, got[failAt], failAt)
			case late.Load() > 0:
				failure = fmt.Sprintf("%d items started after the failure", late.Load())
			}
			for i, v := range got {
				if i != failAt && v != 3*i && v != 0 {
					failure = fmt.Sprintf("Map(%d) = %d", i, v)
				}
				if failAt < 0 && v != 3*i {
					failure = fmt.Sprintf("Map(%d) = %d, want %d", i, v, 3*i)
				}
			}
		})
		if failure != "" {
			rt.Fatal(failure)
		}
	})
}

// pendingSubmit is a Submit call the model says is blocked.
type pendingSubmit struct {
	id     int
	result chan error
	cancel context.CancelFunc
}

// waitingJob is a job the model has waiting out a retry delay.
type waitingJob struct {
	id  int
	due time.Duration // since the machine started
}

// Workers states in the model.
const (
	wOpen = iota
	wDraining
	wStopped
)

// workersMachine checks a Workers against a model that knows, at every
// quiescent step, which jobs run, wait in the queue, wait to retry, or wait
// in Submit. The model is a fixpoint: after each step, jobs start while a
// worker is free, first from the queue, then from waiting Submit calls;
// everything the pool could do, it must have done.
type workersMachine struct {
	w        *pool.Workers[int]
	cancel   context.CancelCauseFunc
	cause    error
	start    time.Time
	probe    *probe
	sink     *letters
	hasSink  bool
	policy   bool
	onDone   atomic.Int64
	capacity int
	maxLimit int

	// The model.
	limit     int
	nextID    int
	kinds     map[int]kind
	attempts  map[int]int
	busy      []int
	queue     []int
	waiting   []waitingJob
	blocked   []*pendingSubmit
	state     int
	ctxDone   bool
	want      pool.Stats
	highWater uint64
	letters   []int
	unrun     []int
	interrupt []int
	closeErr  error
	closed    bool
	// at is the model's clock while advance replays the retries that came
	// back during a sleep, each at its own instant; zero otherwise.
	at time.Duration
}

// retryDelay is job id's own retry delay, different for every job so that
// no two retries come back at the same instant.
func retryDelay(id int) time.Duration {
	return time.Second + time.Duration(id)*time.Millisecond
}

func newWorkersMachine(t *rapid.T) *workersMachine {
	m := &workersMachine{
		probe:    newProbe(),
		sink:     &letters{},
		hasSink:  rapid.Bool().Draw(t, "dead-letter sink"),
		policy:   rapid.Bool().Draw(t, "retry policy"),
		capacity: rapid.IntRange(0, 3).Draw(t, "queue"),
		limit:    rapid.IntRange(1, 3).Draw(t, "workers"),
		kinds:    map[int]kind{},
		attempts: map[int]int{},
		cause:    errors.New("cancelled by the test"),
		start:    time.Now(),
	}
	m.maxLimit = m.limit
	opts := []pool.WorkersOption{pool.Buffer(m.capacity), pool.OnDone(func(int, error) { m.onDone.Add(1) })}
	if m.hasSink {
		opts = append(opts, pool.DeadLetter[int](m.sink))
	}
	if m.policy {
		opts = append(opts, pool.Retry(retry.New(retry.Attempts(2))))
	}
	var ctx context.Context
	ctx, m.cancel = context.WithCancelCause(context.Background())
	m.w = pool.NewWorkers(ctx, m.limit, m.handle, opts...)
	return m
}

// handle is the Workers' handler: it does what the job's kind says.
func (m *workersMachine) handle(ctx context.Context, id int) error {
	if ctx.Err() != nil {
		m.probe.fail("job %d started after the pool's context ended", id)
	}
	m.probe.mu.Lock()
	m.probe.runs[id]++
	rel := m.probe.release[id]
	k := m.kinds[id]
	m.probe.mu.Unlock()
	m.probe.h.enter()
	defer m.probe.h.leave()
	switch k {
	case kFail:
		return retry.After(taskErr(id), retryDelay(id))
	case kPanic:
		panic(id)
	case kGoexit:
		runtime.Goexit()
	case kBlock:
		select {
		case <-rel:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (m *workersMachine) now() time.Duration { return time.Since(m.start) }

func (m *workersMachine) stopping() bool { return m.state == wStopped || m.ctxDone }

// run models job id starting on a free worker.
func (m *workersMachine) run(id int) {
	m.attempts[id]++
	switch m.kinds[id] {
	case kOK:
		m.want.Succeeded++
	case kFail:
		if m.policy && m.attempts[id] < 2 && !m.stopping() {
			m.want.Retried++
			now := m.now()
			if m.at != 0 {
				now = m.at
			}
			m.waiting = append(m.waiting, waitingJob{id, now + retryDelay(id)})
			return
		}
		m.final(id, &m.want.Failed)
	case kPanic:
		m.final(id, &m.want.Panicked)
	case kGoexit:
		m.final(id, &m.want.Failed)
	case kBlock:
		m.busy = append(m.busy, id)
	}
}

// final models a job that did not succeed reaching its end.
func (m *workersMachine) final(id int, counter *uint64) {
	switch {
	case m.hasSink:
		m.want.DeadLettered++
		m.letters = append(m.letters, id)
	case m.stopping():
		m.want.Canceled++
		m.interrupt = append(m.interrupt, id)
	default:
		*counter++
	}
}

// place models a job arriving: a new one from Submit (which may have to
// wait), or one back from a retry delay (which never waits).
func (m *workersMachine) place(id int, isRetry bool) bool {
	if !isRetry && len(m.queue)+len(m.busy)+len(m.waiting) >= m.limit+m.capacity {
		return false // holding all it may: not even to a free worker
	}
	if len(m.queue) == 0 && !m.stopping() && len(m.busy) < m.limit {
		m.run(id)
		return true
	}
	if !isRetry && len(m.queue)+len(m.waiting) >= m.capacity {
		return false
	}
	m.queue = append(m.queue, id)
	m.highWater = max(m.highWater, uint64(len(m.queue)))
	return true
}

// settle runs the model to its fixpoint.
func (m *workersMachine) settle() {
	for changed := true; changed; {
		changed = false
		for !m.stopping() && len(m.busy) < m.limit && len(m.queue) > 0 {
			id := m.queue[0]
			m.queue = m.queue[1:]
			m.run(id)
			changed = true
		}
		for m.state == wOpen && !m.ctxDone && len(m.blocked) > 0 && m.place(m.blocked[0].id, false) {
			b := m.blocked[0]
			m.blocked = m.blocked[1:]
			m.want.Submitted++
			if err := <-b.result; err != nil {
				panic(fmt.Sprintf("blocked Submit of job %d returned %v; the model admitted it", b.id, err))
			}
			changed = true
		}
	}
}

// advance models the passing of time up to until: jobs come back from
// their retry delays in order, each at its own instant. It returns the
// time of the last of them, or zero if none came back.
func (m *workersMachine) advance(until time.Duration) (last time.Duration) {
	defer func() { m.at = 0 }()
	for {
		slices.SortFunc(m.waiting, func(a, b waitingJob) int { return int(a.due - b.due) })
		if len(m.waiting) == 0 || m.waiting[0].due > until {
			return last
		}
		j := m.waiting[0]
		last = j.due
		m.at = j.due // a job it lets in, and fails, waits from then
		m.waiting = m.waiting[1:]
		switch {
		case m.state == wStopped:
			m.want.Canceled++
			m.unrun = append(m.unrun, j.id)
		case m.ctxDone:
			m.queue = append(m.queue, j.id)
		default:
			m.place(j.id, true)
		}
		m.settle()
	}
}

func (m *workersMachine) newJob(t *rapid.T) int {
	m.nextID++
	id := m.nextID
	m.kinds[id] = rapid.SampledFrom([]kind{kOK, kOK, kFail, kPanic, kGoexit, kBlock, kBlock}).Draw(t, "kind")
	m.probe.mu.Lock()
	m.probe.release[id] = make(chan struct{})
	m.probe.mu.Unlock()
	return id
}

// refusal is what a Submit that cannot be accepted returns now, or nil if
// the model accepts or queues the job or makes it wait.
func (m *workersMachine) refusal() error {
	switch {
	case m.state != wOpen:
		return pool.ErrClosed
	case m.ctxDone:
		return m.cause
	}
	return nil
}

func (m *workersMachine) Submit(t *rapid.T) {
	id := m.newJob(t)
	if want := m.refusal(); want != nil {
		if err := m.w.Submit(context.Background(), id); err != want {
			t.Fatalf("Submit = %v, want %v", err, want)
		}
		m.want.Submitted++
		m.want.Rejected++
		return
	}
	if len(m.blocked) == 0 && m.place(id, false) {
		m.want.Submitted++
		if err := m.w.Submit(context.Background(), id); err != nil {
			t.Fatalf("Submit with room = %v", err)
		}
		m.settle()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &pendingSubmit{id: id, result: make(chan error, 1), cancel: cancel}
	go func() { b.result <- m.w.Submit(ctx, id) }()
	m.blocked = append(m.blocked, b)
}

func (m *workersMachine) TrySubmit(t *rapid.T) {
	id := m.newJob(t)
	want := m.refusal()
	if want == nil && (len(m.blocked) > 0 || !m.place(id, false)) {
		want = pool.ErrFull
	}
	if err := m.w.TrySubmit(id); err != want {
		t.Fatalf("TrySubmit = %v, model says %v", err, want)
	}
	m.want.Submitted++
	if want != nil {
		m.want.Rejected++
		return
	}
	m.settle()
}

func (m *workersMachine) GiveUp(t *rapid.T) {
	if len(m.blocked) == 0 {
		t.Skip("no blocked Submit")
	}
	i := rapid.IntRange(0, len(m.blocked)-1).Draw(t, "blocked Submit")
	b := m.blocked[i]
	m.blocked = slices.Delete(m.blocked, i, i+1)
	b.cancel()
	if err := <-b.result; !errors.Is(err, context.Canceled) {
		t.Fatalf("Submit whose context was cancelled = %v", err)
	}
	m.want.Submitted++
	m.want.Rejected++
	m.settle()
}

func (m *workersMachine) Release(t *rapid.T) {
	if len(m.busy) == 0 {
		t.Skip("nothing running")
	}
	i := rapid.IntRange(0, len(m.busy)-1).Draw(t, "running job")
	id := m.busy[i]
	m.busy = slices.Delete(m.busy, i, i+1)
	close(m.probe.release[id])
	m.want.Succeeded++
	m.settle()
}

func (m *workersMachine) Resize(t *rapid.T) {
	m.limit = rapid.IntRange(1, 3).Draw(t, "new limit")
	m.maxLimit = max(m.maxLimit, m.limit)
	m.w.Resize(m.limit)
	m.settle()
}

func (m *workersMachine) Advance(t *rapid.T) {
	d := rapid.SampledFrom([]time.Duration{500 * time.Millisecond, time.Second, 3 * time.Second}).Draw(t, "sleep")
	until := m.now() + d
	time.Sleep(d)
	m.advance(until)
}

func (m *workersMachine) Cancel(t *rapid.T) {
	if m.ctxDone || m.closed || rapid.IntRange(0, 3).Draw(t, "cancel now") != 0 {
		t.Skip("not now")
	}
	m.cancel(m.cause)
	m.ctxDone = true
	for _, id := range m.busy {
		m.interrupted(id)
	}
	m.busy = nil
	for _, b := range m.blocked {
		if err := <-b.result; err != m.cause {
			t.Fatalf("blocked Submit after the pool's context ended = %v, want its cause", err)
		}
		m.want.Submitted++
		m.want.Rejected++
	}
	m.blocked = nil
}

// interrupted models a running job failing because the pool was
// stopped: it is not retried.
func (m *workersMachine) interrupted(id int) {
	m.final(id, &m.want.Failed)
}

// Close closes the pool with a deadline and checks what it returns.
func (m *workersMachine) Close(t *rapid.T) {
	if m.closed {
		if err := m.w.Close(context.Background()); !errors.Is(err, pool.ErrClosed) {
			t.Fatalf("second Close = %v, want ErrClosed", err)
		}
		return
	}
	deadline := rapid.SampledFrom([]time.Duration{0, 500 * time.Millisecond, 10 * time.Second}).Draw(t, "Close deadline")
	m.closeWithin(t, deadline)
}

func (m *workersMachine) closeWithin(t *rapid.T, deadline time.Duration) {
	m.closed = true
	m.state = wDraining
	for _, b := range m.blocked {
		defer func() {
			if err := <-b.result; !errors.Is(err, pool.ErrClosed) {
				t.Fatalf("blocked Submit during Close = %v, want ErrClosed", err)
			}
		}()
		m.want.Submitted++
		m.want.Rejected++
	}
	m.blocked = nil
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	began := m.now()
	end := began + deadline
	err := m.w.Close(ctx)
	returned := m.now()

	// The model of the drain.
	var cause error
	wantReturn := began
	if m.ctxDone {
		cause = m.cause
	} else {
		m.settle()
		wantReturn = max(began, m.advance(end-1))
		if len(m.busy)+len(m.queue)+len(m.waiting) > 0 {
			cause = context.DeadlineExceeded
			wantReturn = end
		}
	}
	if returned != wantReturn {
		t.Fatalf("Close returned at %v, model says %v", returned, wantReturn)
	}
	if cause != nil && (len(m.busy)+len(m.queue)+len(m.waiting) > 0 || !m.ctxDone) {
		m.state = wStopped
		for _, id := range m.queue {
			m.want.Canceled++
			m.unrun = append(m.unrun, id)
		}
		m.queue = nil
		slices.SortFunc(m.waiting, func(a, b waitingJob) int { return int(a.due - b.due) })
		for _, j := range m.waiting {
			m.want.Canceled++
			m.unrun = append(m.unrun, j.id)
		}
		m.waiting = nil
		for _, id := range m.busy {
			m.interrupted(id)
		}
		m.busy = nil
	}
	m.state = wStopped
	m.closeErr = err
	m.checkClose(t, err, cause)
}

// checkClose checks Close's error against the model.
func (m *workersMachine) checkClose(t *rapid.T, err error, cause error) {
	if len(m.unrun)+len(m.interrupt) == 0 {
		if err != nil {
			t.Fatalf("Close = %v, model says nil", err)
		}
		return
	}
	var ce *pool.CloseError[int]
	if !errors.As(err, &ce) {
		t.Fatalf("Close = %v, model says a CloseError with unrun %v, interrupted %v", err, m.unrun, m.interrupt)
	}
	interrupted := slices.Sorted(slices.Values(ce.Interrupted))
	if !slices.Equal(ce.Unrun, m.unrun) || !slices.Equal(interrupted, slices.Sorted(slices.Values(m.interrupt))) {
		t.Fatalf("CloseError unrun %v, interrupted %v; model says %v and %v", ce.Unrun, ce.Interrupted, m.unrun, m.interrupt)
	}
	if (cause == nil) != (ce.Cause == nil) || cause != nil && !errors.Is(ce.Cause, cause) {
		t.Fatalf("CloseError cause %v, model says %v", ce.Cause, cause)
	}
}

func (m *workersMachine) Check(t *rapid.T) {
	synctest.Wait()
	for _, b := range m.blocked {
		select {
		case err := <-b.result:
			t.Fatalf("Submit of job %d returned %v; the model says it blocks", b.id, err)
		default:
		}
	}
	s := m.w.Stats()
	checkLaw(t, s)
	want := m.want
	want.Queued = uint64(len(m.queue))
	want.Running = uint64(len(m.busy))
	want.Waiting = uint64(len(m.waiting))
	want.Blocked = uint64(len(m.blocked))
	want.QueueHighWater, want.Workers = s.QueueHighWater, s.Workers
	if s != want {
		t.Fatalf("Stats = %s, retried %d, blocked %d\nmodel   %s, retried %d, blocked %d",
			stats(s), s.Retried, s.Blocked, stats(want), want.Retried, want.Blocked)
	}
	if s.QueueHighWater < m.highWater || s.QueueHighWater > uint64(m.capacity)+uint64(m.nextID) {
		t.Fatalf("QueueHighWater = %d, model saw %d", s.QueueHighWater, m.highWater)
	}
	busy := uint64(len(m.busy))
	if m.state == wOpen && !m.ctxDone {
		if s.Workers < busy || s.Workers > max(busy, uint64(m.limit)) {
			t.Fatalf("Stats.Workers = %d with %d running and a limit of %d", s.Workers, busy, m.limit)
		}
	} else if s.Workers != busy {
		t.Fatalf("Stats.Workers = %d while stopping with %d running", s.Workers, busy)
	}
	if p := m.probe.h.peak(); p > m.maxLimit {
		t.Fatalf("%d jobs ran at once, limit at most %d", p, m.maxLimit)
	}
	if got, want := m.onDone.Load(), int64(s.Succeeded+s.Failed+s.Panicked+s.DeadLettered); got != want {
		t.Fatalf("OnDone called %d times for %d finished jobs", got, want)
	}
	if v := m.probe.violation; v != "" {
		t.Fatal(v)
	}
}

// finish releases what runs, closes the pool if the actions did not, and
// checks that every job is accounted for.
func (m *workersMachine) finish(t *rapid.T) {
	if !m.closed {
		for len(m.busy) > 0 {
			id := m.busy[0]
			m.busy = m.busy[1:]
			close(m.probe.release[id])
			m.want.Succeeded++
			m.settle()
			synctest.Wait()
		}
		m.closeWithin(t, time.Hour)
	}
	synctest.Wait()
	if left := poolGoroutines(); len(left) > 0 {
		t.Fatalf("Close returned with %d pool goroutines left", len(left))
	}
	m.Check(t)
	for id := 1; id <= m.nextID; id++ {
		if got := m.probe.ran(id); got != m.attempts[id] {
			t.Fatalf("job %d (%v) ran %d times, model says %d", id, m.kinds[id], got, m.attempts[id])
		}
	}
	if got := slices.Sorted(slices.Values(m.sink.items())); !slices.Equal(got, slices.Sorted(slices.Values(m.letters))) {
		t.Fatalf("dead letters %v, model says %v", got, m.letters)
	}
	for _, l := range m.sink.got {
		if l.Attempts != m.attempts[l.Item] {
			t.Fatalf("letter of job %d says %d attempts, model says %d", l.Item, l.Attempts, m.attempts[l.Item])
		}
	}
}

func (m *workersMachine) cleanup() {
	m.cancel(m.cause)
	for _, b := range m.blocked {
		b.cancel()
	}
	m.w.Close(context.Background())
}

// Workers against its model: jobs run, queue, wait to retry and wait in
// Submit exactly when the model says; Stats match it and obey their law at
// every step; no job starts after the pool's context ended; no more jobs run
// at once than the highest limit; every job runs as often as the model says
// and ends in exactly one outcome: counted, dead-lettered, or returned by
// Close; and Close returns only when no pool goroutine is left.
func TestPropertyWorkersStateMachine(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		inBubble(t, func(*testing.T) {
			m := newWorkersMachine(rt)
			finished := false
			defer func() {
				if !finished {
					m.cleanup()
				}
			}()
			rt.Repeat(map[string]func(*rapid.T){
				"Submit":    m.Submit,
				"Submit ":   m.Submit,
				"Submit  ":  m.Submit,
				"TrySubmit": m.TrySubmit,
				"GiveUp":    m.GiveUp,
				"Release":   m.Release,
				"Release ":  m.Release,
				"Resize":    m.Resize,
				"Advance":   m.Advance,
				"Cancel":    m.Cancel,
				"Close":     m.Close,
				"":          m.Check,
			})
			m.finish(rt)
			finished = true
		})
	})
}
