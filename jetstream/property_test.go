package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/weftgo/weft"
	wjs "github.com/weftgo/weft/jetstream"
	"github.com/weftgo/weft/retry"
)

// The outcomes of one attempt in the property tests.
const (
	ok = iota
	fail
	permanent
	panics
	slow // runs past the AckWait, then succeeds
)

const (
	propAckWait = 300 * time.Millisecond
	propDelay   = 20 * time.Millisecond
)

// expect returns how many attempts a job of outcomes do makes under a
// policy of attempts, and whether it ends dead-lettered.
func expect(do []int, attempts int) (runs int, dead bool) {
	for i := 1; ; i++ {
		o := ok
		if i <= len(do) {
			o = do[i-1]
		}
		switch {
		case o == ok || o == slow:
			return i, false
		case o == permanent || o == panics:
			return i, true
		case i == attempts:
			return i, true
		}
	}
}

// TestPropertyEveryJobEndsOnce: whatever each attempt does, every
// submitted job ends exactly once, succeeded or dead-lettered, after as
// many attempts as the policy allows, with retries at least the policy's
// delay apart, and the Stats law holds.
func TestPropertyEveryJobEndsOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("takes seconds")
	}
	srv := startServer(t)
	js := newJS(t, srv)
	var seq atomic.Int64
	rapid.Check(t, func(rt *rapid.T) {
		attempts := rapid.IntRange(1, 4).Draw(rt, "attempts")
		workers := rapid.IntRange(1, 4).Draw(rt, "workers")
		jobs := rapid.SliceOfN(rapid.SliceOfN(rapid.IntRange(ok, panics), 0, 4), 1, 6).Draw(rt, "jobs")
		if rapid.IntRange(0, 7).Draw(rt, "slow") == 0 {
			// A slow attempt costs 1.5 AckWaits: one check in eight has one,
			// at a place drawn among the attempts that run.
			i := rapid.IntRange(0, len(jobs)-1).Draw(rt, "slow job")
			runs, _ := expect(jobs[i], attempts)
			k := rapid.IntRange(0, runs-1).Draw(rt, "slow attempt")
			jobs[i] = append(append(append([]int(nil), jobs[i][:k]...), slow), jobs[i][k:]...)
		}

		ctx := context.Background()
		q, err := wjs.NewQueue[job](ctx, js, fmt.Sprintf("prop%d", seq.Add(1)), wjs.MemoryStorage())
		require.NoError(rt, err)
		defer func() {
			_ = js.DeleteStream(ctx, q.Name())
			_ = js.DeleteStream(ctx, q.DeadLetterStream())
		}()
		var mu sync.Mutex
		starts := map[string][]time.Time{}
		o := newOutcomes()
		w, err := wjs.NewWorkers(ctx, q, workers, func(ctx context.Context, j job) error {
			n := o.ran(j.ID)
			mu.Lock()
			starts[j.ID] = append(starts[j.ID], time.Now())
			mu.Unlock()
			do := ok
			if n <= len(j.Do) {
				do = j.Do[n-1]
			}
			switch do {
			case fail:
				return errors.New("failed")
			case permanent:
				return retry.Permanent(errors.New("permanent"))
			case panics:
				panic("handler panic")
			case slow:
				time.Sleep(propAckWait * 3 / 2)
			}
			return nil
		}, wjs.OnDone(o.onDone), wjs.AckWait(propAckWait), wjs.FetchWait(20*time.Millisecond),
			wjs.Retry(retry.New(retry.Attempts(attempts), retry.Constant(propDelay), retry.NoJitter())))
		require.NoError(rt, err)
		for i, do := range jobs {
			id := fmt.Sprint(i)
			require.NoError(rt, q.SubmitID(ctx, id, job{ID: id, Do: do}))
		}
		// Every job, not every OnDone call: after a stall a job may end twice.
		o.waitEnded(rt, len(jobs), 30*time.Second)
		closeWorkers(rt, w)

		st := w.Stats()
		require.Equal(rt, st.Submitted, st.Succeeded+st.Failed+st.Panicked+st.Canceled+st.DeadLettered+st.Rejected+st.Queued+st.Running+st.Waiting)
		require.Zero(rt, drained(rt, js, q))
		var wantRuns int
		for _, do := range jobs {
			runs, _ := expect(do, attempts)
			wantRuns += runs
		}
		ls := letters(rt, js, q)
		if st.Submitted > uint64(wantRuns) {
			// The machine stalled past the AckWait and the server delivered
			// a job again while it ran: at least once, so every job still
			// ended, but a duplicate may have ended differently.
			rt.Logf("%d deliveries for %d attempts: redelivered after a stall", st.Submitted, wantRuns)
			ended := map[string]bool{}
			for _, l := range ls {
				ended[l.JobID] = true
			}
			var calls int
			for id, errs := range o.done {
				ended[id] = true
				calls += len(errs)
			}
			require.Len(rt, ended, len(jobs))
			require.LessOrEqual(rt, uint64(calls), st.Submitted)
			return
		}
		dead := map[string]wjs.Letter{}
		for _, l := range ls {
			_, dup := dead[l.JobID]
			require.False(rt, dup, "job %s dead-lettered twice", l.JobID)
			dead[l.JobID] = l
		}
		var wantDead, wantRetried uint64
		for i, do := range jobs {
			id := fmt.Sprint(i)
			runs, isDead := expect(do, attempts)
			require.Equal(rt, runs, o.runs[id], "job %s %v: runs", id, do)
			require.Len(rt, o.done[id], 1, "job %s: OnDone calls", id)
			l, inDLQ := dead[id]
			require.Equal(rt, isDead, inDLQ, "job %s %v: dead-lettered", id, do)
			require.Equal(rt, isDead, o.done[id][0] != nil, "job %s: OnDone error %v", id, o.done[id][0])
			if isDead {
				wantDead++
				require.Equal(rt, runs, l.Attempts)
				if last := do[runs-1]; last == panics {
					var pe *weft.PanicError
					require.ErrorAs(rt, o.done[id][0], &pe)
				}
			}
			wantRetried += uint64(runs - 1)
			for k := 1; k < len(starts[id]); k++ {
				gap := starts[id][k].Sub(starts[id][k-1])
				require.GreaterOrEqual(rt, gap, propDelay, "job %s: attempt %d came %v after the last", id, k+1, gap)
			}
		}
		require.Equal(rt, uint64(len(jobs))-wantDead, st.Succeeded)
		require.Equal(rt, wantDead, st.DeadLettered)
		require.Equal(rt, wantRetried, st.Retried)
	})
}
