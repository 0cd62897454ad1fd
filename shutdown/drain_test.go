package shutdown_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/weftgo/weft"
	"github.com/weftgo/weft/shutdown"
)

// A slow OnStop hook's time is its own: the component stopped after it
// still has its whole budget, and is not abandoned.
func TestOnStopHookTimeIsNotChargedToTheNextComponent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := shutdown.New(shutdown.Timeout(5*time.Second), shutdown.DrainDelay(0),
			shutdown.OnStop(func(name string, _ error, _ time.Duration) {
				if name == "api" {
					time.Sleep(1500 * time.Millisecond)
				}
			}))
		g.Add("db", shutdown.Func(nil, func(context.Context) error {
			time.Sleep(4 * time.Second) // within the 5s, if the hook is not charged to it
			return nil
		}))
		g.Add("api", shutdown.Func(nil, nil))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- g.Run(ctx) }()
		<-g.Started()
		start := time.Now()
		cancel()
		require.NoError(t, <-done)
		assert.Empty(t, g.Unfinished())
		assert.Equal(t, 5500*time.Millisecond, time.Since(start), "Run's time: 4s of stops and 1.5s of hook")
	})
}

// A hook that blocks is given up on once its 2s budget is spent: Run
// reports it, stops the rest, calls the hook no more and returns.
func TestOnStopHookThatBlocksIsAbandoned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var calls []string
		g := shutdown.New(shutdown.DrainDelay(0), shutdown.OnStop(func(name string, _ error, _ time.Duration) {
			calls = append(calls, name)
			<-release
		}))
		stopped := false
		g.Add("db", shutdown.Func(nil, func(context.Context) error { stopped = true; return nil }))
		g.Add("api", shutdown.Func(nil, nil))
		ctx, cancel := context.WithCancel(context.Background())
		cancelled := make(chan time.Time, 1)
		go func() { <-g.Started(); cancelled <- time.Now(); cancel() }()
		err := g.Run(ctx)
		took := time.Since(<-cancelled)
		close(release)
		synctest.Wait()
		require.ErrorIs(t, err, shutdown.ErrAbandoned)
		assert.Contains(t, err.Error(), `OnStop hook for "api"`)
		assert.True(t, stopped, "db stopped")
		assert.Equal(t, []string{"api"}, calls, "hook calls")
		assert.Equal(t, 2*time.Second, took)
	})
}

// A hook that panics or calls runtime.Goexit is reported, and the rest are
// stopped.
func TestOnStopHookGoexit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls []string
		g := shutdown.New(shutdown.DrainDelay(0), shutdown.OnStop(func(name string, _ error, _ time.Duration) {
			calls = append(calls, name)
			if name == "api" {
				runtime.Goexit()
			}
		}))
		g.Add("db", shutdown.Func(nil, nil))
		g.Add("api", shutdown.Func(nil, nil))
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-g.Started(); cancel() }()
		err := g.Run(ctx)
		require.ErrorIs(t, err, weft.ErrGoexit)
		assert.Equal(t, []string{"api", "db"}, calls)
	})
}

// doneAfterSleep is a context that never ends whose Done, evaluated as Run
// enters each select, first lets every other goroutine of the bubble run:
// the Starts that return meanwhile make several cases ready at once.
type doneAfterSleep struct{ context.Context }

func (doneAfterSleep) Done() <-chan struct{} {
	time.Sleep(time.Second)
	return nil
}

// Started never closes, and Ready never answers 200, once a Start has
// failed, even when the failure and another component's readiness are
// there to see at the same moment.
func TestStartedNotClosedAfterAFailure(t *testing.T) {
	errBoom := errors.New("boom")
	for range 200 {
		synctest.Test(t, func(t *testing.T) {
			g := shutdown.New(shutdown.DrainDelay(0))
			fail := make(chan struct{})
			g.Add("a", shutdown.Func(func(ctx context.Context) error {
				shutdown.MarkReady(ctx)
				<-fail
				return errBoom
			}, nil))
			g.Add("b", shutdown.Func(func(context.Context) error {
				close(fail)
				return nil
			}, nil))
			ready := false
			go func() {
				select {
				case <-g.Started():
					ready = true
				case <-g.Stopped():
				}
			}()
			err := g.Run(doneAfterSleep{context.Background()})
			synctest.Wait()
			require.ErrorIs(t, err, errBoom)
			require.False(t, ready, "Started closed after a's failure had been observed")
			require.Equal(t, http.StatusServiceUnavailable, status(g.Ready()))
		})
	}
}

// The drain delay is skipped when no component had become ready: a
// cancellation while the first component is still starting, or a first
// Start that fails, ends Run at once; once one is ready, it is waited.
func TestDrainDelaySkippedWhenNothingWasReady(t *testing.T) {
	errDial := errors.New("dial failed")
	tests := []struct {
		name  string
		start func(ctx context.Context) error
		want  time.Duration
	}{
		{"first Start fails", func(context.Context) error { return errDial }, 0},
		// Cut short, it still ends its Start: a second, and no drain.
		{"cancelled while starting", func(ctx context.Context) error { time.Sleep(time.Second); return nil }, time.Second},
		// Cancelled after 1ms, and drained.
		{"ready", func(context.Context) error { return nil }, 5*time.Second + time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				g := shutdown.New() // the default drain delay: 5s
				g.Add("db", shutdown.Func(tt.start, nil))
				g.Add("api", shutdown.Func(func(ctx context.Context) error { <-ctx.Done(); return nil }, nil))
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				time.AfterFunc(time.Millisecond, cancel)
				start := time.Now()
				g.Run(ctx)
				assert.Equal(t, tt.want, time.Since(start))
			})
		})
	}
}

// slowAnswer is a handler that answers only once its request's context is
// cancelled: at the hard stop.
func slowAnswer(entered chan<- struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-r.Context().Done()
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "shutting down")
	})
}

// At the hard stop, a handler that answers when its context is cancelled
// gets its answer to the client before the connection is closed.
func TestHardStopAnswerReachesTheClient(t *testing.T) {
	ln := listen(t)
	t.Parallel()
	entered := make(chan struct{}, 1)
	// The group's margin after Stop's deadline is a twentieth of the
	// budget: enough for the hard stop on a loaded machine.
	g := shutdown.New(shutdown.Timeout(5*time.Second), shutdown.DrainDelay(0))
	g.Add("http", shutdown.HTTPServer(&http.Server{Handler: slowAnswer(entered)}, shutdown.Listener(ln)))
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- g.Run(ctx) }()
	<-g.Started()
	type result struct {
		code int
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		code, body, err := get("http://" + ln.Addr().String())
		got <- result{code, body, err}
	}()
	<-entered
	cancel()
	r := <-got
	require.NoError(t, r.err, "the client's answer")
	assert.Equal(t, http.StatusServiceUnavailable, r.code)
	assert.Equal(t, "shutting down", r.body)
	err := <-runErr
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the stop overran its budget")
	assert.Empty(t, g.Unfinished())
	http.DefaultClient.CloseIdleConnections()
}

// A WebSocket-style handler hijacks its connection and, told by Track that
// the server is stopping, needs 50ms to say goodbye: Stop waits for it, and
// its client gets the goodbye.
func TestTrackedHijackedConnectionFinishes(t *testing.T) {
	ln := listen(t)
	var finished atomic.Bool
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stop, done := shutdown.Track(r)
		defer done()
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nhello\n")
		buf.Flush()
		<-stop
		time.Sleep(50 * time.Millisecond) // the goodbye takes time: this is the handler's work
		buf.WriteString("bye\n")
		buf.Flush()
		finished.Store(true)
	})}
	g := shutdown.New(shutdown.Timeout(5*time.Second), shutdown.DrainDelay(0))
	g.Add("ws", shutdown.HTTPServer(srv, shutdown.Listener(ln)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- g.Run(ctx) }()
	<-g.Started()

	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second)) // a bound on a broken server, not a synchronisation
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	rd := bufio.NewReader(c)
	var lines []string
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			break
		}
		lines = append(lines, strings.TrimSpace(line))
		if line == "hello\n" {
			cancel() // the connection is up: SIGTERM
		}
	}
	require.NoError(t, <-runErr)
	assert.True(t, finished.Load(), "Run returned before the tracked handler finished")
	assert.Contains(t, lines, "hello")
	assert.Equal(t, "bye", lines[len(lines)-1], "the client's last line")
}

// Track on a request that no HTTPServer serves gives a channel that is
// never closed and a done that does nothing.
func TestTrackOutsideHTTPServer(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	stop, done := shutdown.Track(r)
	assert.Nil(t, stop)
	done()
	done()
}

// grpcLike has the stop semantics of a *grpc.Server: Serve after a stop
// returns errServerStopped at once; a stop during Serve makes it return nil.
type grpcLike struct {
	mu      sync.Mutex
	stopped bool
	ln      net.Listener
	quit    chan struct{}
}

var errServerStopped = errors.New("grpc: the server has been stopped")

func newGRPCLike() *grpcLike { return &grpcLike{quit: make(chan struct{})} }

func (s *grpcLike) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		ln.Close()
		return errServerStopped
	}
	s.ln = ln
	s.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			select {
			case <-s.quit:
				return nil
			default:
				return err
			}
		}
		c.Close()
	}
}

func (s *grpcLike) GracefulStop() { s.Stop() }

func (s *grpcLike) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	s.stopped = true
	close(s.quit)
	if s.ln != nil {
		s.ln.Close()
	}
}

// A gRPC-style server whose serve function opens its own listener ends
// cleanly on a signal, whether the stop comes before or during Serve.
func TestGracefulServeListensItself(t *testing.T) {
	runs := 1000
	if testing.Short() {
		runs = 100
	}
	failed := 0
	var first error
	for i := range runs {
		srv := newGRPCLike()
		g := shutdown.New(shutdown.DrainDelay(0))
		g.Add("grpc", shutdown.Graceful(srv, func() error {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			return srv.Serve(ln)
		}))
		ctx, cancel := context.WithCancelCause(context.Background())
		if i%2 == 0 {
			go func() {
				select {
				case <-g.Started():
				case <-g.Stopped():
				}
				cancel(&shutdown.SignalError{Signal: syscall.SIGTERM})
			}()
		} else {
			cancel(&shutdown.SignalError{Signal: syscall.SIGTERM})
		}
		if err := g.Run(ctx); err != nil {
			failed++
			first = cmpOr(first, err)
		}
		cancel(nil)
		<-g.Stopped()
	}
	assert.Zero(t, failed, "%d of %d runs failed; first: %v", failed, runs, first)
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// An error from serve before the group stops the component is still its
// failure.
func TestGracefulServeFailure(t *testing.T) {
	errListen := errors.New("listen: address in use")
	g := shutdown.New(shutdown.DrainDelay(0))
	g.Add("grpc", shutdown.Graceful(newGRPCLike(), func() error { return errListen }))
	err := g.Run(context.Background())
	var se *shutdown.StartError
	require.ErrorAs(t, err, &se)
	assert.ErrorIs(t, err, errListen)
}

// With TLS and no Addr, the server listens on :https, as ListenAndServeTLS
// does: here the port is taken (or cannot be bound), and the error says
// which port was tried.
func TestHTTPServerTLSDefaultAddr(t *testing.T) {
	if held, err := net.Listen("tcp", ":443"); err == nil {
		defer held.Close()
	}
	ts := httptest.NewTLSServer(http.NotFoundHandler())
	cfg := ts.TLS.Clone()
	ts.Close()
	g := shutdown.New()
	g.Add("https", shutdown.HTTPServer(&http.Server{TLSConfig: cfg}))
	// Bounded, in case the server listens somewhere it should not.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := g.Run(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), ":443")
}

// Over HTTP/2, the answer given while the group drains carries a GOAWAY:
// the client's next request goes over a new connection.
func TestHTTP2DrainSendsGOAWAY(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) })
	ts := httptest.NewUnstartedServer(h)
	ts.EnableHTTP2 = true
	ts.StartTLS()
	cfg, client := ts.TLS.Clone(), ts.Client()
	ts.Close()
	cfg.NextProtos = []string{"h2", "http/1.1"}
	ln := listen(t)
	g := shutdown.New(shutdown.DrainDelay(time.Second), shutdown.Timeout(10*time.Second))
	g.Add("h2", shutdown.HTTPServer(&http.Server{Handler: h, TLSConfig: cfg}, shutdown.Listener(ln)))
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- g.Run(ctx) }()
	defer func() { cancel(); <-runErr }()
	<-g.Started()

	url := "https://" + ln.Addr().String()
	do := func() (proto string, reused bool) {
		t.Helper()
		var info httptrace.GotConnInfo
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { info = i }}))
		resp, err := client.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return string(body), info.Reused
	}
	proto, _ := do()
	require.Equal(t, "HTTP/2.0", proto)
	_, reused := do()
	require.True(t, reused, "keep-alive before shutdown")
	cancel()
	<-g.ShuttingDown()
	_, reused = do() // on the old connection, answered with GOAWAY
	assert.True(t, reused)
	// The client sees the GOAWAY when it reads the connection: wait for the
	// old one to go, as a client between two requests would.
	var reusedAfter bool
	for range 100 {
		if _, reusedAfter = do(); !reusedAfter {
			break
		}
	}
	assert.False(t, reusedAfter, "after the GOAWAY the client opened a new connection")
	client.CloseIdleConnections()
}
