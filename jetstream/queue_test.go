package jetstream_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	wjs "github.com/weftgo/weft/jetstream"
)

// badCodec cannot encode jobs whose ID is "bad".
type badCodec struct{ wjs.JSON[job] }

var errBadJob = errors.New("bad job")

func (c badCodec) Encode(j job) ([]byte, error) {
	if j.ID == "bad" {
		return nil, errBadJob
	}
	return c.JSON.Encode(j)
}

func TestSubmitEncodeFailureIsErrEncode(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "enc", wjs.WithCodec[job](badCodec{}))
	err := q.Submit(context.Background(), job{ID: "bad"})
	require.ErrorIs(t, err, wjs.ErrEncode)
	require.ErrorIs(t, err, errBadJob)
	require.NoError(t, q.Submit(context.Background(), job{ID: "good"}))
	assert.Equal(t, uint64(1), pending(t, js, q))
}

func TestSubmitIDStoresAJobOnce(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "dedup")
	ctx := context.Background()
	for range 3 {
		require.NoError(t, q.SubmitID(ctx, "same", job{ID: "1"}))
	}
	require.NoError(t, q.SubmitID(ctx, "other", job{ID: "2"}))
	require.NoError(t, q.SubmitID(ctx, "", job{ID: "3"}))
	require.NoError(t, q.SubmitID(ctx, "", job{ID: "3"}))
	assert.Equal(t, uint64(4), pending(t, js, q))
}

func TestSubmitToAStreamThatReplacedTheQueuesIsErrWrongStream(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "moved")
	ctx := context.Background()
	require.NoError(t, js.DeleteStream(ctx, q.Name()))
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "other", Subjects: []string{"moved.jobs"}})
	require.NoError(t, err)

	err = q.Submit(ctx, job{ID: "1"})
	require.ErrorIs(t, err, wjs.ErrWrongStream)
	assert.Contains(t, err.Error(), `"other"`)
	s, err := js.Stream(ctx, "other")
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), info.State.Msgs, "the job is in the stream the error names")
}

func TestSubmitReturnsTheContextCause(t *testing.T) {
	js := newJS(t, startServer(t))
	q := newQueue(t, js, "cause")
	stop := errors.New("stopping")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(stop)
	err := q.Submit(ctx, job{ID: "1"})
	require.ErrorIs(t, err, stop)
	assert.Zero(t, drained(t, js, q))
}

func TestSubmitFailsWhenTheServerIsGone(t *testing.T) {
	srv := startServer(t)
	js := newJS(t, srv)
	q := newQueue(t, js, "gone")
	srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := q.Submit(ctx, job{ID: "1"})
	require.Error(t, err)
}

func TestNewQueueMakesAWorkQueueAndADeadLetterStream(t *testing.T) {
	js := newJS(t, startServer(t))
	var seen []string
	q := newQueue(t, js, "cfg", wjs.DuplicateWindow(time.Minute), wjs.ConfigureStream(func(c *jetstream.StreamConfig) {
		seen = append(seen, c.Name)
		c.MaxMsgs = 1000
	}))
	assert.Equal(t, []string{"cfg", "cfg_DLQ"}, seen)
	assert.Equal(t, "cfg", q.Name())
	assert.Equal(t, "cfg_DLQ", q.DeadLetterStream())
	ctx := context.Background()
	s, err := js.Stream(ctx, "cfg")
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, jetstream.WorkQueuePolicy, info.Config.Retention)
	assert.Equal(t, jetstream.FileStorage, info.Config.Storage)
	assert.Equal(t, time.Minute, info.Config.Duplicates)
	assert.Equal(t, int64(1000), info.Config.MaxMsgs)
	assert.Equal(t, []string{"cfg.jobs"}, info.Config.Subjects)
	s, err = js.Stream(ctx, "cfg_DLQ")
	require.NoError(t, err)
	info, err = s.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, jetstream.LimitsPolicy, info.Config.Retention)
	assert.Equal(t, []string{"cfg.dead"}, info.Config.Subjects)
}

func TestNewQueueRefusesAStreamThatIsNoWorkQueue(t *testing.T) {
	js := newJS(t, startServer(t))
	_, err := wjs.NewQueue[job](context.Background(), js, "cfg", wjs.ConfigureStream(func(c *jetstream.StreamConfig) {
		c.Retention = jetstream.LimitsPolicy
	}))
	require.ErrorContains(t, err, "retention")
}

func TestNewQueueReportsTheServersError(t *testing.T) {
	js := newJS(t, startServer(t))
	_, err := wjs.NewQueue[job](context.Background(), js, "bad.name")
	require.Error(t, err)
	_, err = wjs.NewQueue[job](context.Background(), js, "r3", wjs.Replicas(3))
	require.Error(t, err, "a single server cannot keep three replicas")
}

func TestQueueOptionsPanicWhenTheyCanNeverWork(t *testing.T) {
	js := newJS(t, startServer(t))
	ctx := context.Background()
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"Replicas(0)", func() { wjs.Replicas(0) }, "Replicas(0)"},
		{"Replicas(6)", func() { wjs.Replicas(6) }, "Replicas(6)"},
		{"DuplicateWindow(-1)", func() { wjs.DuplicateWindow(-1) }, "DuplicateWindow"},
		{"WithCodec(nil)", func() { wjs.WithCodec[job](nil) }, "WithCodec(nil)"},
		{"ConfigureStream(nil)", func() { wjs.ConfigureStream(nil) }, "ConfigureStream(nil)"},
		{"another job type", func() {
			_, _ = wjs.NewQueue[job](ctx, js, "x", wjs.WithCodec[string](wjs.JSON[string]{}))
		}, "WithCodec[string]"},
		{"nil JetStream", func() { _, _ = wjs.NewQueue[job](ctx, nil, "x") }, "nil"},
		{"empty name", func() { _, _ = wjs.NewQueue[job](ctx, js, "") }, "empty name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.PanicsWithValue(t, panicValue(t, tt.f), tt.f)
			assert.Contains(t, panicValue(t, tt.f), tt.want)
		})
	}
}

func panicValue(t *testing.T, f func()) (v string) {
	t.Helper()
	defer func() { v, _ = recover().(string) }()
	f()
	return ""
}

func TestParseLetterRefusesAMessageWithoutHeaders(t *testing.T) {
	_, err := wjs.ParseLetter(nats.Header{}, []byte("x"))
	require.ErrorContains(t, err, "jetstream: parse letter")
}

func TestJSONRoundTrips(t *testing.T) {
	var c wjs.Codec[job] = wjs.JSON[job]{}
	b, err := c.Encode(job{ID: "a", Arg: 3})
	require.NoError(t, err)
	j, err := c.Decode(b)
	require.NoError(t, err)
	assert.Equal(t, job{ID: "a", Arg: 3}, j)
	_, err = c.Decode([]byte("{"))
	require.Error(t, err)
}
