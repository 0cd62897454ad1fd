// Package otel records OpenTelemetry metrics and traces of weft's values.
//
// Each function turns one value's hooks into instruments and spans with one
// call: [Breaker], [Retry], [Flight], [Broadcast], [Workers], [Stage] and
// [Shutdown] return the options to build the value with, [PoolStats] gauges
// a pool's Stats, and
// [Gather], [First] and [Hedged] run a fan-out recorded by a [Fanout].
// Metrics go to the global MeterProvider and spans to the global
// TracerProvider unless [WithMeterProvider] or [WithTracerProvider] say
// otherwise. The package is a module of its own, so
// that only its users depend on OpenTelemetry.
//
//	import weftotel "github.com/weftgo/weft/otel"
//
//	b := breaker.New(append(weftotel.Breaker("payments"), breaker.OpenFor(10*time.Second))...)
//	policy := retry.New(weftotel.Retry("payments"), retry.Attempts(4))
//	w := pool.NewWorkers(ctx, 8, send, weftotel.Workers[Email]("emails"), pool.PropagateValues(true))
//	defer weftotel.PoolStats("emails", w.Stats).Unregister()
//
// # Rules
//
//   - The options set the value's hooks ([breaker.OnStateChange],
//     [breaker.OnReject], [breaker.OnSlowCall], [retry.OnEvent],
//     [coalesce.OnDone], [fanout.OnDrop], [pool.OnEvent], [pipeline.OnEvent],
//     [shutdown.OnStart], [shutdown.OnStop]); a hook of the
//     same kind passed after them replaces theirs, before them is replaced.
//   - Every measurement carries the value's name attribute, then those of
//     [WithAttributes]. Durations are in seconds, in histograms whose buckets
//     run from 5ms to 5 minutes (a View in the MeterProvider can change them).
//   - Nothing here starts goroutines. Gauges are read at collection time, so
//     they cost the calls nothing.
//   - Span events go to the span in the caller's context; a context without
//     a recording span gets none, and costs a check.
//
// # Instruments
//
//	name                         kind       unit           attributes
//	weft.breaker.state           gauge      {state}        weft.breaker.name, weft.breaker.state
//	weft.breaker.transitions     counter    {transition}   weft.breaker.name, weft.breaker.state, weft.breaker.reason
//	weft.breaker.rejections      counter    {call}         weft.breaker.name, weft.breaker.state, weft.breaker.forced
//	weft.breaker.slow_call.duration histogram s            weft.breaker.name
//	weft.retry.attempts          histogram  {attempt}      weft.retry.name, outcome
//	weft.retry.delay             histogram  s              weft.retry.name
//	weft.coalesce.executions     counter    {execution}    weft.coalesce.name, outcome
//	weft.coalesce.callers        counter    {call}         weft.coalesce.name, outcome
//	weft.fanout.drops            counter    {value}        weft.fanout.name, weft.fanout.output
//	weft.fanout.call.duration    histogram  s              weft.fanout.name, weft.fanout.call, outcome
//	weft.pool.job.queue_wait     histogram  s              weft.pool.name
//	weft.pool.job.duration       histogram  s              weft.pool.name, outcome
//	weft.pool.job.outcomes       counter    {job}          weft.pool.name, outcome
//	weft.pool.jobs               gauge      {job}          weft.pool.name, weft.pool.job.state
//	weft.pool.workers            gauge      {worker}       weft.pool.name
//	weft.pool.submits.blocked    gauge      {call}         weft.pool.name
//	weft.pipeline.item.duration  histogram  s              weft.pipeline.stage, outcome (ok, error); its count is the items taken in
//	weft.pipeline.blocked.duration histogram s             weft.pipeline.stage
//	weft.pipeline.items.out      counter    {item}         weft.pipeline.stage
//	weft.pipeline.errors         counter    {error}        weft.pipeline.stage
//	weft.shutdown.start.duration histogram  s              weft.shutdown.name, weft.shutdown.component, outcome (ok, error, interrupted)
//	weft.shutdown.stop.duration  histogram  s              weft.shutdown.name, weft.shutdown.component, outcome (ok, error, abandoned)
//
// weft.breaker.state is 1 for the breaker's state (closed, open, half_open)
// and 0 for the others, as of the last change the breaker delivered: an open
// breaker whose open time has passed reads open until a call or
// [breaker.Breaker.State] notices. weft.breaker.reason is the
// [breaker.Reason] in snake case (consecutive_failures, probe_timed_out…).
// A retry's outcome is success, or why the policy gave up: exhausted,
// not_retryable, max_elapsed, deadline, budget, abandoned or canceled (the
// caller's context ended the call). A coalesce outcome is ok or error; a
// fan-out call's is ok, failed, timed_out, canceled or panicked. A pool
// job's outcome is a [pool.Outcome]: succeeded, failed, panicked, canceled,
// dead_lettered or rejected, and for an attempt's duration also retried;
// queue_wait counts from Submit, or from the end of a retry delay.
// weft.pool.job.state is queued, running or waiting (to retry), as of the
// collection; the gauges are [PoolStats]'s.
//
// # Spans
//
//	span or event          where                          attributes
//	event weft.retry       the caller's span, per retry    weft.retry.name, weft.retry.attempt, weft.retry.delay (s), error.message
//	event weft.retry.done  the caller's span, at the end   weft.retry.name, weft.retry.attempt, outcome, error.message if it failed
//	span weft.fanout.gather, weft.fanout.first, weft.fanout.hedged
//	                       a child of the caller's span    weft.fanout.name
//	span weft.fanout.call  a child of the fan-out's span   weft.fanout.name, weft.fanout.call, outcome
//	span weft.pool.job     a child of the job's span, per attempt
//	                                                      weft.pool.name, weft.pool.job.attempt, weft.pool.job.queue_wait (s),
//	                                                      outcome, weft.pool.job.retry_delay (s) if retried
//	span weft.shutdown.start, weft.shutdown.stop
//	                       a root span per component      weft.shutdown.name, weft.shutdown.component, outcome; status Error with the error
//
// A pool job's span is there only when the job's context carries a span: with
// [pool.PropagateValues], the submitter's. Its status is Error when the
// attempt failed, and the retry policy's events go on it.
package otel
