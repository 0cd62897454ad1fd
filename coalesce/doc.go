// Package coalesce collapses many events into few: a [Signal] turns a burst of
// notifications into one wake-up, and a [Latest] keeps only the newest value
// for watchers that never want a backlog.
//
// Use a Signal when a worker must react to "something changed" and running
// once after a burst is as good as running once per event: flushing a buffer,
// re-reading a file, re-scanning a queue. Use a Latest when readers want the
// newest state (config, membership, a health snapshot) and intermediate values
// are worthless to them. Use a channel instead when every value matters.
//
//	sig := coalesce.NewSignal()
//	go func() { for range events { pending.Add(1); sig.Notify() } }() // never blocks
//	for sig.Wait(ctx) == nil {
//		flush(pending.Swap(0)) // one flush per burst
//	}
//
// # Rules
//
// Neither type starts a goroutine, so neither has a Close: they are plain
// values that the garbage collector reclaims. Setters never block on readers.
// Every wait takes a context or is a channel the caller can select on; a wait
// that ends because its context is done returns [context.Cause] of it.
// Both types are safe for concurrent use.
package coalesce
