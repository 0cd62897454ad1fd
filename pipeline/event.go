package pipeline

import (
	"context"
	"time"
)

// Event is a call of a stage's function on one item, or a wait for the
// stage's consumer, as [OnEvent] reports it.
type Event struct {
	Stage string // the stage's name: see [Name]
	// Wait marks a wait.
	Wait bool
	// Took is how long it took, leaving out the waits a call caused.
	Took time.Duration
	// Out is how many items the call handed on (0 for a wait and for
	// [ForEach]).
	Out int
	// Err is what the function returned, even if [OnError] took it.
	Err error
}

// OnEvent sets a hook called with each [Event] of a stage, on the stage's
// worker, outside any lock of the pipeline, and concurrently with itself if
// the stage has several workers. A panic in it fails the pipeline as the
// stage function's would. It panics if hook is nil.
func OnEvent(hook func(Event)) Option {
	// Each call of an observed stage costs two readings of the clock, which
	// matter only beside a cheap function; a stage without the hook pays
	// nothing for it (observing). Sources and Batch panic given it, as
	// Option's doc says.
	if hook == nil {
		panic("pipeline: OnEvent(nil)")
	}
	return named{"OnEvent", true, func(c *config) { c.onEvent = hook }}
}

// observing reports whether opts set an OnEvent hook, so that a stage can be
// built with the kernel that reports events, and one without the hook pays
// nothing for it.
func observing(opts []Option) bool {
	for _, o := range opts {
		if n, ok := o.(named); ok && n.name == "OnEvent" {
			return true
		}
	}
	return false
}

// step runs a stage's function on one item and hands on its output. It
// returns how many items it handed on and the function's error, or
// errHalted if the pipeline stopped while it handed on.
type step[T, R any] func(ctx context.Context, item T, e *emitter[R]) (int, error)

// observer is what an emitter of a stage with an OnEvent hook keeps for it.
type observer struct {
	hook  func(Event)
	stage string // the stage's name
	// waits are the waits for the consumer not reported yet.
	waits []time.Duration
	// emitted counts the items FlatMap's emit took; guarded by the
	// emitter's emitMu.
	emitted int
}

// observed is the kernel of a stage with an OnEvent hook: the plain kernels'
// loop, timing each call of s and reporting it, and then the waits it caused.
func observed[T, R any](s step[T, R]) kernel[T, R] {
	return func(ctx context.Context, items []T, e *emitter[R]) (int, error) {
		ob := e.ob
		for i, item := range items {
			if ctx.Err() != nil { // the pipeline stopped: no new call
				return i, errHalted
			}
			ob.report()
			start := time.Now()
			out, err := s(ctx, item, e)
			took := time.Since(start) - ob.waited()
			// A call in progress as the pipeline stopped may return the
			// pipeline's own error, from ctx or from emit: Event.Err has it.
			// errHalted, the emitter's, is no error of the function.
			halted := err == errHalted
			if halted {
				err = nil
			} else if err != nil {
				e.failed()
			}
			ob.hook(Event{Stage: ob.stage, Took: took, Out: out, Err: err})
			ob.report()
			switch {
			case halted:
				return i + 1, errHalted
			case err != nil:
				return i, err
			}
		}
		return len(items), nil
	}
}

// waited returns the time of the waits not reported yet.
func (ob *observer) waited() time.Duration {
	var d time.Duration
	for _, w := range ob.waits {
		d += w
	}
	return d
}

// report delivers the waits not reported yet to the hook. It is called with
// no lock held, by the goroutine that owns the emitter.
func (ob *observer) report() {
	if len(ob.waits) == 0 {
		return
	}
	// Reset first: a hook that panics must not see a wait twice.
	waits := ob.waits
	ob.waits = ob.waits[:0]
	for _, d := range waits {
		ob.hook(Event{Stage: ob.stage, Wait: true, Took: d})
	}
}
