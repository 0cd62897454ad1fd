package jetstream

import (
	"fmt"
	"time"

	"github.com/weftgo/weft/retry"
)

// Option configures a [Workers] or a [Source]. Options are applied in
// order; the last one of a kind wins. Retry, OnDone and Buffer apply to
// Workers only: a Source leaves retries to its pipeline. Retry, DeadLetter and OnDone mean what they mean
// for pool.Workers, so a service moves from one process to many by changing
// its constructor.
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

// Retry makes Workers retry failed jobs under p, with the server
// holding each job while it waits: a job whose handler fails gets p's
// decision for its attempt, whose number is the message's delivery count,
// and is handed back to the server with NakWithDelay for p's delay, or,
// if p gives up, goes to the dead letters with p's *retry.Error. A panic is
// never retried. Each attempt runs with p's AttemptTimeout, if it has one;
// p's MaxElapsed counts from when the job was stored.
//
// p's OnRetry hook and Budget are not used: they keep state in one process,
// and the next attempt may run in another. Count retries with
// [Workers.Stats]. Without Retry a job that fails is not retried.
func Retry(p retry.Policy) Option {
	return optionFunc(func(c *config) { c.policy = &p; c.workersOnly = append(c.workersOnly, "Retry") })
}

// DeadLetter replaces the default dead-letter sink, which publishes a
// letter to the queue's dead-letter stream (see [Letter]), with dl. Workers
// hand dl every job that did not succeed and will not be retried: the
// jobs the policy gave up on, those that failed without a policy, those
// that panicked, and those that could not be decoded, which come with J's
// zero value and a *[DecodeError] that holds their bytes. The message is
// terminated only once dl has returned nil; if dl returns an error or
// panics, it is handed back to the server to be delivered again after a
// delay, and never lost.
//
// dl runs on the job's worker with a context that is never cancelled,
// so it must bound its own work. J must be the job type of the Workers it
// is given to, or NewWorkers panics.
func DeadLetter[J any](dl retry.DeadLetter[J]) Option {
	if dl == nil {
		panic("jetstream: DeadLetter(nil)")
	}
	return optionFunc(func(c *config) {
		c.sink, c.sinkName = dl, fmt.Sprintf("DeadLetter[%T]", *new(J))
	})
}

// OnDone sets a hook called for every job that ran to its end in this
// process: with nil when it succeeded, and otherwise with its final error,
// once the dead-letter sink has it. If the sink refused it, hook gets that
// error joined to the job's, and the job comes back later. It is not
// called for retries or for jobs [Workers.Close] hands back.
//
// hook runs on the job's worker after the job is counted in
// [Workers.Stats], before the worker takes the next job, so keep it
// short; it must be safe for concurrent use. A panic in it is recovered and
// returned by Close. J must be the job type of the Workers it is given to,
// or NewWorkers panics.
func OnDone[J any](hook func(job J, err error)) Option {
	if hook == nil {
		panic("jetstream: OnDone(nil)")
	}
	return optionFunc(func(c *config) {
		c.onDone, c.hookName = hook, fmt.Sprintf("OnDone[%T]", *new(J))
		c.workersOnly = append(c.workersOnly, c.hookName)
	})
}

// AckWait sets how long the server waits for a worker's answer about a
// delivered job before it delivers the job again, as it does when a worker
// process dies. Workers tell the server that a long job is still running
// every third of d, so d bounds how long a crashed worker's jobs wait, not
// how long a job may run. The default is 30 seconds. It panics if d is less
// than 100ms.
func AckWait(d time.Duration) Option {
	if d < 100*time.Millisecond {
		panic(fmt.Sprintf("jetstream: AckWait(%v): less than 100ms", d))
	}
	return optionFunc(func(c *config) { c.ackWait = d })
}

// Consumer sets the name of the durable consumer that the Workers of every
// process share; the default is the queue's name with "_workers" appended.
// All Workers of one queue must use the same name, since a work-queue
// stream allows only one consumer of its subject. It panics if name is
// empty.
func Consumer(name string) Option {
	if name == "" {
		panic("jetstream: Consumer(\"\")")
	}
	return optionFunc(func(c *config) { c.consumer = name })
}

// MaxAckPending sets the most jobs the consumer lets run at once across
// every process, beyond which the server holds jobs back from all of them.
// The default is the server's, 1,000. It panics if n < 1.
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
// before it is renewed. [Workers.Close] waits up to this long for the
// requests in flight to end, handing back at once any job they still
// bring. The default is 1 second. It panics if d is less than 10ms.
func FetchWait(d time.Duration) Option {
	if d < 10*time.Millisecond {
		panic(fmt.Sprintf("jetstream: FetchWait(%v): less than 10ms", d))
	}
	return optionFunc(func(c *config) { c.fetchWait = d })
}

// OnError sets a hook for the errors that belong to no job: a fetch that
// failed (the connection is down, the consumer was deleted), an
// acknowledgement, a NAK or an in-progress notice that could not be sent.
// None of them loses a job (the server delivers it again after the
// AckWait) and Workers and Sources keep going, fetching again after a
// pause that grows while fetches fail; the hook is for logs and metrics.
// It may be called from several goroutines at once. A panic in it is
// recovered, and returned by [Workers.Close] or by the Source's pipeline.
func OnError(hook func(err error)) Option {
	if hook == nil {
		panic("jetstream: OnError(nil)")
	}
	return optionFunc(func(c *config) { c.onError = hook })
}
