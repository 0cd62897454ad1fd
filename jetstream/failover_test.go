package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	wjs "github.com/weftgo/weft/jetstream"
	"github.com/weftgo/weft/jetstream/embedded"
)

// connect makes a connection of its own to urls that reconnects without
// limit, as a worker process would.
func connect(t *testing.T, urls string) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(urls, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return js
}

// produce submits jobs 0..n-1 with their IDs, retrying each submit until
// the server takes it, as a producer must across a failover; it stops when
// ctx is done.
func produce(ctx context.Context, q *wjs.Queue[job], n int) error {
	for i := range n {
		id := fmt.Sprint(i)
		for {
			sctx, cancel := context.WithTimeout(ctx, time.Second)
			err := q.SubmitID(sctx, id, job{ID: id})
			cancel()
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return err
			}
			time.Sleep(20 * time.Millisecond) // the server is away: try again
		}
	}
	return nil
}

// waitAll waits until every job 0..n-1 has ended, succeeded or
// dead-lettered, and none is left in q's stream, and returns the number of
// duplicate ends. A job can end and still be in the stream when its
// acknowledgement was lost with the server: it then runs again.
func waitAll(t *testing.T, js jetstream.JetStream, q *wjs.Queue[job], w *wjs.Workers[job], o *outcomes, n int, d time.Duration) (dups int) {
	t.Helper()
	deadline := time.After(d)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		o.mu.Lock()
		ended := len(o.done)
		o.mu.Unlock()
		if ended == n && pending(t, js, q) == 0 {
			break
		}
		select {
		case <-o.finished:
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%d of %d jobs ended, %d in the stream, after %v\nworkers: %+v\n%s", ended, n, pending(t, js, q), d, w.Stats(), serverState(js, q))
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range n {
		errs := o.done[fmt.Sprint(i)]
		require.NotEmpty(t, errs, "job %d never ended", i)
		for _, err := range errs {
			require.NoError(t, err, "job %d", i)
		}
		dups += len(errs) - 1
	}
	return dups
}

// serverState describes q's stream and its workers' consumer, so that a
// timeout says which of them still holds a job.
func serverState(js jetstream.JetStream, q *wjs.Queue[job]) string {
	ctx := context.Background()
	s, err := js.Stream(ctx, q.Name())
	if err != nil {
		return fmt.Sprintf("stream: %v", err)
	}
	si, err := s.Info(ctx)
	if err != nil {
		return fmt.Sprintf("stream info: %v", err)
	}
	out := fmt.Sprintf("stream: msgs %d, first %d, last %d, deleted %d", si.State.Msgs, si.State.FirstSeq, si.State.LastSeq, si.State.NumDeleted)
	if si.State.Msgs > 0 && si.State.Msgs < 10 {
		for seq := si.State.FirstSeq; seq <= si.State.LastSeq; seq++ {
			if m, err := s.GetMsg(ctx, seq); err == nil {
				out += fmt.Sprintf("\n  seq %d: %s %q", seq, m.Header.Get("Nats-Msg-Id"), m.Data)
			}
		}
	}
	c, err := s.Consumer(ctx, q.Name()+"_workers")
	if err != nil {
		return out + fmt.Sprintf("\nconsumer: %v", err)
	}
	ci, err := c.Info(ctx)
	if err != nil {
		return out + fmt.Sprintf("\nconsumer info: %v", err)
	}
	return out + fmt.Sprintf("\nconsumer: delivered %d/%d, ack floor %d/%d, ack pending %d, redelivered %d, pending %d, waiting %d",
		ci.Delivered.Consumer, ci.Delivered.Stream, ci.AckFloor.Consumer, ci.AckFloor.Stream,
		ci.NumAckPending, ci.NumRedelivered, ci.NumPending, ci.NumWaiting)
}

func TestWorkersSurviveAServerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("takes seconds")
	}
	dir := t.TempDir()
	srv, err := embedded.Start(dir)
	require.NoError(t, err)
	u, err := url.Parse(srv.URL())
	require.NoError(t, err)
	port := u.Port()
	js := connect(t, srv.URL())
	q := newQueue(t, js, "restart")
	ctx := context.Background()
	const n = 300
	o := newOutcomes()
	w, err := wjs.NewWorkers(ctx, q, 8, func(ctx context.Context, j job) error {
		o.ran(j.ID)
		time.Sleep(time.Millisecond)
		return nil
	}, wjs.OnDone(o.onDone), wjs.FetchWait(100*time.Millisecond), wjs.AckWait(2*time.Second))
	require.NoError(t, err)

	pctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	produced := make(chan error, 1)
	go func() { produced <- produce(pctx, q, n) }()
	o.wait(t, n/3, 20*time.Second)
	srv.Stop()
	var p int
	_, err = fmt.Sscan(port, &p)
	require.NoError(t, err)
	srv, err = embedded.Start(dir, embedded.Port(p))
	require.NoError(t, err)
	defer srv.Stop()

	require.NoError(t, <-produced)
	dups := waitAll(t, js, q, w, o, n, 60*time.Second)
	closeWorkers(t, w)
	t.Logf("%d jobs, %d ran twice or more", n, dups)
	st := w.Stats()
	assert.Equal(t, st.Submitted, st.Succeeded+st.Failed+st.Panicked+st.Canceled+st.DeadLettered+st.Rejected+st.Queued+st.Running+st.Waiting)
	assert.Zero(t, drained(t, js, q))
}

// freePort returns a port of 127.0.0.1 that nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startCluster starts three embedded servers in one JetStream cluster.
func startCluster(t *testing.T) (map[string]*embedded.Server, string) {
	t.Helper()
	const size = 3
	var routes []*url.URL
	ports := make([]int, size)
	for i := range size {
		ports[i] = freePort(t)
		routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", ports[i])})
	}
	servers := map[string]*embedded.Server{}
	var urls []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, size)
	for i := range size {
		wg.Go(func() {
			name := fmt.Sprintf("n%d", i)
			srv, err := embedded.Start(t.TempDir(), embedded.Configure(func(o *server.Options) {
				o.ServerName = name
				o.Cluster = server.ClusterOpts{Name: "weft", Host: "127.0.0.1", Port: ports[i]}
				o.Routes = routes
			}))
			errs[i] = err
			if err == nil {
				mu.Lock()
				servers[name] = srv
				urls = append(urls, srv.URL())
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, s := range servers {
			s.Stop()
		}
	})
	require.NoError(t, errors.Join(errs...))
	return servers, strings.Join(urls, ",")
}

func TestWorkersSurviveTheLossOfTheStreamLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("takes seconds")
	}
	servers, urls := startCluster(t)
	js := connect(t, urls)
	ctx := context.Background()
	var q *wjs.Queue[job]
	require.Eventually(t, func() bool {
		// The cluster takes a moment to elect its meta leader.
		var err error
		q, err = wjs.NewQueue[job](ctx, js, "r3", wjs.Replicas(3))
		return err == nil
	}, 30*time.Second, 100*time.Millisecond)

	const n = 300
	o := newOutcomes()
	w, err := wjs.NewWorkers(ctx, q, 8, func(ctx context.Context, j job) error {
		o.ran(j.ID)
		time.Sleep(time.Millisecond)
		return nil
	}, wjs.OnDone(o.onDone), wjs.FetchWait(100*time.Millisecond), wjs.AckWait(2*time.Second))
	require.NoError(t, err)
	pctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	produced := make(chan error, 1)
	go func() { produced <- produce(pctx, q, n) }()
	o.wait(t, n/3, 30*time.Second)

	s, err := js.Stream(ctx, "r3")
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	require.NotNil(t, info.Cluster)
	leader := servers[info.Cluster.Leader]
	require.NotNil(t, leader, "leader %q", info.Cluster.Leader)
	leader.Stop()

	require.NoError(t, <-produced)
	dups := waitAll(t, js, q, w, o, n, 90*time.Second)
	closeWorkers(t, w)
	t.Logf("%d jobs, %d ran twice or more after the leader %s stopped", n, dups, info.Cluster.Leader)
	assert.Zero(t, drained(t, js, q))
}
