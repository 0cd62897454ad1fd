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
// stream: [Queue.Submit] stores a job and returns once the server has
// acknowledged it, and the [Workers] of any process take it from there.
// Jobs that fail for good are kept in a second stream, the dead letters.
//
// A Queue holds no goroutine and needs no Close. It is safe for concurrent
// use and must not be copied.
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

// Replicas sets how many servers of a cluster keep a copy of both streams:
// 3 survives the loss of any one server. The default is 1, which is all a
// single server can hold. It panics if n is not within [1, 5].
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

// DuplicateWindow sets how long the stream remembers job IDs given to
// [Queue.SubmitID], within which a second submit with the same ID is
// dropped as a duplicate. The default is the server's, 2 minutes. It panics
// if d < 0.
func DuplicateWindow(d time.Duration) QueueOption {
	if d < 0 {
		panic(fmt.Sprintf("jetstream: DuplicateWindow(%v): negative", d))
	}
	return queueOptionFunc(func(q *queueConfig) { q.dupWindow = d })
}

// ConfigureStream lets f change the configuration of each of the two
// streams after the other options: limits on age, size or count, placement,
// compression. f is called once for the jobs' stream and once for the dead
// letters' (tell them apart by Name); NewQueue fails if f changes a name,
// the subjects, or the jobs stream's work-queue retention.
func ConfigureStream(f func(cfg *jetstream.StreamConfig)) QueueOption {
	if f == nil {
		panic("jetstream: ConfigureStream(nil)")
	}
	return queueOptionFunc(func(q *queueConfig) { q.configure = f })
}

// NewQueue returns the queue called name, creating or updating its two
// streams: name, a work-queue stream of the subject name+".jobs" whose
// messages are removed once a worker acknowledges them, and name+"_DLQ",
// which keeps the dead letters on the subject name+".dead" until someone
// removes them. Both use file storage and one replica unless the options
// say otherwise. name must be a valid stream name (no spaces, dots, '*',
// '>', path separators).
//
// It returns the server's error if a stream cannot be created or updated,
// for example when another stream already takes the subjects, and panics
// if ctx or js is nil, name is empty, or an option is for another job type.
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

// DeadLetterStream returns the name of the stream that keeps the dead
// letters, name+"_DLQ". Read a letter with [ParseLetter].
func (q *Queue[J]) DeadLetterStream() string { return q.dead }

// Submit stores job in the queue. It returns nil once the server has
// acknowledged that the job is stored (in a cluster, by a majority of the
// stream's replicas); from then on a worker runs it until it succeeds or
// becomes a dead letter. It blocks until then, or until ctx is done (a ctx
// without a deadline gets the JetStream client's default timeout, 5
// seconds unless set).
//
// It returns an error that matches [ErrEncode] if the codec cannot encode
// job, context.Cause(ctx) if ctx ends first, and the server's or the
// connection's error otherwise. After an error the job may or may not have
// been stored: submit it again with [Queue.SubmitID] where a duplicate
// would matter.
func (q *Queue[J]) Submit(ctx context.Context, job J) error {
	return q.submit(ctx, "", job)
}

// SubmitID is Submit with a job ID: the server drops a later submit with
// the same ID, within the stream's [DuplicateWindow], so a submit retried
// after an error or a crash stores the job once. The ID goes in the
// message's Nats-Msg-Id header, and into the job's dead letter. An empty id
// is the same as Submit. A duplicate returns nil: the job is stored.
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
	if _, err := q.js.PublishMsg(ctx, msg, jetstream.WithExpectStream(q.name)); err != nil {
		return fmt.Errorf("jetstream: submit: %w", ctxErr(ctx, err))
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
