// Package keyringtest is the test suite every keyring.Store passes (River
// style: one contract, one exported suite, run by each backend's tests
// against the real service).
package keyringtest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/fakeclock"
	"github.com/cesivi/cesivi/keyring"
)

// Concurrency is how many rings the concurrent tests start at once.
const Concurrency = 8

// Epoch is the fake clocks' starting time.
var Epoch = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// MasterKey is a fixed master key for tests.
var MasterKey = bytes.Repeat([]byte{0x5a}, keyring.MasterKeySize)

// NewRing opens a ring on store with a fake clock, no background work and
// MasterKey, failing the test on error; opts may adjust the options.
func NewRing(t testing.TB, store keyring.Store, clock *fakeclock.Clock, opts ...func(*keyring.Options)) *keyring.Ring {
	t.Helper()
	o := keyring.Options{Store: store, Now: clock.Now, MasterKey: MasterKey, NoBackground: true}
	for _, f := range opts {
		f(&o)
	}
	r, err := keyring.New(context.Background(), o)
	if err != nil {
		t.Fatalf("keyring.New: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// Exercise runs the backend contract against stores from newStore, which
// must return a new, empty store on every call (safe to share between
// goroutines, as a farm's nodes share it). The subtests run in parallel,
// each on a store of its own, so every store newStore returns must be
// isolated from the others: its own database, directory or key prefix,
// and its own change-notice channel where the backend has one.
func Exercise(t *testing.T, newStore func(t *testing.T) keyring.Store) {
	ctx := context.Background()

	t.Run("EmptyStore", func(t *testing.T) {
		t.Parallel()
		recs, err := newStore(t).Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs.Keys) != 0 || len(recs.Revocations) != 0 {
			t.Fatalf("new store not empty: %+v", recs)
		}
	})

	t.Run("KeyRecordRoundTrip", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		rec := keyring.KeyRecord{
			ID:         0x01020304,
			Created:    Epoch.Add(123456 * time.Microsecond),
			Activation: Epoch.Add(time.Hour),
			Expiration: Epoch.Add(90 * 24 * time.Hour),
			Material:   []byte{0x45, 0, 1, 2, 3, 0xff},
			Slot:       "fresh:abc",
		}
		ok, err := s.InsertKey(ctx, rec)
		if err != nil || !ok {
			t.Fatalf("InsertKey = %v, %v; want true, nil", ok, err)
		}
		recs, err := s.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs.Keys) != 1 {
			t.Fatalf("Load: %d keys, want 1", len(recs.Keys))
		}
		got := recs.Keys[0]
		if got.ID != rec.ID || !got.Created.Equal(rec.Created) || !got.Activation.Equal(rec.Activation) ||
			!got.Expiration.Equal(rec.Expiration) || !bytes.Equal(got.Material, rec.Material) || got.Slot != rec.Slot {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, rec)
		}
	})

	t.Run("InsertKeyOncePerSlotAndID", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		base := keyring.KeyRecord{ID: 7, Created: Epoch, Activation: Epoch, Expiration: Epoch.Add(time.Hour), Material: []byte{1}, Slot: "s1"}
		if ok, err := s.InsertKey(ctx, base); err != nil || !ok {
			t.Fatalf("first insert = %v, %v", ok, err)
		}
		sameSlot := base
		sameSlot.ID = 8
		if ok, err := s.InsertKey(ctx, sameSlot); err != nil || ok {
			t.Fatalf("insert into a taken slot = %v, %v; want false, nil", ok, err)
		}
		sameID := base
		sameID.Slot = "s2"
		if ok, err := s.InsertKey(ctx, sameID); err != nil || ok {
			t.Fatalf("insert of a taken id = %v, %v; want false, nil", ok, err)
		}
		recs, _ := s.Load(ctx)
		if len(recs.Keys) != 1 || recs.Keys[0].Slot != "s1" {
			t.Fatalf("after refused inserts: %+v", recs.Keys)
		}
	})

	t.Run("ConcurrentInsertsOneWinner", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range Concurrency {
			wg.Go(func() {
				ok, err := s.InsertKey(ctx, keyring.KeyRecord{ID: keyring.KeyID(100 + i), Created: Epoch, Activation: Epoch,
					Expiration: Epoch.Add(time.Hour), Material: []byte{byte(i)}, Slot: "contended"})
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Add(1)
					return
				}
				// A loser re-reads to find the winner: it must be there.
				recs, err := s.Load(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				for _, k := range recs.Keys {
					if k.Slot == "contended" {
						return
					}
				}
				t.Errorf("insert %d lost the slot, but the winning key is not in the store yet", i)
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d inserts won the same slot, want 1", wins.Load())
		}
	})

	t.Run("Revocations", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		rv1 := keyring.Revocation{ID: "key-00000007", KeyID: 7, Reason: "compromised laptop", Revoked: Epoch}
		rv2 := keyring.Revocation{ID: "before-1", Before: Epoch.Add(-time.Hour), Reason: "", Revoked: Epoch.Add(time.Second)}
		for _, rv := range []keyring.Revocation{rv1, rv2, rv1} {
			if err := s.InsertRevocation(ctx, rv); err != nil {
				t.Fatal(err)
			}
		}
		recs, err := s.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs.Revocations) != 2 {
			t.Fatalf("%d revocations, want 2 (a repeated record is stored once): %+v", len(recs.Revocations), recs.Revocations)
		}
		byID := map[string]keyring.Revocation{}
		for _, rv := range recs.Revocations {
			byID[rv.ID] = rv
		}
		if g := byID[rv1.ID]; g.KeyID != 7 || g.Reason != rv1.Reason || !g.Revoked.Equal(rv1.Revoked) || !g.Before.IsZero() {
			t.Fatalf("revocation of a key: %+v", g)
		}
		if g := byID[rv2.ID]; g.KeyID != 0 || !g.Before.Equal(rv2.Before) || !g.Revoked.Equal(rv2.Revoked) {
			t.Fatalf("revocation before a time: %+v", g)
		}
	})

	t.Run("ConcurrentRingsOnEmptyStore", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		clock := fakeclock.New(Epoch)
		rings := startRings(t, s, clock)
		ids := currentIDs(t, rings)
		recs, _ := s.Load(ctx)
		if len(recs.Keys) != 1 || len(ids) != 1 {
			t.Fatalf("%d rings starting together on an empty store: %d keys stored, %d distinct current keys; want 1 and 1", Concurrency, len(recs.Keys), len(ids))
		}
		crossVerify(t, rings)
	})

	t.Run("ConcurrentRingsWhenCurrentKeyExpires", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		clock := fakeclock.New(Epoch)
		rings := startRings(t, s, clock)
		old, err := rings[0].MintSessionCookie(keyring.NewSessionID(), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		// Every node slept through the successor window: the current key
		// is expired when they all refresh at once.
		clock.Advance(keyring.DefaultKeyLifetime + time.Hour)
		refreshAll(t, rings)
		// Expired keys still verify (and are never deleted).
		if _, err := rings[5].VerifySessionCookie(old); err != nil {
			t.Fatalf("a cookie of the expired key: %v", err)
		}
		recs, _ := s.Load(ctx)
		if len(recs.Keys) != 2 {
			t.Fatalf("after the current key expired under %d rings: %d keys, want 2", Concurrency, len(recs.Keys))
		}
		sameCurrent(t, rings)
		crossVerify(t, rings)
	})

	t.Run("ConcurrentRingsCreateOneSuccessor", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		clock := fakeclock.New(Epoch)
		rings := startRings(t, s, clock)
		first, _ := rings[0].Current()
		// 60 h before expiry: inside propagation window + refresh period.
		clock.Set(first.Expiration.Add(-60 * time.Hour))
		refreshAll(t, rings)
		keys := rings[0].Keys()
		if len(keys) != 2 {
			t.Fatalf("%d keys after the successor window opened, want 2", len(keys))
		}
		succ := keys[1]
		if !succ.Activation.Equal(first.Expiration) {
			t.Fatalf("successor activates at %v, want the predecessor's expiration %v", succ.Activation, first.Expiration)
		}
		if cur, _ := rings[3].Current(); cur.ID != first.ID {
			t.Fatalf("the successor became current before its activation")
		}
		cookie, err := rings[1].MintSessionCookie(keyring.NewSessionID(), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		// Past the activation (minus skew): every ring switches without a
		// refresh, and old payloads still verify.
		clock.Set(first.Expiration.Add(-keyring.DefaultClockSkew + time.Second))
		for _, r := range rings {
			if cur, _ := r.Current(); cur.ID != succ.ID {
				t.Fatalf("current %s after activation, want the successor %s", cur.ID, succ.ID)
			}
			if _, err := r.VerifySessionCookie(cookie); err != nil {
				t.Fatalf("a cookie of the previous key: %v", err)
			}
		}
		refreshAll(t, rings)
		if n := len(rings[0].Keys()); n != 2 {
			t.Fatalf("%d keys after activation, want still 2", n)
		}
	})

	t.Run("RevokeOneKeyAndBefore", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		clock := fakeclock.New(Epoch)
		a := NewRing(t, s, clock)
		b := NewRing(t, s, clock)
		first, _ := a.Current()
		cookie, _ := a.MintSessionCookie(keyring.NewSessionID(), time.Time{})
		clock.Advance(time.Minute)
		rotated, err := a.Rotate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rotated.ID == first.ID {
			t.Fatal("rotate kept the key")
		}
		// Rotation does not invalidate older payloads, on any ring.
		if _, err := b.VerifySessionCookie(cookie); err != nil {
			t.Fatalf("cookie after rotation: %v", err)
		}
		if err := a.Revoke(ctx, first.ID, "test"); err != nil {
			t.Fatal(err)
		}
		if err := b.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := b.VerifySessionCookie(cookie); !errors.Is(err, keyring.ErrRevoked) {
			t.Fatalf("cookie of a revoked key: %v, want ErrRevoked", err)
		}
		cur, _ := b.Current()
		if cur.ID != rotated.ID {
			t.Fatalf("current %s, want %s", cur.ID, rotated.ID)
		}
		if err := a.Revoke(ctx, 0x0badf00d, ""); !errors.Is(err, keyring.ErrUnknownKey) {
			t.Fatalf("revoking an unknown key: %v", err)
		}
		// Revoke everything created until now: a fresh key appears once.
		clock.Advance(time.Minute)
		cookie2, _ := b.MintSessionCookie(keyring.NewSessionID(), time.Time{})
		if err := a.RevokeBefore(ctx, clock.Now(), "all"); err != nil {
			t.Fatal(err)
		}
		refreshAll(t, []*keyring.Ring{a, b})
		if _, err := a.VerifySessionCookie(cookie2); !errors.Is(err, keyring.ErrRevoked) {
			t.Fatalf("cookie after revoke-before: %v", err)
		}
		ca, _ := a.Current()
		cb, _ := b.Current()
		if ca.ID != cb.ID || ca.ID == rotated.ID {
			t.Fatalf("after revoke-before: current %s and %s", ca.ID, cb.ID)
		}
		if n := len(a.Keys()); n != 3 {
			t.Fatalf("%d keys, want 3 (revoked keys are kept)", n)
		}
	})

	t.Run("MasterKey", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		clock := fakeclock.New(Epoch)
		a := NewRing(t, s, clock)
		for _, k := range a.Keys() {
			if !k.Encrypted {
				t.Fatal("key stored unencrypted with a master key")
			}
		}
		wrong := bytes.Repeat([]byte{1}, keyring.MasterKeySize)
		_, err := keyring.New(ctx, keyring.Options{Store: s, Now: clock.Now, MasterKey: wrong, NoBackground: true})
		if !errors.Is(err, keyring.ErrWrongMasterKey) {
			t.Fatalf("wrong master key: %v, want ErrWrongMasterKey", err)
		}
		_, err = keyring.New(ctx, keyring.Options{Store: s, Now: clock.Now, NoBackground: true})
		if !errors.Is(err, keyring.ErrMasterKeyRequired) {
			t.Fatalf("no master key on an encrypted store: %v, want ErrMasterKeyRequired", err)
		}
		recs, _ := s.Load(ctx)
		for _, rec := range recs.Keys {
			if bytes.Contains(rec.Material, MasterKey) {
				t.Fatal("material contains the master key")
			}
		}
	})

	t.Run("NotifierWhenImplemented", func(t *testing.T) {
		t.Parallel()
		n, ok := newStore(t).(keyring.Notifier)
		if !ok {
			t.Skip("the store carries no change notices")
		}
		got := make(chan struct{}, 8)
		stop, err := n.Subscribe(ctx, func() { got <- struct{}{} })
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Notify(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case <-got:
		case <-time.After(time.Second):
			t.Fatal("no notice within 1 s")
		}
		stop()
		stop() // idempotent
	})

	t.Run("CrossRingFormats", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)
		clock := fakeclock.New(Epoch)
		a := NewRing(t, s, clock)
		b := NewRing(t, s, clock)
		tok, err := a.MintAssertion(keyring.Assertion{Subject: "u1", Name: "User One", Email: "u1@example.org", Groups: []string{"g1"}, SessionID: "s", Audience: "app", Request: "GET /x"})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := b.VerifyAssertion(tok, "app", "GET /x"); err != nil || got.Subject != "u1" {
			t.Fatalf("assertion on another ring: %+v, %v", got, err)
		}
		d, _ := a.MintFormDigest("i:0#.f|membership|u1", "/sites/x")
		if err := b.VerifyFormDigest(d, "i:0#.f|membership|u1", "/sites/x"); err != nil {
			t.Fatalf("form digest on another ring: %v", err)
		}
		p, _ := a.Protect(keyring.PurposeOIDCState, []byte("state"))
		if got, err := b.Unprotect(keyring.PurposeOIDCState, p); err != nil || string(got) != "state" {
			t.Fatalf("protected payload on another ring: %q, %v", got, err)
		}
	})
}

// startRings opens Concurrency rings on s at the same moment.
func startRings(t *testing.T, s keyring.Store, clock *fakeclock.Clock) []*keyring.Ring {
	t.Helper()
	rings := make([]*keyring.Ring, Concurrency)
	errs := make([]error, Concurrency)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range rings {
		wg.Go(func() {
			<-start
			rings[i], errs[i] = keyring.New(context.Background(), keyring.Options{Store: s, Now: clock.Now, MasterKey: MasterKey, NoBackground: true})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("ring %d: %v", i, err)
		}
		t.Cleanup(func() { rings[i].Close() })
	}
	return rings
}

func refreshAll(t *testing.T, rings []*keyring.Ring) {
	t.Helper()
	start := make(chan struct{})
	errs := make([]error, len(rings))
	var wg sync.WaitGroup
	for i, r := range rings {
		wg.Go(func() {
			<-start
			errs[i] = r.Refresh(context.Background())
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("refresh of ring %d: %v", i, err)
		}
	}
}

// currentIDs returns the distinct current key ids of rings.
func currentIDs(t *testing.T, rings []*keyring.Ring) map[keyring.KeyID]bool {
	t.Helper()
	ids := map[keyring.KeyID]bool{}
	for i, r := range rings {
		k, err := r.Current()
		if err != nil {
			t.Fatalf("ring %d: %v", i, err)
		}
		ids[k.ID] = true
	}
	return ids
}

func sameCurrent(t *testing.T, rings []*keyring.Ring) {
	t.Helper()
	ids := currentIDs(t, rings)
	if len(ids) != 1 {
		t.Fatalf("rings disagree on the current key: %v", ids)
	}
}

// crossVerify checks every ring accepts a cookie minted by every other.
func crossVerify(t *testing.T, rings []*keyring.Ring) {
	t.Helper()
	for i, a := range rings {
		sid := keyring.NewSessionID()
		c, err := a.MintSessionCookie(sid, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		for j, b := range rings {
			got, err := b.VerifySessionCookie(c)
			if err != nil || got.SessionID != sid {
				t.Fatalf("ring %d refuses ring %d's cookie: %v", j, i, err)
			}
		}
	}
}

// StartTogether starts n nodes at once, each opening its own store with
// open(i) inside its goroutine (so store set-up races too: migrations,
// directory creation) and then a ring on it, as servers starting together
// on an empty store do. It fails the test on any error and returns the
// distinct current key ids the nodes ended with.
func StartTogether(t *testing.T, n int, open func(i int) (keyring.Store, error)) map[keyring.KeyID]bool {
	t.Helper()
	clock := fakeclock.New(Epoch)
	rings := make([]*keyring.Ring, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range rings {
		wg.Go(func() {
			<-start
			s, err := open(i)
			if err != nil {
				errs[i] = err
				return
			}
			rings[i], errs[i] = keyring.New(context.Background(), keyring.Options{Store: s, Now: clock.Now, MasterKey: MasterKey, NoBackground: true})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
	ids := currentIDs(t, rings)
	for _, r := range rings {
		r.Close()
	}
	return ids
}
