// Command sigprog is a small service used by the shutdown package's tests: an
// HTTP server under a shutdown.Group, stopped by real signals.
//
// It prints its address, "ready" once every component has started, "entered"
// when a request reaches /slow and "stopping stuck" when the stuck
// component's Stop begins. With the argument
// "stuck" it has a component whose Stop never returns.
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/weftgo/weft/shutdown"
)

func main() {
	ctx, stop := shutdown.OnSignal(context.Background())
	defer stop()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println(ln.Addr())

	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("entered")
		select {
		case <-time.After(500 * time.Millisecond):
			fmt.Fprint(w, "done")
		case <-r.Context().Done():
			http.Error(w, "cancelled", http.StatusServiceUnavailable)
		}
	})

	g := shutdown.New(shutdown.Timeout(5 * time.Second))
	g.Add("http", shutdown.HTTPServer(&http.Server{Handler: mux}, shutdown.Listener(ln)))
	if len(os.Args) > 1 && os.Args[1] == "stuck" {
		g.Add("stuck", shutdown.Func(nil, func(context.Context) error {
			fmt.Println("stopping stuck")
			select {}
		}))
	}
	go func() {
		<-g.Started()
		fmt.Println("ready")
	}()
	if err := g.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
