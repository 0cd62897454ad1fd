package shutdown

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
)

// HTTPOption configures [HTTPServer].
type HTTPOption interface{ applyHTTP(*httpServer) }

type httpOptionFunc func(*httpServer)

func (f httpOptionFunc) applyHTTP(h *httpServer) { f(h) }

// Listener makes the server accept on ln instead of listening on its Addr;
// tests pass a listener on 127.0.0.1:0. The server closes ln when it stops.
// Pass a plain listener: if the server's TLSConfig holds a certificate, the
// server adds TLS itself, and a listener that already speaks TLS would get
// it twice.
// If the group never starts the component (an earlier component failed, or
// the group was cancelled first), ln stays open: close it yourself then.
func Listener(ln net.Listener) HTTPOption {
	if ln == nil {
		panic("shutdown: Listener(nil)")
	}
	return httpOptionFunc(func(h *httpServer) { h.ln = ln })
}

// HTTPServer makes a Component of an http.Server.
//
// Start listens on s.Addr (or uses the [Listener] given), marks the component
// ready and serves until stopped: over TLS when s.TLSConfig holds a
// certificate (Certificates, GetCertificate or GetConfigForClient), as
// s.ServeTLS does, and plain HTTP otherwise. Stop turns keep-alives off and
// calls s.Shutdown: the server stops accepting, closes idle connections and
// waits for requests in flight to complete. If Stop's budget runs out first,
// it calls s.Close and returns both errors. Functions registered with
// s.RegisterOnShutdown run when Shutdown begins: use them to tell hijacked and
// long-lived connections (WebSockets, streams) to finish.
//
// Request contexts are not cancelled by the signal that starts the shutdown,
// so handlers can finish their work: they derive from a hard-stop context
// that is cancelled only when the stop budget runs out or the server has shut
// down. HTTPServer sets s.BaseContext for that; a BaseContext set before is
// replaced. An error from Serve other than [http.ErrServerClosed] is the
// component's failure; the requests in flight then still get the graceful
// Shutdown of the stop that follows. Use one HTTPServer per http.Server.
func HTTPServer(s *http.Server, opts ...HTTPOption) Component {
	if s == nil {
		panic("shutdown: HTTPServer(nil)")
	}
	h := &httpServer{s: s}
	for _, o := range opts {
		o.applyHTTP(h)
	}
	return h
}

type httpServer struct {
	s  *http.Server
	ln net.Listener

	mu   sync.Mutex
	hard context.CancelFunc // cancels the request contexts: the hard stop
}

func (h *httpServer) Start(ctx context.Context) error {
	ln := h.ln
	if ln == nil {
		addr := h.s.Addr
		if addr == "" {
			addr = ":http"
		}
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return err
		}
	}
	hard, cancel := context.WithCancel(context.WithoutCancel(ctx))
	h.mu.Lock()
	h.hard = cancel
	h.mu.Unlock()
	h.s.BaseContext = func(net.Listener) context.Context { return hard }
	MarkReady(ctx)
	var err error
	if c := h.s.TLSConfig; c != nil && (len(c.Certificates) > 0 || c.GetCertificate != nil || c.GetConfigForClient != nil) {
		err = h.s.ServeTLS(ln, "", "")
	} else {
		err = h.s.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	// Serve broke: the group stops the server next, and Stop's Shutdown
	// lets the requests in flight finish before the hard stop cancels
	// their contexts.
	return err
}

func (h *httpServer) Stop(ctx context.Context) error {
	h.s.SetKeepAlivesEnabled(false)
	err := h.s.Shutdown(ctx)
	if err != nil {
		// The budget ran out with requests in flight: cancel their
		// contexts, then close every connection.
		h.hardStop()
		return errors.Join(err, h.s.Close())
	}
	h.hardStop()
	return nil
}

func (h *httpServer) hardStop() {
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

// Graceful makes a Component of a server with a graceful and a hard stop,
// such as a *grpc.Server, without importing it: serve is the blocking serve
// call, for example func() error { return srv.Serve(ln) }.
//
// Start marks the component ready and runs serve. Stop calls GracefulStop,
// which lets calls in flight finish; if Stop's budget runs out first, it calls
// Stop, which ends them, waits for GracefulStop to return, and returns the
// budget's error.
func Graceful(srv GracefulServer, serve func() error) Component {
	if srv == nil || serve == nil {
		panic("shutdown: Graceful with a nil server or serve function")
	}
	return &graceful{srv: srv, serve: serve}
}

type graceful struct {
	srv   GracefulServer
	serve func() error
}

func (g *graceful) Start(ctx context.Context) error {
	MarkReady(ctx)
	return g.serve()
}

func (g *graceful) Stop(ctx context.Context) error {
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
