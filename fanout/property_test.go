package fanout_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/fanout"
	"pgregory.net/rapid"
)

// Timing in these properties is exact: everything runs in a synctest bubble,
// and the drawn times are chosen so that no two events that would race can
// fall on the same instant: a cancel falls on a half millisecond, call
// durations carry a nanosecond offset of their own, and everything else is
// in whole milliseconds.

const halfMillisecond = time.Millisecond / 2

// produce sends 0..n-1 on a new channel with gaps (ms) between values and
// closes it, or stops early when ctx is done.
func produce(ctx context.Context, wg *sync.WaitGroup, n int, gaps []int) <-chan int {
	ch := make(chan int)
	wg.Go(func() {
		defer close(ch)
		for v := range n {
			time.Sleep(time.Duration(gaps[v]) * time.Millisecond)
			select {
			case ch <- v:
			case <-ctx.Done():
				return
			}
		}
	})
	return ch
}

// increasing reports whether vs are strictly increasing: an in-order
// subsequence of 0, 1, 2, ...
func increasing(vs []int) bool {
	for i := 1; i < len(vs); i++ {
		if vs[i] <= vs[i-1] {
			return false
		}
	}
	return true
}

type broadcastOutput struct {
	policy  fanout.FullPolicy
	buffer  int
	gap     int // ms between reads
	unsub   int // unsubscribe after this many values; -1 never
	walkOff bool
}

// Broadcast: with Block every output sees the whole input in order; with a
// drop policy an output sees an in-order subsequence, and what it saw plus
// what it missed is the whole input, the misses being exactly what OnDrop
// reported; with DropOldest it always ends with the newest value. A consumer
// that unsubscribes, and then reads on or walks away, never stalls the
// others. A cancel cuts every Block output to a prefix of the input.
func TestPropertyBroadcast(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		size := rapid.IntRange(0, 60).Draw(rt, "input size")
		gaps := rapid.SliceOfN(rapid.IntRange(0, 2), size, size).Draw(rt, "producer gaps")
		n := rapid.IntRange(1, 4).Draw(rt, "outputs")
		outs := make([]broadcastOutput, n)
		for i := range outs {
			o := &outs[i]
			o.policy = fanout.FullPolicy(rapid.IntRange(0, 2).Draw(rt, fmt.Sprintf("policy %d", i)))
			minBuf := 0
			if o.policy == fanout.DropOldest {
				minBuf = 1
			}
			o.buffer = rapid.IntRange(minBuf, 4).Draw(rt, fmt.Sprintf("buffer %d", i))
			o.gap = rapid.IntRange(0, 3).Draw(rt, fmt.Sprintf("read gap %d", i))
			o.unsub = -1
			if rapid.Bool().Draw(rt, fmt.Sprintf("unsubscribes %d", i)) {
				o.unsub = rapid.IntRange(0, size).Draw(rt, fmt.Sprintf("unsubscribe after %d", i))
				o.walkOff = rapid.Bool().Draw(rt, fmt.Sprintf("walks off %d", i))
			}
		}
		cancelAt := -1
		if rapid.IntRange(0, 3).Draw(rt, "cancel") == 0 {
			cancelAt = rapid.IntRange(0, 100).Draw(rt, "cancel at ms")
		}

		var failure string
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if cancelAt >= 0 {
				time.AfterFunc(time.Duration(cancelAt)*time.Millisecond+halfMillisecond, cancel)
			}
			var producer sync.WaitGroup
			in := produce(ctx, &producer, size, gaps)

			var mu sync.Mutex
			dropped := make([][]int, n)
			opts := []fanout.Option{fanout.OnDrop(func(i int, v int) {
				mu.Lock()
				dropped[i] = append(dropped[i], v)
				mu.Unlock()
			})}
			for i, o := range outs {
				opts = append(opts, fanout.ForOutput(i, fanout.OnFull(o.policy), fanout.Buffer(o.buffer)))
			}
			b := fanout.Broadcast(ctx, in, n, opts...)
			chans := b.Outputs()
			got := make([][]int, n)
			var consumers sync.WaitGroup
			for i, o := range outs {
				consumers.Go(func() {
					if o.unsub == 0 {
						b.Unsubscribe(i)
						if o.walkOff {
							return
						}
					}
					for v := range chans[i] {
						got[i] = append(got[i], v)
						if len(got[i]) == o.unsub {
							b.Unsubscribe(i)
							if o.walkOff {
								return
							}
						}
						time.Sleep(time.Duration(o.gap) * time.Millisecond)
					}
				})
			}
			err := b.Wait()
			consumers.Wait()
			cancel()
			producer.Wait()

			cancelled := errors.Is(err, context.Canceled)
			if err != nil && !(cancelled && cancelAt >= 0) {
				failure = fmt.Sprintf("Wait() = %v", err)
				return
			}
			for i, o := range outs {
				unsubscribed := o.unsub >= 0 && len(got[i]) >= o.unsub
				if !increasing(got[i]) {
					failure = fmt.Sprintf("output %d (%v) got %v: not an in-order subsequence", i, o.policy, got[i])
					return
				}
				if o.policy == fanout.Block {
					if b.Dropped(i) != 0 || len(dropped[i]) != 0 {
						failure = fmt.Sprintf("Block output %d dropped %d values", i, b.Dropped(i))
						return
					}
					if len(got[i]) > 0 && got[i][len(got[i])-1] != len(got[i])-1 {
						failure = fmt.Sprintf("Block output %d got %v: not a prefix of the input", i, got[i])
						return
					}
				}
				if int(b.Dropped(i)) != len(dropped[i]) {
					failure = fmt.Sprintf("output %d: Dropped() = %d, OnDrop saw %d", i, b.Dropped(i), len(dropped[i]))
					return
				}
				for _, v := range dropped[i] {
					if _, found := slices.BinarySearch(got[i], v); found {
						failure = fmt.Sprintf("output %d got %d and also reported it dropped", i, v)
						return
					}
				}
				if unsubscribed || cancelled {
					continue
				}
				if len(got[i])+len(dropped[i]) != size {
					failure = fmt.Sprintf("output %d (%v): got %d, dropped %d, of %d values", i, o.policy, len(got[i]), len(dropped[i]), size)
					return
				}
				if o.policy == fanout.DropOldest && size > 0 && got[i][len(got[i])-1] != size-1 {
					failure = fmt.Sprintf("DropOldest output %d got %v: lost the newest value", i, got[i])
					return
				}
			}
		})
		if failure != "" {
			rt.Fatal(failure)
		}
	})
}

// Distribute: every value goes to exactly one output, each output's values
// in input order; with RoundRobin value k goes to output k mod n; with ByKey
// each key's values all go to one output. A cancel leaves a prefix of the
// input delivered, still each value once.
func TestPropertyDistribute(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		size := rapid.IntRange(0, 60).Draw(rt, "input size")
		gaps := rapid.SliceOfN(rapid.IntRange(0, 2), size, size).Draw(rt, "producer gaps")
		n := rapid.IntRange(1, 4).Draw(rt, "outputs")
		strategy := rapid.SampledFrom([]string{"first ready", "round robin", "by key"}).Draw(rt, "strategy")
		keys := rapid.IntRange(1, 6).Draw(rt, "keys")
		buffer := rapid.IntRange(0, 3).Draw(rt, "buffer")
		readGaps := rapid.SliceOfN(rapid.IntRange(0, 3), n, n).Draw(rt, "read gaps")
		cancelAt := -1
		if rapid.IntRange(0, 3).Draw(rt, "cancel") == 0 {
			cancelAt = rapid.IntRange(0, 100).Draw(rt, "cancel at ms")
		}
		opts := []fanout.Option{fanout.Buffer(buffer)}
		switch strategy {
		case "round robin":
			opts = append(opts, fanout.RoundRobin())
		case "by key":
			opts = append(opts, fanout.ByKey(func(v int) int { return v % keys }))
		}

		var failure string
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if cancelAt >= 0 {
				time.AfterFunc(time.Duration(cancelAt)*time.Millisecond+halfMillisecond, cancel)
			}
			var producer sync.WaitGroup
			d := fanout.Distribute(ctx, produce(ctx, &producer, size, gaps), n, opts...)
			chans := d.Outputs()
			got := make([][]int, n)
			var consumers sync.WaitGroup
			for i := range n {
				consumers.Go(func() {
					for v := range chans[i] {
						got[i] = append(got[i], v)
						time.Sleep(time.Duration(readGaps[i]) * time.Millisecond)
					}
				})
			}
			err := d.Wait()
			consumers.Wait()
			cancel()
			producer.Wait()

			if err != nil && !(errors.Is(err, context.Canceled) && cancelAt >= 0) {
				failure = fmt.Sprintf("Wait() = %v", err)
				return
			}
			var all []int
			keyAt := make(map[int]int)
			for i := range n {
				if !increasing(got[i]) {
					failure = fmt.Sprintf("output %d got %v: out of order", i, got[i])
					return
				}
				for _, v := range got[i] {
					if strategy == "round robin" && v%n != i {
						failure = fmt.Sprintf("round robin: value %d at output %d, want %d", v, i, v%n)
						return
					}
					if j, ok := keyAt[v%keys]; strategy == "by key" && ok && j != i {
						failure = fmt.Sprintf("by key: key %d at outputs %d and %d", v%keys, j, i)
						return
					}
					keyAt[v%keys] = i
				}
				all = append(all, got[i]...)
			}
			slices.Sort(all)
			want := ints(len(all))
			if err == nil {
				want = ints(size)
			}
			if !slices.Equal(all, want) {
				failure = fmt.Sprintf("outputs got %v together, want %v once each", all, want)
			}
		})
		if failure != "" {
			rt.Fatal(failure)
		}
	})
}

type gatherCall struct {
	dur      time.Duration
	outcome  string // "ok", "fail", "panic"
	timeout  time.Duration
	optional bool
}

// The model's view of one call: when it returns and with what status.
type gatherExpect struct {
	end    time.Duration
	status fanout.Status
}

// gatherModel says when each call returns and how, given that every call
// returns as soon as its context is done.
func gatherModel(calls []gatherCall, budget, cancelAt time.Duration) ([]gatherExpect, time.Duration) {
	const never = time.Duration(1 << 62)
	exp := make([]gatherExpect, len(calls))
	deadline := make([]time.Duration, len(calls))
	for i, c := range calls {
		deadline[i] = never
		if c.timeout > 0 {
			deadline[i] = c.timeout
		}
		if budget > 0 {
			deadline[i] = min(deadline[i], budget)
		}
		e := gatherExpect{c.dur, map[string]fanout.Status{"ok": fanout.OK, "fail": fanout.Failed, "panic": fanout.Panicked}[c.outcome]}
		if deadline[i] < e.end {
			e = gatherExpect{deadline[i], fanout.TimedOut}
		}
		if cancelAt < e.end {
			e = gatherExpect{cancelAt, fanout.Canceled}
		}
		exp[i] = e
	}
	// The first required failure cancels every call still running; a call
	// whose deadline falls on that same instant has already timed out.
	first := never
	for i, c := range calls {
		if !c.optional && exp[i].status != fanout.OK {
			first = min(first, exp[i].end)
		}
	}
	for i := range exp {
		if first < exp[i].end && first != deadline[i] {
			exp[i] = gatherExpect{first, fanout.Canceled}
		} else if first < exp[i].end {
			exp[i] = gatherExpect{first, fanout.TimedOut}
		}
	}
	return exp, first
}

// Gather: each call's status and return time are what the model says for
// random durations, outcomes, timeouts, budgets and cancels; a required
// failure cancels the rest at that instant and the error names a required
// call that failed first; Gather returns when the last call does, within the
// budget; Degraded is true exactly when an optional call did not succeed.
func TestPropertyGather(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		k := rapid.IntRange(1, 6).Draw(rt, "calls")
		calls := make([]gatherCall, k)
		for i := range calls {
			c := &calls[i]
			// A duration of its own to the nanosecond, so no two calls end
			// on the same instant, nor at a deadline or a cancel.
			c.dur = time.Duration(rapid.IntRange(0, 60).Draw(rt, fmt.Sprintf("ms %d", i)))*time.Millisecond + time.Duration(i+1)
			c.outcome = rapid.SampledFrom([]string{"ok", "ok", "fail", "panic"}).Draw(rt, fmt.Sprintf("outcome %d", i))
			c.timeout = time.Duration(rapid.IntRange(0, 60).Draw(rt, fmt.Sprintf("timeout ms %d", i))) * time.Millisecond
			c.optional = rapid.Bool().Draw(rt, fmt.Sprintf("optional %d", i))
		}
		var budget time.Duration
		if rapid.Bool().Draw(rt, "budget") {
			budget = time.Duration(rapid.IntRange(1, 60).Draw(rt, "budget ms")) * time.Millisecond
		}
		cancelAt := time.Duration(1 << 62)
		if rapid.IntRange(0, 3).Draw(rt, "cancel") == 0 {
			cancelAt = time.Duration(rapid.IntRange(0, 60).Draw(rt, "cancel at ms"))*time.Millisecond + halfMillisecond
		}
		exp, firstFailure := gatherModel(calls, budget, cancelAt)

		var failure string
		synctest.Test(t, func(t *testing.T) {
			ctx := context.Background()
			if budget > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, budget)
				defer cancel()
			}
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			time.AfterFunc(cancelAt, cancel)

			var args []fanout.Call[int]
			for i, c := range calls {
				fn := func(ctx context.Context) (int, error) {
					select {
					case <-time.After(c.dur):
					case <-ctx.Done():
						return -1, ctx.Err()
					}
					switch c.outcome {
					case "fail":
						return i, errBoom
					case "panic":
						panic(i)
					}
					return i, nil
				}
				args = append(args, fanout.Call[int]{Name: fmt.Sprint(i), Fn: fn, Timeout: c.timeout, Optional: c.optional})
			}
			start := time.Now()
			rs, err := fanout.Gather(ctx, args...)
			took := time.Since(start)

			var end time.Duration
			degraded := false
			for i, r := range rs {
				e := exp[i]
				end = max(end, e.end)
				if r.Status != e.status || r.Duration != e.end {
					failure = fmt.Sprintf("call %d: %v after %v (err %v), want %v after %v", i, r.Status, r.Duration, r.Err, e.status, e.end)
					return
				}
				var pe *weft.PanicError
				switch {
				case r.Status == fanout.Panicked && (!errors.As(r.Err, &pe) || pe.Value != i):
					failure = fmt.Sprintf("call %d panicked, Err = %v, want its panic", i, r.Err)
				case r.Status == fanout.Failed && !errors.Is(r.Err, errBoom):
					failure = fmt.Sprintf("call %d failed, Err = %v, want errBoom", i, r.Err)
				case r.Status == fanout.OK && (r.Err != nil || r.Value != i):
					failure = fmt.Sprintf("call %d OK with %d, %v", i, r.Value, r.Err)
				}
				if failure != "" {
					return
				}
				degraded = degraded || (calls[i].optional && e.status != fanout.OK)
			}
			if took != end {
				failure = fmt.Sprintf("Gather took %v, want %v", took, end)
			}
			if budget > 0 && took > budget {
				failure = fmt.Sprintf("Gather took %v, over its budget of %v", took, budget)
			}
			if rs.Degraded() != degraded {
				failure = fmt.Sprintf("Degraded() = %v, want %v", rs.Degraded(), degraded)
			}
			var ce *fanout.CallError
			switch {
			case firstFailure == time.Duration(1<<62):
				if err != nil {
					failure = fmt.Sprintf("Gather() error = %v, want nil", err)
				}
			case !errors.As(err, &ce):
				failure = fmt.Sprintf("Gather() error = %v, want a CallError", err)
			case calls[ce.Index].optional || exp[ce.Index].end != firstFailure || ce.Status != exp[ce.Index].status || ce.Name != fmt.Sprint(ce.Index):
				failure = fmt.Sprintf("Gather() error = %v names call %d, which is not a required call that failed first", err, ce.Index)
			}
		})
		if failure != "" {
			rt.Fatal(failure)
		}
	})
}

type hedgeCall struct {
	dur     time.Duration
	outcome string
}

type hedgeExpect struct {
	starts  []time.Duration // when each started call starts
	end     time.Duration   // when Hedged returns
	winner  int             // the call whose success is returned, or -1
	panicky int             // the call whose panic is returned, or -1
}

// hedgeModel plays Hedged's rules: call 0 starts at once; the next starts
// delay after the last start (all at once when delay is 0), or at once when
// every running call has failed; the first success or panic ends it.
func hedgeModel(calls []hedgeCall, delay time.Duration) hedgeExpect {
	e := hedgeExpect{winner: -1, panicky: -1}
	running := map[int]bool{}
	start := func(at time.Duration) {
		running[len(e.starts)] = true
		e.starts = append(e.starts, at)
	}
	now := time.Duration(0)
	start(0)
	for delay == 0 && len(e.starts) < len(calls) {
		start(0)
	}
	nextStart := now + delay
	for {
		// The earliest completion of a running call.
		first := -1
		for i := range running {
			if first < 0 || e.starts[i]+calls[i].dur < e.starts[first]+calls[first].dur {
				first = i
			}
		}
		canStart := len(e.starts) < len(calls) && delay > 0
		if canStart && (first < 0 || nextStart < e.starts[first]+calls[first].dur) {
			now = nextStart
			start(now)
			nextStart = now + delay
			continue
		}
		now = e.starts[first] + calls[first].dur
		delete(running, first)
		switch calls[first].outcome {
		case "ok":
			e.winner, e.end = first, now
			return e
		case "panic":
			e.panicky, e.end = first, now
			return e
		}
		if len(running) == 0 {
			if len(e.starts) == len(calls) {
				e.end = now
				return e
			}
			start(now)
			nextStart = now + delay
		}
	}
}

// First and Hedged: calls start exactly when the hedging rules say, never
// before their delay unless every running call failed; the result is the
// first success if one comes before a panic, the panic if it comes first,
// else an error joining every call's error; every call still running when
// the winner answers is cancelled at that instant and has returned before
// Hedged does.
func TestPropertyHedged(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		k := rapid.IntRange(1, 5).Draw(rt, "calls")
		calls := make([]hedgeCall, k)
		for i := range calls {
			// Nanosecond offsets of distinct bits make every completion
			// time different from every other event's.
			calls[i].dur = time.Duration(rapid.IntRange(0, 40).Draw(rt, fmt.Sprintf("ms %d", i)))*time.Millisecond + time.Duration(1<<i)
			calls[i].outcome = rapid.SampledFrom([]string{"ok", "fail", "fail", "panic"}).Draw(rt, fmt.Sprintf("outcome %d", i))
		}
		delay := time.Duration(rapid.IntRange(0, 20).Draw(rt, "delay ms")) * time.Millisecond
		useFirst := delay == 0 && rapid.Bool().Draw(rt, "First")
		want := hedgeModel(calls, delay)

		var failure string
		synctest.Test(t, func(t *testing.T) {
			begin := time.Now()
			var mu sync.Mutex
			starts := map[int]time.Duration{}
			returned := map[int]time.Duration{}
			cancelled := map[int]bool{}
			errs := make([]error, k)
			var fns []func(context.Context) (int, error)
			for i, c := range calls {
				errs[i] = fmt.Errorf("call %d failed", i)
				fns = append(fns, func(ctx context.Context) (int, error) {
					mu.Lock()
					starts[i] = time.Since(begin)
					mu.Unlock()
					defer func() {
						mu.Lock()
						returned[i] = time.Since(begin)
						mu.Unlock()
					}()
					select {
					case <-time.After(c.dur):
					case <-ctx.Done():
						mu.Lock()
						cancelled[i] = true
						mu.Unlock()
						return -1, ctx.Err()
					}
					switch c.outcome {
					case "fail":
						return -1, errs[i]
					case "panic":
						panic(i)
					}
					return i, nil
				})
			}
			var v int
			var err error
			if useFirst {
				v, err = fanout.First(context.Background(), fns...)
			} else {
				v, err = fanout.Hedged(context.Background(), delay, fns...)
			}
			took := time.Since(begin)

			if len(starts) != len(want.starts) {
				failure = fmt.Sprintf("%d calls started at %v, want starts at %v", len(starts), starts, want.starts)
				return
			}
			for i, at := range want.starts {
				if starts[i] != at {
					failure = fmt.Sprintf("calls started at %v, want %v", starts, want.starts)
					return
				}
			}
			if took != want.end {
				failure = fmt.Sprintf("returned after %v, want %v", took, want.end)
				return
			}
			for i := range starts {
				if returned[i] > took {
					failure = fmt.Sprintf("call %d returned at %v, after Hedged did at %v", i, returned[i], took)
					return
				}
				ranOut := want.starts[i]+calls[i].dur <= want.end
				if cancelled[i] == ranOut || (cancelled[i] && returned[i] != want.end) {
					failure = fmt.Sprintf("call %d: cancelled %v, returned at %v; want cancelled %v at %v", i, cancelled[i], returned[i], !ranOut, want.end)
					return
				}
			}
			var pe *weft.PanicError
			switch {
			case want.winner >= 0:
				if v != want.winner || err != nil {
					failure = fmt.Sprintf("got %d, %v, want call %d's success", v, err, want.winner)
				}
			case want.panicky >= 0:
				if !errors.As(err, &pe) || pe.Value != want.panicky {
					failure = fmt.Sprintf("got %d, %v, want call %d's panic", v, err, want.panicky)
				}
			default:
				for i := range calls {
					if !errors.Is(err, errs[i]) {
						failure = fmt.Sprintf("error %v lacks call %d's error", err, i)
					}
				}
			}
		})
		if failure != "" {
			rt.Fatal(failure)
		}
	})
}
