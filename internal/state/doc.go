// Package state is Cesivi's distributed state contract: the capabilities an
// app server or edge needs to share with the rest of the farm, one small
// interface each, and the sentinel errors callers test with errors.Is.
//
// The package holds only the contract: the interfaces, their options and
// model types, the sentinel errors, and the few values callers exchange
// with each other through a provider (the id format, the revocation notice
// vocabulary, ChangeNotices). It has one file per capability, as each
// provider has: sessions.go (its revocation notices in revocations.go),
// usercontext.go, locks.go, pubsub.go, queue.go, tickets.go; state.go
// holds Options and Provider, errors.go the sentinels.
//
// # Who implements it
//
// Only the providers inside internal/state implement it: memstate
// (InMemory, a single server) and redisstate (Redis standalone, Sentinel or
// Cluster, a farm). What they share — the two-layer cache, the worker
// loop, the lease renewal, the revocation-notice wrapper — is in
// internal/state/internal/statekit, which nothing outside internal/state
// can import. Both pass the shared suite in statetest; a provider is done
// when it passes the suite. Everyone else consumes a *Provider (built by
// internal/state/provider from the configuration) and never names a
// provider's types.
//
// # Consistency model
//
//   - Sessions are linearizable per session id (one Redis key, changed only
//     by single-key commands or scripts). A session id never changes:
//     sign-in creates a new session and deletes the one the browser had.
//     The per-user and per-sid indexes are hints: they may briefly name a
//     session that is gone, and every reader checks the session itself and
//     prunes what is dead. They never rely on keyspace notifications.
//   - The user-context cache is a read-through cache with two layers, a
//     local map per server and a shared value in the store. An entry lives
//     at most MaxTTL; invalidations are published to every server and also
//     bump a version in the store, so a reader that raced an invalidation
//     never stores what it read. A server that may have missed
//     invalidations (its subscription dropped) flushes its local layer and
//     bypasses it until it has resubscribed.
//   - Locks are leases: a holder may lose one without noticing (a long GC
//     pause, a partition), so every lease carries a fencing token that only
//     grows, and a protected resource must refuse a write whose token is
//     lower than one it has already seen (see Lease).
//   - The job queue is at least once: a job whose worker dies is taken over
//     once it has gone Visibility without a heartbeat, so handlers must be
//     idempotent (Job.Key). Enqueue drops a repeated idempotency key for
//     DedupWindow.
//   - Pub/sub is at most once. Everything built on it needs a backstop
//     (TTLs, periodic refresh, flush on resubscribe).
//
// Errors: a store that cannot be reached or answers too slowly is
// ErrStoreUnavailable, never ErrNotFound, so a caller never mistakes an
// outage for a logged-out user.
package state
