package shutdown

import "context"

// Component is something a [Group] starts and stops: a server, a worker
// pool, a connection.
//
// Start either returns once the component is ready (a connection is open,
// workers are running), or blocks for the component's whole life (a server
// loop) and returns when Stop makes it. A Start that blocks calls [MarkReady]
// once the component serves, so that the group goes on to start the next one;
// the group starts components one at a time, in the order they were added,
// waiting for each to be ready. Start's error, if any, fails the group.
//
// Stop makes the component stop and release what it holds, within the
// deadline of its ctx. The group calls Stop once, and only if Start was
// called and had not failed before the component was ready by the time the
// group comes to stop it (a Start still starting then is stopped, to cut it
// short): a blocking Start that fails after [MarkReady] is stopped too, so
// that it releases what it holds. Stop must not wait for ctx to be done to return. Start's context is
// cancelled once Stop has returned, which ends a Start that runs until its
// context is done.
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

// MarkReady tells the [Group] that the component whose Start was given ctx
// is ready, so that the group starts the next component while this Start
// goes on running. Only a Start that blocks for the component's life calls
// it: once it has, Start returning before shutdown means the component
// ended on its own, which fails the group ([ErrExited]). A Start that
// returns once the component is ready does not call it. Calling it more
// than once, or with a context that did not come from a Group, does nothing.
func MarkReady(ctx context.Context) {
	if ready, ok := ctx.Value(readyKey{}).(func()); ok {
		ready()
	}
}

type drainingKey struct{}

// Draining returns a channel that is closed when the [Group] that gave ctx
// to a Start begins shutting down: when [Group.ShuttingDown] closes, before
// the drain delay and the first Stop. A component that keeps serving through
// the drain uses it to tell its clients to go elsewhere, as [HTTPServer] does
// with "Connection: close". For a context that did not come from a Group it
// returns nil, a channel that is never closed.
func Draining(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(drainingKey{}).(<-chan struct{})
	return ch
}

// hardKey carries, in Stop's context, the time at which the group gives up
// on the Stop: a little after the context's own deadline. [HTTPServer] uses
// the time between the two to let handlers answer after the hard stop.
type hardKey struct{}
