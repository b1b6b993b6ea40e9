package keyring

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"time"
)

// keyEntry is a key in a snapshot.
type keyEntry struct {
	Key
	crypto *keyCrypto
}

// snapshot is an immutable view of the store.
type snapshot struct {
	keys    map[KeyID]*keyEntry
	ordered []*keyEntry // every key, by creation then id
	hash    string      // digest of the record ids, for the "fresh" slot
	// maxBefore is the latest "revoke keys created before" time; new keys
	// are dated after it, so a node whose clock lags the revoker's does not
	// create keys that are born revoked.
	maxBefore time.Time
}

// build turns store records into a snapshot, reusing the derived keys of
// records the previous snapshot already opened.
func (r *Ring) build(recs Records) (*snapshot, error) {
	prev := r.snap.Load()
	s := &snapshot{keys: make(map[KeyID]*keyEntry, len(recs.Keys))}
	h := sha256.New()
	keys := append([]KeyRecord(nil), recs.Keys...)
	sort.Slice(keys, func(i, j int) bool { return keys[i].ID < keys[j].ID })
	for i := range keys {
		rec := &keys[i]
		if _, dup := s.keys[rec.ID]; dup {
			continue // stores refuse duplicates; be safe anyway
		}
		var c *keyCrypto
		var encrypted bool
		if prev != nil {
			if old := prev.keys[rec.ID]; old != nil && bytes.Equal(old.crypto.sealed, rec.Material) {
				c, encrypted = old.crypto, old.Encrypted
			}
		}
		if c == nil {
			material, enc, err := r.kek.open(rec)
			if err != nil {
				return nil, fmt.Errorf("%w (key %s)", err, rec.ID)
			}
			if !enc && r.kek != nil && !r.warnedPlainKeys[rec.ID] {
				r.warnedPlainKeys[rec.ID] = true
				r.log.Warn("key ring: key is stored unencrypted although a master key is configured (created before the master key was set)", "key_id", rec.ID)
			}
			c, encrypted = newKeyCrypto(rec.Material, material, r.opt.ApplicationName), enc
		}
		e := &keyEntry{crypto: c, Key: Key{
			ID: rec.ID, Created: rec.Created, Activation: rec.Activation, Expiration: rec.Expiration, Encrypted: encrypted,
		}}
		s.keys[rec.ID] = e
		s.ordered = append(s.ordered, e)
		fmt.Fprintf(h, "k%s\n", rec.ID)
	}
	revs := append([]Revocation(nil), recs.Revocations...)
	sort.Slice(revs, func(i, j int) bool {
		if !revs[i].Revoked.Equal(revs[j].Revoked) {
			return revs[i].Revoked.Before(revs[j].Revoked)
		}
		return revs[i].ID < revs[j].ID
	})
	ids := make([]string, 0, len(revs))
	for _, rv := range revs {
		ids = append(ids, rv.ID)
		if rv.Before.After(s.maxBefore) {
			s.maxBefore = rv.Before
		}
		for _, e := range s.ordered {
			if e.Revoked {
				continue
			}
			if (rv.KeyID != 0 && rv.KeyID == e.ID) || (!rv.Before.IsZero() && e.Created.Before(rv.Before)) {
				e.Revoked, e.RevokedAt, e.RevocationReason = true, rv.Revoked, rv.Reason
			}
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(h, "r%s\n", id)
	}
	sort.Slice(s.ordered, func(i, j int) bool {
		a, b := s.ordered[i], s.ordered[j]
		if !a.Created.Equal(b.Created) {
			return a.Created.Before(b.Created)
		}
		return a.ID < b.ID
	})
	s.hash = hex.EncodeToString(h.Sum(nil)[:12])
	return s, nil
}

// current is the key to mint with at now (DataProtection's default key
// resolution): among keys neither revoked nor expired whose activation is
// at most now + skew, the most recently activated; ties go to the earliest
// created, then the smallest id, so every node picks the same key.
func (s *snapshot) current(now time.Time, skew time.Duration) *keyEntry {
	if s == nil {
		return nil
	}
	var best *keyEntry
	limit := now.Add(skew)
	for _, e := range s.ordered {
		if e.Revoked || !now.Before(e.Expiration) || e.Activation.After(limit) {
			continue
		}
		if best == nil || e.Activation.After(best.Activation) {
			best = e
		}
	}
	return best
}

// currentKey returns the entry to mint with, refreshing once (which may
// create a key) when there is none.
func (r *Ring) currentKey() (*keyEntry, error) {
	now := r.now()
	if e := r.snap.Load().current(now, r.opt.ClockSkew); e != nil {
		return e, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.refresh(ctx, "no_active_key"); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoActiveKey, err)
	}
	if e := r.snap.Load().current(r.now(), r.opt.ClockSkew); e != nil {
		return e, nil
	}
	return nil, ErrNoActiveKey
}

// lookup returns the entry for a payload's key id: ErrUnknownKey when the
// ring does not know it even after a (rate-limited) refresh, ErrRevoked
// when it is revoked. Expired keys verify.
func (r *Ring) lookup(id KeyID) (*keyEntry, error) {
	e := r.snap.Load().keys[id]
	if e == nil {
		e = r.refreshForUnknown(id)
		if e == nil {
			return nil, ErrUnknownKey
		}
	}
	if e.Revoked {
		return nil, ErrRevoked
	}
	return e, nil
}

func (r *Ring) refreshForUnknown(id KeyID) *keyEntry {
	if id == 0 {
		return nil
	}
	r.refreshMu.Lock()
	defer r.refreshMu.Unlock()
	if e := r.snap.Load().keys[id]; e != nil {
		return e // another goroutine refreshed meanwhile
	}
	now := time.Now() // real time: rate limiting is not policy
	if !r.lastUnknown.IsZero() && now.Sub(r.lastUnknown) < r.opt.UnknownKeyRefreshInterval {
		return nil
	}
	r.lastUnknown = now
	r.metrics.unknownKeyRefresh()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := r.refreshLocked(ctx)
	r.metrics.refreshed("unknown_key", err)
	if err != nil {
		r.log.Warn("key ring refresh for an unknown key id failed", "key_id", id, "error", err)
		return nil
	}
	return r.snap.Load().keys[id]
}

// Keys returns every key the ring knows, oldest first, with Current set
// on the key it mints with now.
func (r *Ring) Keys() []Key {
	s := r.snap.Load()
	cur := s.current(r.now(), r.opt.ClockSkew)
	out := make([]Key, 0, len(s.ordered))
	for _, e := range s.ordered {
		k := e.Key
		k.Current = e == cur
		out = append(out, k)
	}
	return out
}

// Current returns the key the ring mints with now.
func (r *Ring) Current() (Key, error) {
	e, err := r.currentKey()
	if err != nil {
		return Key{}, err
	}
	k := e.Key
	k.Current = true
	return k, nil
}
