package jetstream

import (
	"fmt"
	"time"

	"github.com/weftgo/weft/retry"
)

// Option configures a [Workers] or a [Source]; the last of a kind wins.
// [Retry], [OnDone] and [Buffer] apply to Workers only: a Source leaves
// retries to its pipeline.
type Option interface{ apply(*config) }

type config struct {
	workersOnly []string // options that apply to Workers only, by name
	policy      *retry.Policy
	sink        any
	sinkName    string
	onDone      any
	hookName    string
	ackWait     time.Duration
	consumer    string
	maxAck      int
	buffer      int
	fetchWait   time.Duration
	onError     func(error)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Retry makes Workers retry failed jobs under p, the server holding each job
// through its delay; the attempt is the message's delivery count, and a
// delivery cut short by a crash or Close counts. A job p gives up on goes to
// the dead letters with p's [*github.com/weftgo/weft/retry.Error]; without
// Retry, a failed job goes there at once. Each attempt runs with p's
// AttemptTimeout, and MaxElapsed counts from when the job was stored; p's
// OnRetry and Budget are not used.
func Retry(p retry.Policy) Option {
	return optionFunc(func(c *config) { c.policy = &p; c.workersOnly = append(c.workersOnly, "Retry") })
}

// DeadLetter replaces the default sink, which publishes a [Letter] to the
// queue's dead-letter stream, with dl, which gets every job that failed for
// good; an undecodable one comes as J's zero value with a [*DecodeError]. The
// message is terminated once dl returns nil, and comes again if dl fails or
// panics. dl's context is never cancelled, so dl bounds its own work; J must
// be the Workers' job type, or NewWorkers panics.
func DeadLetter[J any](dl retry.DeadLetter[J]) Option {
	if dl == nil {
		panic("jetstream: DeadLetter(nil)")
	}
	return optionFunc(func(c *config) {
		c.sink, c.sinkName = dl, fmt.Sprintf("DeadLetter[%T]", *new(J))
	})
}

// OnDone sets a hook called for every job that ran to its end in this process
// (not for retries or jobs Close hands back), with nil or with its final
// error once the dead-letter sink has it, joined to the sink's error if the
// sink refused it. hook runs on the job's worker before it takes the next job,
// must be short and safe for concurrent use, and a panic in it is returned by Close; J must be the
// Workers' job type, or NewWorkers panics.
func OnDone[J any](hook func(job J, err error)) Option {
	if hook == nil {
		panic("jetstream: OnDone(nil)")
	}
	return optionFunc(func(c *config) {
		c.onDone, c.hookName = hook, fmt.Sprintf("OnDone[%T]", *new(J))
		c.workersOnly = append(c.workersOnly, c.hookName)
	})
}

// AckWait sets how long the server waits for an answer about a delivered job
// before it delivers it again (default 30s). Workers report a long job in
// progress every third of d, so d bounds how long a crashed worker's jobs
// wait, not how long a job may run. It panics if d is less than 100ms.
func AckWait(d time.Duration) Option {
	if d < 100*time.Millisecond {
		panic(fmt.Sprintf("jetstream: AckWait(%v): less than 100ms", d))
	}
	return optionFunc(func(c *config) { c.ackWait = d })
}

// Consumer names the durable consumer that the Workers and Sources of every
// process share (default: the queue's name with "_workers" appended); all of
// one queue must use the same name, as a work-queue stream allows only one
// consumer. It panics if name is empty.
func Consumer(name string) Option {
	if name == "" {
		panic("jetstream: Consumer(\"\")")
	}
	return optionFunc(func(c *config) { c.consumer = name })
}

// MaxAckPending sets the most jobs running at once across every process
// (default the server's, 1,000). It panics if n < 1.
func MaxAckPending(n int) Option {
	if n < 1 {
		panic(fmt.Sprintf("jetstream: MaxAckPending(%d): less than 1", n))
	}
	return optionFunc(func(c *config) { c.maxAck = n })
}

// Buffer lets [Workers] fetch up to n jobs beyond their free workers, to
// wait in this process for the next free one, as pool.Buffer does: short
// jobs then start without a round trip to the server in between. A job
// waits there kept alive as if it were running, counted as Queued in
// [Workers.Stats], and is handed back at once by [Workers.Close]. The
// default, 0, fetches only as many jobs as there are free workers, so jobs
// wait on the server. It panics if n < 0.
func Buffer(n int) Option {
	if n < 0 {
		panic(fmt.Sprintf("jetstream: Buffer(%d): negative", n))
	}
	return optionFunc(func(c *config) { c.buffer = n; c.workersOnly = append(c.workersOnly, "Buffer") })
}

// FetchWait sets how long one pull request waits on the server for jobs
// (default 1s); a Close or a stopping Source waits up to this long for the
// requests in flight. It panics if d is less than 10ms.
func FetchWait(d time.Duration) Option {
	if d < 10*time.Millisecond {
		panic(fmt.Sprintf("jetstream: FetchWait(%v): less than 10ms", d))
	}
	return optionFunc(func(c *config) { c.fetchWait = d })
}

// OnError sets a hook for the errors that belong to no job: a failed fetch,
// an acknowledgement, NAK or progress notice that could not be sent, or a
// failed sweep of settled jobs the server kept (see the package doc). None
// loses a job; Workers and Sources keep going, fetching again after a growing
// pause. It may run concurrently, and a panic in it is returned by Close or
// the Source's sink.
func OnError(hook func(err error)) Option {
	if hook == nil {
		panic("jetstream: OnError(nil)")
	}
	return optionFunc(func(c *config) { c.onError = hook })
}
