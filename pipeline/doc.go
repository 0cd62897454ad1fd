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
// *weft.PanicError inside. When the context given to the source is done, every
// stage stops and the sink returns [context.Cause] of it. Errors that stages
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
// # Memory and hand-off
//
// Memory is bounded: a stage holds, for each worker, the share of input it is
// processing and one output chunk it is filling, plus its output [Buffer] (64
// items by default). The exception is [FlatMap] with several workers, which
// holds everything emitted for a share of input until that share's turn
// comes: bound what f emits per item there. Items move between
// stages in chunks of up to [Chunk] items (64 by default), one channel
// operation per chunk, which is what makes a pipeline cheaper per item than
// channels that carry one item each. A chunk is handed on as soon as the stage
// that fills it has no more input ready, so an item arriving alone still
// travels one hop per stage without waiting for company. Stages with several
// workers split chunks into shares sized by how long items take, so that slow
// items spread over all workers.
//
// # When to use something else
//
// Use package pool for independent tasks that do not flow from one step to
// the next, or long-lived workers behind a job queue. Use package fanout to
// send every item to several consumers or to route items by key, and package
// fanin to merge channels; [Stream.Chan] and [FromChan] connect a pipeline to
// them.
package pipeline
