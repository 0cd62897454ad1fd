// Package shutdown is what a service's main uses so that a deploy or a Ctrl-C
// drops no request and no job: it turns signals into a context, starts the
// service's components in order, and on shutdown turns readiness off, waits a
// drain delay, and stops the components in reverse order within a deadline.
//
//	ctx, stop := shutdown.OnSignal(context.Background()) // SIGINT, SIGTERM
//	defer stop()
//	g := shutdown.New(shutdown.DrainDelay(5 * time.Second))
//	g.Add("db", shutdown.Func(openDB, closeDB))
//	g.Add("http", shutdown.HTTPServer(srv))
//	if err := g.Run(ctx); err != nil { log.Fatal(err) }
//
// # The sequence
//
// Kubernetes takes a pod out of its service's endpoints at the same time as it
// sends SIGTERM, waits terminationGracePeriodSeconds (30s by default), then
// sends SIGKILL. On the first signal a [Group]:
//
//  1. answers 503 on [Group.Ready] and closes [Group.ShuttingDown];
//  2. waits the [DrainDelay], so that load balancers notice;
//  3. stops every started component in reverse order: servers stop accepting
//     and finish their requests, worker pools drain their queues, then the
//     connections they used close;
//  4. returns from Run before the overall [Timeout] (25s by default).
//
// A second signal exits the process at once with status 128+signal.
//
// # Rules
//
// Each Stop is called exactly once, and only for a component whose Start was
// called and did not fail before the component was ready. A Stop that
// overruns its budget is abandoned with [ErrAbandoned] and the next Stops
// are still called, with whatever time is left, so that they can release
// what they hold. Run returns every error joined, each naming its
// component, and [Group.Unfinished] names the components it gave up on. A
// panic in Start, Stop or the [OnStop] hook is reported as a
// *weft.PanicError.
//
// The overall [Timeout] is a hard limit, the time of an [OnStop] hook aside.
// Once it has passed, the Stops not yet called are still called, with a
// context that is already done, but Run returns without waiting for them:
// each is reported as [ErrAbandoned] and named by Unfinished, whatever it
// goes on to return. Give a component that may hang a [StopTimeout], so
// that it cannot use up the time of the components stopped after it.
//
// Anything that runs long in a weft program, a pool.Workers or a pipeline,
// becomes a component through [Func]. This package imports no other weft
// package.
//
// # When not to use it
//
// A short-lived command needs only [OnSignal]: cancel the work on the first
// signal and let the process end.
package shutdown
