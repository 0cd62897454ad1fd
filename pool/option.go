package pool

import (
	"fmt"
	"reflect"
	"time"

	"github.com/weftgo/weft/retry"
)

// PoolOption configures a [Pool] or a [ResultPool]: [New] and
// [NewResultPool] take it. Options are applied in order; the last one of a
// kind wins.
type PoolOption interface {
	applyPool(*config)
}

// WorkersOption configures a [Workers]: [NewWorkers] takes it. Options are
// applied in order; the last one of a kind wins.
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

// FailFast makes the first task that fails cancel the pool's context, with
// the task's error as its [context.Cause], so that the other tasks can stop
// early and no new task starts; [Pool.Wait] then returns that first error
// (and any panics, which are never dropped) instead of all the errors
// joined. It is errgroup.WithContext's policy: the tasks already accepted
// still run, with the context done. If the pool's context ended first (its
// parent was cancelled), the first error does not cancel anything. The
// default, FailFast(false), joins every error. For [Pool] and [ResultPool].
func FailFast(on bool) PoolOption {
	return poolOption(func(c *config) { c.failFast = on })
}

// Repanic makes [Pool.Wait] and [ResultPool.Wait] panic, once every task has
// finished and every worker has exited, with the first task panic's
// *weft.PanicError, whose Stack still shows where the task panicked. Use it
// where a panic must crash the program as if the task had run on the
// caller's goroutine. By default a panic is returned as an error. For [Pool]
// and [ResultPool].
func Repanic(on bool) PoolOption {
	return poolOption(func(c *config) { c.repanic = on })
}

// Buffer sets how many jobs or tasks wait for a free worker before
// Submit or Go blocks. It panics if n < 0, and [New] and [NewResultPool], which
// allocate their queue up front, panic if n > 65,536. A Workers' queue
// grows with the jobs in it, and Buffer(math.MaxInt) gives it no bound.
//
// For a [Workers] the default is 2 × the workers given to [NewWorkers]
// ([Workers.Resize] does not change it), and jobs waiting out a retry
// delay count against the queue too: a Workers holds at most workers + n
// jobs, running, queued or waiting to retry, and while retries fill that
// room Submit waits even if a worker is idle. For a [Pool] or [ResultPool] the
// default is 64, whatever the limit: the room that lets the submitter and
// the workers each run through many tasks per goroutine switch.
//
// Buffer(0) makes Submit and Go wait until a worker takes the job or
// task, as errgroup's Go waits for a free goroutine: the tightest
// back-pressure, at the price of a goroutine switch per task.
func Buffer(n int) Option {
	if n < 0 {
		panic(fmt.Sprintf("pool: Buffer(%d): negative buffer size", n))
	}
	return sharedOption(func(c *config) { c.queue = n })
}

// IdleTimeout makes a [Workers] worker that has waited d for a job exit; a
// new one starts when jobs come and fewer than the limit are running. A
// Workers that sits idle then holds no goroutine at all. Zero, the default,
// keeps workers until Close. Waiting with a timeout costs each worker a
// timer, reset before each wait. It panics if d < 0. For Workers only: a
// Pool lives for one batch of tasks, and its workers end with Wait.
func IdleTimeout(d time.Duration) WorkersOption {
	if d < 0 {
		panic(fmt.Sprintf("pool: IdleTimeout(%v): negative timeout", d))
	}
	return workersOption(func(c *config) { c.idle = d })
}

// Retry makes a [Workers] retry failed jobs under p. A job whose
// handler fails gets p's decision from a [retry.State] kept with the job:
// if p retries, the job waits out the delay on a timer, holding no worker,
// and then goes back to the end of the queue; if p gives up, the job has
// failed, with p's *retry.Error, and goes to the dead-letter sink if there
// is one. A panic or a runtime.Goexit in the handler is never retried.
// Each attempt runs with p's AttemptTimeout, if it has one. For Workers
// only.
func Retry(p retry.Policy) WorkersOption {
	return workersOption(func(c *config) { c.policy, c.hasPolicy = p, true })
}

// DeadLetter makes a [Workers] hand every job that did not succeed to
// dl: the jobs its retry policy gave up on, those that failed without a
// policy, those that panicked, and those that failed because the pool was
// stopped while they ran. The [retry.Letter] holds the job, the final error
// (with a policy, its *retry.Error, whose Last is the handler's last error),
// the number of attempts and their times.
//
// dl runs on the worker goroutine with a context that is never cancelled,
// so it must bound its own work; a panic in it is recovered. A letter dl
// refuses is not lost: it is counted in [Stats.Undelivered], passed to the
// OnDone hook with dl's error, and, for the first 64, returned by
// [Workers.Close] in [CloseError.Undelivered]. J must be the job type of the Workers it is
// given to, or NewWorkers panics. For Workers only.
func DeadLetter[J any](dl retry.DeadLetter[J]) WorkersOption {
	if f, ok := dl.(retry.DeadLetterFunc[J]); dl == nil || ok && f == nil {
		panic("pool: DeadLetter(nil)")
	}
	return workersOption(func(c *config) { c.deadLetter = dl })
}

// OnDone sets a hook that a [Workers] calls once for every job that has run
// to its end: with a nil error when the job succeeded, and otherwise with
// the error it ended with, joined with the dead-letter sink's error if the
// sink refused it. It is not called for retries (see [retry.OnRetry]), for
// jobs Submit refused, or for the jobs Close returns (unrun or
// interrupted).
//
// hook runs on the worker goroutine after the job is counted in [Stats], so
// it delays that worker's next job: keep it short (a counter, a histogram, a
// log line). It may call Stats, TrySubmit and Resize; a Submit from it may
// wait for the very worker it runs on, so prefer TrySubmit, and never call
// Close. It must be safe for concurrent use. A panic in it is recovered and
// returned by [Workers.Close] (the first 64; the rest are counted). J must
// be the job type of the Workers it is given to, or NewWorkers panics. For
// Workers only.
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
