// Package pipeline chains typed, concurrent stages from a source to a sink that returns one error.
//
// Use it when items flow through steps: read, parse, filter, batch, write.
// Use [github.com/weftgo/weft/pool] for independent tasks,
// [github.com/weftgo/weft/fanout] to send items to several consumers and
// [github.com/weftgo/weft/fanin] to merge channels; [Stream.Chan] and
// [FromChan] connect a pipeline to them.
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
//   - When the source's context is done, the stages stop and the sink returns
//     [context.Cause] of it, or nil if it had received every item. Each
//     worker finishes at most the call in progress; items already handed to
//     the sink may still reach it.
//   - Every call of a stage function gets the pipeline's context, which
//     carries the values of the source's ctx (a trace span, a request ID).
//     Items carry no context of their own: what belongs to one item, such as
//     its span, travels in the item.
//   - [OnEvent] reports each call of a stage function, with its time and
//     error, and each wait of the stage for its consumer; a stage without it
//     pays nothing for it.
//   - [Map], [Filter], [FlatMap], [Tap] and [Batch] keep input order with any
//     number of [Concurrency]; [MapUnordered] and a multi-worker [ForEach] do not.
//   - A stage blocks while its output [Buffer] is full. It holds that buffer
//     and, per worker, its current input and one output [Chunk]; only
//     [FlatMap] with several workers holds more: what f emits for a share of
//     input, until its turn.
//   - An item waits between stages only while the next stage is busy, or,
//     behind a cheap stage function, for a few of its calls.
//   - The emit function of [Generate] and [FlatMap] blocks while the consumer
//     is behind (unless held, as above) and returns nil for an item it took;
//     once the pipeline has stopped it returns why, and the function should
//     return that error. It is safe for concurrent use until the function
//     returns, and fails after.
//
// Costs are measured on https://github.com/weftgo/weft/blob/main/docs/benchmarks.md.
package pipeline
