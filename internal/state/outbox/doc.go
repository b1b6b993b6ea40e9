// Package outbox is the transactional outbox between PostgreSQL and the job
// queue (state.Queue): a job produced by a database change is written in
// the change's own transaction and relayed to the queue afterwards, so a
// server dying between the commit and the enqueue loses nothing.
//
// # Use
//
// Once at start, Migrate(ctx, pool) creates the cesivi_outbox table (an
// embedded, idempotent script, run under an advisory lock so servers may
// start together). In the transaction of a change:
//
//	tx, _ := pool.Begin(ctx)
//	... the change ...
//	outbox.Add(ctx, tx, "reindex", key, payload) // Queue.Enqueue's arguments
//	tx.Commit(ctx)
//
// and on every server, for as long as it runs:
//
//	r, _ := outbox.NewRelay(pool, provider.Queue, outbox.Options{})
//	go r.Run(ctx)
//
// # The guarantee
//
// The job exists if and only if the change committed: it is a row of the
// same transaction. Its idempotency key is fixed when the row is written
// (the caller's, or "outbox:" and a random id), so it is the same at every
// attempt to relay the row.
//
// A relay claims a batch of committed rows (SELECT … FOR UPDATE SKIP
// LOCKED, in id order), enqueues each under its key, deletes the rows and
// commits. Delivery into the queue is at least once, made effectively once
// by the queue's deduplication:
//
//   - A relay that dies before its commit (after enqueueing some jobs or
//     not) has its transaction rolled back by PostgreSQL; the rows become
//     visible again and another relay enqueues them again, under the same
//     keys, which the queue drops (Enqueue reports false; the rows are
//     deleted all the same). A relay frozen or cut off mid-batch is ended
//     the same way by idle_in_transaction_session_timeout.
//   - Two relays never hold the same row: SKIP LOCKED gives each batch
//     rows no other batch holds.
//   - While the queue is unavailable (Redis down: state.ErrStoreUnavailable)
//     the rows stay in the table (outbox_pending shows them) and are
//     relayed once it answers again; the jobs relayed before the failure
//     in the same batch are deleted.
//
// The deduplication lasts state.DedupWindow (24 h) after an enqueue, far
// longer than a row can stay claimed (BatchTimeout plus 10 s), so the
// window never reopens for an outbox row. A key given by the caller keeps
// Enqueue's meaning: a second job of the same type and key within the
// window is dropped, whether it came through the outbox or not.
//
// The queue itself is at least once (a worker may die after the work and
// before the acknowledgement), so handlers must stay idempotent, keyed by
// Job.Key, exactly as for jobs enqueued directly.
//
// # Consistency model
//
//   - A handler never sees a job before the change that produced it is
//     committed: the relay only reads committed rows. It can read the
//     change from the primary; a handler reading from a replica must allow
//     for replication lag.
//   - Latency: inserts notify Channel (a trigger; NOTIFY is delivered on
//     commit and dropped on rollback), and each relay listens on a
//     connection of its own, reconnecting with backoff; so a job reaches
//     the queue milliseconds after its commit. Notifications are only a
//     hint: the relay also polls every PollInterval (1 s) and after every
//     reconnection, so a lost one delays a job, never loses it.
//   - Order is not kept: batches run concurrently on several servers, and
//     the queue retries and reclaims jobs out of order. A job that must
//     follow another should be enqueued by the other's handler, or carry
//     what it needs to check.
//   - The outbox protects the step from PostgreSQL to the queue, not the
//     queue's own durability: once a row is deleted, the job lives only in
//     the queue (for Redis, that takes the append-only file, and replicas
//     that have the write before a failover).
//   - Rows may also be inserted by SQL (a trigger on another table, say):
//     job_type is required, payload defaults to empty and the key to a
//     random "outbox:" key.
package outbox
