package keyring

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// needKey applies the rotation policy: with no usable current key, a key
// active at once in the slot named after the store state (every node that
// read the same state contends for the same slot); when the current key
// expires within propagation window + refresh period and has no successor,
// a successor activating at its expiration.
func (r *Ring) needKey(s *snapshot, now time.Time) (slot string, activation time.Time, ok bool) {
	cur := s.current(now, r.opt.ClockSkew)
	if cur == nil {
		return "fresh:" + s.hash, now, true
	}
	if cur.Expiration.After(now.Add(r.opt.PropagationWindow + r.opt.RefreshPeriod)) {
		return "", time.Time{}, false
	}
	for _, k := range s.ordered {
		if k != cur && !k.Revoked && k.Expiration.After(cur.Expiration) {
			return "", time.Time{}, false
		}
	}
	return "after:" + cur.ID.String(), cur.Expiration, true
}

func (r *Ring) newRecord(slot string, now, activation time.Time) (KeyRecord, error) {
	var material [materialSize]byte
	rand.Read(material[:])
	var id KeyID
	for id == 0 {
		var b [4]byte
		rand.Read(b[:])
		id = KeyID(binary.BigEndian.Uint32(b[:]))
	}
	now = now.UTC().Truncate(time.Microsecond)
	rec := KeyRecord{
		ID:         id,
		Created:    now,
		Activation: activation.UTC().Truncate(time.Microsecond),
		Expiration: now.Add(r.opt.KeyLifetime),
		Slot:       slot,
	}
	if rec.Activation.Before(rec.Created) {
		rec.Activation = rec.Created
	}
	r.kek.seal(&rec, material[:])
	return rec, nil
}

// Rotate creates a key active at once (an operator's deliberate act, so it
// needs no coordination: its slot is its own), tells the other nodes and
// re-reads. Payloads minted under older keys stay valid.
func (r *Ring) Rotate(ctx context.Context) (Key, error) {
	r.refreshMu.Lock()
	now := r.now()
	var rec KeyRecord
	var err error
	var inserted bool
	for range 5 {
		rec, err = r.newRecord("", now, now)
		if err != nil {
			break
		}
		rec.Slot = "manual:" + rec.ID.String()
		inserted, err = r.store.InsertKey(ctx, rec)
		if err != nil || inserted {
			break
		}
	}
	if err == nil && !inserted {
		err = errors.New("keyring: could not store a new key (id collisions)")
	}
	if err != nil {
		r.refreshMu.Unlock()
		return Key{}, fmt.Errorf("keyring: rotate: %w", err)
	}
	r.log.Info("key ring: rotated; new key active", "key_id", rec.ID, "expiration", rec.Expiration.Format(time.RFC3339))
	err = r.refreshLocked(ctx)
	r.refreshMu.Unlock()
	r.notifyChange(ctx)
	if err != nil {
		return Key{}, err
	}
	k := r.snap.Load().keys[rec.ID]
	if k == nil {
		return Key{}, errors.New("keyring: rotate: the new key is not in the store")
	}
	return k.Key, nil
}

// Revoke revokes one key: its payloads are refused everywhere once the
// other nodes hear the notice (or refresh). A new key is created when the
// revoked key was the current one.
func (r *Ring) Revoke(ctx context.Context, id KeyID, reason string) error {
	if id == 0 {
		return errors.New("keyring: revoke: no key id")
	}
	if r.snap.Load().keys[id] == nil {
		if err := r.Refresh(ctx); err != nil {
			return err
		}
		if r.snap.Load().keys[id] == nil {
			return fmt.Errorf("keyring: revoke: %w %s", ErrUnknownKey, id)
		}
	}
	return r.revoke(ctx, Revocation{ID: "key-" + id.String(), KeyID: id, Reason: reason})
}

// RevokeBefore revokes every key created strictly before t, which may not
// be in the future.
func (r *Ring) RevokeBefore(ctx context.Context, t time.Time, reason string) error {
	if t.After(r.now()) {
		return errors.New("keyring: revoke: the time is in the future (keys created later would be born revoked)")
	}
	t = t.UTC().Truncate(time.Microsecond)
	return r.revoke(ctx, Revocation{ID: "before-" + strconv.FormatInt(t.UnixNano(), 10), Before: t, Reason: reason})
}

func (r *Ring) revoke(ctx context.Context, rv Revocation) error {
	rv.Revoked = r.now().UTC().Truncate(time.Microsecond)
	r.refreshMu.Lock()
	err := r.store.InsertRevocation(ctx, rv)
	if err == nil {
		r.log.Info("key ring: revocation stored", "revocation", rv.ID, "reason", rv.Reason)
		err = r.refreshLocked(ctx)
	}
	r.refreshMu.Unlock()
	if err != nil {
		return fmt.Errorf("keyring: revoke: %w", err)
	}
	r.notifyChange(ctx)
	return nil
}
