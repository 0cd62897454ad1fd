package shutdown_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft/shutdown"
)

// tally counts what keep-alive clients saw across a shutdown.
type tally struct {
	sent     atomic.Int64 // requests written on a connection the server had accepted
	answered atomic.Int64 // got a complete response carrying their own ID
	refused  atomic.Int64 // the server never accepted the connection: a balancer would have gone elsewhere
	lost     atomic.Int64 // sent on an accepted connection, then no response: reset, EOF, closed idle connection

	mu       sync.Mutex
	errs     []string             // the first few losses, for the failure message
	served   map[string]bool      // IDs the handler saw, true once answered to the client
	accepted map[string]time.Time // when the server last accepted a connection from each client-side address
}

func newTally() *tally {
	return &tally{served: make(map[string]bool), accepted: make(map[string]time.Time)}
}

// acceptLog is a listener that records, in its tally, the connections the
// server accepted.
type acceptLog struct {
	net.Listener
	tl *tally
}

func (l acceptLog) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.tl.mu.Lock()
		l.tl.accepted[c.RemoteAddr().String()] = time.Now()
		l.tl.mu.Unlock()
	}
	return c, err
}

// wasAccepted reports whether the server accepted the connection whose
// client-side address is addr and which the client began to dial at
// dialed: an earlier connection from the same port, reused, does not count.
// A connection the kernel completed that was still in the listen backlog
// when the listener closed was not accepted: closing a listening socket
// resets those, and no server can answer them.
func (t *tally) wasAccepted(addr string, dialed time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.accepted[addr]
	return ok && !at.Before(dialed)
}

func (t *tally) handlerSaw(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.served[id] = false
}

func (t *tally) clientGot(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.served[id] = true
}

// servedButLost returns the IDs the handler saw whose answer never reached
// the client.
func (t *tally) servedButLost() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var ids []string
	for id, answered := range t.served {
		if !answered {
			ids = append(ids, id)
		}
	}
	return ids
}

func (t *tally) String() string {
	return fmt.Sprintf("sent %d, answered %d, lost %d, served but lost %d, refused at connect %d",
		t.sent.Load(), t.answered.Load(), t.lost.Load(), len(t.servedButLost()), t.refused.Load())
}

// refusedAtConnect reports whether err is a failure to connect, which a
// client behind a balancer would have retried elsewhere: no request was sent.
func refusedAtConnect(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" || errors.Is(err, syscall.ECONNREFUSED)
}

// post sends one POST with a unique ID over client and records the outcome.
func (t *tally) post(client *http.Client, url, id string) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(id))
	if err != nil {
		panic(err)
	}
	var conn httptrace.GotConnInfo
	var dialed time.Time
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		ConnectStart: func(string, string) { dialed = time.Now() },
		GotConn:      func(info httptrace.GotConnInfo) { conn = info },
	}))
	resp, err := client.Do(req)
	if err != nil {
		if refusedAtConnect(err) || conn.Conn != nil && !conn.Reused && !t.wasAccepted(conn.Conn.LocalAddr().String(), dialed) {
			t.refused.Add(1)
			return
		}
		t.sent.Add(1)
		t.lost.Add(1)
		t.mu.Lock()
		if len(t.errs) < 5 {
			t.errs = append(t.errs, fmt.Sprintf("%v (reused %v, idle %v)", err, conn.Reused, conn.WasIdle))
		}
		t.mu.Unlock()
		return
	}
	t.sent.Add(1)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != id {
		t.lost.Add(1)
		t.mu.Lock()
		if len(t.errs) < 5 {
			t.errs = append(t.errs, fmt.Sprintf("%s: %d %q %v", id, resp.StatusCode, body, err))
		}
		t.mu.Unlock()
		return
	}
	t.answered.Add(1)
	t.clientGot(id)
}

// echoHandler answers a POST with its body, the request's ID, after
// recording it as seen.
func echoHandler(tl *tally) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		tl.handlerSaw(string(body))
		w.Write(body)
	})
}

// keepAliveClients runs n clients, each with its own pool of keep-alive
// connections, POSTing to url one request after another until stop is
// closed or the server refuses to connect. It returns once every client has
// stopped.
func keepAliveClients(tl *tally, n int, url string, stop <-chan struct{}, prefix string) {
	var wg sync.WaitGroup
	for c := range n {
		wg.Go(func() {
			tr := &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				refused := tl.refused.Load()
				tl.post(client, url, fmt.Sprintf("%s-%d-%d", prefix, c, i))
				if tl.refused.Load() != refused {
					return // the server has stopped accepting
				}
			}
		})
	}
	wg.Wait()
}

// loadRound serves echoHandler under a Group with opts, runs keep-alive
// clients against it, and cancels the group's context, as SIGTERM would,
// once the clients have been running for a while. It returns when Run has
// returned and every client has stopped.
func loadRound(t *testing.T, tl *tally, opts []shutdown.Option, clients int, prefix string) {
	t.Helper()
	ln := listen(t)
	url := "http://" + ln.Addr().String()
	g := shutdown.New(opts...)
	g.Add("http", shutdown.HTTPServer(&http.Server{Handler: echoHandler(tl)}, shutdown.Listener(acceptLog{ln, tl})))
	ctx, cancel := context.WithCancelCause(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- g.Run(ctx) }()
	<-g.Started()

	warm := tl.answered.Load() + int64(clients*20)
	stop := make(chan struct{})
	clientsDone := make(chan struct{})
	go func() {
		keepAliveClients(tl, clients, url, stop, prefix)
		close(clientsDone)
	}()
	// Every client has its connections open and in use before the signal.
	for tl.answered.Load() < warm {
		select {
		case <-clientsDone:
			t.Fatalf("clients stopped before the signal: %v", tl)
		default:
			time.Sleep(time.Millisecond) // polling a counter; no ordering depends on it
		}
	}
	cancel(&shutdown.SignalError{Signal: syscall.SIGTERM})
	err := <-runErr
	close(stop)
	<-clientsDone
	require.NoError(t, err, "Run")
}

// Keep-alive clients POSTing without pause through repeated shutdowns, with
// a drain delay: every request written to the server gets its answer, and
// every request the handler saw was answered to its client.
func TestKeepAliveLoadDrainDelay(t *testing.T) {
	tl := newTally()
	for round := range 10 {
		loadRound(t, tl, []shutdown.Option{shutdown.DrainDelay(150 * time.Millisecond), shutdown.Timeout(10 * time.Second)}, 8, strconv.Itoa(round))
	}
	t.Log(tl)
	assert.Zero(t, tl.lost.Load(), "requests lost: %v; first errors: %q", tl, tl.errs)
	assert.Empty(t, tl.servedButLost(), "served but lost")
	assert.Positive(t, tl.answered.Load())
}

// The same load with the default options.
func TestKeepAliveLoadDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("waits the default drain delay")
	}
	t.Parallel()
	tl := newTally()
	loadRound(t, tl, nil, 8, "d")
	t.Log(tl)
	assert.Zero(t, tl.lost.Load(), "requests lost: %v; first errors: %q", tl, tl.errs)
	assert.Empty(t, tl.servedButLost(), "served but lost")
	assert.Positive(t, tl.answered.Load())
}

// laggingBalancer is a TCP proxy that, like kube-proxy or a cloud load
// balancer, keeps sending new connections to the old backend until lag has
// passed since the old one was told to stop, then to the new one. Each
// connection stays with the backend it was given.
type laggingBalancer struct {
	ln       net.Listener
	old, new string
	switchAt atomic.Pointer[time.Time]
	wg       sync.WaitGroup
}

func newLaggingBalancer(t *testing.T, old, new string) *laggingBalancer {
	b := &laggingBalancer{ln: listen(t), old: old, new: new}
	b.wg.Go(b.serve)
	return b
}

// sigterm starts the lag: the endpoint removal reaches the balancer after it.
func (b *laggingBalancer) sigterm(lag time.Duration) {
	at := time.Now().Add(lag)
	b.switchAt.Store(&at)
}

func (b *laggingBalancer) serve() {
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		backend := b.old
		if at := b.switchAt.Load(); at != nil && time.Now().After(*at) {
			backend = b.new
		}
		b.wg.Go(func() { pipe(c, backend) })
	}
}

// pipe copies between c and a connection to backend until either side
// closes, then closes both.
func pipe(c net.Conn, backend string) {
	defer c.Close()
	s, err := net.Dial("tcp", backend)
	if err != nil {
		return // the client sees its connection closed
	}
	defer s.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(s, c); done <- struct{}{} }()
	go func() { io.Copy(c, s); done <- struct{}{} }()
	<-done
	c.Close()
	s.Close()
	<-done
}

func (b *laggingBalancer) close() {
	b.ln.Close()
	b.wg.Wait()
}

// Behind a balancer that keeps routing new connections to the old server
// for a second after SIGTERM, keep-alive clients lose nothing with the
// default options: the drain delay outlasts the lag, and "Connection: close"
// moves every client to the new server through the balancer.
func TestLaggingBalancerDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("waits the default drain delay")
	}
	t.Parallel()
	tl := newTally()
	oldLn, newLn := listen(t), listen(t)
	newSrv := &http.Server{Handler: echoHandler(tl)}
	go newSrv.Serve(newLn)
	defer newSrv.Close()
	bal := newLaggingBalancer(t, oldLn.Addr().String(), newLn.Addr().String())
	defer bal.close()

	g := shutdown.New() // the documented defaults
	g.Add("http", shutdown.HTTPServer(&http.Server{Handler: echoHandler(tl)}, shutdown.Listener(oldLn)))
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- g.Run(ctx) }()
	<-g.Started()

	stop := make(chan struct{})
	clientsDone := make(chan struct{})
	go func() {
		keepAliveClients(tl, 8, "http://"+bal.ln.Addr().String(), stop, "lag")
		close(clientsDone)
	}()
	for tl.answered.Load() < 200 {
		time.Sleep(time.Millisecond) // polling a counter; no ordering depends on it
	}
	bal.sigterm(time.Second)
	cancel()
	require.NoError(t, <-runErr)
	// Traffic goes on, now to the new server only.
	after := tl.answered.Load() + 200
	for tl.answered.Load() < after && tl.lost.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(stop)
	<-clientsDone
	t.Log(tl)
	assert.Zero(t, tl.lost.Load(), "requests lost: %v; first errors: %q", tl, tl.errs)
	assert.Zero(t, tl.refused.Load(), "connections refused")
	assert.Empty(t, tl.servedButLost(), "served but lost")
}
