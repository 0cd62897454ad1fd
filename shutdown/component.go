package shutdown

import "context"

// Component is something a [Group] starts and stops.
//
// Start returns once the component is ready, or blocks for its life, calls
// [MarkReady] once it serves and returns when Stop makes it; an error fails
// the group. Stop releases what the component holds before its ctx's
// deadline, and is called once, even during Start, unless Start failed before
// the component was ready. Start's context is cancelled once Stop has
// returned; a Start that then returns the context's error ends cleanly.
type Component interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Func makes a Component of two functions. A nil start does nothing and is
// ready at once; a nil stop does nothing.
func Func(start, stop func(ctx context.Context) error) Component {
	return funcComponent{start: start, stop: stop}
}

type funcComponent struct {
	start, stop func(context.Context) error
}

func (f funcComponent) Start(ctx context.Context) error {
	if f.start == nil {
		return nil
	}
	return f.start(ctx)
}

func (f funcComponent) Stop(ctx context.Context) error {
	if f.stop == nil {
		return nil
	}
	return f.stop(ctx)
}

type readyKey struct{}

// MarkReady tells the [Group] that the blocking Start given ctx has made its
// component ready, so that the next one starts (see [ErrExited]). Outside a
// Group, and after the first call, it does nothing.
func MarkReady(ctx context.Context) {
	if ready, ok := ctx.Value(readyKey{}).(func()); ok {
		ready()
	}
}

type drainingKey struct{}

// Draining returns a channel closed when the [Group] that gave ctx to a Start
// begins shutting down, or nil for a context that did not come from a Group.
func Draining(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(drainingKey{}).(<-chan struct{})
	return ch
}

// hardKey carries, in Stop's context, the time at which the group gives up
// on the Stop: a little after the context's own deadline. [HTTPServer] uses
// the time between the two to let handlers answer after the hard stop.
type hardKey struct{}
