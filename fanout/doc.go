// Package fanout sends work from one place to many.
//
// [Broadcast] sends every value of a channel to every consumer, [Distribute]
// sends each value to one of several consumers, [Gather] calls several
// services at once with a timeout each and keeps partial results, and
// [First] and [Hedged] race equivalent calls for the first answer.
//
//	res, err := fanout.Gather(ctx, // ctx: the request's, with a 200 ms budget
//		fanout.Required("profile", 0, getProfile),
//		fanout.Required("cart", 0, getCart),
//		fanout.Optional("recommendations", 150*time.Millisecond, getRecs),
//	)
//	if err != nil {
//		return err // a *fanout.CallError naming the required call that failed
//	}
//	if res.Degraded() {
//		// answer without recommendations
//	}
//
// To merge channels use [github.com/weftgo/weft/fanin]; to map items with
// workers, [github.com/weftgo/weft/pipeline]; to run independent tasks,
// [github.com/weftgo/weft/pool].
//
// # Rules
//
//   - Broadcast and Distribute run one goroutine, which closes every output
//     as its last act; Wait waits for it and says why it ended. Gather, First
//     and Hedged return only after every call they started has returned.
//   - Outputs close when the input is drained or ctx is done. A consumer must
//     read its output until it is closed, unsubscribe, or cancel ctx. fanout
//     never closes the input.
//   - Broadcast keeps input order on every output, Distribute per output
//     (with [ByKey], per key); Gather's results are in call order.
//   - A panic in user code comes back as a
//     [*github.com/weftgo/weft.PanicError], never on a goroutine the caller
//     cannot see. An end caused by ctx carries [context.Cause] of it.
//   - Misuse that can never work (a nil function, fewer than one output, an
//     option that does not apply) panics at the call, naming the argument.
//   - For metrics: [Broadcaster.Dropped], [OnDrop], and each [Result]'s
//     Status and Duration.
//
// Broadcast and Distribute move values without allocating; see the
// [benchmark page] for costs.
//
// [benchmark page]: https://github.com/weftgo/weft/blob/main/docs/benchmarks.md
package fanout
