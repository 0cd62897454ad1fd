package pool_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/weftgo/weft/pool"
	"github.com/weftgo/weft/retry"
)

// Webhook is a job: a delivery to make.
type Webhook struct {
	URL string
}

// errUnavailable is a failure worth retrying.
var errUnavailable = errors.New("503 service unavailable")

// flaky fails the first delivery to each URL, and every delivery to
// /broken.
type flaky struct {
	mu    sync.Mutex
	tries map[string]int
}

func (f *flaky) deliver(_ context.Context, h Webhook) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tries[h.URL]++
	if h.URL == "/broken" || f.tries[h.URL] == 1 {
		return errUnavailable
	}
	return nil
}

// deadLetters keeps the webhooks that could not be delivered, as a table
// or a queue for a person or a later job would.
type deadLetters struct {
	mu   sync.Mutex
	kept []retry.Letter[Webhook]
}

func (d *deadLetters) DeadLetter(_ context.Context, l retry.Letter[Webhook]) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.kept = append(d.kept, l)
	return nil
}

// A webhook sender: failed deliveries are retried after a backoff, without
// a worker sleeping meanwhile, and the ones the policy gives up on reach a
// dead-letter sink with their attempts and last error. Nothing is lost, and
// Stats account for every webhook.
func ExampleWorkers_retryAndDeadLetter() {
	ctx := context.Background()
	svc := &flaky{tries: map[string]int{}}
	sink := &deadLetters{}
	var (
		mu        sync.Mutex
		delivered []string
	)
	w := pool.NewWorkers(ctx, 2, svc.deliver,
		pool.Retry(retry.New(retry.Attempts(3), retry.Constant(time.Millisecond))),
		pool.DeadLetter[Webhook](sink),
		pool.OnDone(func(h Webhook, err error) {
			if err == nil {
				mu.Lock()
				delivered = append(delivered, h.URL)
				mu.Unlock()
			}
		}),
	)
	for _, url := range []string{"/a", "/broken", "/b", "/c"} {
		if err := w.Submit(ctx, Webhook{URL: url}); err != nil {
			fmt.Println("submit:", err)
		}
	}
	if err := w.Close(ctx); err != nil {
		fmt.Println("close:", err)
	}

	slices.Sort(delivered)
	fmt.Println("delivered:", delivered)
	for _, l := range sink.kept {
		var re *retry.Error
		errors.As(l.Err, &re)
		fmt.Printf("dead letter: %s after %d attempts: %v\n", l.Item.URL, l.Attempts, re.Last)
	}
	s := w.Stats()
	fmt.Printf("submitted %d, succeeded %d, dead-lettered %d, retried %d\n",
		s.Submitted, s.Succeeded, s.DeadLettered, s.Retried)
	// Output:
	// delivered: [/a /b /c]
	// dead letter: /broken after 3 attempts: 503 service unavailable
	// submitted 4, succeeded 3, dead-lettered 1, retried 5
}
