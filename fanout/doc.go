// Package fanout sends work from one place to many: every value of a
// channel to every consumer ([Broadcast]), each value to one of several
// consumers ([Distribute]), one request to several services at once with a
// timeout each and partial results ([Gather]), and the same request to
// equivalent services, keeping the first answer ([First], [Hedged]).
//
// The pattern it was built for is an API handler that calls three services
// in parallel, gives the slow one part of its budget, and answers with what
// it has rather than failing:
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
// # Choosing
//
// [Broadcast] is a tee: each output gets every value, in order, from its own
// buffer, and a consumer that falls behind either holds up the rest
// ([Block], the default), or misses values ([DropNewest], [DropOldest]),
// counted and reported. [Distribute] splits work: to the consumer that is
// ready first, in turn ([RoundRobin]), or by key ([ByKey]) so that one key's
// values keep their order while keys run in parallel. [Gather] is for calls
// whose answers are all wanted; [First] and [Hedged] are for calls that are
// alternatives to one another.
//
// # When to use something else
//
// To merge channels use package fanin. To run a function over many items
// with N workers, keeping order, use package pipeline; to run independent
// tasks with bounded parallelism, package pool. A pipeline connects to
// Broadcast and Distribute through channels: pipeline's Stream.Chan gives its
// output as a channel to use as their input, and pipeline.FromChan makes an
// output the source of a pipeline per consumer.
//
// # Rules
//
// Goroutines. Broadcast and Distribute run one goroutine each, which closes
// every output as its last act; Wait on the returned value waits for it and
// reports why it ended. Gather, First and Hedged run each call on a
// goroutine of their own (Gather runs one on the caller's) and return only
// after every call has returned.
//
// Closing and consumers. Outputs close when the input closes and everything
// has been sent, or as soon as ctx is done. A consumer must read its output
// until it is closed, unsubscribe ([Broadcaster.Unsubscribe]), or cancel
// ctx. The input channel is the caller's: fanout never closes it, and values
// still in it when ctx ends stay there.
//
// Order. Broadcast keeps the input order on every output. Distribute keeps
// it per output, and with ByKey per key. Gather's results are in call order
// whatever order the calls finish in.
//
// Panics. A panic in a function fanout calls on a goroutine of its own goes
// back, as a *weft.PanicError, through the error path of the call whose
// code panicked: from a Gather call as that call's result (status
// [Panicked]), and in Gather's error if the call is required; from a call
// of First or Hedged as their error, even when another call won, so a
// loser that panics while it is cancelled makes them return the winner's
// value together with a non-nil error; from an [OnDrop] hook or a ByKey
// function through Wait, after the goroutine has stopped and closed every
// output. Each has a caller waiting to receive it: none is dropped, and
// none crashes the process from a goroutine the caller cannot see.
//
// Errors. Gather's error is a [*CallError]; matching with [errors.Is] and
// [errors.As] sees through it to the call's error. Ends caused by ctx carry
// [context.Cause] of it.
//
// Misuse. A nil context or channel, fewer than one output, a nil function,
// a negative timeout or delay, an option that does not apply, and a callback
// written for another element type panic when the call is made, with a
// message naming the argument or option.
package fanout
