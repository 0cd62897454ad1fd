package pool

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"time"
)

// EventKind is the step of a job's life an [Event] reports.
type EventKind int

const (
	// Submitted: Submit or TrySubmit was called with the job, which may
	// yet be refused.
	Submitted EventKind = iota + 1
	// Started: an attempt of the job starts on a worker.
	Started
	// Ended: the attempt that Started reported has ended, with its
	// Outcome.
	Ended
	// Unrun: the job leaves the pool without another attempt: Submit
	// refused it, or Close returned it unrun.
	Unrun
)

var kindNames = [...]string{Submitted: "submitted", Started: "started", Ended: "ended", Unrun: "unrun"}

// String returns the kind in lowercase, such as "started".
func (k EventKind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Outcome is how an attempt or a job ended. Each one but Retried is the
// [Stats] count of the same name that the job is counted in.
type Outcome int

const (
	Succeeded    Outcome = iota + 1 // the handler returned nil
	Failed                          // the job failed and reached no dead-letter sink
	Panicked                        // the last attempt panicked, and no sink took the job
	Canceled                        // Close returned the job, interrupted or unrun
	DeadLettered                    // the dead-letter sink took the job
	Rejected                        // Submit or TrySubmit refused the job
	Retried                         // the attempt failed, and the job waits to retry
)

var outcomeNames = [...]string{
	Succeeded: "succeeded", Failed: "failed", Panicked: "panicked", Canceled: "canceled",
	DeadLettered: "dead_lettered", Rejected: "rejected", Retried: "retried",
}

// String returns the outcome in lowercase snake case, as [Stats.String]
// names its count: "succeeded", "dead_lettered"…
func (o Outcome) String() string {
	if o > 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Event is one step of a job's life in a [Workers], delivered to the
// [OnEvent] hook. Every job has one Submitted event; each attempt a Started
// and then an Ended event on the same goroutine; and every job submitted
// ends once, in an Ended event whose Outcome is not Retried or in an Unrun
// event.
type Event[J any] struct {
	Kind EventKind
	Job  J
	// Attempt is the number of the attempt starting or ended, 1 for the
	// first; at Unrun, the attempts the job made.
	Attempt int
	// Wait, at Started, is how long the job waited for this attempt: since
	// Submit was called, or since its retry delay ended.
	Wait time.Duration
	// Run, at Ended, is how long the attempt's handler ran.
	Run time.Duration
	// Outcome, at Ended and Unrun, is how the attempt or the job ended.
	Outcome Outcome
	// Delay, at Ended with Retried, is the wait before the next attempt.
	Delay time.Duration
	// Err is, at Ended, the attempt's error if it is Retried and otherwise
	// the job's final error, as [OnDone] gets it; at Unrun, why: Submit's
	// error, or the cause that cut Close's drain short.
	Err error
}

// OnEvent sets a hook a [Workers] calls at every step of every job, for
// metrics and traces: see [Event]. It runs on the goroutine that took the
// step (the submitter's, a worker's, a retry timer's or Close's), never
// under the pool's lock, so it must be short and safe for concurrent use.
// ctx is the submitter's at Submitted and Rejected (context.Background for
// TrySubmit), and otherwise the job's context. What the hook returns at
// Started, if not nil, is the context the attempt's handler and its Ended
// event get, as a span started there would need; elsewhere it is not used.
// A panic in the hook at Started fails the attempt as a handler's panic
// does; elsewhere it is returned by [Workers.Close]. J must be the Workers' job type, or NewWorkers
// panics; OnEvent panics if hook is nil.
func OnEvent[J any](hook func(ctx context.Context, e Event[J]) context.Context) WorkersOption {
	if hook == nil {
		panic("pool: OnEvent(nil)")
	}
	return workersOption(func(c *config) { c.onEvent = hook })
}

// onEvent returns the configured hook for jobs of type J, or nil.
func onEvent[J any](c config) func(context.Context, Event[J]) context.Context {
	if c.onEvent == nil {
		return nil
	}
	h, ok := c.onEvent.(func(context.Context, Event[J]) context.Context)
	if !ok {
		panic(fmt.Sprintf("pool: NewWorkers: OnEvent hook %T does not take jobs of type %v", c.onEvent, reflect.TypeFor[J]()))
	}
	return h
}

// PropagateValues(true) makes a [Workers] run each job with a context that
// carries the values of the context it was given to [Workers.Submit] with,
// such as a trace span or a request ID, on top of the Workers' own: values
// only, so the job is cancelled by the Workers' context and never by the
// submitter's, which may end as soon as Submit returns. A job from
// [Workers.TrySubmit], which takes no context, gets the Workers' context. It
// costs a small allocation per Submit; the default, PropagateValues(false),
// runs every job with the Workers' context.
func PropagateValues(on bool) WorkersOption {
	return workersOption(func(c *config) { c.values = on })
}

// jobContext is a job's context under PropagateValues: the values of the
// submitter's context, then those of the Workers' context, with the
// Workers' deadline, cancellation and cause.
type jobContext struct {
	context.Context                 // the Workers'
	sub             context.Context // the submitter's
}

// newJobContext returns the context of a job submitted with sub to a
// Workers whose context is pool.
func newJobContext(pool, sub context.Context) jobContext {
	if cancelKey == nil {
		// The probe found no key: hide sub's cancellation the documented
		// way, at an allocation per lookup.
		sub = context.WithoutCancel(sub)
	}
	return jobContext{Context: pool, sub: sub}
}

func (c *jobContext) Value(key any) any {
	// The key context.Cause, and a context derived from this one, look up
	// to find the cancellation they attach to must find the Workers', as
	// context.WithoutCancel would have it, so that they see its cause and
	// attach without a goroutine of their own.
	if key != cancelKey {
		if v := c.sub.Value(key); v != nil {
			return v
		}
	}
	return c.Context.Value(key)
}

func (c *jobContext) String() string {
	return fmt.Sprintf("%v.WithValuesOf(%v)", c.Context, c.sub)
}

// cancelKey is the key under which a cancellable context of package context
// finds itself, which context.Cause looks up: read once with a probe,
// because context.WithoutCancel, which hides it, allocates at every lookup.
var cancelKey = func() any {
	var p keyProbe
	_ = context.Cause(&p)
	return p.key
}()

// keyProbe is a context that remembers the first key it is asked for.
type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Err() error { return context.Canceled }

func (p *keyProbe) Value(key any) any {
	if p.key == nil {
		p.key = key
	}
	return nil
}
