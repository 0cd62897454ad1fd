package embedded_test

import (
	"context"
	"fmt"
	"os"

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
