// Package keyring is the key ring every edge and app server of a farm shares
// (design §6): keys with ids, rotation, revocation and encryption at rest,
// kept in a Store (PostgreSQL in keyring/pgstore, Redis in
// keyring/redisstore, a shared or local directory in keyring/dirstore, or
// memory), and the formats built on it: the session cookie, the identity
// assertion the edge sends to app servers, the SharePoint form digest, and
// general protected payloads (Protect/Unprotect) for other purposes such as
// the OpenID Connect state.
//
// The model is ASP.NET Core DataProtection's, with its defaults: a key lives
// 90 days; a successor is created 72 h (propagation window 48 h plus the
// refresh period 24 h) before the current key expires and activates when it
// expires; 5 min of clock skew is allowed; the ring is re-read at most every
// 24 h (minus up to 20 % jitter), at once when a change notice arrives, and,
// rate limited, when a payload names a key id the ring does not know.
// Expired keys stay usable for verification and are never deleted.
//
// Unlike DataProtection, no ring ever creates a key without coordination:
// every key is inserted under a "slot" (the successor of key X, or the first
// key of a given store state) that the store accepts once, so several nodes
// starting together on an empty store, or finding the current key expired at
// the same time, end with exactly one new key, then re-read and all use it.
//
// Every payload starts with a format version byte and the 4-byte key id in the
// clear, so verification looks up exactly one key. Per-purpose subkeys are
// derived with HKDF-SHA256 under the application name ("cesivi"), so a value
// minted for one purpose is refused for another.
//
// Verification is lock free: it reads an immutable snapshot through an
// atomic pointer. Key material never appears in logs or errors; key ids do.
//
// This package must not import Caddy.
package keyring
