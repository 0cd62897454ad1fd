package shutdown_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"

	"github.com/weftgo/weft/pool"
	"github.com/weftgo/weft/shutdown"
)

// HTTPServer makes an *http.Server a component: it serves once started and,
// when the group stops, drains the requests in flight before it closes.
func ExampleHTTPServer() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0") // or let the server listen on its Addr
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })

	g := shutdown.New(shutdown.DrainDelay(0)) // no load balancer here; behind one, keep the default
	g.Add("http", shutdown.HTTPServer(&http.Server{Handler: mux}, shutdown.Listener(ln)))
	go func() {
		<-g.Started()
		resp, err := http.Get("http://" + ln.Addr().String() + "/hello")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			fmt.Println(resp.Status, string(body))
		}
		http.DefaultClient.CloseIdleConnections() // a client that is done hangs up
		cancel()                                  // stands in for SIGTERM
	}()
	fmt.Println("Run:", g.Run(ctx))
	// Output:
	// 200 OK hello
	// Run: <nil>
}

// Ready answers 503 until every component has started and again from the
// moment shutdown begins; Live answers 200 while the process should be kept.
func ExampleGroup_Ready() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := shutdown.New(shutdown.DrainDelay(0))
	probe := func(h http.Handler) int {
		rec := &statusRecorder{}
		h.ServeHTTP(rec, &http.Request{Method: http.MethodGet})
		return rec.status
	}
	g.Add("cache", shutdown.Func(
		func(context.Context) error { fmt.Println("while starting: ready", probe(g.Ready())); return nil },
		func(context.Context) error { fmt.Println("while stopping: ready", probe(g.Ready())); return nil },
	))
	go func() {
		<-g.Started()
		fmt.Println("started: ready", probe(g.Ready()), "live", probe(g.Live()))
		cancel()
	}()
	g.Run(ctx)
	// Output:
	// while starting: ready 503
	// started: ready 200 live 200
	// while stopping: ready 503
}

// statusRecorder is the smallest http.ResponseWriter that keeps the status.
type statusRecorder struct{ status int }

func (r *statusRecorder) Header() http.Header { return http.Header{} }
func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return len(b), nil
}
func (r *statusRecorder) WriteHeader(code int) { r.status = code }

// A pool.Workers is a component: it is created when the group starts it, and
// stopping it closes intake and drains the accepted jobs within the stop's
// budget. Components stop in reverse order, so the HTTP server that submits
// jobs (added after it) has stopped before the workers drain.
func ExampleGroup_workers() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var done atomic.Int64
	var w *pool.Workers[string]

	g := shutdown.New(shutdown.DrainDelay(0))
	g.Add("workers", shutdown.Func(
		func(ctx context.Context) error {
			// The workers live until Close drains them, not until the
			// start's context ends.
			w = pool.NewWorkers(context.WithoutCancel(ctx), 2, func(ctx context.Context, job string) error {
				done.Add(1)
				return nil
			})
			return nil
		},
		func(ctx context.Context) error { return w.Close(ctx) },
	))
	go func() {
		<-g.Started()
		for _, job := range []string{"a", "b", "c"} {
			w.Submit(ctx, job)
		}
		cancel()
	}()
	fmt.Println("Run:", g.Run(ctx))
	fmt.Println("jobs done:", done.Load())
	// Output:
	// Run: <nil>
	// jobs done: 3
}
