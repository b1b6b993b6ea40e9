// Package redisstate is the Redis distributed state provider, for a farm:
// standalone Redis, Sentinel or Cluster, chosen by the connection string
// alone (internal/connstr).
//
// # Keys
//
// With the optional key prefix P (default none):
//
//	P session:<id>              hash, TTL = remaining session life (the seed's runbook key)
//	P {user:<uid>}:sessions     zset of session ids scored by expiry (ms)
//	P {sid:<sid>}:sessions      zset of session ids by OpenID Connect sid
//	P {sessions}:active         zset of all session ids by expiry, for redis_sessions_active
//	P usercontext:{<uid>}       hash: ver, data, dver, depo (user-context cache)
//	P usercontext:epoch         counter bumped by an invalidation of "*"
//	P lock:{<name>}             lease holder and fencing token, TTL = lease
//	P lock:{<name>}:fence       fencing counter (INCR), no TTL
//	P {queue:<type>}:...        job queue (see queue.go)
//
// Pub/sub channels carry the prefix too (P usercontext:invalidated), since
// channels are shared by every database of a server; with the default
// empty prefix the seed's PUBLISH usercontext:invalidated works as is.
//
// The seed requires sessions under the literal key session:<id>, so the
// session key carries no hash tag; the other keys carry one so that keys
// changed together by one script share a Cluster slot.
//
// # Atomicity on Cluster
//
// Every script touches a single slot: session scripts touch only
// session:<id>. A session id never changes (sign-in creates a new session
// and deletes the old one), so no script moves a session between keys.
// The indexes live in other slots and are written with pipelines, never in
// the same atomic step, so they are treated as hints: an index entry is
// written before the session it names (so a revocation never misses a
// session that exists), dangling entries are pruned whenever an index is
// read, and every listed session is read back from its own key. Scores
// are the session's expiry, so entries of sessions Redis expired are
// pruned by score.
//
// Known limit: a session being created while RevokeUser (or RevokeSID)
// runs for the same user can survive it, when the revocation reads the
// index between the index write and the session write. Revocation is a
// best effort against concurrent logins; a tombstone checked after the
// session write would close the gap at the cost of a round trip per login.
//
// # Retries
//
// go-redis retries a command whose connection failed, which can apply it
// twice. Each write here is safe under that: session creation recognises
// its own earlier success (a creation nonce), lock acquisition recognises its
// own holder id, INCR of a fencing counter only skips a number, and a
// repeated invalidation or PUBLISH is idempotent.
//
// # Errors
//
// redis.Nil and script results become ErrNotFound or ErrConflict; every
// other failure (connection refused, timeout, LOADING, failover in
// progress) is wrapped as ErrStoreUnavailable.
package redisstate
