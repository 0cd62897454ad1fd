package shutdown_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/weftgo/weft/shutdown"
)

// The canonical main: signals, a group with a server and what it depends on,
// and readiness on an admin port. The example cancels the context itself so
// that it ends; a real main waits for SIGTERM or Ctrl-C.
func Example() {
	ctx, stop := shutdown.OnSignal(context.Background())
	defer stop()
	ctx, cancel := context.WithCancel(ctx) // stands in for the signal here
	defer cancel()

	g := shutdown.New(
		shutdown.Timeout(25*time.Second),
		shutdown.DrainDelay(0), // no balancer here; the default, 5s, behind one
		shutdown.OnStop(func(name string, err error, took time.Duration) {
			fmt.Printf("stopped %s: %v\n", name, err)
		}),
	)
	g.Add("db", shutdown.Func(
		func(context.Context) error { fmt.Println("db open"); return nil },
		func(context.Context) error { fmt.Println("db closed"); return nil },
	))
	admin := http.NewServeMux()
	admin.Handle("/readyz", g.Ready())
	admin.Handle("/livez", g.Live())
	g.Add("admin", shutdown.HTTPServer(&http.Server{Addr: "127.0.0.1:0", Handler: admin}))

	go func() {
		<-g.Started()
		cancel() // SIGTERM arrives
	}()
	if err := g.Run(ctx); err != nil {
		log.Print(err)
		os.Exit(1)
	}
	// Output:
	// db open
	// stopped admin: <nil>
	// db closed
	// stopped db: <nil>
}

// Func turns anything with a start and a stop into a component: here a
// worker loop that drains its queue on Stop.
func ExampleFunc() {
	jobs := make(chan int, 10)
	done := make(chan struct{})
	worker := shutdown.Func(
		func(context.Context) error {
			go func() {
				defer close(done)
				for j := range jobs {
					fmt.Println("job", j)
				}
			}()
			return nil // ready
		},
		func(ctx context.Context) error {
			close(jobs) // no more intake; finish what is queued
			select {
			case <-done:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	)
	g := shutdown.New(shutdown.DrainDelay(0)) // nothing routes traffic to it
	g.Add("worker", worker)
	jobs <- 1
	jobs <- 2
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-g.Started(); cancel() }() // stop as soon as it runs
	fmt.Println(g.Run(ctx))
	// Output:
	// job 1
	// job 2
	// <nil>
}

// DrainDelay keeps serving while readiness reports 503, so that load
// balancers stop sending traffic before the server stops accepting.
func ExampleDrainDelay() {
	g := shutdown.New(shutdown.DrainDelay(50 * time.Millisecond))
	g.Add("server", shutdown.Func(nil, func(context.Context) error { return nil }))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	<-g.Started()
	cancel()
	<-g.ShuttingDown()
	fmt.Println("ready:", status(g.Ready()))
	start := time.Now()
	<-done
	fmt.Println("drained:", time.Since(start) >= 50*time.Millisecond)
	// Output:
	// ready: 503
	// drained: true
}

// A component whose Start runs for as long as the component does, such as
// a consumer loop, calls MarkReady once it is ready: the group then starts
// the next component while that Start goes on running, and Stop ends it.
func ExampleMarkReady() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := shutdown.New(shutdown.DrainDelay(0))
	quit := make(chan struct{})
	g.Add("consumer", shutdown.Func(
		func(ctx context.Context) error {
			fmt.Println("consumer connected")
			shutdown.MarkReady(ctx)
			<-quit // consume until stopped
			fmt.Println("consumer loop ended")
			return nil
		},
		func(context.Context) error { close(quit); return nil },
	))
	g.Add("api", shutdown.Func(
		func(context.Context) error { fmt.Println("api started"); return nil },
		func(context.Context) error { fmt.Println("api stopped"); return nil },
	))
	go func() {
		<-g.Started()
		cancel() // SIGTERM arrives
	}()
	fmt.Println(g.Run(ctx))
	// Output:
	// consumer connected
	// api started
	// api stopped
	// consumer loop ended
	// <nil>
}

// OnSignal turns SIGINT and SIGTERM into the cancellation of a context,
// with the signal as its cause. Here the program sends itself SIGTERM, as an
// orchestrator would.
func ExampleOnSignal() {
	ctx, stop := shutdown.OnSignal(context.Background())
	defer stop()
	self, _ := os.FindProcess(os.Getpid())
	if err := self.Signal(syscall.SIGTERM); err != nil {
		log.Fatal(err)
	}
	<-ctx.Done()
	fmt.Println(context.Cause(ctx))
	// Output: shutdown: received terminated
}

// A streaming handler calls Track so that the server's Stop tells it to
// finish and waits for it, within the stop budget, before request contexts
// are cancelled. A WebSocket handler does the same around its hijacked
// connection, sending a close frame when told.
func ExampleTrack() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	streaming := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stop, done := shutdown.Track(r)
		defer done()
		fmt.Fprintln(w, "event: hello")
		w.(http.Flusher).Flush()
		close(streaming)
		<-stop // the server is stopping: end the stream cleanly
		fmt.Fprintln(w, "event: bye, reconnect elsewhere")
	})}
	g := shutdown.New(shutdown.DrainDelay(0))
	g.Add("http", shutdown.HTTPServer(srv, shutdown.Listener(ln)))
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- g.Run(ctx) }()
	<-g.Started()

	resp, err := http.Get("http://" + ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	<-streaming
	cancel() // SIGTERM arrives
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Print(string(body))
	fmt.Println(<-runErr)
	// Output:
	// event: hello
	// event: bye, reconnect elsewhere
	// <nil>
}

// A component that serves clients through the drain delay watches Draining
// to tell them, from the moment shutdown begins, to go elsewhere.
func ExampleDraining() {
	g := shutdown.New(shutdown.DrainDelay(10 * time.Millisecond))
	told := make(chan struct{})
	g.Add("feed", shutdown.Func(func(ctx context.Context) error {
		shutdown.MarkReady(ctx)
		<-shutdown.Draining(ctx)
		fmt.Println("feed: telling subscribers to reconnect elsewhere")
		close(told)
		<-ctx.Done() // serve until stopped
		return nil
	}, func(context.Context) error {
		<-told
		fmt.Println("feed: stopped")
		return nil
	}))
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-g.Started(); cancel() }()
	fmt.Println(g.Run(ctx))
	// Output:
	// feed: telling subscribers to reconnect elsewhere
	// feed: stopped
	// <nil>
}
