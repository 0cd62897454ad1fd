// Package weft holds what every weft package shares, and a guide to which one to use.
//
// weft is a library of small, generic, context-aware concurrency patterns
// for Go services and tools: pipelines, bounded worker pools, fan-in and
// fan-out, coalescing signals, retry with dead letters, circuit breakers and
// graceful shutdown. Each pattern lives in its own package, owns every
// goroutine it starts, stops when its context is done, keeps its memory
// bounded, and reports panics in user code as errors. The library's compiled
// code imports the standard library only.
//
// This root package holds [PanicError], the error a recovered panic becomes,
// and [ErrGoexit], the error of a function that called runtime.Goexit.
//
// # Which package do I need?
//
//   - Read, transform with N workers, batch, write:
//     [github.com/weftgo/weft/pipeline.From], [github.com/weftgo/weft/pipeline.Map],
//     [github.com/weftgo/weft/pipeline.ForEach].
//   - Run at most N tasks at once and collect the errors:
//     [github.com/weftgo/weft/pool.New], [github.com/weftgo/weft/pool.Map].
//   - Long-lived workers behind a bounded job queue, with retries and dead
//     letters: [github.com/weftgo/weft/pool.NewWorkers].
//   - Merge many channels into one: [github.com/weftgo/weft/fanin.Merge],
//     [github.com/weftgo/weft/fanin.MergeSorted].
//   - Send each value to every consumer, or to one:
//     [github.com/weftgo/weft/fanout.Broadcast], [github.com/weftgo/weft/fanout.Distribute].
//   - Call services in parallel and keep partial results, or take the first
//     answer: [github.com/weftgo/weft/fanout.Gather], [github.com/weftgo/weft/fanout.First],
//     [github.com/weftgo/weft/fanout.Hedged].
//   - Wake a worker once for many events: [github.com/weftgo/weft/coalesce.NewSignal].
//   - Watch the newest config or state and skip the backlog:
//     [github.com/weftgo/weft/coalesce.NewLatest].
//   - One load for many concurrent callers of a key:
//     [github.com/weftgo/weft/coalesce.Flight].
//   - Retry with backoff, jitter, budgets and dead letters:
//     [github.com/weftgo/weft/retry.Do], [github.com/weftgo/weft/retry.Policy].
//   - Stop calling a dependency that is failing:
//     [github.com/weftgo/weft/breaker.New], [github.com/weftgo/weft/breaker.Do].
//   - Stop a service cleanly on SIGTERM or Ctrl-C:
//     [github.com/weftgo/weft/shutdown.OnSignal], [github.com/weftgo/weft/shutdown.New].
//
// What each costs is on the benchmark page,
// https://github.com/weftgo/weft/blob/main/docs/benchmarks.md.
//
// # Rules every package follows
//
// Context first. Every call that blocks or starts work takes a
// [context.Context] as its first argument and returns promptly once it is
// done, with ctx.Err() or [context.Cause] in the returned error's chain.
// The joins are the exceptions: a join waits for work its owner already
// started, whose contexts its owner controls, so
// [github.com/weftgo/weft/pool.Pool.Wait], [github.com/weftgo/weft/pool.ResultPool.Wait],
// [github.com/weftgo/weft/fanout.Broadcaster.Wait] and
// [github.com/weftgo/weft/pipeline.Stream.Err] take none, as
// [sync.WaitGroup.Wait] takes none.
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
// the callback's error would. A success does not hide it: when
// [github.com/weftgo/weft/fanout.First] or
// [github.com/weftgo/weft/fanout.Hedged] join a losing call that panicked,
// they return the winner's value together with a non-nil error that
// [errors.As] finds as a *PanicError. Where no caller is left to receive it,
// as in a [github.com/weftgo/weft/coalesce.Flight] execution that every
// caller has left, it goes to a hook
// ([github.com/weftgo/weft/coalesce.OnPanic]) whose default writes it and
// its stack with the standard library's log package. A panic never crashes
// the process from a goroutine the caller cannot see, and never disappears.
// Re-panicking on another goroutine would lose the stack of the panic and
// kill the process wherever the join happens to be; returning it as an error
// lets the caller decide, and keeps the original stack in the error. Two
// exceptions run on the caller's own goroutine and are chosen by the caller:
// [github.com/weftgo/weft/breaker.Breaker.Run] lets a panic in its function
// go on up, as a direct call would, and
// [github.com/weftgo/weft/pool.Repanic] makes Wait re-panic with the first
// task's *PanicError.
//
// Errors a caller can act on. Sentinel errors are matched with [errors.Is],
// errors that carry data (a retry-after, an attempt count) with [errors.As];
// messages start with the package name ("pool: closed").
//
// Misuse fails early. A configuration that can never work, such as zero
// workers or a negative buffer, panics at construction with a message naming
// the option. Anything that can happen at run time is an error.
package weft
