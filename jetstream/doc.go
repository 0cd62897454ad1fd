// Package jetstream runs pool.Workers' handlers across processes, on a NATS JetStream job queue.
//
// A [Queue] stores jobs in a JetStream work-queue stream; [Workers] in any
// number of processes run one handler over them, with the same handler
// signature and the same Retry, DeadLetter and OnDone options as
// pool.Workers, so moving a service from one process to many changes its
// constructor and nothing else. The server can run inside the process
// (package [github.com/weftgo/weft/jetstream/embedded]) or be a cluster
// reached by URL.
//
//	q, err := jetstream.NewQueue[Email](ctx, js, "emails")
//	w, err := jetstream.NewWorkers(ctx, q, 8, send,
//		jetstream.Retry(retry.New(retry.Attempts(5))),
//	)
//	err = q.SubmitID(ctx, email.ID, email) // returns once stored
//	...
//	err = w.Close(shutdownCtx)
//
// A [Source] feeds the same queue into a pipeline instead, and each job
// leaves the queue only when the pipeline's sink acknowledges it.
//
// # When to move from pool.Workers
//
// Stay with pool.Workers while one process can do the work and a job may
// be lost when that process dies (or the caller can submit it again): it
// costs a few hundred nanoseconds a job, where a job through JetStream
// costs network round trips and a disk write. Move to this package when
// jobs must survive a restart or a crash, when more than one machine must
// share the work, or when producers and workers are different programs.
//
// # Delivery
//
// Jobs are delivered at least once. A job is stored once [Queue.Submit]
// returns; it leaves the stream only when a worker acknowledges it after
// its handler succeeded, or terminates it after its dead letter was stored.
// A worker that dies, or whose acknowledgement is lost, leaves its job to
// be delivered again after the [AckWait], so a handler may run twice for
// one job: make handlers idempotent. Producers that retry a Submit after an
// error should use [Queue.SubmitID]: the server stores a job once per ID
// within the stream's [DuplicateWindow].
//
// # Retries and dead letters on JetStream
//
//   - A failed attempt is handed back to the server with NakWithDelay for
//     the retry.Policy's delay; the attempt number is the message's delivery
//     count, so the schedule survives any process.
//   - The consumer's MaxDeliver is unlimited: the policy, not the server,
//     decides when to give up.
//   - A job the policy gives up on, a panic, and a body the [Codec] cannot
//     decode go to the dead-letter sink. The default sink publishes a
//     [Letter] to the stream name+"_DLQ" and waits for the server's
//     acknowledgement before it terminates the job; if that fails, the job
//     is handed back and comes again later.
//   - Long jobs are kept alive with in-progress acknowledgements every
//     third of the AckWait.
//
// # Running against a cluster
//
// Connect with the URLs of the cluster's servers (nats.Connect accepts a
// comma-separated list) and a connection that reconnects without limit,
// and give NewQueue [Replicas](3): the job and dead-letter streams then
// survive the loss of any one server, and Workers and Submit carry on once
// the cluster has elected a new leader. A Submit that fails meanwhile
// should be retried with its ID.
//
// # What to configure on the stream
//
// NewQueue creates or updates both streams from its options: work-queue
// retention for the jobs (required: a job leaves when it is done), limits
// retention for the dead letters (they stay until removed), file storage,
// one replica, the server's two-minute duplicate window. Set Replicas for a
// cluster, DuplicateWindow to cover the longest a producer may retry a
// submit, and limits of age or size for the dead letters through
// [ConfigureStream]. The consumer's AckWait bounds how long a crashed
// worker's jobs wait; MaxAckPending bounds the jobs running in every
// process together.
//
// # Rules
//
//   - Every goroutine has an owner: NewWorkers starts them and Close joins
//     them; a Queue starts none.
//   - A panic in a handler, a hook or a sink is recovered and becomes a
//     *weft.PanicError on the job's error path; a panicking job is not
//     retried.
//   - Nothing is dropped: a job is acknowledged, dead-lettered, or handed
//     back to the server, and Stats counts each delivery once.
//   - Close may be called more than once; the calls after the first return
//     ErrClosed.
//
// The repository's docs/benchmarks.md has the throughput and latency of
// Workers beside pool.Workers.
package jetstream
