// Package weft is a library of small, generic, context-aware concurrency
// patterns for Go services and tools: pipelines, bounded worker pools, fan-in
// and fan-out, coalescing signals, retry with dead letters, circuit breakers
// and graceful shutdown. Each pattern lives in its own package, owns every
// goroutine it starts, stops when its context is done, keeps its memory
// bounded, and reports panics in user code as errors. The library imports
// the standard library only.
//
// This root package holds what every other package shares: [PanicError],
// the error a recovered panic becomes, and [ErrGoexit], the error of a
// function that called runtime.Goexit.
//
// # Which package do I need?
//
//	Problem                                             Package   Start with
//	--------------------------------------------------  --------  ---------------------------------------------
//	read → transform with N workers → batch → write     pipeline  pipeline.From, pipeline.Map, pipeline.ForEach
//	run at most N tasks at once, collect the errors     pool      pool.New, pool.Map
//	long-lived workers behind a bounded job queue       pool      pool.NewWorkers
//	merge many channels into one                        fanin     fanin.Merge, fanin.MergeSorted
//	send each value to every consumer, or to one        fanout    fanout.Broadcast, fanout.Distribute
//	call services in parallel, keep partial results     fanout    fanout.Gather, fanout.First, fanout.Hedged
//	wake a worker once for many events                  coalesce  coalesce.NewSignal
//	watch the newest config or state, skip the backlog  coalesce  coalesce.NewLatest
//	one load for many concurrent callers of a key       coalesce  coalesce.Group
//	retry with backoff, jitter, budgets, dead letters   retry     retry.Do, retry.Policy
//	stop calling a dependency that is failing           breaker   breaker.New, breaker.Do
//	stop a service cleanly on SIGTERM or Ctrl-C         shutdown  shutdown.OnSignal, shutdown.New
//
// Every package is imported as github.com/weftgo/weft/NAME.
//
// # Rules every package follows
//
// Context first. Every call that blocks or starts work takes a
// [context.Context] as its first argument and returns promptly once it is
// done, with ctx.Err() or [context.Cause] in the returned error's chain.
//
// Structured concurrency. Every goroutine weft starts has an owner that joins
// it: the call itself, or a value whose Wait, Close or Stop returns only after
// all of its goroutines have exited. Nothing is left running when the caller
// cancels, when a callback fails, or when a consumer stops reading.
//
// Backpressure. Queues and buffers are bounded. A full queue blocks the
// producer until there is room or its context is done, or refuses the value
// through a Try variant. Dropping values is always opt-in and always counted.
//
// Panics are errors. A panic in a callback that weft runs on a goroutine of
// its own is recovered as a [*PanicError] (the panic value and the stack)
// and goes back through the error path of the call whose code panicked, as
// the callback's error would. A success does not hide it: when fanout.First
// or fanout.Hedged join a losing call that panicked, they return the
// winner's value together with a non-nil error that [errors.As] finds as a
// *PanicError. Where no caller is left to receive it, as in a
// coalesce.Group execution that every caller has left, it goes to a hook
// (coalesce.OnPanic) whose default writes it and its stack with the
// standard library's log package. A panic never crashes the process from a
// goroutine the caller cannot see, and never disappears.
// Re-panicking on another goroutine would lose the stack of the panic and
// kill the process wherever the join happens to be; returning it as an error
// lets the caller decide, and keeps the original stack in the error.
//
// Errors a caller can act on. Sentinel errors are matched with [errors.Is],
// errors that carry data (a retry-after, an attempt count) with [errors.As];
// messages start with the package name ("pool: submit after Close").
//
// Misuse fails early. A configuration that can never work, such as zero
// workers or a negative buffer, panics at construction with a message naming
// the option. Anything that can happen at run time is an error.
package weft
