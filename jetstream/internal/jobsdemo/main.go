// Command jobsdemo is a producer or a worker process of a jetstream.Queue, for crash tests.
//
// A worker records each job it finishes in the stream QUEUE_DONE before it
// acknowledges it, so that a test that kills processes can account for
// every job after a crash.
//
//	jobsdemo -url nats://127.0.0.1:4222 -role producer -n 400
//	jobsdemo -url nats://127.0.0.1:4222 -role worker -workers 4
//
// Jobs whose number is a multiple of -fail-every fail permanently and end
// in the dead letters. A worker stops on SIGINT or SIGTERM, draining for up
// to five seconds.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	wjs "github.com/weftgo/weft/jetstream"
	"github.com/weftgo/weft/retry"
)

// Job is the demo's job: a number.
type Job struct {
	N int `json:"n"`
}

func main() {
	url := flag.String("url", nats.DefaultURL, "NATS server URL")
	queue := flag.String("queue", "demo", "queue name")
	role := flag.String("role", "worker", "producer or worker")
	n := flag.Int("n", 100, "jobs to submit (producer)")
	workers := flag.Int("workers", 4, "jobs at once (worker)")
	work := flag.Duration("work", 5*time.Millisecond, "how long a job takes (worker)")
	failEvery := flag.Int("fail-every", 0, "jobs whose number is a multiple of this fail permanently (worker); 0: none")
	ackWait := flag.Duration("ackwait", time.Second, "AckWait of the consumer (worker)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *url, *queue, *role, *n, *workers, *work, *failEvery, *ackWait); err != nil {
		log.Fatalf("jobsdemo: %v", err)
	}
}

func run(ctx context.Context, url, queue, role string, n, workers int, work time.Duration, failEvery int, ackWait time.Duration) error {
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	q, err := wjs.NewQueue[Job](ctx, js, queue)
	if err != nil {
		return err
	}
	switch role {
	case "producer":
		return produce(ctx, q, n)
	case "worker":
		return consume(ctx, js, q, queue, workers, work, failEvery, ackWait)
	}
	return fmt.Errorf("unknown role %q", role)
}

func produce(ctx context.Context, q *wjs.Queue[Job], n int) error {
	for i := range n {
		// The ID makes a submit retried after an error store the job once.
		for {
			err := q.SubmitID(ctx, strconv.Itoa(i), Job{N: i})
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return err
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

func consume(ctx context.Context, js jetstream.JetStream, q *wjs.Queue[Job], queue string, workers int, work time.Duration, failEvery int, ackWait time.Duration) error {
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: queue + "_DONE", Subjects: []string{queue + ".done"}}); err != nil {
		return err
	}
	w, err := wjs.NewWorkers(context.Background(), q, workers, func(ctx context.Context, j Job) error {
		if failEvery > 0 && j.N%failEvery == 0 {
			return retry.Permanent(errors.New("refused"))
		}
		select {
		case <-time.After(work):
		case <-ctx.Done():
			return ctx.Err()
		}
		_, err := js.Publish(ctx, queue+".done", []byte(strconv.Itoa(j.N)))
		return err
	}, wjs.Retry(retry.New(retry.Attempts(5), retry.Constant(50*time.Millisecond))), wjs.AckWait(ackWait))
	if err != nil {
		return err
	}
	<-ctx.Done()
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return w.Close(cctx)
}
