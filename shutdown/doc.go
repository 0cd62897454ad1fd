// Package shutdown is what a service's main uses so that a deploy or a Ctrl-C
// drops no request and no job: it turns signals into a context, starts the
// service's components in order, and on shutdown turns readiness off, waits a
// drain delay, and stops the components in reverse order within a deadline.
//
//	ctx, stop := shutdown.OnSignal(context.Background()) // SIGINT, SIGTERM
//	defer stop()
//	g := shutdown.New() // drain 5s, stop within 25s
//	g.Add("db", shutdown.Func(openDB, closeDB))
//	g.Add("http", shutdown.HTTPServer(srv))
//	if err := g.Run(ctx); err != nil { log.Fatal(err) }
//
// # The sequence
//
// On the first signal a [Group]:
//
//  1. answers 503 on [Group.Ready], closes [Group.ShuttingDown], and has
//     [HTTPServer] answer every request with "Connection: close" (GOAWAY
//     over HTTP/2), so that keep-alive clients reconnect through the
//     balancer, which sends them elsewhere once it has caught up;
//  2. goes on serving for the [DrainDelay] (5s by default), so that load
//     balancers take the instance out of rotation before it stops accepting;
//  3. stops every started component in reverse order: servers stop
//     accepting and finish their requests, worker pools drain their queues,
//     then the connections they used close;
//  4. returns from Run within the overall [Timeout] (25s by default, drain
//     included), plus at most 2s for the [OnStop] hook.
//
// A second SIGINT exits the process at once with status 128+signal; a
// repeated SIGTERM does not (see [OnSignal]).
//
// # Kubernetes
//
// When a pod is deleted, Kubernetes marks it terminating and, at the same
// time, starts two things: the kubelet runs the preStop hook, if any, then
// sends SIGTERM; and the pod is removed from its Service's endpoints. The
// removal reaches kube-proxy on every node, ingress controllers and cloud
// load balancers later, hundreds of milliseconds to seconds after SIGTERM;
// until then they send new requests to the pod, and established
// connections keep reaching it. terminationGracePeriodSeconds (30s by
// default) counts from the deletion, preStop included; when it ends the
// kubelet sends SIGKILL. So the drain must outlast the balancers' lag, and
// preStop + Timeout + 2s must fit in the grace period. Either let the group
// drain, as the defaults do (0 + 25s + 2s < 30s), or drain in a preStop
// sleep, which also covers a process that starts handling SIGTERM late:
//
//	# the pod spec
//	terminationGracePeriodSeconds: 30
//	containers:
//	- name: api
//	  lifecycle:
//	    preStop:
//	      sleep: {seconds: 5} # Kubernetes 1.30+; exec "sleep 5" before
//
//	// main: 5s of preStop + 20s + 2s < 30s; the short drain still moves
//	// keep-alive clients off before idle connections are closed
//	g := shutdown.New(shutdown.DrainDelay(2*time.Second), shutdown.Timeout(20*time.Second))
//
// Raise the drain (DrainDelay or the preStop sleep) when the balancers in
// front lag more than 5s, and the grace period with it.
//
// # Rules
//
// The drain delay is waited only if a component had become ready: a Run
// cancelled while its first component is starting, or whose first Start
// fails, stops at once, which keeps crash loops fast. Handlers that keep
// their connection (WebSockets, streams) call [Track], so that the server's
// Stop tells them to finish and waits for them.
//
// Each Stop is called exactly once, and only for a component whose Start was
// called and did not fail before the component was ready. A Stop that
// overruns its budget is abandoned with [ErrAbandoned] and the next Stops
// are still called, with whatever time is left, so that they can release
// what they hold. Run returns every error joined, each naming its
// component, and [Group.Unfinished] names the components it gave up on. A
// panic in Start, Stop or the [OnStart] or [OnStop] hook is reported as a
// *weft.PanicError.
//
// The overall [Timeout] is a hard limit, the [OnStop] hook's own 2s aside.
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
