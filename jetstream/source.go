package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/weftgo/weft/internal/catch"
	"github.com/weftgo/weft/pipeline"
	"github.com/weftgo/weft/retry"
)

// Delivery is a job that a [Source] handed to a pipeline. It stays in the
// queue until settled, once, by [Delivery.Ack] or [Delivery.Nak]; later calls
// do nothing.
type Delivery[J any] struct {
	// Job is the decoded job.
	Job J
	m   jetstream.Msg
	src *source
}

// Attempt returns the number of times the job has been delivered, 1 for
// the first.
func (d *Delivery[J]) Attempt() int {
	md, err := d.m.Metadata()
	if err != nil {
		return 0
	}
	return int(md.NumDelivered)
}

// Ack removes the job from the queue and frees its place in the Source's
// window; call it from the sink once the item is kept. If the acknowledgement
// cannot be sent, it returns the connection's error and the job comes again
// after the [AckWait].
func (d *Delivery[J]) Ack() error {
	if !d.src.settle(d.m) {
		return nil
	}
	return d.m.Ack()
}

// Nak hands the job back to the server, to be delivered again after delay
// (at once if delay <= 0), and frees its place in the Source's window.
func (d *Delivery[J]) Nak(delay time.Duration) error {
	if !d.src.settle(d.m) {
		return nil
	}
	if delay <= 0 {
		return d.m.Nak()
	}
	return d.m.NakWithDelay(delay)
}

// source is what a Source's deliveries share: the window and the jobs in it.
type source struct {
	errs  reporter
	slots chan struct{}
	mu    sync.Mutex
	out   map[jetstream.Msg]time.Time // unsettled, with when the server last heard of each
}

// settle takes m out of the window, and reports whether it was in it.
func (s *source) settle(m jetstream.Msg) bool {
	s.mu.Lock()
	_, ok := s.out[m]
	delete(s.out, m)
	s.mu.Unlock()
	if ok {
		s.slots <- struct{}{}
	}
	return ok
}

// Source returns a pipeline stream of the jobs of q, each of which stays in
// the queue until the pipeline calls [Delivery.Ack], from the sink once the
// item is kept. At most window jobs are in the pipeline at once.
//
// When the pipeline stops, the Source hands its unsettled jobs back to the
// server at once, and the sink returns up to [FetchWait] later. Like
// [Workers], with which it shares the queue's consumer, it sends undecodable
// jobs to the dead-letter sink and keeps long jobs alive.
//
// It panics given [Retry] or [OnDone], if window < 1, or if ctx or q is nil;
// an error creating the consumer comes out of the pipeline's sink.
func Source[J any](ctx context.Context, q *Queue[J], window int, opts ...Option) *pipeline.Stream[*Delivery[J]] {
	if ctx == nil || q == nil {
		panic("jetstream: Source with nil context or queue")
	}
	if window < 1 {
		panic(fmt.Sprintf("jetstream: Source(%d): window must be at least 1", window))
	}
	c := config{ackWait: 30 * time.Second, fetchWait: time.Second, consumer: q.name + "_workers"}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if len(c.workersOnly) > 0 {
		panic(fmt.Sprintf("jetstream: Source: option %s applies to Workers only", strings.Join(c.workersOnly, ", ")))
	}
	var sink retry.DeadLetter[J]
	if c.sink != nil {
		var ok bool
		if sink, ok = c.sink.(retry.DeadLetter[J]); !ok {
			panic(fmt.Sprintf("jetstream: Source[%T]: option %s is for another job type", *new(J), c.sinkName))
		}
	}
	return pipeline.Generate(ctx, func(ctx context.Context, emit func(*Delivery[J]) error) (err error) {
		cons, err := q.js.CreateOrUpdateConsumer(ctx, q.name, jetstream.ConsumerConfig{
			Durable:       c.consumer,
			AckPolicy:     jetstream.AckExplicitPolicy,
			AckWait:       c.ackWait,
			MaxDeliver:    -1,
			MaxAckPending: c.maxAck,
			FilterSubject: q.subject,
		})
		if err != nil {
			return fmt.Errorf("jetstream: source: consumer %s: %w", c.consumer, ctxErr(ctx, err))
		}
		s := &source{errs: reporter{hook: c.onError}, slots: make(chan struct{}, window), out: map[jetstream.Msg]time.Time{}}
		for range window {
			s.slots <- struct{}{}
		}
		tickCtx, stopTick := context.WithCancel(context.Background())
		tickDone := make(chan struct{})
		go s.tick(tickCtx, q.js, q.name, cons, c.ackWait, tickDone)
		defer func() {
			stopTick()
			<-tickDone
			// The pipeline has stopped: what it did not settle goes back.
			s.mu.Lock()
			for m := range s.out {
				s.errs.report("nak", m.Nak())
			}
			clear(s.out)
			s.mu.Unlock()
			if panics := s.errs.taken(); len(panics) > 0 {
				err = errors.Join(append([]error{err}, panics...)...)
			}
		}()
		var failures int
		for {
			if failures > 0 {
				t := time.NewTimer(min(10*time.Millisecond<<min(failures, 7), time.Second))
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					return context.Cause(ctx)
				}
			}
			select {
			case <-s.slots:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			n := 1
		more:
			for n < window {
				select {
				case <-s.slots:
					n++
				default:
					break more
				}
			}
			batch, err := cons.Fetch(n, jetstream.FetchMaxWait(c.fetchWait))
			if err != nil {
				s.errs.report("fetch", err)
				failures++
				for range n {
					s.slots <- struct{}{}
				}
				continue
			}
			got := 0
			var stopped error
			for m := range batch.Messages() {
				got++
				if stopped != nil {
					s.errs.report("nak", m.Nak())
					s.slots <- struct{}{}
					continue
				}
				job, derr := q.codec.Decode(m.Data())
				if derr != nil {
					q.deadLetterUndecodable(m, sink, derr, c.ackWait, &s.errs)
					s.slots <- struct{}{}
					continue
				}
				s.mu.Lock()
				s.out[m] = time.Now()
				s.mu.Unlock()
				if err := emit(&Delivery[J]{Job: job, m: m, src: s}); err != nil {
					stopped = err
				}
			}
			for range n - got {
				s.slots <- struct{}{}
			}
			if stopped != nil {
				return stopped
			}
			if err := batch.Error(); err != nil {
				s.errs.report("fetch", err)
				failures++
			} else {
				failures = 0
			}
		}
	}, pipeline.Name("jetstream source "+q.name))
}

// tick tells the server that the unsettled jobs are still in the pipeline,
// and removes settled jobs the server kept in the stream (see sweep), until
// ctx is cancelled.
func (s *source) tick(ctx context.Context, js jetstream.JetStream, stream string, cons jetstream.Consumer, ackWait time.Duration, done chan<- struct{}) {
	defer close(done)
	every := ackWait / 3
	t := time.NewTicker(every)
	defer t.Stop()
	var due []jetstream.Msg
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			due = due[:0]
			s.mu.Lock()
			for m, last := range s.out {
				if now.Sub(last) >= every/2 {
					s.out[m] = now
					due = append(due, m)
				}
			}
			s.mu.Unlock()
			for _, m := range due {
				s.errs.report("in progress", m.InProgress())
			}
			sctx, cancel := context.WithTimeout(ctx, every/2) // bounded, so the next notices are not late
			err := sweep(sctx, js, stream, cons)
			cancel()
			if ctx.Err() == nil { // not cut short by the source's end
				s.errs.report("sweep", err)
			}
		}
	}
}

// deadLetterUndecodable hands a message the codec could not decode to the
// sink, or to the dead-letter stream, and terminates it once kept; if it
// was not kept, the message is handed back for later.
func (q *Queue[J]) deadLetterUndecodable(m jetstream.Msg, sink retry.DeadLetter[J], derr error, ackWait time.Duration, errs *reporter) {
	md, err := m.Metadata()
	if err != nil {
		errs.report("nak", m.Nak())
		return
	}
	final := &DecodeError{Data: m.Data(), Err: derr}
	attempt, now := int(md.NumDelivered), time.Now()
	if sink != nil {
		l := retry.Letter[J]{Err: final, Attempts: attempt, First: md.Timestamp, Last: now}
		err = catch.Call(func() error { return sink.DeadLetter(context.Background(), l) })
	} else {
		err = q.publishLetter(m, md, final, attempt, md.Timestamp, now, ackWait)
	}
	if err != nil {
		errs.report("dead letter", err)
		errs.report("nak", m.NakWithDelay(refusedDelay(attempt)))
		return
	}
	errs.report("term", m.Term())
}

// publishLetter stores a letter in the dead-letter stream and waits for
// the server's acknowledgement.
func (q *Queue[J]) publishLetter(m jetstream.Msg, md *jetstream.MsgMetadata, final error, attempt int, first, last time.Time, ackWait time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), min(ackWait/2, 10*time.Second))
	defer cancel()
	_, err := q.js.PublishMsg(ctx, letterMsg(q.deadSubj, q.name, m, md, final, attempt, first, last), jetstream.WithExpectStream(q.dead))
	return err
}

// refusedDelay is how long a job whose letter was refused waits before it
// comes back: a second, doubling with each delivery, up to 30 seconds.
func refusedDelay(attempt int) time.Duration {
	return min(time.Second<<min(max(attempt-1, 0), 5), 30*time.Second)
}
