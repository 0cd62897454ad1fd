package pool_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/weftgo/weft/pool"
	"github.com/weftgo/weft/retry"
)

// tally counts the events an OnEvent hook receives, and checks that each
// job has one Submitted event, one end, and attempts that start and end in
// turn.
type tally struct {
	mu        sync.Mutex
	submitted uint64
	started   uint64
	finished  uint64 // attempts ended
	byOutcome map[pool.Outcome]uint64
	open      map[int]bool // jobs with an attempt started and not ended
	ended     map[int]int  // final ends per job
	bad       []string
}

func newTally() *tally {
	return &tally{byOutcome: map[pool.Outcome]uint64{}, open: map[int]bool{}, ended: map[int]int{}}
}

func (ta *tally) hook(ctx context.Context, e pool.Event[int]) context.Context {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	switch e.Kind {
	case pool.Submitted:
		ta.submitted++
	case pool.Started:
		ta.started++
		if ta.open[e.Job] {
			ta.bad = append(ta.bad, "two attempts at once")
		}
		ta.open[e.Job] = true
	case pool.Ended:
		if !ta.open[e.Job] {
			ta.bad = append(ta.bad, "ended without a start")
		}
		ta.open[e.Job] = false
		ta.finished++
		fallthrough
	case pool.Unrun:
		ta.byOutcome[e.Outcome]++
		if e.Outcome != pool.Retried {
			ta.ended[e.Job]++
		}
	}
	return ctx
}

// The events an OnEvent hook receives add up to the pool's Stats: one
// Submitted per submission, an end per outcome counted, and as many Started
// as Ended events.
func TestPropertyEventsAgreeWithStats(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		ta := newTally()
		opts := []pool.WorkersOption{
			pool.OnEvent(ta.hook),
			pool.Buffer(rapid.IntRange(0, 4).Draw(rt, "buffer")),
		}
		if rapid.Bool().Draw(rt, "retry") {
			opts = append(opts, pool.Retry(retry.New(retry.Attempts(rapid.IntRange(1, 3).Draw(rt, "attempts")), retry.Constant(0))))
		}
		if rapid.Bool().Draw(rt, "sink") {
			refuse := rapid.Bool().Draw(rt, "sink refuses")
			opts = append(opts, pool.DeadLetter[int](retry.DeadLetterFunc[int](func(context.Context, retry.Letter[int]) error {
				if refuse {
					return errBoom
				}
				return nil
			})))
		}
		ctx := context.Background()
		w := pool.NewWorkers(ctx, rapid.IntRange(1, 3).Draw(rt, "workers"), func(ctx context.Context, job int) error {
			runtime.Gosched()
			switch job % 3 {
			case 1:
				return errBoom
			case 2:
				panic("job")
			}
			return nil
		}, opts...)
		kinds := rapid.SliceOfN(rapid.IntRange(0, 2), 0, 30).Draw(rt, "jobs")
		for i, k := range kinds {
			job := 3*i + k
			if rapid.Bool().Draw(rt, "try") {
				_ = w.TrySubmit(job)
			} else {
				_ = w.Submit(ctx, job)
			}
		}
		closeCtx := ctx
		if rapid.Bool().Draw(rt, "cut short") {
			c, cancel := context.WithCancel(ctx)
			cancel()
			closeCtx = c
		}
		var ce *pool.CloseError[int]
		if err := w.Close(closeCtx); err != nil && !errors.As(err, &ce) {
			rt.Fatalf("Close = %v", err)
		}
		s := w.Stats()
		checkLaw(rt, s)

		ta.mu.Lock()
		defer ta.mu.Unlock()
		if len(ta.bad) > 0 {
			rt.Fatalf("events out of turn: %v", ta.bad)
		}
		for job, n := range ta.ended {
			if n != 1 {
				rt.Fatalf("job %d ended %d times", job, n)
			}
		}
		if uint64(len(ta.ended)) != ta.submitted {
			rt.Fatalf("%d jobs ended of %d submitted", len(ta.ended), ta.submitted)
		}
		want := map[pool.Outcome]uint64{
			pool.Succeeded: s.Succeeded, pool.Failed: s.Failed, pool.Panicked: s.Panicked,
			pool.Canceled: s.Canceled, pool.DeadLettered: s.DeadLettered, pool.Rejected: s.Rejected,
			pool.Retried: s.Retried,
		}
		for o, n := range want {
			if ta.byOutcome[o] != n {
				rt.Fatalf("%d %s events, Stats counts %d: %s", ta.byOutcome[o], o, n, stats(s))
			}
		}
		if ta.submitted != s.Submitted {
			rt.Fatalf("%d Submitted events, Stats counts %d", ta.submitted, s.Submitted)
		}
		if ta.started != ta.finished {
			rt.Fatalf("%d attempts started, %d ended", ta.started, ta.finished)
		}
	})
}
