package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	wjs "github.com/weftgo/weft/jetstream"
	"github.com/weftgo/weft/jetstream/embedded"
	"github.com/weftgo/weft/retry"
)

// Close with a deadline that has passed: the job still running is cut
// short and handed back to the server, which keeps it for the next worker,
// in this process or another.
func ExampleWorkers_Close() {
	dir, _ := os.MkdirTemp("", "weft-example")
	defer os.RemoveAll(dir)
	srv, _ := embedded.Start(dir)
	defer srv.Stop()
	js, _ := jetstream.New(srv.Conn())
	ctx := context.Background()
	q, _ := wjs.NewQueue[Email](ctx, js, "slow")
	_ = q.Submit(ctx, Email{To: "ann@example.com"})

	started := make(chan struct{})
	var once sync.Once
	w, _ := wjs.NewWorkers(ctx, q, 1, func(ctx context.Context, e Email) error {
		once.Do(func() { close(started) })
		<-ctx.Done() // a long job that stops when its context ends
		return ctx.Err()
	})
	<-started

	deadline, cancel := context.WithCancel(ctx)
	cancel() // stands in for a shutdown deadline that has passed
	err := w.Close(deadline)
	var ce *wjs.CloseError
	if errors.As(err, &ce) {
		fmt.Println("interrupted:", ce.Interrupted, "cause:", ce.Cause)
	}
	fmt.Println("canceled:", w.Stats().Canceled)
	s, _ := js.Stream(ctx, q.Name())
	info, _ := s.Info(ctx)
	fmt.Println("still in the queue:", info.State.Msgs)
	// Output:
	// interrupted: 1 cause: context canceled
	// canceled: 1
	// still in the queue: 1
}

// The consumer the Workers of every process share is configured through
// the options of each; the server holds the settings.
func ExampleAckWait() {
	dir, _ := os.MkdirTemp("", "weft-example")
	defer os.RemoveAll(dir)
	srv, _ := embedded.Start(dir)
	defer srv.Stop()
	js, _ := jetstream.New(srv.Conn())
	ctx := context.Background()
	q, _ := wjs.NewQueue[Email](ctx, js, "emails")
	send := func(ctx context.Context, e Email) error { return nil }

	w, err := wjs.NewWorkers(ctx, q, 4, send,
		wjs.Consumer("mailers"),    // the same name in every process
		wjs.AckWait(time.Minute),   // a crashed worker's jobs run again after a minute
		wjs.MaxAckPending(100),     // at most 100 jobs running across all processes
		wjs.FetchWait(time.Second), // how long Close waits for a fetch in flight
		wjs.OnError(func(err error) { // fetch and acknowledgement errors: no job is lost
			fmt.Fprintln(os.Stderr, "jetstream:", err)
		}),
	)
	if err != nil {
		panic(err)
	}
	defer w.Close(ctx)

	c, _ := js.Consumer(ctx, q.Name(), "mailers")
	info, _ := c.Info(ctx)
	fmt.Println(info.Name, info.Config.AckWait, info.Config.MaxAckPending)
	// Output:
	// mailers 1m0s 100
}

// The streams of a queue: where they are kept, for how long a job ID is
// remembered, and how long dead letters stay.
func ExampleConfigureStream() {
	dir, _ := os.MkdirTemp("", "weft-example")
	defer os.RemoveAll(dir)
	srv, _ := embedded.Start(dir)
	defer srv.Stop()
	js, _ := jetstream.New(srv.Conn())
	ctx := context.Background()
	q, err := wjs.NewQueue[Email](ctx, js, "reports",
		wjs.MemoryStorage(),
		wjs.Replicas(1), // 3 in a cluster of three or more servers
		wjs.DuplicateWindow(time.Hour),
		wjs.ConfigureStream(func(cfg *jetstream.StreamConfig) {
			if strings.HasSuffix(cfg.Name, "_DLQ") {
				cfg.MaxAge = 30 * 24 * time.Hour // dead letters are kept for 30 days
			}
		}),
	)
	if err != nil {
		panic(err)
	}
	for _, name := range []string{q.Name(), q.DeadLetterStream()} {
		s, _ := js.Stream(ctx, name)
		cfg := s.CachedInfo().Config
		fmt.Println(cfg.Name, cfg.Storage, cfg.Replicas, cfg.Duplicates, cfg.MaxAge)
	}
	// Output:
	// reports Memory 1 1h0m0s 0s
	// reports_DLQ Memory 1 1h0m0s 720h0m0s
}

// plainText stores string jobs as their bytes, so that programs that are
// not written in Go can submit them with any NATS client.
type plainText struct{}

func (plainText) Encode(s string) ([]byte, error) { return []byte(s), nil }
func (plainText) Decode(b []byte) (string, error) { return string(b), nil }

func ExampleCodec() {
	dir, _ := os.MkdirTemp("", "weft-example")
	defer os.RemoveAll(dir)
	srv, _ := embedded.Start(dir)
	defer srv.Stop()
	js, _ := jetstream.New(srv.Conn())
	ctx := context.Background()
	q, _ := wjs.NewQueue[string](ctx, js, "lines", wjs.WithCodec[string](plainText{}))
	_ = q.Submit(ctx, "from Go")
	_, _ = js.Publish(ctx, "lines.jobs", []byte("from a shell script")) // the queue's subject

	got := make(chan string, 2)
	w, _ := wjs.NewWorkers(ctx, q, 1, func(ctx context.Context, s string) error {
		got <- s
		return nil
	})
	fmt.Println(<-got)
	fmt.Println(<-got)
	_ = w.Close(ctx)
	// Output:
	// from Go
	// from a shell script
}

// A dead-letter sink of one's own: here it records the jobs that failed
// for good, and the bytes of a message no job could be decoded from.
func ExampleDeadLetter() {
	dir, _ := os.MkdirTemp("", "weft-example")
	defer os.RemoveAll(dir)
	srv, _ := embedded.Start(dir)
	defer srv.Stop()
	js, _ := jetstream.New(srv.Conn())
	ctx := context.Background()
	q, _ := wjs.NewQueue[Email](ctx, js, "signups")
	_ = q.Submit(ctx, Email{To: "ann@example.com"})
	_, _ = js.Publish(ctx, "signups.jobs", []byte("not json")) // a producer's bug

	letters := make(chan string, 2)
	sink := retry.DeadLetterFunc[Email](func(ctx context.Context, l retry.Letter[Email]) error {
		var de *wjs.DecodeError
		if errors.As(l.Err, &de) {
			letters <- fmt.Sprintf("undecodable: %q", de.Data)
		} else {
			letters <- fmt.Sprintf("%s: %v", l.Item.To, l.Err)
		}
		return nil // kept: the job leaves the queue
	})
	w, _ := wjs.NewWorkers(ctx, q, 1, func(ctx context.Context, e Email) error {
		return errors.New("mailbox full")
	}, wjs.DeadLetter(sink))
	got := []string{<-letters, <-letters}
	_ = w.Close(ctx)
	slices.Sort(got)
	fmt.Println(strings.Join(got, "\n"))
	// Output:
	// ann@example.com: mailbox full
	// undecodable: "not json"
}
