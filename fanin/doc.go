// Package fanin merges many channels into one: [Merge] for a fixed set of
// inputs, a [Merger] for inputs that arrive while it runs, and [MergeSorted]
// for a k-way merge of sorted inputs into one sorted output.
//
//	out := fanin.Merge(ctx, orders, refunds, adjustments)
//	for ev := range out { // closes once all three are closed, or ctx is done
//		apply(ev)
//	}
//
// Each input's values come out in the order they went in; values of
// different inputs interleave in whatever order they arrive, except through
// MergeSorted, which orders them with a comparison function and breaks ties
// by input position, so equal values keep the order of the inputs.
//
// # When to use something else
//
// To send values to several consumers use package fanout; to transform
// values in typed stages with workers use package pipeline. The two meet
// fanin through channels: pipeline's Stream.Chan hands a pipeline's output to
// Merge or a Merger, and pipeline.FromChan turns a merged output into the
// source of a new pipeline. To merge the results of tasks you start yourself,
// package pool is simpler.
//
// # Rules
//
// Goroutines. Merge and a Merger run one goroutine per input; MergeSorted
// runs one goroutine in all. Every one of them has exited, or is about to
// return, when the output channel is closed: the close is their last act.
//
// Closing. The output is closed exactly once, when every input has been
// read to its end (for a Merger, also when [Merger.Close] has been called),
// or as soon as ctx is done. Values still in the inputs then stay there: the
// inputs are the caller's, and fanin never closes them. A value a goroutine
// had already received and was waiting to send when ctx ended is dropped
// with the rest of the stream, as the consumer asked.
//
// The consumer's duty. The output holds up to [DefaultBuffer] values (a
// Merger takes [Buffer]), so the goroutines run that far ahead of the
// consumer and then wait for it. A consumer must read the output until it
// is closed or cancel ctx; one that stops reading and leaves ctx alive
// leaves the goroutines blocked on their next send.
//
// Panics. The only user code fanin runs is MergeSorted's comparison
// function. A panic in it goes back through the merge's error path: it
// stops the merge and comes back from [Sorted.Err] as a *weft.PanicError,
// never as a crash on a goroutine the caller cannot see.
//
// Misuse. A nil context, a nil input channel (which would never close) or a
// nil comparison function panics when the merge is built, naming the
// argument.
package fanin
