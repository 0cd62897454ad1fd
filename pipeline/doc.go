// Package pipeline builds typed, context-aware processing pipelines: a
// source, a chain of stages, and a sink that runs them all and returns one
// error.
//
//	rows := pipeline.Generate(ctx, readRows)                                // source
//	recs := pipeline.Map(rows, parse, pipeline.Workers(8), pipeline.Name("parse"))
//	good := pipeline.Filter(recs, valid)
//	batches := pipeline.Batch(good, 500, 100*time.Millisecond)
//	err := pipeline.ForEach(batches, write)                                 // sink: runs and waits
//
// Each stage runs on goroutines of its own and hands items to the next over a
// bounded channel; all of them share one context, which the first failure
// cancels:
//
//	Generate ──▶ Map (8 workers) ──▶ Filter ──▶ Batch ──▶ ForEach
//	 source       "parse"                                  sink: starts all,
//	                                                       waits for all
//
// # Running and ownership
//
// Building a pipeline starts nothing. The sink ([Collect], [ForEach],
// [Reduce], [All] or [Stream.Chan]) starts every stage, and returns only after
// every goroutine of the pipeline has exited. A stream that is built and never
// consumed holds no goroutine and registers nothing with its context, so it
// cannot leak. Each [Stream] is consumed once, by one stage or sink.
//
// # Failure and cancellation
//
// The first error returned by a stage function, or the first panic in one,
// cancels every stage; the sink returns that error wrapped in a [*StageError]
// that names the stage (`pipeline: stage "parse": ...`), with a panic as a
// *weft.PanicError inside. When the context given to the source is done
// before the data ends, every stage stops and the sink returns
// [context.Cause] of it. Errors that stages
// return because the pipeline was already cancelled are not reported, but a
// panic is, unless an error came before it: a bug does not hide behind a
// cancellation. A stage
// with an [OnError] handler hands failed items to it and goes on: the
// dead-letter path.
//
// Stages check whether the pipeline has stopped before every call of a
// stage function: once a stage has failed, or the caller's cancel has
// returned, each worker finishes at most the call in progress. Items already
// handed to a sink before the stop still reach it. When a cancellation races
// the end of the data, the rule is: a sink that has received every item
// returns nil, even if the context ended after the last one was handed on;
// otherwise it returns the cause.
//
// # Order
//
// [Map], [Filter], [FlatMap] and [Tap] keep the order of their input, with
// any number of [Workers]; [MapUnordered] and a multi-worker [ForEach] do
// not. [Batch] keeps order within and across batches.
//
// # Latency, memory and hand-off
//
// An item waits between stages only while the next stage is busy, or,
// behind a cheap stage function, for a few of its calls: items move in
// large chunks under load and one at a time when the pipeline is idle.
// Items move in chunks of up to [Chunk] items (64 by default), one channel
// operation per chunk, which is what makes a pipeline cheaper per item than
// channels that carry one item each; a stage hands on what it has the moment
// its consumer waits, so Chunk is an upper bound, not a size to wait for.
// Stages with several workers claim slow items one at a time, so that no
// worker is idle while another holds items it has not started.
//
// Memory is bounded in items: a stage holds, for each worker, the share of
// input it is processing and one output chunk it is filling, plus its output
// [Buffer] (64 items by default, rounded up to whole chunks). The exception
// is [FlatMap] with several workers, which holds everything emitted for a
// share of input until that share's turn comes: bound what f emits per item
// there.
//
// # When to use something else
//
// Use package pool for independent tasks that do not flow from one step to
// the next, or long-lived workers behind a job queue. Use package fanout to
// send every item to several consumers or to route items by key, and package
// fanin to merge channels; [Stream.Chan] and [FromChan] connect a pipeline to
// them.
package pipeline
