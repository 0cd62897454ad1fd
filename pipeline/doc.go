// Package pipeline chains typed, concurrent stages from a source to a sink
// that returns one error.
//
// Use it when items flow through steps (read, parse, filter, batch, write);
// for independent tasks use [github.com/weftgo/weft/pool], to send items to
// several consumers [github.com/weftgo/weft/fanout], to merge channels
// [github.com/weftgo/weft/fanin]. [Stream.Chan] and [FromChan] connect to
// them.
//
//	rows := pipeline.Generate(ctx, readRows)
//	recs := pipeline.Map(rows, parse, pipeline.Concurrency(8), pipeline.Name("parse"))
//	good := pipeline.Filter(recs, valid)
//	batches := pipeline.Batch(good, 500, 100*time.Millisecond)
//	err := pipeline.ForEach(batches, write) // runs every stage, waits for all
//
// # Rules
//
//   - Building starts nothing. The sink ([Collect], [ForEach], [Reduce],
//     [All], [Stream.Chan]) starts every stage on goroutines of its own and
//     returns, or closes its channel, only after all of them have exited.
//   - The first error or panic in a stage function cancels every stage; the
//     sink returns it in a [*StageError], a panic as a
//     [*github.com/weftgo/weft.PanicError]. Errors caused by the cancellation
//     are dropped; a later panic is not, unless an error came first. [OnError]
//     turns failed items aside instead.
//   - When the source's context is done, each worker finishes at most its
//     current call and the sink returns [context.Cause] of it, or nil if it
//     had received every item.
//   - Every stage keeps input order at any [Concurrency], except
//     [MapUnordered] and a concurrent [ForEach].
//   - A stage blocks while its output [Buffer] is full. An item waits there
//     only while the next stage is busy or, behind a cheap function, for a few
//     of its calls.
//   - emit, in [Generate] and [FlatMap], blocks while the consumer is behind;
//     once the pipeline has stopped it returns why, for the function to
//     return. It is safe for concurrent use until the function returns.
//   - Every call of a stage function gets the pipeline's context, which
//     carries the values of the source's ctx (a trace span, a request ID).
//     Items carry no context of their own: what belongs to one item, such as
//     its span, travels in the item.
//   - [OnEvent] reports each call of a stage function, with its time and
//     error, and each wait of the stage for its consumer; a stage without it
//     pays nothing for it.
//
// Costs: see the [benchmark page].
//
// [benchmark page]:
// https://github.com/weftgo/weft/blob/main/docs/benchmarks.md
package pipeline
