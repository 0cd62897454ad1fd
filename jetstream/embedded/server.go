package embedded

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Server is a NATS server with JetStream running in this process, and a
// connection to it.
type Server struct {
	ns   *server.Server
	nc   *nats.Conn
	dir  string
	stop sync.Once
}

// Option configures the server Start runs.
type Option interface{ apply(*config) }

type config struct {
	opts     server.Options
	natsOpts []nats.Option
	ready    time.Duration
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Port makes the server listen for clients on port of 127.0.0.1. The
// default, 0, takes a free port; [Server.URL] says which. A server started
// again on the same directory should get the same port, so that the
// connections of other processes find it when they reconnect. It panics
// if port is negative or above 65535.
func Port(port int) Option {
	if port < 0 || port > 65535 {
		panic(fmt.Sprintf("embedded: Port(%d): not a TCP port", port))
	}
	return optionFunc(func(c *config) { c.opts.Port = port })
}

// Configure lets f change the server's options after the others are set:
// a server name, a cluster and its routes, limits, TLS. f must leave
// JetStream enabled, or Start returns an error.
func Configure(f func(o *server.Options)) Option {
	if f == nil {
		panic("embedded: Configure(nil)")
	}
	return optionFunc(func(c *config) { f(&c.opts) })
}

// ConnOptions adds options to the connection Start makes, after its own:
// a name, reconnect limits, handlers.
func ConnOptions(opts ...nats.Option) Option {
	return optionFunc(func(c *config) { c.natsOpts = append(c.natsOpts, opts...) })
}

// ReadyTimeout sets how long Start waits for the server to take
// connections before it gives up; the default is 10 seconds. A cluster
// node waits for its peers only through the connection's reconnects, not
// here. It panics if d <= 0.
func ReadyTimeout(d time.Duration) Option {
	if d <= 0 {
		panic(fmt.Sprintf("embedded: ReadyTimeout(%v): must be positive", d))
	}
	return optionFunc(func(c *config) { c.ready = d })
}

// ErrNotReady is returned by Start when the server did not take
// connections within the ReadyTimeout.
var ErrNotReady = errors.New("embedded: server not ready")

// Start starts a NATS server in this process with JetStream enabled and
// file storage in dir (created if it does not exist), listening on
// 127.0.0.1, and connects to it. It returns once the server takes
// connections. The connection reconnects without limit, so that it
// outlives a restart of the server on the same port; [Server.Stop] closes it.
//
// Start starts the server's goroutines, which Stop ends. It returns an
// error if dir is empty, the options are invalid, the port is taken, or the
// server is not ready in time (ErrNotReady); nothing is left running then.
func Start(dir string, opts ...Option) (*Server, error) {
	if dir == "" {
		return nil, errors.New("embedded: start: empty directory")
	}
	c := config{
		opts: server.Options{
			Host:      "127.0.0.1",
			Port:      server.RANDOM_PORT,
			JetStream: true,
			StoreDir:  dir,
			NoLog:     true,
			NoSigs:    true,
		},
		ready: 10 * time.Second,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.opts.Port == 0 {
		c.opts.Port = server.RANDOM_PORT
	}
	if !c.opts.JetStream {
		return nil, errors.New("embedded: start: JetStream disabled by Configure")
	}
	ns, err := server.NewServer(&c.opts)
	if err != nil {
		return nil, fmt.Errorf("embedded: start: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(c.ready) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("embedded: start %s: %w", dir, ErrNotReady)
	}
	natsOpts := append([]nats.Option{
		nats.Name("weft-embedded"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(100 * time.Millisecond),
	}, c.natsOpts...)
	nc, err := nats.Connect(ns.ClientURL(), natsOpts...)
	if err != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, fmt.Errorf("embedded: connect: %w", err)
	}
	return &Server{ns: ns, nc: nc, dir: dir}, nil
}

// Conn returns the connection Start made. It is closed by Stop.
func (s *Server) Conn() *nats.Conn { return s.nc }

// URL returns the URL clients connect to, such as nats://127.0.0.1:4222.
func (s *Server) URL() string { return s.ns.ClientURL() }

// Dir returns the directory JetStream stores its data in.
func (s *Server) Dir() string { return s.dir }

// NATS returns the server itself, for what this package does not cover:
// its cluster state, its monitoring, a Shutdown that leaves the connection
// open. Use Stop to stop it.
func (s *Server) NATS() *server.Server { return s.ns }

// Stop closes the connection Start made, shuts the server down and waits
// until it has stopped: until its goroutines have exited and its files are
// closed. Data stays in the directory. Calls after the first do nothing.
func (s *Server) Stop() {
	s.stop.Do(func() {
		s.nc.Close()
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
	})
}
