// Package shutdown stops a service on a deploy or Ctrl-C without dropping
// requests or jobs.
//
//	ctx, stop := shutdown.OnSignal(context.Background())
//	defer stop()
//	g := shutdown.New() // drain 5s, stop within 25s
//	g.Add("db", shutdown.Func(openDB, closeDB))
//	g.Add("http", shutdown.HTTPServer(srv))
//	if err := g.Run(ctx); err != nil { log.Fatal(err) }
//
// # The sequence
//
// When Run's context is done (the first signal) or a component fails, a
// [Group]:
//
//  1. answers 503 on [Group.Ready] and has [HTTPServer] answer "Connection:
//     close";
//  2. serves on for the [DrainDelay] while balancers take the instance out
//     of rotation;
//  3. stops the started components in reverse order;
//  4. returns within the [Timeout], plus at most 2s for the [OnStop] hook.
//
// # Kubernetes
//
// preStop + Timeout + 2s must fit in terminationGracePeriodSeconds (30s by
// default). Draining in a preStop sleep instead also
// covers a process slow to handle SIGTERM:
//
//	lifecycle: {preStop: {sleep: {seconds: 5}}} # the pod spec: 5s + 20s + 2s < 30s
//	g := shutdown.New(shutdown.DrainDelay(2*time.Second), shutdown.Timeout(20*time.Second))
//
// # Rules
//
//   - No drain delay is waited if no component had become ready, so a
//     failing first Start stops at once.
//   - A Stop that overruns its budget is abandoned with [ErrAbandoned], and
//     the next Stops still run; once the Timeout has passed, Run waits for
//     none.
//   - A panic in Start, Stop or a hook is a
//     [*github.com/weftgo/weft.PanicError] in Run's error, a runtime.Goexit
//     [github.com/weftgo/weft.ErrGoexit].
//   - A [github.com/weftgo/weft/pool.Workers], or anything else that runs
//     long, becomes a component through [Func].
//
// A short-lived command needs only OnSignal.
package shutdown
