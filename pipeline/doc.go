// Package pipeline chains typed, concurrent stages from a source to a sink
// that returns one error.
//
// Use it when items flow through steps, such as parse, filter and write; for
// independent tasks use [github.com/weftgo/weft/pool]. [Stream.Chan] and
// [FromChan] connect it to [github.com/weftgo/weft/fanout] and
// [github.com/weftgo/weft/fanin].
//
//	recs := pipeline.Map(pipeline.Generate(ctx, read), parse, pipeline.Concurrency(8))
//	err := pipeline.ForEach(pipeline.Batch(recs, 500, time.Second), write) // runs every stage, waits for all
//
// # Rules
//
//   - Building starts nothing. The sink ([Collect], [ForEach], [Reduce],
//     [All], [Stream.Chan]) starts every stage on goroutines of its own and
//     returns, or closes its channel, only after all of them have exited.
//   - The first error or panic in a stage function cancels every stage, and
//     the sink returns it as a [*StageError]. Errors caused by the
//     cancellation are dropped; a later panic is not, unless an error came
//     first.
//   - When the source's context is done, each worker finishes at most its
//     current call and the sink returns [context.Cause] of it, or nil if it
//     had received every item.
//   - emit, in [Generate] and [FlatMap], blocks while the consumer is
//     behind, returns why once the pipeline has stopped, and is safe for
//     concurrent use until the function returns.
//   - Stage functions get the pipeline's context, with the values of the
//     source's ctx; items carry no context of their own.
//
// Costs: see the [benchmark page].
//
// [benchmark page]:
// https://github.com/weftgo/weft/blob/main/docs/benchmarks.md
package pipeline
