package jetstream_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	wjs "github.com/weftgo/weft/jetstream"
	"github.com/weftgo/weft/pipeline"
)

// settledButStored submits n jobs to q and moves the workers' consumer past
// all but the last: the server keeps the first n-1 in the stream, but the
// consumer counts them settled and never delivers them. That is the state a
// restart can leave behind (see TestWorkersSurviveAServerRestart), made on
// purpose.
func settledButStored(t *testing.T, js jetstream.JetStream, q *wjs.Queue[job], n int) {
	t.Helper()
	ctx := context.Background()
	submitN(t, q, n)
	name := q.Name() + "_workers"
	_, err := js.CreateOrUpdateConsumer(ctx, q.Name(), jetstream.ConsumerConfig{
		Durable:       name,
		AckPolicy:     jetstream.AckExplicitPolicy,
		MaxDeliver:    -1,
		FilterSubject: q.Name() + ".jobs",
	})
	require.NoError(t, err)
	_, err = js.ResetConsumerToSequence(ctx, q.Name(), name, uint64(n))
	require.NoError(t, err)
	require.Equal(t, uint64(n), pending(t, js, q))
}

// errorLog collects what an OnError hook is given.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errorLog) hook(err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
}

func (l *errorLog) all() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errs...)
}

func TestWorkersRemoveJobsTheServerKeptAfterTheyWereSettled(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "sweep")
	const n = 5
	settledButStored(t, js, q, n)
	o := newOutcomes()
	var errs errorLog
	w, err := wjs.NewWorkers(context.Background(), q, 2, func(ctx context.Context, j job) error {
		o.ran(j.ID)
		return nil
	}, wjs.OnDone(o.onDone), wjs.AckWait(300*time.Millisecond), wjs.FetchWait(50*time.Millisecond), wjs.OnError(errs.hook))
	require.NoError(t, err)
	assert.Zero(t, drained(t, js, q), "the settled jobs are still stored")
	closeWorkers(t, w)
	o.mu.Lock()
	assert.Equal(t, map[string]int{"4": 1}, o.runs, "only the job the consumer still owed runs")
	o.mu.Unlock()
	assert.Empty(t, errs.all())
}

func TestSourceRemovesJobsTheServerKeptAfterTheyWereSettled(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "sweep")
	const n = 5
	settledButStored(t, js, q, n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errs errorLog
	var got []string
	var left uint64
	err := pipeline.ForEach(wjs.Source(ctx, q, 4, wjs.AckWait(300*time.Millisecond), wjs.FetchWait(50*time.Millisecond), wjs.OnError(errs.hook)),
		func(ctx context.Context, d *wjs.Delivery[job]) error {
			got = append(got, d.Job.ID)
			if err := d.Ack(); err != nil {
				return err
			}
			left = drained(t, js, q) // while the source runs
			cancel()                 // a source never ends by itself
			return nil
		})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []string{"4"}, got, "only the job the consumer still owed is delivered")
	assert.Zero(t, left, "the settled jobs are still stored")
	assert.Empty(t, errs.all())
}
