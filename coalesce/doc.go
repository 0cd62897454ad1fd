// Package coalesce collapses many events into few.
//
// A [Signal] turns a burst of notifications into one wake-up; a [Latest]
// keeps only the newest value, for readers that want no backlog; a [Flight]
// runs one call for all concurrent callers of the same key. Use a channel
// instead when every value matters.
//
//	sig := coalesce.NewSignal()
//	go func() { for range events { pending.Add(1); sig.Notify() } }() // never blocks
//	for sig.Wait(ctx) == nil {
//		flush(pending.Swap(0)) // one flush per burst
//	}
//
// # Rules
//
//   - Signal and Latest start no goroutines and need no Close; [Flight] says
//     where fn runs.
//   - [Signal.Notify] and [Latest.Set] never block on readers. Every wait
//     takes a context or is a channel; one ended by its context returns
//     [context.Cause] of it.
//   - All three types are safe for concurrent use.
//
// Notify is allocation-free; see the [benchmark page] for costs.
//
// [benchmark page]: https://github.com/weftgo/weft/blob/main/docs/benchmarks.md
package coalesce
