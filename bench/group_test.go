package bench

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/weftgo/weft/coalesce"
	"golang.org/x/sync/singleflight"
)

// groupCallers is the number of goroutines calling at once in
// BenchmarkGroup.
const groupCallers = 32

// groupKeys are the numbers of hot keys the callers spread over.
var groupKeys = []int{1, 16}

// groupLoad is the shared execution every implementation coalesces: about
// 1 µs of arithmetic (receiverIters rounds) whose result depends on the
// key, with a runtime.Gosched halfway, where a real load would wait for
// I/O and give up its P, so that the other callers get to run and join it
// while it is in flight. Loads are counted, so that the benchmark can
// report how many calls shared one.
type groupLoad struct {
	loads atomic.Int64
}

//go:noinline
func (l *groupLoad) load(key int) int {
	l.loads.Add(1)
	x := arith(uint64(key), receiverIters/2)
	runtime.Gosched()
	return int(arith(x, receiverIters/2) >> 1)
}

// groupImpl coalesces concurrent calls for the same key. prepare returns
// the call a caller makes, which must be safe for concurrent use and must
// return l.load(key) (or ctx's error, if ctx ends first); whatever can be
// made ahead of the calls (per-key functions, key strings) is made there.
type groupImpl struct {
	name    string
	prepare func(l *groupLoad, keys int) func(ctx context.Context, key int) (int, error)
}

var groupImpls = []groupImpl{
	// floor: the hand-written single flight: a mutex, a map of calls in
	// flight, and a channel each call closes when done. The caller that
	// starts a call runs the load itself; the callers that join it wait
	// on the channel or on their ctx, whichever comes first.
	{"floor", func(l *groupLoad, _ int) func(context.Context, int) (int, error) {
		type flight struct {
			done chan struct{}
			v    int
		}
		var (
			mu      sync.Mutex
			flights = map[int]*flight{}
		)
		return func(ctx context.Context, key int) (int, error) {
			mu.Lock()
			if f, ok := flights[key]; ok {
				mu.Unlock()
				select {
				case <-f.done:
					return f.v, nil
				case <-ctx.Done():
					return 0, ctx.Err()
				}
			}
			f := &flight{done: make(chan struct{})}
			flights[key] = f
			mu.Unlock()
			f.v = l.load(key)
			mu.Lock()
			delete(flights, key)
			mu.Unlock()
			close(f.done)
			return f.v, nil
		}
	}},
	// weft: coalesce.Flight.Do. With a context that can be cancelled the
	// load runs on a goroutine of the Group's, so that every caller,
	// the first included, can leave when its context ends.
	{"weft", func(l *groupLoad, keys int) func(context.Context, int) (int, error) {
		var g coalesce.Flight[int, int]
		fns := make([]func(context.Context) (int, error), keys)
		for k := range fns {
			fns[k] = func(context.Context) (int, error) { return l.load(k), nil }
		}
		return func(ctx context.Context, key int) (int, error) {
			return g.Do(ctx, key, fns[key])
		}
	}},
	// singleflight: x/sync/singleflight's Do, which takes no context: a
	// caller waits for the load however long it takes.
	{"singleflight", func(l *groupLoad, keys int) func(context.Context, int) (int, error) {
		var g singleflight.Group
		names, fns := singleflightFuncs(l, keys)
		return func(_ context.Context, key int) (int, error) {
			v, err, _ := g.Do(names[key], fns[key])
			if err != nil {
				return 0, err
			}
			return v.(int), nil
		}
	}},
	// singleflight-chan: DoChan and a select on the result and ctx.Done,
	// the way singleflight is used where callers must be able to leave.
	// The load still runs on the goroutine of the first caller's DoChan.
	{"singleflight-chan", func(l *groupLoad, keys int) func(context.Context, int) (int, error) {
		var g singleflight.Group
		names, fns := singleflightFuncs(l, keys)
		return func(ctx context.Context, key int) (int, error) {
			select {
			case r := <-g.DoChan(names[key], fns[key]):
				if r.Err != nil {
					return 0, r.Err
				}
				return r.Val.(int), nil
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
	}},
}

// singleflightFuncs returns singleflight's string keys and a load function
// per key, made once.
func singleflightFuncs(l *groupLoad, keys int) ([]string, []func() (any, error)) {
	names := make([]string, keys)
	fns := make([]func() (any, error), keys)
	for k := range keys {
		names[k] = strconv.Itoa(k)
		fns[k] = func() (any, error) { return l.load(k), nil }
	}
	return names, fns
}

// groupContexts are the callers' contexts: one that can be cancelled (and
// is not, during the benchmark), the case a context-aware Group exists
// for, and context.Background, whose Done channel is nil.
var groupContexts = []struct {
	name string
	make func() (context.Context, context.CancelFunc)
}{
	{"cancellable", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }},
	{"background", func() (context.Context, context.CancelFunc) { return context.Background(), func() {} }},
}

// groupRun makes groupCallers goroutines share calls calls of call, caller
// i asking for keys in turn starting at i%keys, and returns the sum of the
// results and the first error.
func groupRun(ctx context.Context, call func(context.Context, int) (int, error), keys, calls int) (int, error) {
	var (
		wg    sync.WaitGroup
		sum   atomic.Int64
		first atomic.Pointer[error]
	)
	for i := range groupCallers {
		n := calls / groupCallers
		if i < calls%groupCallers {
			n++
		}
		wg.Go(func() {
			s := 0
			for j := range n {
				v, err := call(ctx, (i+j)%keys)
				if err != nil {
					first.CompareAndSwap(nil, &err)
					return
				}
				s += v
			}
			sum.Add(int64(s))
		})
	}
	wg.Wait()
	if err := first.Load(); err != nil {
		return 0, *err
	}
	return int(sum.Load()), nil
}

// BenchmarkGroup measures one call of groupCallers goroutines calling at
// once for keys hot keys, each call asking for a load of about 1 µs that
// the implementation shares among the calls for the same key in flight.
// ns/op is the wall time of b.N calls over b.N; loads/op is the share of
// calls that ran a load of their own.
func BenchmarkGroup(b *testing.B) {
	noCurve(b)
	for _, keys := range groupKeys {
		for _, c := range groupContexts {
			for _, im := range groupImpls {
				name := fmt.Sprintf("keys=%d/callers=%d/ctx=%s/impl=%s", keys, groupCallers, c.name, im.name)
				b.Run(name, func(b *testing.B) {
					ctx, cancel := c.make()
					defer cancel()
					var l groupLoad
					call := im.prepare(&l, keys)
					b.ReportAllocs()
					b.ResetTimer()
					if _, err := groupRun(ctx, call, keys, b.N); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					b.ReportMetric(float64(l.loads.Load())/float64(b.N), "loads/op")
				})
			}
		}
	}
}

// TestAgreeGroup checks that every implementation returns each caller the
// load of the key it asked for, and runs no more loads than calls.
func TestAgreeGroup(t *testing.T) {
	const calls = 50 * groupCallers
	var ref groupLoad
	for _, keys := range groupKeys {
		want := 0
		for i := range groupCallers {
			for j := range calls / groupCallers {
				want += ref.load((i + j) % keys)
			}
		}
		for _, c := range groupContexts {
			for _, im := range groupImpls {
				name := fmt.Sprintf("keys=%d/ctx=%s/impl=%s", keys, c.name, im.name)
				ctx, cancel := c.make()
				var l groupLoad
				got, err := groupRun(ctx, im.prepare(&l, keys), keys, calls)
				cancel()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if got != want {
					t.Errorf("%s: sum = %d, want %d", name, got, want)
				}
				if n := l.loads.Load(); n < int64(keys) || n > calls {
					t.Errorf("%s: %d loads for %d calls on %d keys", name, n, calls, keys)
				}
			}
		}
	}
}
