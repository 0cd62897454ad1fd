package embedded_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/weftgo/weft/jetstream/embedded"
)

func ExampleStart() {
	dir, _ := os.MkdirTemp("", "weft-nats")
	defer os.RemoveAll(dir)
	srv, err := embedded.Start(dir)
	if err != nil {
		panic(err)
	}
	defer srv.Stop()

	js, _ := jetstream.New(srv.Conn())
	ctx := context.Background()
	_, _ = js.CreateStream(ctx, jetstream.StreamConfig{Name: "events", Subjects: []string{"events.>"}})
	ack, err := js.Publish(ctx, "events.signup", []byte("ann"))
	if err != nil {
		panic(err)
	}
	fmt.Println(ack.Stream, ack.Sequence)
	// Output:
	// events 1
}

// A server with a name of its own, and a client connection that says who
// it is; Configure reaches every setting of the NATS server.
func ExampleStart_options() {
	dir, _ := os.MkdirTemp("", "weft-nats")
	defer os.RemoveAll(dir)
	srv, err := embedded.Start(dir,
		embedded.Configure(func(o *server.Options) { o.ServerName = "jobs-1" }),
		embedded.ConnOptions(nats.Name("billing")),
		embedded.ReadyTimeout(5*time.Second),
	)
	if err != nil {
		panic(err)
	}
	defer srv.Stop()
	fmt.Println(srv.NATS().Name(), srv.Conn().Opts.Name, srv.Dir() == dir)
	// Output:
	// jobs-1 billing true
}
