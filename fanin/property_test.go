package fanin_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/weftgo/weft/fanin"
	"pgregory.net/rapid"
)

// item is a value tagged with its input and its position in that input.
type item struct{ in, seq int }

// inputPlan is what one producer does: send n values with the given gaps
// (in ms) between them, then close its channel or leave it open.
type inputPlan struct {
	gaps   []int
	closes bool
	buffer int
	addAt  int // ms; for a Merger, when the input is added
}

func drawInputs(t *rapid.T) []inputPlan {
	k := rapid.IntRange(0, 6).Draw(t, "inputs")
	plans := make([]inputPlan, k)
	for i := range plans {
		plans[i] = inputPlan{
			gaps:   rapid.SliceOfN(rapid.IntRange(0, 4), 0, 20).Draw(t, fmt.Sprintf("gaps %d", i)),
			closes: rapid.IntRange(0, 9).Draw(t, fmt.Sprintf("closes %d", i)) > 0,
			buffer: rapid.IntRange(0, 3).Draw(t, fmt.Sprintf("buffer %d", i)),
			addAt:  rapid.IntRange(0, 40).Draw(t, fmt.Sprintf("addAt %d", i)),
		}
	}
	return plans
}

// Merge and Merger: the output carries exactly the values sent on the
// inputs, each input's in order and without gaps (a cancel may cut each
// input short, never in the middle); it closes exactly at the moment it
// should, which is when the last input that was merged closes (and, for a
// Merger, Close has been called), or when ctx is done if that is earlier;
// Add succeeds before Close and cancellation and fails after with the right
// error; and nothing is left running, whether or not the consumer reads to
// the end.
func TestPropertyMerge(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		plans := drawInputs(rt)
		useMerger := rapid.Bool().Draw(rt, "Merger")
		closeAt := rapid.IntRange(0, 50).Draw(rt, "Merger.Close at ms")
		outBuffer := rapid.IntRange(0, 3).Draw(rt, "Merger buffer")
		readGap := rapid.IntRange(0, 2).Draw(rt, "consumer gap ms")
		stopAfter := rapid.IntRange(-1, 30).Draw(rt, "consumer stops after (-1: never)")

		// A run that could never end on its own must be cancelled: an input
		// left open, a consumer that stops reading.
		mustCancel := stopAfter >= 0
		for _, p := range plans {
			mustCancel = mustCancel || !p.closes
		}
		cancelAt := -1
		if mustCancel || rapid.Bool().Draw(rt, "cancel") {
			// On the half millisecond, so that it never ties with another
			// event and the expected outcome is exact.
			cancelAt = rapid.IntRange(0, 120).Draw(rt, "cancel at ms")
		}

		var failure string
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			start := time.Now()
			if cancelAt >= 0 {
				time.AfterFunc(time.Duration(cancelAt)*time.Millisecond+time.Millisecond/2, cancel)
			}
			var mu sync.Mutex
			fail := func(format string, args ...any) {
				mu.Lock()
				if failure == "" {
					failure = fmt.Sprintf(format, args...)
				}
				mu.Unlock()
			}

			chans := make([]chan item, len(plans))
			closedAt := make([]time.Duration, len(plans)) // -1: never closed
			var wg sync.WaitGroup
			for i, p := range plans {
				chans[i] = make(chan item, p.buffer)
				closedAt[i] = -1
				wg.Go(func() {
					for seq, gap := range p.gaps {
						time.Sleep(time.Duration(gap) * time.Millisecond)
						select {
						case chans[i] <- item{i, seq}:
						case <-ctx.Done():
							return
						}
					}
					if p.closes {
						closedAt[i] = time.Since(start)
						close(chans[i])
					}
				})
			}

			var out <-chan item
			merged := make([]bool, len(plans)) // inputs that were accepted
			var closeCalled time.Duration = -1
			if !useMerger {
				ins := make([]<-chan item, len(plans))
				for i, ch := range chans {
					ins[i] = ch
					merged[i] = true
				}
				out = fanin.Merge(ctx, ins...)
			} else {
				m := fanin.NewMerger[item](ctx, fanin.Buffer(outBuffer))
				out = m.Out()
				order := make([]int, len(plans))
				for i := range order {
					order[i] = i
				}
				slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(plans[a].addAt, plans[b].addAt) })
				wg.Go(func() {
					closed := false
					doClose := func() {
						closed = true
						closeCalled = time.Since(start)
						m.Close()
					}
					for _, i := range order {
						at := time.Duration(plans[i].addAt) * time.Millisecond
						if !closed && at > time.Duration(closeAt)*time.Millisecond {
							time.Sleep(time.Duration(closeAt)*time.Millisecond - time.Since(start))
							doClose()
						}
						time.Sleep(at - time.Since(start))
						err := m.Add(chans[i])
						cancelled := cancelAt >= 0 && time.Since(start) > time.Duration(cancelAt)*time.Millisecond
						switch {
						case closed && !errors.Is(err, fanin.ErrClosed):
							fail("Add after Close = %v, want ErrClosed", err)
						case !closed && cancelled && !errors.Is(err, context.Canceled):
							fail("Add after cancel = %v, want context.Canceled", err)
						case !closed && !cancelled && err != nil:
							fail("Add = %v, want nil", err)
						}
						merged[i] = err == nil
					}
					if !closed {
						time.Sleep(time.Duration(closeAt)*time.Millisecond - time.Since(start))
						doClose()
					}
				})
			}

			var got []item
			recvAt := make(map[item]time.Duration)
			var lastRecv, outClosed time.Duration = -1, -1
			var consumer sync.WaitGroup
			consumer.Go(func() {
				for {
					if stopAfter >= 0 && len(got) == stopAfter {
						return // walks away; ctx will be cancelled
					}
					lastRecv = time.Since(start)
					v, ok := <-out
					if !ok {
						outClosed = time.Since(start)
						return
					}
					got = append(got, v)
					recvAt[v] = time.Since(start)
					time.Sleep(time.Duration(readGap) * time.Millisecond)
				}
			})
			consumer.Wait()
			for range out {
				// What a consumer that walked away left in the buffer. If
				// the output never closed, the bubble deadlocks here and
				// the check fails.
			}
			cancel() // frees the producers of inputs that were never merged
			wg.Wait()
			if failure != "" {
				return
			}

			// Each input's values in order, from its first, without gaps.
			next := make([]int, len(plans))
			for _, v := range got {
				if !merged[v.in] {
					fail("got %v from an input that was not merged", v)
					return
				}
				if v.seq != next[v.in] {
					fail("input %d: got seq %d, want %d (order kept, nothing skipped)", v.in, v.seq, next[v.in])
					return
				}
				next[v.in]++
			}

			if cancelAt < 0 && stopAfter < 0 {
				for i, p := range plans {
					if merged[i] && next[i] != len(p.gaps) {
						fail("input %d: got %d of %d values without a cancel", i, next[i], len(p.gaps))
						return
					}
				}
			}
			if outClosed < 0 {
				return // the consumer walked away before the close
			}

			// When should the output have closed? Without a cancel, once
			// every merged input's goroutine has seen its input closed:
			// not before the input closed (or was added), nor before the
			// goroutine's last send, which is at the latest the moment the
			// consumer took that input's last value, exactly that moment
			// when the output is unbuffered (a Merger with Buffer(0)). A cancel before then closes it
			// at the cancel.
			const never = time.Duration(1 << 62)
			lower, upper := time.Duration(0), time.Duration(0)
			if useMerger {
				lower, upper = closeCalled, closeCalled
			}
			for i, p := range plans {
				if !merged[i] {
					continue
				}
				if closedAt[i] < 0 || next[i] < len(p.gaps) {
					lower, upper = never, never
					break
				}
				end := closedAt[i]
				if useMerger {
					end = max(end, time.Duration(p.addAt)*time.Millisecond)
				}
				lower = max(lower, end)
				upper = max(upper, end)
				if len(p.gaps) > 0 {
					upper = max(upper, recvAt[item{i, len(p.gaps) - 1}])
				}
			}
			if useMerger && outBuffer == 0 {
				lower = upper
			}
			c := never
			if cancelAt >= 0 {
				c = time.Duration(cancelAt)*time.Millisecond + time.Millisecond/2
			}
			switch {
			case c < lower:
				lower, upper = c, c
			case c < upper:
				upper = c
			}
			if outClosed < max(lower, lastRecv) || outClosed > max(upper, lastRecv) {
				fail("output closed at %v, want between %v and %v (the last receive began at %v)", outClosed, lower, upper, lastRecv)
			}
		})
		if failure != "" {
			rt.Fatal(failure)
		}
	})
}

// MergeSorted gives exactly what a stable sort of the inputs' concatenation
// gives, or a prefix of it when ctx is cancelled first; its output is sorted
// even when an input is not, and then it reports an unsorted input.
func TestPropertyMergeSorted(t *testing.T) {
	type kv struct{ key, in, seq int }
	rapid.Check(t, func(rt *rapid.T) {
		k := rapid.IntRange(0, 5).Draw(rt, "inputs")
		allowUnsorted := rapid.IntRange(0, 3).Draw(rt, "unsorted inputs allowed") == 0
		inputs := make([][]kv, k)
		gaps := make([][]int, k)
		unsorted := make([]bool, k)
		for i := range inputs {
			keys := rapid.SliceOfN(rapid.IntRange(0, 5), 0, 15).Draw(rt, fmt.Sprintf("keys %d", i))
			if !allowUnsorted {
				slices.Sort(keys)
			}
			unsorted[i] = !slices.IsSorted(keys)
			for seq, key := range keys {
				inputs[i] = append(inputs[i], kv{key, i, seq})
			}
			gaps[i] = rapid.SliceOfN(rapid.IntRange(0, 3), len(keys), len(keys)).Draw(rt, fmt.Sprintf("gaps %d", i))
		}
		cancelAt := -1
		if rapid.Bool().Draw(rt, "cancel") {
			cancelAt = rapid.IntRange(0, 40).Draw(rt, "cancel at ms")
		}
		anyUnsorted := slices.Contains(unsorted, true)
		var want []kv
		for _, in := range inputs {
			want = append(want, in...)
		}
		slices.SortStableFunc(want, func(a, b kv) int { return cmp.Compare(a.key, b.key) })

		var failure string
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if cancelAt >= 0 {
				time.AfterFunc(time.Duration(cancelAt)*time.Millisecond+time.Millisecond/2, cancel)
			}
			var wg sync.WaitGroup
			ins := make([]<-chan kv, k)
			for i := range inputs {
				ch := make(chan kv)
				ins[i] = ch
				wg.Go(func() {
					defer close(ch)
					for j, v := range inputs[i] {
						time.Sleep(time.Duration(gaps[i][j]) * time.Millisecond)
						select {
						case ch <- v:
						case <-ctx.Done():
							return
						}
					}
				})
			}
			s := fanin.MergeSorted(ctx, func(a, b kv) int { return cmp.Compare(a.key, b.key) }, ins...)
			got := drain(s.Out())
			err := s.Err()
			cancel() // frees producers of inputs the merge stopped reading
			wg.Wait()

			if !slices.IsSortedFunc(got, func(a, b kv) int { return cmp.Compare(a.key, b.key) }) {
				failure = fmt.Sprintf("output not sorted: %v", got)
				return
			}
			var ue *fanin.UnsortedError
			switch {
			case errors.As(err, &ue):
				if !unsorted[ue.Input] {
					failure = fmt.Sprintf("Err() = %v, but input %d is sorted", err, ue.Input)
				}
			case anyUnsorted && cancelAt < 0:
				failure = fmt.Sprintf("Err() = %v with an unsorted input, want an UnsortedError", err)
			case anyUnsorted:
				// Cancelled before or after the bad value was reached.
			case err == nil:
				if !slices.Equal(got, want) {
					failure = fmt.Sprintf("MergeSorted = %v\nwant %v", got, want)
				}
			case errors.Is(err, context.Canceled) && cancelAt >= 0:
				if len(got) > len(want) || !slices.Equal(got, want[:len(got)]) {
					failure = fmt.Sprintf("cancelled MergeSorted = %v\nwant a prefix of %v", got, want)
				}
			default:
				failure = fmt.Sprintf("Err() = %v", err)
			}
		})
		if failure != "" {
			rt.Fatal(failure)
		}
	})
}
