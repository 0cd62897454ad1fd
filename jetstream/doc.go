// Package jetstream runs pool.Workers' handlers across processes, on a NATS
// JetStream job queue.
//
// A [Queue] stores jobs in a JetStream work-queue stream; [Workers] in any
// number of processes run one handler over them with the options of
// [github.com/weftgo/weft/pool.Workers] ([Retry], [DeadLetter], [OnDone]),
// so moving a service to many processes changes its constructor only. The
// server runs in the process ([github.com/weftgo/weft/jetstream/embedded])
// or is a cluster.
//
//	q, err := jetstream.NewQueue[Email](ctx, js, "emails")
//	w, err := jetstream.NewWorkers(ctx, q, 8, send,
//		jetstream.Retry(retry.New(retry.Attempts(5))),
//	)
//	err = q.SubmitID(ctx, email.ID, email) // returns once stored
//	...
//	err = w.Close(shutdownCtx) // drains; on timeout hands running jobs back
//
// A [Source] feeds the queue into a [github.com/weftgo/weft/pipeline]
// instead; each job leaves the queue only when the pipeline's sink
// acknowledges it.
//
// # When to use it
//
// Stay with [github.com/weftgo/weft/pool.Workers] while one process can do
// the work and a job may be lost when it dies: a job through JetStream costs network round trips and
// a disk write. Move here when jobs must survive a crash, several machines
// share the work, or producers and workers are different programs.
//
// # Delivery
//
// Jobs are delivered at least once. A job is stored once [Queue.Submit]
// returns, and leaves the stream only when a worker acknowledges it after
// its handler succeeded or its dead letter was stored. A worker that dies,
// or whose acknowledgement is lost, leaves its job to run again after the
// [AckWait]: make handlers idempotent. A producer that retries a Submit
// uses [Queue.SubmitID], stored once per ID within the [DuplicateWindow].
//
// The stream holds the jobs not yet settled. Around a restart nats-server
// can record a job's acknowledgement in the consumer yet keep the job in
// the stream, where nothing would deliver or remove it, so every third of
// the [AckWait] a running Workers or Source removes such jobs: those at or
// below the consumer's acknowledgement floor. That needs permission
// to read the stream's and the consumer's info and to delete the stream's
// messages; without it each sweep's error goes to [OnError], and nothing
// else changes.
//
// In a cluster, connect with every server's URL and unlimited reconnects,
// and give NewQueue [Replicas](3): Workers and Submit then carry on through
// the loss of any one server once a new leader is elected.
//
// # Rules
//
//   - [NewWorkers] starts goroutines and [Workers.Close] joins them; a Queue
//     starts none.
//   - Retries wait on the server, not in a process: the attempt number is the
//     message's delivery count, and the retry policy, not the server, decides
//     when to give up.
//   - A panic in a handler, a hook or a sink becomes a
//     [*github.com/weftgo/weft.PanicError] on the job's error path; a
//     panicking job is not retried.
//   - Nothing is dropped: a job is acknowledged, dead-lettered or handed back
//     to the server, and [Workers.Stats] counts each delivery once.
//
// Throughput and latency beside in-process [pool.Workers] and beside
// hand-written nats.go consumers are on the [benchmark page].
//
// [benchmark page]:
// https://github.com/weftgo/weft/blob/main/docs/benchmarks.md
package jetstream

// How Workers and Source work, behind the contracts in the docs above.
//
// Fetching: Workers pull from the durable consumer every process shares and
// ask for only as many jobs as they have free workers, plus the Buffer;
// with a Buffer, a fetch waits until a quarter of its room is free. Jobs run
// on workers long-lived goroutines (one killed by runtime.Goexit is
// replaced); one goroutine fetches, one tells the server every third of the
// AckWait that the running and buffered jobs are in progress, and one waits
// on each pull request in flight.
//
// Retries: a failed attempt is handed back with NakWithDelay for the delay
// the policy gives it; the attempt number is the message's delivery count,
// so no process holds a timer and a crash loses no retry. The consumer's
// MaxDeliver is unlimited: the policy, not the server, decides when to give
// up. A policy's OnRetry hook and Budget keep state in one process, so they
// are not used.
//
// Dead letters: the default sink publishes a Letter to name+"_DLQ" and
// waits for the server's acknowledgement before it terminates the job; if
// that fails, the job is handed back and comes again after a delay.
//
// Stopping: Close stops fetching, lets the running jobs finish and hands
// back any job a fetch still brings. On a hard stop the jobs that fail are
// handed back at once (Nak without delay), so another process takes them
// without waiting out the AckWait. A Source lets the pull request in flight
// end on the server before its sink returns, so no job is left fetched and
// unsettled.
//
// Sweeping: each tick reads the consumer's acknowledgement floor, then the
// stream's first sequence, and deletes the first message while it is at or
// below the floor. A message there is settled: the stream has one subject
// and one consumer on it, and the floor only moves up. nats-server v2.15.3
// looks for such messages on start in interest-retention streams only.
//
// Streams: the jobs' stream has work-queue retention (a job leaves when it
// is acknowledged or terminated), the dead letters' limits retention (they
// stay until removed). A work-queue stream allows one consumer per subject,
// hence one durable consumer shared by every process.
