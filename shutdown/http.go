package shutdown

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// HTTPOption configures [HTTPServer].
type HTTPOption interface{ applyHTTP(*httpServer) }

type httpOptionFunc func(*httpServer)

func (f httpOptionFunc) applyHTTP(h *httpServer) { f(h) }

// Listener makes the server accept on ln, a plain (non-TLS) listener, instead
// of listening on its Addr; the server closes ln when it stops, unless the
// group never started it.
func Listener(ln net.Listener) HTTPOption {
	if ln == nil {
		panic("shutdown: Listener(nil)")
	}
	return httpOptionFunc(func(h *httpServer) { h.ln = ln })
}

// HTTPServer makes a Component of an http.Server, serving on s.Addr or a
// [Listener], over TLS when s.TLSConfig holds a certificate. Stop stops
// accepting, closes the idle connections and waits for the requests in flight
// and for handlers using [Track]; if its budget runs out first, it cancels the
// request contexts (nothing else does), closes every connection and returns
// the budget's error.
//
// HTTPServer sets s.BaseContext and wraps s.ConnState, s.ConnContext and
// s.Handler; use one per http.Server. Nothing waits for functions given to
// s.RegisterOnShutdown.
func HTTPServer(s *http.Server, opts ...HTTPOption) Component {
	// From the moment the group begins shutting down, every response says
	// "Connection: close" (GOAWAY over HTTP/2), and Stop gives each open
	// connection a moment to carry one more request before it closes the
	// idle ones.
	if s == nil {
		panic("shutdown: HTTPServer(nil)")
	}
	h := &httpServer{s: s, notice: make(chan struct{}), served: make(chan struct{}), conns: make(map[net.Conn]*connUse)}
	for _, o := range opts {
		o.applyHTTP(h)
	}
	return h
}

type httpServer struct {
	s      *http.Server
	ln     net.Listener
	drain  <-chan struct{} // the group's Draining channel, set before Serve
	notice chan struct{}   // closed when Stop begins: tracked handlers finish
	served chan struct{}   // closed when Serve has returned

	stopping   atomic.Bool // Stop has begun
	noticeOnce sync.Once

	mu     sync.Mutex
	hard   context.CancelFunc    // cancels the request contexts: the hard stop
	sl     *stopListener         // what Serve accepts on; nil until Start has it
	conns  map[net.Conn]*connUse // the connections open
	busy   counter               // connections with a request active
	untold counter               // connections not yet answered with "Connection: close"
	held   counter               // handlers holding a connection through Track
}

// connUse is what the server knows of a connection.
type connUse struct {
	state http.ConnState
	told  bool // a handler has begun answering with "Connection: close"
}

// counter counts things in use and says when none is.
type counter struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed when n drops to 0; nil while nobody waits
}

func (c *counter) add(d int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n += d
	if c.n == 0 && c.zero != nil {
		close(c.zero)
		c.zero = nil
	}
}

// none returns a channel closed once the count is 0.
func (c *counter) none() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	if c.zero == nil {
		c.zero = make(chan struct{})
	}
	return c.zero
}

// stopListener lets Stop close the socket, so that no connection is
// accepted, while Serve's accept loop waits for Shutdown: net/http drops,
// unanswered, a request it reads once Shutdown has begun, so the requests
// on connections already accepted must reach a handler first.
type stopListener struct {
	net.Listener
	stopOnce, closeOnce sync.Once
	stopped             chan struct{} // closed by stop
	parked              chan struct{} // closed when Accept has seen the closed socket
	parkOnce            sync.Once
	closed              chan struct{} // closed by Close, which Shutdown calls
}

func newStopListener(ln net.Listener) *stopListener {
	return &stopListener{Listener: ln, stopped: make(chan struct{}), parked: make(chan struct{}), closed: make(chan struct{})}
}

func (l *stopListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil && closed(l.stopped) {
		// Every connection accepted before has been handed to the
		// server, which has registered it.
		l.parkOnce.Do(func() { close(l.parked) })
		<-l.closed
		return nil, net.ErrClosed
	}
	return c, err
}

// stop closes the socket: connections are no longer accepted.
func (l *stopListener) stop() {
	l.stopOnce.Do(func() {
		close(l.stopped)
		l.Listener.Close()
	})
}

func (l *stopListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	l.stop()
	return nil
}

type trackKey struct{}

// Track tells the [HTTPServer] serving r that its handler keeps the
// connection, as a WebSocket does, so that the server's Stop waits, within
// its budget, until done is called. stop is closed when that Stop begins.
// Outside an HTTPServer, stop is nil and done does nothing.
func Track(r *http.Request) (stop <-chan struct{}, done func()) {
	// A tracked connection may be hijacked or not: the count, not the
	// connection's state, is what Stop waits for.
	h, ok := r.Context().Value(trackKey{}).(*httpServer)
	if !ok {
		return nil, func() {}
	}
	h.held.add(1)
	var once sync.Once
	return h.notice, func() { once.Do(func() { h.held.add(-1) }) }
}

// tls reports whether the server serves TLS: its TLSConfig holds a
// certificate (Certificates, GetCertificate or GetConfigForClient), as
// ServeTLS with no files needs.
func (h *httpServer) tls() bool {
	c := h.s.TLSConfig
	return c != nil && (len(c.Certificates) > 0 || c.GetCertificate != nil || c.GetConfigForClient != nil)
}

func (h *httpServer) Start(ctx context.Context) error {
	ln := h.ln
	if ln == nil {
		addr := h.s.Addr
		if addr == "" {
			addr = ":http"
			if h.tls() {
				addr = ":https"
			}
		}
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return err
		}
	}
	defer close(h.served)
	sl := newStopListener(ln)
	hard, cancel := context.WithCancel(context.WithValue(context.WithoutCancel(ctx), trackKey{}, h))
	h.mu.Lock()
	h.hard, h.sl = cancel, sl
	h.mu.Unlock()
	h.drain = Draining(ctx)
	h.s.BaseContext = func(net.Listener) context.Context { return hard }
	inner := h.s.Handler
	if inner == nil {
		inner = http.DefaultServeMux
	}
	h.s.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.draining() {
			// HTTP/1 closes the connection after this answer; HTTP/2
			// sends GOAWAY. Unlike SetKeepAlivesEnabled(false), this
			// closes no idle connection a client may be writing to.
			// Keep-alive clients thus reconnect through the balancer,
			// which no longer sends them here.
			w.Header().Set("Connection", "close")
			if c, ok := r.Context().Value(connKey{}).(net.Conn); ok {
				h.tell(c)
			}
		}
		inner.ServeHTTP(w, r)
	})
	prevState := h.s.ConnState
	h.s.ConnState = func(c net.Conn, st http.ConnState) {
		h.connState(c, st)
		if prevState != nil {
			prevState(c, st)
		}
	}
	prevContext := h.s.ConnContext
	h.s.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if prevContext != nil {
			ctx = prevContext(ctx, c)
		}
		return context.WithValue(ctx, connKey{}, c)
	}
	MarkReady(ctx)
	var err error
	if h.tls() {
		err = h.s.ServeTLS(sl, "", "")
	} else {
		err = h.s.Serve(sl)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	// Serve broke: the group stops the server next, and Stop's Shutdown
	// lets the requests in flight finish before the hard stop cancels
	// their contexts.
	return err
}

type connKey struct{}

// draining reports whether shutdown has begun.
func (h *httpServer) draining() bool {
	return h.stopping.Load() || closed(h.drain)
}

// baseConn returns the connection under a TLS one, so that a connection
// has one key whatever ConnState was given.
func baseConn(c net.Conn) net.Conn {
	if u, ok := c.(interface{ NetConn() net.Conn }); ok {
		return u.NetConn()
	}
	return c
}

// connState follows each connection, so that Stop knows which ones have
// not been told to close yet, and the hard stop which ones are writing an
// answer.
func (h *httpServer) connState(c net.Conn, st http.ConnState) {
	c = baseConn(c)
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.conns[c]
	if u == nil {
		u = &connUse{}
		h.conns[c] = u
		h.untold.add(1)
	}
	if u.state == http.StateActive && st != http.StateActive {
		h.busy.add(-1)
	} else if u.state != http.StateActive && st == http.StateActive {
		h.busy.add(1)
	}
	u.state = st
	if st == http.StateHijacked || st == http.StateClosed {
		if !u.told {
			h.untold.add(-1)
		}
		delete(h.conns, c)
	}
}

// tell records that a handler has begun answering on c with "Connection:
// close": the client will not send on it again, and Shutdown can no longer
// drop the request, which a handler has.
func (h *httpServer) tell(c net.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if u := h.conns[baseConn(c)]; u != nil && !u.told {
		u.told = true
		h.untold.add(-1)
	}
}

func (h *httpServer) Stop(ctx context.Context) error {
	h.stopping.Store(true)
	h.noticeOnce.Do(func() { close(h.notice) })
	h.mu.Lock()
	sl := h.sl
	h.mu.Unlock()
	if sl != nil {
		// Accept no more, and give every connection, for at most a
		// second or a quarter of the budget, the time to carry
		// one more request, which a handler begins and answers with
		// "Connection: close": net/http's Shutdown drops unanswered a
		// request it reads once it has begun, and closes idle
		// connections under clients that may be writing to them.
		sl.stop()
		select {
		case <-sl.parked:
		case <-h.served:
		case <-ctx.Done():
		}
		wait := time.Second
		if deadline, ok := ctx.Deadline(); ok {
			wait = min(wait, time.Until(deadline)/4)
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-h.untold.none():
			case <-t.C:
			case <-ctx.Done():
			}
			t.Stop()
		}
	}
	// Shutdown runs under a context of its own, so that the hard stop can
	// let answers go out before it ends Shutdown and closes connections.
	sctx, cancelShutdown := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelShutdown()
	shut := make(chan error, 1)
	go func() { shut <- h.s.Shutdown(sctx) }()
	held := h.held.none()
	var shutErr error
	for waiting := 2; waiting > 0; waiting-- {
		select {
		case shutErr = <-shut:
			shut = nil
		case <-held:
			held = nil
		case <-ctx.Done():
			return h.hardStop(ctx, cancelShutdown, shut)
		}
	}
	h.cancelRequests()
	return shutErr
}

// hardStop ends the stop whose budget ran out: it cancels the request
// contexts, waits, until shortly before the group gives up, for the handlers
// that answer on cancellation to have written their answer, then closes
// every connection. shut is nil if Shutdown has already returned.
func (h *httpServer) hardStop(ctx context.Context, cancelShutdown context.CancelFunc, shut <-chan error) error {
	h.cancelRequests()
	grace := 50 * time.Millisecond
	if giveUp, ok := ctx.Value(hardKey{}).(time.Time); ok {
		grace = time.Until(giveUp) / 3 // the rest to close and return
	}
	if grace > 0 {
		t := time.NewTimer(grace)
		for _, ch := range []<-chan struct{}{h.busy.none(), h.held.none()} {
			select {
			case <-ch:
			case <-t.C:
			}
		}
		t.Stop()
	}
	cancelShutdown()
	if shut != nil {
		<-shut
	}
	return errors.Join(ctx.Err(), h.s.Close())
}

func (h *httpServer) cancelRequests() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.hard != nil {
		h.hard()
	}
}

// GracefulServer is what [Graceful] stops: a server with a graceful and a
// hard stop, such as a *grpc.Server.
type GracefulServer interface {
	GracefulStop()
	Stop()
}

// Graceful makes a Component of srv: Start marks it ready and runs serve,
// its blocking serve call on a listener opened beforehand. Stop calls srv.GracefulStop, or
// srv.Stop once its budget runs out, then returning the budget's error;
// whatever serve returns once the stop has begun ends the component cleanly.
func Graceful(srv GracefulServer, serve func() error) Component {
	if srv == nil || serve == nil {
		panic("shutdown: Graceful with a nil server or serve function")
	}
	return &graceful{srv: srv, serve: serve}
}

type graceful struct {
	srv      GracefulServer
	serve    func() error
	stopping atomic.Bool
}

func (g *graceful) Start(ctx context.Context) error {
	// Whatever serve returns once Stop has begun is the server's answer to
	// being stopped (grpc.ErrServerStopped when the stop came before
	// Serve), not a failure; a serve not yet called then is not called.
	MarkReady(ctx)
	if g.stopping.Load() {
		return nil
	}
	err := g.serve()
	if g.stopping.Load() {
		return nil
	}
	return err
}

func (g *graceful) Stop(ctx context.Context) error {
	g.stopping.Store(true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.srv.GracefulStop()
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		g.srv.Stop()
		<-done
		return ctx.Err()
	}
}
