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
	"github.com/weftgo/weft/pipeline"
	"github.com/weftgo/weft/retry"
)

type Email struct {
	To      string
	Subject string
}

// The whole path of a job: an embedded server, a queue, workers with a
// retry policy, and a job that fails for good ending in the dead letters.
func ExampleWorkers() {
	dir, _ := os.MkdirTemp("", "weft-example")
	defer os.RemoveAll(dir)
	srv, err := embedded.Start(dir)
	if err != nil {
		panic(err)
	}
	defer srv.Stop()
	js, _ := jetstream.New(srv.Conn())

	ctx := context.Background()
	q, err := wjs.NewQueue[Email](ctx, js, "emails")
	if err != nil {
		panic(err)
	}
	for _, to := range []string{"ann@example.com", "bob@invalid", "cy@example.com"} {
		if err := q.SubmitID(ctx, to, Email{To: to, Subject: "hello"}); err != nil {
			panic(err)
		}
	}

	done := make(chan string, 3)
	send := func(ctx context.Context, e Email) error {
		if e.To == "bob@invalid" {
			return retry.Permanent(errors.New("no such domain"))
		}
		return nil // send it
	}
	w, err := wjs.NewWorkers(ctx, q, 1, send,
		wjs.Retry(retry.New(retry.Attempts(5))),
		wjs.OnDone(func(e Email, err error) {
			// OnDone runs once the job's worker is free: the calls for
			// different jobs may come in any order.
			done <- fmt.Sprintf("%s: %v", e.To, err)
		}),
	)
	if err != nil {
		panic(err)
	}
	outcomes := []string{<-done, <-done, <-done}
	if err := w.Close(ctx); err != nil {
		panic(err)
	}
	slices.Sort(outcomes)
	fmt.Println(strings.Join(outcomes, "\n"))
	st := w.Stats()
	fmt.Println("succeeded:", st.Succeeded, "dead letters:", st.DeadLettered)
	// Output:
	// ann@example.com: <nil>
	// bob@invalid: retry: not retryable after 1 attempt: no such domain
	// cy@example.com: <nil>
	// succeeded: 2 dead letters: 1
}

// Reading the dead letters back from their stream.
func ExampleParseLetter() {
	dir, _ := os.MkdirTemp("", "weft-example")
	defer os.RemoveAll(dir)
	srv, _ := embedded.Start(dir)
	defer srv.Stop()
	js, _ := jetstream.New(srv.Conn())
	ctx := context.Background()
	q, _ := wjs.NewQueue[Email](ctx, js, "mail")
	_ = q.SubmitID(ctx, "42", Email{To: "bob@invalid"})

	done := make(chan struct{})
	// Without Retry the first failure is final.
	w, _ := wjs.NewWorkers(ctx, q, 1, func(ctx context.Context, e Email) error {
		return errors.New("mailbox full")
	}, wjs.OnDone(func(Email, error) { close(done) }))
	<-done // the letter is stored before OnDone runs
	_ = w.Close(ctx)

	dead, _ := js.Stream(ctx, q.DeadLetterStream())
	msg, err := dead.GetMsg(ctx, 1)
	if err != nil {
		panic(err)
	}

	l, err := wjs.ParseLetter(msg.Header, msg.Data)
	if err != nil {
		panic(err)
	}
	fmt.Println(l.JobID, l.Attempts, l.Err)
	fmt.Println(string(l.Data))
	// Output:
	// 42 1 mailbox full
	// {"To":"bob@invalid","Subject":""}
}

// A submit retried with the same ID stores the job once.
func ExampleQueue_SubmitID() {
	dir, _ := os.MkdirTemp("", "weft-example")
	defer os.RemoveAll(dir)
	srv, _ := embedded.Start(dir)
	defer srv.Stop()
	js, _ := jetstream.New(srv.Conn())
	ctx := context.Background()
	q, _ := wjs.NewQueue[Email](ctx, js, "once")
	for range 3 {
		_ = q.SubmitID(ctx, "welcome-ann", Email{To: "ann@example.com"})
	}
	s, _ := js.Stream(ctx, q.Name())
	info, _ := s.Info(ctx)
	fmt.Println("stored:", info.State.Msgs)
	// Output:
	// stored: 1
}

// A pipeline that takes jobs from a queue and acknowledges each once the
// sink has stored what it made of it: a crash anywhere in between leaves
// the job in the queue.
func ExampleSource() {
	dir, _ := os.MkdirTemp("", "weft-example")
	defer os.RemoveAll(dir)
	srv, _ := embedded.Start(dir)
	defer srv.Stop()
	js, _ := jetstream.New(srv.Conn())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	q, _ := wjs.NewQueue[Email](ctx, js, "outbox")
	for _, to := range []string{"ann@example.com", "bob@example.com"} {
		_ = q.Submit(ctx, Email{To: to, Subject: "hello"})
	}

	type rendered struct {
		d    *wjs.Delivery[Email]
		body string
	}
	bodies := pipeline.Map(wjs.Source(ctx, q, 32, wjs.FetchWait(100*time.Millisecond)), func(ctx context.Context, d *wjs.Delivery[Email]) (rendered, error) {
		return rendered{d, "To: " + d.Job.To + "\n\n" + d.Job.Subject}, nil
	})
	stored := 0
	err := pipeline.ForEach(bodies, func(ctx context.Context, r rendered) error {
		fmt.Println(strings.ReplaceAll(r.body, "\n\n", " | ")) // store it
		stored++
		if stored == 2 {
			cancel() // a Source runs until its context ends
		}
		return r.d.Ack() // only now does the job leave the queue
	})
	fmt.Println(errors.Is(err, context.Canceled))
	// Output:
	// To: ann@example.com | hello
	// To: bob@example.com | hello
	// true
}

// Short jobs on many workers: a Buffer lets each fetch bring the jobs the
// next free workers will run, so they do not wait for a round trip to the
// server between two jobs.
func ExampleBuffer() {
	dir, _ := os.MkdirTemp("", "weft-example")
	defer os.RemoveAll(dir)
	srv, err := embedded.Start(dir)
	if err != nil {
		panic(err)
	}
	defer srv.Stop()
	js, _ := jetstream.New(srv.Conn())

	ctx := context.Background()
	q, err := wjs.NewQueue[int](ctx, js, "thumbnails")
	if err != nil {
		panic(err)
	}
	const n = 100
	for i := range n {
		if err := q.Submit(ctx, i); err != nil {
			panic(err)
		}
	}
	var wg sync.WaitGroup
	wg.Add(n)
	w, err := wjs.NewWorkers(ctx, q, 8, func(ctx context.Context, i int) error {
		return nil // a job of a millisecond or so
	}, wjs.Buffer(16), wjs.OnDone(func(int, error) { wg.Done() }))
	if err != nil {
		panic(err)
	}
	wg.Wait()
	if err := w.Close(ctx); err != nil {
		panic(err)
	}
	st := w.Stats()
	fmt.Println("succeeded:", st.Succeeded, "queued:", st.Queued)
	// Output:
	// succeeded: 100 queued: 0
}
