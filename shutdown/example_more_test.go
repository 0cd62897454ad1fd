package shutdown_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/weftgo/weft/shutdown"
)

// StopTimeout bounds each component's stop: a component that does not stop
// within it is abandoned, named by Unfinished, and the group goes on
// stopping the others.
func ExampleStopTimeout() {
	ctx, cancel := context.WithCancel(context.Background())
	g := shutdown.New(shutdown.DrainDelay(0), shutdown.StopTimeout(50*time.Millisecond))
	g.Add("db", shutdown.Func(
		func(context.Context) error { return nil },
		func(context.Context) error { fmt.Println("db closed"); return nil },
	))
	stuck := make(chan struct{})
	defer close(stuck)
	g.Add("exporter", shutdown.Func(
		func(context.Context) error { return nil },
		func(context.Context) error { <-stuck; return nil }, // ignores its context
	))
	go func() { <-g.Started(); cancel() }()
	err := g.Run(ctx)
	fmt.Println(errors.Is(err, shutdown.ErrAbandoned), g.Unfinished())
	// Output:
	// db closed
	// true [exporter]
}

// fakeRPC stands in for a *grpc.Server: Serve blocks until a stop.
type fakeRPC struct{ stopped chan struct{} }

func (s *fakeRPC) Serve() error  { <-s.stopped; return errors.New("rpc: server stopped") }
func (s *fakeRPC) GracefulStop() { close(s.stopped) }
func (s *fakeRPC) Stop()         {}

// Graceful makes a component of any server with a graceful and a hard stop,
// such as a *grpc.Server, without importing it. The server's own "stopped"
// error after the group's stop is a clean end.
func ExampleGraceful() {
	ctx, cancel := context.WithCancel(context.Background())
	srv := &fakeRPC{stopped: make(chan struct{})}
	g := shutdown.New(shutdown.DrainDelay(0))
	g.Add("rpc", shutdown.Graceful(srv, srv.Serve))
	go func() { <-g.Started(); cancel() }()
	fmt.Println("Run:", g.Run(ctx))
	// Output: Run: <nil>
}

// Signals is OnSignal with every setting exposed: which signals to watch,
// and what a second one does.
func ExampleSignals() {
	ctx, stop := shutdown.Signals{
		Signals: []os.Signal{syscall.SIGUSR1},
		Exit:    func(code int) { fmt.Println("exit", code) },
	}.Notify(context.Background())
	defer stop()

	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	<-ctx.Done()
	fmt.Println(context.Cause(ctx))
	// Output: shutdown: received user defined signal 1
}

// OnStart and OnStop see each component's start and stop, with its outcome
// and duration: the place to log them or export their timings.
func ExampleOnStart() {
	g := shutdown.New(
		shutdown.DrainDelay(0),
		shutdown.OnStart(func(name string, err error, took time.Duration) {
			fmt.Printf("started %s: %v\n", name, err)
		}),
		shutdown.OnStop(func(name string, err error, took time.Duration) {
			fmt.Printf("stopped %s: %v\n", name, err)
		}),
	)
	g.Add("db", shutdown.Func(nil, nil))
	g.Add("cache", shutdown.Func(func(context.Context) error { return errors.New("no route") }, nil))
	fmt.Println(g.Run(context.Background()))
	// Output:
	// started db: <nil>
	// started cache: shutdown: start "cache": no route
	// stopped db: <nil>
	// shutdown: start "cache": no route
}
