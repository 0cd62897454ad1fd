package shutdown_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weftgo/weft/shutdown"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func get(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

func status(h http.Handler) int {
	w := &statusWriter{header: http.Header{}}
	h.ServeHTTP(w, nil)
	return w.code
}

type statusWriter struct {
	header http.Header
	code   int
}

func (w *statusWriter) Header() http.Header         { return w.header }
func (w *statusWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *statusWriter) WriteHeader(code int)        { w.code = code }

// A request in flight when shutdown begins completes with 200 and its
// context is not cancelled; during the drain delay the server still serves
// while readiness says 503; after the stop, new connections are refused.
func TestHTTPServerDrainsInFlight(t *testing.T) {
	ln := listen(t)
	url := "http://" + ln.Addr().String()
	entered := make(chan struct{})
	release := make(chan struct{})
	var ctxErr atomic.Value
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		if err := r.Context().Err(); err != nil {
			ctxErr.Store(err)
		}
		io.WriteString(w, "done")
	})
	mux.HandleFunc("/fast", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })

	const drain = 300 * time.Millisecond
	g := shutdown.New(shutdown.DrainDelay(drain), shutdown.Timeout(10*time.Second))
	g.Add("http", shutdown.HTTPServer(&http.Server{Handler: mux}, shutdown.Listener(ln)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()

	type result struct {
		code int
		body string
		err  error
	}
	<-g.Started()
	slow := make(chan result, 1)
	go func() {
		code, body, err := get(url + "/slow")
		slow <- result{code, body, err}
	}()
	<-entered
	if got := status(g.Ready()); got != 200 {
		t.Fatalf("Ready while serving = %d, want 200", got)
	}

	cancel()
	<-g.ShuttingDown()
	began := time.Now()
	if got := status(g.Ready()); got != 503 {
		t.Fatalf("Ready after shutdown began = %d, want 503", got)
	}
	// Still accepting during the drain delay.
	if code, body, err := get(url + "/fast"); err != nil || code != 200 || body != "ok" {
		t.Fatalf("request during the drain delay: %d %q %v, want 200", code, body, err)
	}
	close(release)
	r := <-slow
	if r.err != nil || r.code != 200 || r.body != "done" {
		t.Fatalf("in-flight request: %d %q %v, want 200 done", r.code, r.body, r.err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if took := time.Since(began); took < drain {
		t.Fatalf("Run returned %v after shutdown began, before the %v drain delay", took, drain)
	}
	if err, _ := ctxErr.Load().(error); err != nil {
		t.Fatalf("the in-flight request's context was cancelled: %v", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Fatal("a new connection was accepted after the server stopped")
	}
	http.DefaultClient.CloseIdleConnections()
}

// A handler that outlives the stop budget sees its context cancelled at the
// hard stop, and Run reports the overrun.
func TestHTTPServerHardStop(t *testing.T) {
	ln := listen(t)
	entered := make(chan struct{})
	handlerErr := make(chan error, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done()
		handlerErr <- r.Context().Err()
	})}
	t.Parallel()
	// The group's margin after Stop's deadline is a twentieth of the
	// budget: enough for the hard stop on a loaded machine.
	g := shutdown.New(shutdown.Timeout(5*time.Second), shutdown.DrainDelay(0))
	g.Add("http", shutdown.HTTPServer(srv, shutdown.Listener(ln)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	go get("http://" + ln.Addr().String())
	<-entered
	cancel()
	err := <-done
	var se *shutdown.StopError
	if !errors.As(err, &se) || se.Name != "http" || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v, want a StopError for http with the deadline", err)
	}
	if err := <-handlerErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("handler context error %v, want context.Canceled at the hard stop", err)
	}
	http.DefaultClient.CloseIdleConnections()
}

func TestHTTPServerListenError(t *testing.T) {
	ln := listen(t)
	defer ln.Close()
	g := shutdown.New()
	g.Add("http", shutdown.HTTPServer(&http.Server{Addr: ln.Addr().String()}))
	err := g.Run(context.Background())
	var se *shutdown.StartError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("Run = %v, want a StartError for the taken address", err)
	}
}

// fakeGRPC stands in for a *grpc.Server.
type fakeGRPC struct {
	serving  chan struct{} // closed when serve runs
	stop     chan struct{} // closed by Stop or a finished GracefulStop
	inflight chan struct{} // GracefulStop waits for it
	hard     atomic.Bool
}

func (f *fakeGRPC) serve() error { close(f.serving); <-f.stop; return nil }
func (f *fakeGRPC) GracefulStop() {
	select {
	case <-f.inflight:
		close(f.stop)
	case <-f.stop:
	}
}
func (f *fakeGRPC) Stop() { f.hard.Store(true); close(f.stop) }

func TestGraceful(t *testing.T) {
	for _, stuck := range []bool{false, true} {
		f := &fakeGRPC{serving: make(chan struct{}), stop: make(chan struct{}), inflight: make(chan struct{})}
		if !stuck {
			close(f.inflight)
		}
		// The group's margin after Stop's deadline is a twentieth of the
		// budget: enough for the hard Stop on a loaded machine.
		g := shutdown.New(shutdown.Timeout(4*time.Second), shutdown.DrainDelay(0))
		g.Add("grpc", shutdown.Graceful(f, f.serve))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- g.Run(ctx) }()
		<-f.serving
		cancel()
		err := <-done
		if stuck != f.hard.Load() {
			t.Fatalf("stuck=%v: hard Stop called = %v", stuck, f.hard.Load())
		}
		if stuck != errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("stuck=%v: Run = %v", stuck, err)
		}
	}
}

// breakingListener accepts until broke is closed, then fails every Accept.
type breakingListener struct {
	net.Listener
	broke chan struct{}
}

func (b *breakingListener) Accept() (net.Conn, error) {
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := b.Listener.Accept()
		ch <- res{c, err}
	}()
	select {
	case r := <-ch:
		return r.c, r.err
	case <-b.broke:
		return nil, errors.New("accept: listener broke")
	}
}

// When Serve breaks, the requests in flight still finish under the graceful
// Shutdown that follows: their contexts are not cancelled before it.
func TestHTTPServerServeFailureDrainsInFlight(t *testing.T) {
	base := listen(t)
	ln := &breakingListener{Listener: base, broke: make(chan struct{})}
	entered, release := make(chan struct{}), make(chan struct{})
	var ctxErr atomic.Value
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		ctxErr.Store(fmt.Sprint(r.Context().Err()))
	})}
	g := shutdown.New(shutdown.Timeout(10*time.Second), shutdown.DrainDelay(0))
	g.Add("http", shutdown.HTTPServer(srv, shutdown.Listener(ln)))
	runErr := make(chan error, 1)
	go func() { runErr <- g.Run(context.Background()) }()
	<-g.Started()
	got := make(chan int, 1)
	go func() {
		code, _, _ := get("http://" + base.Addr().String())
		got <- code
	}()
	<-entered
	close(ln.broke)
	<-g.ShuttingDown()
	close(release)
	if code := <-got; code != http.StatusOK {
		t.Fatalf("request in flight got %d, want 200", code)
	}
	if e := ctxErr.Load(); e != "<nil>" {
		t.Fatalf("request context error %v when the handler returned, want none", e)
	}
	var se *shutdown.StartError
	if err := <-runErr; !errors.As(err, &se) || !strings.Contains(err.Error(), "listener broke") {
		t.Fatalf("Run = %v, want the *StartError of the broken listener", err)
	}
}

// A server whose TLSConfig holds a certificate serves TLS.
func TestHTTPServerTLS(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secure") })
	ts := httptest.NewUnstartedServer(h)
	ts.StartTLS() // for its certificate and a client that trusts it
	cfg, client := ts.TLS.Clone(), ts.Client()
	ts.Close()
	ln := listen(t)
	g := shutdown.New(shutdown.DrainDelay(0))
	g.Add("https", shutdown.HTTPServer(&http.Server{Handler: h, TLSConfig: cfg}, shutdown.Listener(ln)))
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- g.Run(ctx) }()
	<-g.Started()
	resp, err := client.Get("https://" + ln.Addr().String())
	if err != nil {
		cancel()
		<-runErr
		t.Fatalf("GET over TLS: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cancel()
	if err := <-runErr; err != nil || string(body) != "secure" || resp.TLS == nil {
		t.Fatalf("Run = %v, body %q, TLS %v; want a clean stop and the body over TLS", err, body, resp.TLS != nil)
	}
}
