package jetstream_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	wjs "github.com/weftgo/weft/jetstream"
	"github.com/weftgo/weft/jetstream/embedded"
)

// job is the job type of the tests: an ID and what its handler should do.
type job struct {
	ID  string `json:"id"`
	Do  []int  `json:"do,omitempty"` // the outcome of each attempt, see run
	Arg int    `json:"arg,omitempty"`
}

// tb is what the helpers need of a *testing.T or a *rapid.T.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	FailNow()
}

// startServer starts an embedded server in a temporary directory, stopped
// when the test ends.
func startServer(t testing.TB, opts ...embedded.Option) *embedded.Server {
	t.Helper()
	srv, err := embedded.Start(t.TempDir(), opts...)
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	return srv
}

func newJS(t tb, srv *embedded.Server) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(srv.Conn())
	require.NoError(t, err)
	return js
}

func newQueue(t tb, js jetstream.JetStream, name string, opts ...wjs.QueueOption) *wjs.Queue[job] {
	t.Helper()
	q, err := wjs.NewQueue[job](context.Background(), js, name, opts...)
	require.NoError(t, err)
	return q
}

// letters reads every dead letter of q, waiting up to a few seconds for
// want of them.
func letters(t tb, js jetstream.JetStream, q *wjs.Queue[job]) []wjs.Letter {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, q.DeadLetterStream())
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	var out []wjs.Letter
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		require.NoError(t, err)
		l, err := wjs.ParseLetter(m.Header, m.Data)
		require.NoError(t, err)
		out = append(out, l)
	}
	return out
}

// drained waits up to ten seconds for q's stream to be empty, as it is a
// moment after the last acknowledgement reached the server, and returns
// how many jobs are left.
func drained(t tb, js jetstream.JetStream, q *wjs.Queue[job]) uint64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := pending(t, js, q)
		if n == 0 || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond) // polls the server's state
	}
}

// pending returns how many jobs are still stored in q's stream.
func pending(t tb, js jetstream.JetStream, q *wjs.Queue[job]) uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), q.Name())
	require.NoError(t, err)
	info, err := s.Info(context.Background())
	require.NoError(t, err)
	return info.State.Msgs
}

// outcomes records what handlers and OnDone saw, by job ID.
type outcomes struct {
	mu       sync.Mutex
	runs     map[string]int
	done     map[string][]error
	finished chan string
}

func newOutcomes() *outcomes {
	return &outcomes{runs: map[string]int{}, done: map[string][]error{}, finished: make(chan string, 1<<16)}
}

func (o *outcomes) ran(id string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.runs[id]++
	return o.runs[id]
}

func (o *outcomes) onDone(j job, err error) {
	o.mu.Lock()
	o.done[j.ID] = append(o.done[j.ID], err)
	o.mu.Unlock()
	o.finished <- j.ID
}

// wait waits until n jobs have reached OnDone, or fails the test after d.
func (o *outcomes) wait(t tb, n int, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for i := range n {
		select {
		case <-o.finished:
		case <-timeout:
			t.Fatalf("%d of %d jobs done after %v", i, n, d)
		}
	}
}

// waitEnded waits until n distinct jobs have reached OnDone, however many
// times each, or fails the test after d.
func (o *outcomes) waitEnded(t tb, n int, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		o.mu.Lock()
		ended := len(o.done)
		o.mu.Unlock()
		if ended >= n {
			return
		}
		select {
		case <-o.finished:
		case <-timeout:
			t.Fatalf("%d of %d jobs done after %v", ended, n, d)
		}
	}
}

func closeWorkers[J any](t tb, w *wjs.Workers[J]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, w.Close(ctx))
}
