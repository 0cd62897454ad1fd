// Package coalesce collapses many events into few: a [Signal] turns a burst of
// notifications into one wake-up, a [Latest] keeps only the newest value for
// watchers that never want a backlog, and a [Group] runs one call for many
// concurrent callers that ask for the same key.
//
// Use a Signal when a worker must react to "something changed" and running
// once after a burst is as good as running once per event: flushing a buffer,
// re-reading a file, re-scanning a queue. Use a Latest when readers want the
// newest state (config, membership, a health snapshot) and intermediate values
// are worthless to them. Use a Group in front of an expensive, idempotent
// load (a cache fill, a token refresh) that many requests need at once. Use a
// channel instead when every value matters.
//
//	sig := coalesce.NewSignal()
//	go func() { for range events { pending.Add(1); sig.Notify() } }() // never blocks
//	for sig.Wait(ctx) == nil {
//		flush(pending.Swap(0)) // one flush per burst
//	}
//
// # Rules
//
// Signal and Latest start no goroutines, so neither has a Close: they are
// plain values that the garbage collector reclaims. Setters never block on
// readers. A Group starts a goroutine only to run a shared call that a caller
// may walk away from; it ends when the call returns, and the call's context is
// cancelled once every caller has walked away.
//
// Every wait takes a context or is a channel the caller can select on; a wait
// that ends because its context is done returns [context.Cause] of it. All
// three types are safe for concurrent use.
//
// The only user code the package runs is a Group's fn. A panic in it goes
// back, as a *weft.PanicError, through the error path of the call that ran
// it: every caller still waiting on the execution gets it as its error. A
// panic in an execution that every caller has left has nobody to go back
// to; it goes to the Group's [OnPanic] hook, which by default writes it and
// its stack with the standard library's log package, prefixed "coalesce:".
package coalesce
