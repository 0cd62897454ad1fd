package pool

import (
	"fmt"
	"reflect"
	"time"

	"github.com/weftgo/weft/retry"
)

// PoolOption configures a [Pool] or a [ResultPool]; the last one of a kind
// wins.
type PoolOption interface {
	applyPool(*config)
}

// WorkersOption configures a [Workers]; the last one of a kind wins.
type WorkersOption interface {
	applyWorkers(*config)
}

// Option is an option every constructor takes: it is both a [PoolOption]
// and a [WorkersOption].
type Option interface {
	PoolOption
	WorkersOption
}

type config struct {
	failFast   bool
	repanic    bool
	queue      int // -1: the default of 2 × workers
	idle       time.Duration
	policy     retry.Policy
	hasPolicy  bool
	deadLetter any // retry.DeadLetter[J] for the Workers' job type J
	onDone     any // func(J, error) for the Workers' job type J
	onEvent    any // func(context.Context, Event[J]) context.Context
	values     bool
}

// Each option's type says which constructors take it, so that an option
// that could never take effect does not compile.
type (
	poolOption    func(*config)
	workersOption func(*config)
	sharedOption  func(*config)
)

func (o poolOption) applyPool(c *config)       { o(c) }
func (o workersOption) applyWorkers(c *config) { o(c) }
func (o sharedOption) applyPool(c *config)     { o(c) }
func (o sharedOption) applyWorkers(c *config)  { o(c) }

// newPoolConfig applies the options of a Pool or ResultPool, panicking
// with the constructor's name if one of them is nil.
func newPoolConfig(ctor string, opts []PoolOption) config {
	c := config{queue: -1}
	for _, o := range opts {
		if o == nil {
			panic(fmt.Sprintf("pool: %s: nil option", ctor))
		}
		o.applyPool(&c)
	}
	return c
}

// newWorkersConfig applies the options of a Workers, panicking if one of
// them is nil.
func newWorkersConfig(opts []WorkersOption) config {
	c := config{queue: -1}
	for _, o := range opts {
		if o == nil {
			panic("pool: NewWorkers: nil option")
		}
		o.applyWorkers(&c)
	}
	return c
}

// FailFast(true) makes the first task that fails cancel the pool's context
// with its error as the [context.Cause] (unless the context was already
// done), and [Pool.Wait] return that error and any panics instead of every
// error joined: errgroup.WithContext's policy. The tasks already accepted
// still run, with the context done.
func FailFast(on bool) PoolOption {
	return poolOption(func(c *config) { c.failFast = on })
}

// Repanic(true) makes [Pool.Wait] and [ResultPool.Wait], once every task has
// finished and every worker has exited, panic with the first task panic's
// [*weft.PanicError], as if the task had run on the caller's goroutine. By
// default a panic is returned as an error.
func Repanic(on bool) PoolOption {
	return poolOption(func(c *config) { c.repanic = on })
}

// Buffer sets how many tasks or jobs may wait for a free worker before Go or
// Submit waits: by default 64 for a [Pool] or [ResultPool], and twice the
// workers for a [Workers], whose jobs waiting out a retry delay take room
// too, even while a worker is idle. Buffer(0) makes Go and Submit wait until
// a worker takes the task, as errgroup's Go does. It panics if n < 0, and
// [New] and [NewResultPool] panic if n > 65,536.
func Buffer(n int) Option {
	// New and NewResultPool allocate the buffer up front, hence their bound.
	if n < 0 {
		panic(fmt.Sprintf("pool: Buffer(%d): negative buffer size", n))
	}
	return sharedOption(func(c *config) { c.queue = n })
}

// IdleTimeout makes a [Workers] worker that has waited d for a job exit, so
// an idle Workers holds no goroutine; a new one starts when jobs come. Zero,
// the default, keeps workers until Close. It panics if d < 0.
func IdleTimeout(d time.Duration) WorkersOption {
	// A worker waiting with a timeout holds a timer, reset before each wait. A
	// Pool needs no such option: its workers end with Wait.
	if d < 0 {
		panic(fmt.Sprintf("pool: IdleTimeout(%v): negative timeout", d))
	}
	return workersOption(func(c *config) { c.idle = d })
}

// Retry makes a [Workers] retry failed jobs as p decides, each attempt with
// p's AttemptTimeout if it has one; a job waiting out a delay holds no worker,
// then goes back to the end of the queue. A job p gives up on fails with p's
// [*retry.Error]. A panic or runtime.Goexit in the handler is never retried,
// and a panic in one of p's hooks ends the job's retries.
func Retry(p retry.Policy) WorkersOption {
	return workersOption(func(c *config) { c.policy, c.hasPolicy = p, true })
}

// DeadLetter makes a [Workers] hand dl, as a [retry.Letter], every job that
// did not succeed: those the retry policy gave up on, failed, panicked, or
// were stopped while running. dl runs on the worker with a context that is
// never cancelled (with the job's values under [PropagateValues]), so it must
// bound its own work. A letter dl refuses or panics on is counted in
// [Stats.Undelivered], passed to [OnDone], and returned in
// [CloseError.Undelivered]; DeadLetter panics if dl is nil.
func DeadLetter[J any](dl retry.DeadLetter[J]) WorkersOption {
	if f, ok := dl.(retry.DeadLetterFunc[J]); dl == nil || ok && f == nil {
		panic("pool: DeadLetter(nil)")
	}
	return workersOption(func(c *config) { c.deadLetter = dl })
}

// OnDone sets a hook a [Workers] calls on the worker, once the job is counted
// in [Stats], for every job that ran to its end: with nil if it succeeded,
// and otherwise with its final error, joined with the dead-letter sink's if
// the sink refused it. It is not called for retries, refused Submits, or the
// jobs Close returns. hook must be short and safe for concurrent use, and may
// call TrySubmit, Stats and Resize; OnDone panics if hook is nil.
func OnDone[J any](hook func(job J, err error)) WorkersOption {
	if hook == nil {
		panic("pool: OnDone(nil)")
	}
	return workersOption(func(c *config) { c.onDone = hook })
}

// deadLetter returns the configured sink for jobs of type J, or nil.
func deadLetter[J any](c config) retry.DeadLetter[J] {
	if c.deadLetter == nil {
		return nil
	}
	dl, ok := c.deadLetter.(retry.DeadLetter[J])
	if !ok {
		panic(fmt.Sprintf("pool: NewWorkers: DeadLetter sink %T does not take jobs of type %v", c.deadLetter, reflect.TypeFor[J]()))
	}
	return dl
}

// onDone returns the configured hook for jobs of type J, or nil.
func onDone[J any](c config) func(J, error) {
	if c.onDone == nil {
		return nil
	}
	h, ok := c.onDone.(func(J, error))
	if !ok {
		panic(fmt.Sprintf("pool: NewWorkers: OnDone hook %T does not take jobs of type %v", c.onDone, reflect.TypeFor[J]()))
	}
	return h
}
