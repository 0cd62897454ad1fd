package jetstream_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft"
	wjs "github.com/weftgo/weft/jetstream"
	"github.com/weftgo/weft/pipeline"
	"github.com/weftgo/weft/retry"
)

func submitN(t *testing.T, q *wjs.Queue[job], n int) {
	t.Helper()
	for i := range n {
		require.NoError(t, q.SubmitID(context.Background(), strconv.Itoa(i), job{ID: strconv.Itoa(i), Arg: i}))
	}
}

// row is what the test pipelines make of a job, with its delivery.
type row struct {
	d   *wjs.Delivery[job]
	out int
}

func TestSourceAcknowledgesInOrderAfterTheSink(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "src")
	const n = 100
	submitN(t, q, n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []int
	rows := pipeline.Map(wjs.Source(ctx, q, 16, wjs.FetchWait(50*time.Millisecond)),
		func(ctx context.Context, d *wjs.Delivery[job]) (row, error) {
			return row{d: d, out: d.Job.Arg * 2}, nil
		}, pipeline.Concurrency(4))
	err := pipeline.ForEach(rows, func(ctx context.Context, r row) error {
		got = append(got, r.out)
		assert.Equal(t, 1, r.d.Attempt())
		if err := r.d.Ack(); err != nil {
			return err
		}
		if len(got) == n {
			cancel() // a source never ends by itself
		}
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, got, n)
	for i, v := range got {
		require.Equal(t, 2*i, v, "item %d out of order", i)
	}
	assert.Zero(t, drained(t, js, q))
}

func TestSourceHandsBackWhatAFailedPipelineDidNotSettle(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "srcfail")
	const n, failAt = 60, 20
	submitN(t, q, n)
	boom := errors.New("sink failed")
	acked := map[int]bool{}
	// The default AckWait is 30s: only the Source's NAKs bring the jobs
	// back before the second pipeline's deadline.
	err := pipeline.ForEach(wjs.Source(context.Background(), q, 8, wjs.FetchWait(50*time.Millisecond)),
		func(ctx context.Context, d *wjs.Delivery[job]) error {
			if d.Job.Arg == failAt {
				return boom
			}
			acked[d.Job.Arg] = true
			return d.Ack()
		})
	require.ErrorIs(t, err, boom)
	assert.Len(t, acked, failAt)
	assert.Eventually(t, func() bool { return pending(t, js, q) == n-failAt }, 10*time.Second, 10*time.Millisecond,
		"the acknowledged jobs leave the stream, the others stay")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	seen := map[int]int{}
	err = pipeline.ForEach(wjs.Source(ctx, q, 8, wjs.FetchWait(50*time.Millisecond)),
		func(ctx context.Context, d *wjs.Delivery[job]) error {
			seen[d.Job.Arg]++
			if d.Job.Arg == failAt {
				assert.Equal(t, 2, d.Attempt())
			}
			require.NoError(t, d.Ack())
			require.NoError(t, d.Ack(), "a second Ack does nothing")
			if len(seen) == n-failAt {
				cancel()
			}
			return nil
		})
	require.ErrorIs(t, err, context.Canceled)
	for i := failAt; i < n; i++ {
		assert.Equal(t, 1, seen[i], "job %d", i)
	}
	assert.Zero(t, drained(t, js, q))
}

func TestSourceNakRedeliversAfterTheDelay(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "srcnak")
	submitN(t, q, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var attempts []time.Time
	err := pipeline.ForEach(wjs.Source(ctx, q, 1, wjs.FetchWait(50*time.Millisecond)),
		func(ctx context.Context, d *wjs.Delivery[job]) error {
			attempts = append(attempts, time.Now())
			switch d.Attempt() {
			case 1:
				return d.Nak(100 * time.Millisecond)
			case 2:
				return d.Nak(0) // at once
			}
			cancel()
			return d.Ack()
		})
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, attempts, 3)
	assert.GreaterOrEqual(t, attempts[1].Sub(attempts[0]), 100*time.Millisecond)
}

func TestSourceDeadLettersWhatItCannotDecode(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "srcbad")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := js.Publish(ctx, "srcbad.jobs", []byte("{"))
	require.NoError(t, err)
	submitN(t, q, 1)
	sunk := make(chan retry.Letter[job], 1)
	sink := retry.DeadLetterFunc[job](func(ctx context.Context, l retry.Letter[job]) error {
		sunk <- l
		return nil
	})
	err = pipeline.ForEach(wjs.Source(ctx, q, 4, wjs.FetchWait(50*time.Millisecond), wjs.DeadLetter[job](sink)),
		func(ctx context.Context, d *wjs.Delivery[job]) error {
			cancel()
			return d.Ack()
		})
	require.ErrorIs(t, err, context.Canceled)
	l := <-sunk
	var de *wjs.DecodeError
	require.ErrorAs(t, l.Err, &de)
	assert.Equal(t, []byte("{"), de.Data)
	assert.Zero(t, drained(t, js, q))

	// The default sink stores the bytes in the dead-letter stream.
	q2 := newQueue(t, js, "srcbad2")
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	_, err = js.Publish(ctx, "srcbad2.jobs", []byte("}"))
	require.NoError(t, err)
	src := wjs.Source(ctx, q2, 4, wjs.FetchWait(50*time.Millisecond))
	collected := make(chan error, 1)
	go func() {
		_, err := pipeline.Collect(src)
		collected <- err
	}()
	require.Eventually(t, func() bool { return pending(t, js, q2) == 0 }, 10*time.Second, 10*time.Millisecond)
	cancel()
	require.ErrorIs(t, <-collected, context.Canceled)
	ls := letters(t, js, q2)
	require.Len(t, ls, 1)
	assert.Equal(t, []byte("}"), ls[0].Data)
}

func TestSourceOptionsPanicWhenTheyCanNeverWork(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "srcopts")
	ctx := context.Background()
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"window 0", func() { wjs.Source(ctx, q, 0) }, "Source(0)"},
		{"nil queue", func() { wjs.Source[job](ctx, nil, 1) }, "nil"},
		{"Retry", func() { wjs.Source(ctx, q, 1, wjs.Retry(retry.New())) }, "Retry"},
		{"OnDone", func() { wjs.Source(ctx, q, 1, wjs.OnDone(func(job, error) {})) }, "OnDone[jetstream_test.job]"},
		{"Buffer", func() { wjs.Source(ctx, q, 1, wjs.Buffer(1)) }, "Buffer"},
		{"sink of another type", func() {
			wjs.Source(ctx, q, 1, wjs.DeadLetter[string](retry.DeadLetterFunc[string](nil)))
		}, "DeadLetter[string]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Contains(t, panicValue(t, tt.f), tt.want)
		})
	}
}

func TestSourceReportsAConsumerItCannotCreate(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "srcerr")
	ctx := context.Background()
	// A second consumer of a work-queue stream's subject is refused.
	w, err := wjs.NewWorkers(ctx, q, 1, func(context.Context, job) error { return nil }, wjs.FetchWait(50*time.Millisecond))
	require.NoError(t, err)
	defer closeWorkers(t, w)
	_, err = pipeline.Collect(wjs.Source(ctx, q, 1, wjs.Consumer("second")))
	require.ErrorContains(t, err, "jetstream: source: consumer second")
}

func TestSourceKeepsJobsAliveInASlowPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("takes seconds")
	}
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "srcslow")
	submitN(t, q, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const ackWait = time.Second
	var attempts []int
	err := pipeline.ForEach(wjs.Source(ctx, q, 2, wjs.AckWait(ackWait), wjs.FetchWait(50*time.Millisecond)),
		func(ctx context.Context, d *wjs.Delivery[job]) error {
			attempts = append(attempts, d.Attempt())
			time.Sleep(ackWait * 3 / 2) // the sink's own work, longer than the AckWait
			if len(attempts) == 2 {
				cancel()
			}
			return d.Ack()
		})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []int{1, 1}, attempts, "no job was delivered again while the pipeline held it")
}

func TestSourceReportsFetchErrorsAndGoesOn(t *testing.T) {
	srv := startServer(t)
	js := newJS(t, srv)
	q := newQueue(t, js, "srcerrs")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan error, 1)
	src := wjs.Source(ctx, q, 1, wjs.FetchWait(50*time.Millisecond), wjs.OnError(func(err error) {
		select {
		case errs <- err:
		default:
		}
		panic("hook")
	}))
	collected := make(chan error, 1)
	go func() {
		_, err := pipeline.Collect(src)
		collected <- err
	}()
	require.Eventually(t, func() bool {
		// A pull request waits on the server once the source fetches,
		// which is after it has its consumer: stopping the server
		// earlier could fail the consumer's creation instead.
		c, err := js.Consumer(context.Background(), "srcerrs", "srcerrs_workers")
		if err != nil {
			return false
		}
		info, err := c.Info(context.Background())
		return err == nil && info.NumWaiting > 0
	}, 10*time.Second, 10*time.Millisecond)
	srv.Stop()
	assert.ErrorContains(t, <-errs, "jetstream: fetch")
	cancel()
	err := <-collected
	require.ErrorIs(t, err, context.Canceled)
	var pe *weft.PanicError
	assert.ErrorAs(t, err, &pe, "the hook's panic comes out of the pipeline")
}

func TestSourceHandsBackWhatTheSinkDidNotKeep(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "srcrefuse")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := js.Publish(ctx, "srcrefuse.jobs", []byte("{"))
	require.NoError(t, err)
	calls := make(chan int, 10)
	sink := retry.DeadLetterFunc[job](func(ctx context.Context, l retry.Letter[job]) error {
		calls <- l.Attempts
		if l.Attempts == 1 {
			return errors.New("disk full")
		}
		return nil
	})
	collected := make(chan error, 1)
	go func() {
		_, err := pipeline.Collect(wjs.Source(ctx, q, 1, wjs.FetchWait(50*time.Millisecond), wjs.DeadLetter[job](sink)))
		collected <- err
	}()
	assert.Equal(t, 1, <-calls)
	assert.Equal(t, 2, <-calls, "the message came back after the refusal")
	assert.Zero(t, drained(t, js, q))
	cancel()
	require.ErrorIs(t, <-collected, context.Canceled)
}
