package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	wjs "github.com/weftgo/weft/jetstream"
	"github.com/weftgo/weft/retry"
)

func TestWorkersRunEverySubmittedJob(t *testing.T) {
	srv := startServer(t)
	js := newJS(t, srv)
	q := newQueue(t, js, "basic")
	o := newOutcomes()
	ctx := context.Background()
	const n = 50
	for i := range n {
		require.NoError(t, q.Submit(ctx, job{ID: fmt.Sprint(i)}))
	}
	w, err := wjs.NewWorkers(ctx, q, 4, func(ctx context.Context, j job) error {
		o.ran(j.ID)
		return nil
	}, wjs.OnDone(o.onDone), wjs.FetchWait(100*time.Millisecond))
	require.NoError(t, err)
	o.wait(t, n, 20*time.Second)
	closeWorkers(t, w)
	st := w.Stats()
	assert.Equal(t, uint64(n), st.Succeeded)
	assert.Equal(t, uint64(n), st.Submitted)
	assert.Len(t, o.runs, n)
	assert.Zero(t, pending(t, js, q))
}

func TestWorkersDeadLetterAfterPolicyGivesUp(t *testing.T) {
	srv := startServer(t)
	js := newJS(t, srv)
	q := newQueue(t, js, "dlq")
	o := newOutcomes()
	ctx := context.Background()
	boom := errors.New("boom")
	require.NoError(t, q.SubmitID(ctx, "job-1", job{ID: "1"}))
	w, err := wjs.NewWorkers(ctx, q, 2, func(ctx context.Context, j job) error {
		o.ran(j.ID)
		return boom
	}, wjs.OnDone(o.onDone), wjs.FetchWait(100*time.Millisecond),
		wjs.WithRetry(retry.New(retry.Attempts(3), retry.Constant(50*time.Millisecond), retry.NoJitter())))
	require.NoError(t, err)
	o.wait(t, 1, 20*time.Second)
	closeWorkers(t, w)
	assert.Equal(t, 3, o.runs["1"])
	require.Len(t, o.done["1"], 1)
	assert.ErrorIs(t, o.done["1"][0], retry.ErrExhausted)
	assert.ErrorIs(t, o.done["1"][0], boom)
	ls := letters(t, js, q)
	require.Len(t, ls, 1)
	assert.Equal(t, "job-1", ls[0].JobID)
	assert.Equal(t, 3, ls[0].Attempts)
	assert.Contains(t, ls[0].Err, "boom")
	assert.JSONEq(t, `{"id":"1"}`, string(ls[0].Data))
	st := w.Stats()
	assert.Equal(t, uint64(1), st.DeadLettered)
	assert.Equal(t, uint64(2), st.Retried)
	assert.Zero(t, pending(t, js, q))
}
