// Package fanin merges many channels into one.
//
// [Merge] merges a fixed set of inputs, a [Merger] takes inputs while it
// runs, and [MergeSorted] merges sorted inputs into one sorted output. Each
// input's values keep their order; values of different inputs interleave as
// they arrive, except through MergeSorted.
//
//	out := fanin.Merge(ctx, orders, refunds, adjustments)
//	for ev := range out { // closes once all three are closed, or ctx is done
//		apply(ev)
//	}
//
// To send values to several consumers use [github.com/weftgo/weft/fanout];
// to transform them in stages, [github.com/weftgo/weft/pipeline], which
// connects to fanin through [github.com/weftgo/weft/pipeline.Stream.Chan] and
// [github.com/weftgo/weft/pipeline.FromChan].
//
// # Rules
//
//   - Merge and a Merger run one goroutine per input, MergeSorted one in
//     all; closing the output is their last act.
//   - The output is closed once: when the inputs are drained (for a Merger,
//     after [Merger.Close]) or when ctx is done. fanin never closes the
//     inputs.
//   - The consumer must read the output until it is closed or cancel ctx;
//     otherwise the goroutines block on their next send.
//   - A panic in MergeSorted's comparison function stops the merge and comes
//     back from [Sorted.Err] as a [*github.com/weftgo/weft.PanicError].
//   - A nil context, input channel or comparison function panics at once.
//
// Values pass through without allocating; see the [benchmark page] for costs.
//
// [benchmark page]: https://github.com/weftgo/weft/blob/main/docs/benchmarks.md
package fanin
