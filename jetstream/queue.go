package jetstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Queue is a durable queue of jobs of type J on a JetStream work-queue
// stream, with a second stream for the dead letters. It holds no goroutine
// and needs no Close; it is safe for concurrent use and must not be copied.
type Queue[J any] struct {
	js       jetstream.JetStream
	name     string
	subject  string
	dead     string
	deadSubj string
	codec    Codec[J]
}

// QueueOption configures a [Queue].
type QueueOption interface{ applyQueue(*queueConfig) }

type queueConfig struct {
	codec     any
	codecName string
	replicas  int
	storage   jetstream.StorageType
	dupWindow time.Duration
	configure func(*jetstream.StreamConfig)
}

type queueOptionFunc func(*queueConfig)

func (f queueOptionFunc) applyQueue(c *queueConfig) { f(c) }

// WithCodec sets how jobs become message bodies; the default is [JSON].
// J must be the job type of the Queue it is given to, or NewQueue panics.
func WithCodec[J any](c Codec[J]) QueueOption {
	if c == nil {
		panic("jetstream: WithCodec(nil)")
	}
	return queueOptionFunc(func(q *queueConfig) {
		q.codec, q.codecName = c, fmt.Sprintf("WithCodec[%T]", *new(J))
	})
}

// Replicas sets how many servers of a cluster keep each stream (default 1); 3
// survives the loss of any one. It panics if n is not within [1, 5].
func Replicas(n int) QueueOption {
	if n < 1 || n > 5 {
		panic(fmt.Sprintf("jetstream: Replicas(%d): must be within [1, 5]", n))
	}
	return queueOptionFunc(func(q *queueConfig) { q.replicas = n })
}

// MemoryStorage keeps both streams in the servers' memory instead of files:
// faster, and lost when every server that holds them stops.
func MemoryStorage() QueueOption {
	return queueOptionFunc(func(q *queueConfig) { q.storage = jetstream.MemoryStorage })
}

// DuplicateWindow sets how long the stream remembers the IDs given to
// [Queue.SubmitID] (default the server's, 2 minutes); cover the longest a
// producer may retry a submit. It panics if d < 0.
func DuplicateWindow(d time.Duration) QueueOption {
	if d < 0 {
		panic(fmt.Sprintf("jetstream: DuplicateWindow(%v): negative", d))
	}
	return queueOptionFunc(func(q *queueConfig) { q.dupWindow = d })
}

// ConfigureStream lets f change each stream's configuration after the other
// options: limits of age or size for the dead letters, placement,
// compression. f is called once per stream (tell them apart by Name);
// NewQueue fails if f changes a name, the subjects, or the jobs stream's
// work-queue retention.
func ConfigureStream(f func(cfg *jetstream.StreamConfig)) QueueOption {
	if f == nil {
		panic("jetstream: ConfigureStream(nil)")
	}
	return queueOptionFunc(func(q *queueConfig) { q.configure = f })
}

// NewQueue returns the queue called name, creating its two streams, or
// updating one whose configuration differs: name, a work-queue stream on the
// subject name+".jobs", and name+"_DLQ", which keeps dead letters on
// name+".dead". Both use file storage, one replica and the server's duplicate
// window unless the options say otherwise. It returns the server's error if a
// stream cannot be created or updated, and panics if ctx or js is nil, name
// is empty, or an option is for another job type.
func NewQueue[J any](ctx context.Context, js jetstream.JetStream, name string, opts ...QueueOption) (*Queue[J], error) {
	if ctx == nil || js == nil {
		panic("jetstream: NewQueue with nil context or JetStream")
	}
	if name == "" {
		panic("jetstream: NewQueue with an empty name")
	}
	c := queueConfig{replicas: 1, storage: jetstream.FileStorage}
	for _, o := range opts {
		if o != nil {
			o.applyQueue(&c)
		}
	}
	q := &Queue[J]{
		js:       js,
		name:     name,
		subject:  name + ".jobs",
		dead:     name + "_DLQ",
		deadSubj: name + ".dead",
		codec:    JSON[J]{},
	}
	if c.codec != nil {
		codec, ok := c.codec.(Codec[J])
		if !ok {
			panic(fmt.Sprintf("jetstream: NewQueue[%T]: option %s is for another job type", *new(J), c.codecName))
		}
		q.codec = codec
	}
	cfgs := []jetstream.StreamConfig{
		{Name: q.name, Subjects: []string{q.subject}, Retention: jetstream.WorkQueuePolicy},
		{Name: q.dead, Subjects: []string{q.deadSubj}, Retention: jetstream.LimitsPolicy},
	}
	for i := range cfgs {
		cfg := &cfgs[i]
		cfg.Storage, cfg.Replicas, cfg.Duplicates = c.storage, c.replicas, c.dupWindow
		want := *cfg
		if c.configure != nil {
			c.configure(cfg)
		}
		if cfg.Name != want.Name || len(cfg.Subjects) != 1 || cfg.Subjects[0] != want.Subjects[0] ||
			(i == 0 && cfg.Retention != jetstream.WorkQueuePolicy) {
			return nil, fmt.Errorf("jetstream: new queue %s: ConfigureStream changed the name, subjects or retention of %s", name, want.Name)
		}
		// Create, and update only a stream whose configuration differs:
		// many processes start against one queue at once, and an update
		// that changes nothing would still rewrite the stream while
		// another process creates its consumer.
		_, err := js.CreateStream(ctx, *cfg)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			_, err = js.UpdateStream(ctx, *cfg)
		}
		if err != nil {
			return nil, fmt.Errorf("jetstream: new queue %s: stream %s: %w", name, cfg.Name, ctxErr(ctx, err))
		}
	}
	return q, nil
}

// Name returns the queue's name, which is also the name of its stream.
func (q *Queue[J]) Name() string { return q.name }

// DeadLetterStream returns the name of the dead letters' stream, name+"_DLQ";
// read a letter with [ParseLetter].
func (q *Queue[J]) DeadLetterStream() string { return q.dead }

// Submit stores job and returns nil once the server has acknowledged it (in a
// cluster, a majority of the replicas). Otherwise it returns [context.Cause]
// of ctx (a ctx without a deadline gets the client's default timeout), an
// error matching [ErrEncode] or [ErrWrongStream], or the server's or
// connection's error; the job may then have been stored, so submit it again
// with [Queue.SubmitID] where a duplicate matters.
func (q *Queue[J]) Submit(ctx context.Context, job J) error {
	return q.submit(ctx, "", job)
}

// SubmitID is Submit with a job ID: the server stores a job once per ID
// within the stream's [DuplicateWindow], and a duplicate returns nil. The ID
// goes in the message's Nats-Msg-Id header and into the job's dead letter; an
// empty id is Submit.
func (q *Queue[J]) SubmitID(ctx context.Context, id string, job J) error {
	return q.submit(ctx, id, job)
}

func (q *Queue[J]) submit(ctx context.Context, id string, job J) error {
	if ctx == nil {
		panic("jetstream: Submit with nil context")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("jetstream: submit: %w", context.Cause(ctx))
	}
	data, err := q.codec.Encode(job)
	if err != nil {
		return fmt.Errorf("jetstream: submit: %w: %w", ErrEncode, err)
	}
	msg := &nats.Msg{Subject: q.subject, Data: data}
	if id != "" {
		msg.Header = nats.Header{jetstream.MsgIDHeader: []string{id}}
	}
	ack, err := q.js.PublishMsg(ctx, msg)
	if err != nil {
		return fmt.Errorf("jetstream: submit: %w", ctxErr(ctx, err))
	}
	if ack.Stream != q.name {
		return fmt.Errorf("jetstream: submit: stored in stream %q, not %q: %w", ack.Stream, q.name, ErrWrongStream)
	}
	return nil
}

// ctxErr puts ctx's cause in front of err when ctx ended the call.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil && !errors.Is(err, context.Cause(ctx)) {
		return fmt.Errorf("%w (%w)", context.Cause(ctx), err)
	}
	return err
}
