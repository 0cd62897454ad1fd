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
	// Ended: the attempt has ended, with its Outcome.
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

// Outcome is how an attempt or a job ended; each but Retried names the
// [Stats] count the job is in.
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

// String returns the outcome as [Stats.String] names its count:
// "succeeded", "dead_lettered"…
func (o Outcome) String() string {
	if o > 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Event is one step of a job's life in a [Workers], delivered to the
// [OnEvent] hook. Every job has one Submitted event, a Started and then an
// Ended event per attempt on the same goroutine, and ends once: in an Ended
// event whose Outcome is not Retried, or in an Unrun event.
type Event[J any] struct {
	Kind EventKind
	Job  J
	// Attempt is the attempt's number, from 1; at Unrun, the attempts the
	// job made.
	Attempt int
	// Wait, at Started, is how long the job waited for this attempt, since
	// Submit or since its retry delay ended.
	Wait time.Duration
	// Run, at Ended, is how long the attempt's handler ran.
	Run time.Duration
	// Outcome, at Ended and Unrun, is how the attempt or the job ended.
	Outcome Outcome
	// Delay, at Ended with Retried, is the wait before the next attempt.
	Delay time.Duration
	// Err is, at Ended, the attempt's error if Retried, else the job's
	// final error as [OnDone] gets it; at Unrun, Submit's error or the
	// cause that cut Close's drain short.
	Err error
}

// OnEvent sets a hook a [Workers] calls at every [Event] of every job, on the
// goroutine that took the step and never under the pool's lock, so it must
// be short and safe for concurrent use. ctx is the submitter's at Submitted
// and at a refused job's Unrun (context.Background for TrySubmit), and
// otherwise the job's; what the hook returns at Started, if not nil, is the
// context the attempt's handler and its Ended event get. A panic in the
// hook at Started fails the attempt as a handler's panic does; OnEvent
// panics if hook is nil.
func OnEvent[J any](hook func(ctx context.Context, e Event[J]) context.Context) WorkersOption {
	// The goroutine that took the step is the submitter's, a worker's, a
	// retry timer's or Close's. What the hook returns is used only at
	// Started; a panic in it elsewhere is returned by Close (package rules).
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
// carries the values of the context given to [Workers.Submit], such as a
// trace span, on top of the Workers' own: values only, so the job is never
// cancelled by the submitter's context, which may end as soon as Submit
// returns. A job from [Workers.TrySubmit], which takes no context, gets the
// Workers' context.
func PropagateValues(on bool) WorkersOption {
	// It costs a small allocation per Submit.
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
