package keyring

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults, as ASP.NET Core DataProtection's (KeyManagementOptions).
const (
	DefaultKeyLifetime       = 90 * 24 * time.Hour
	DefaultPropagationWindow = 48 * time.Hour
	DefaultRefreshPeriod     = 24 * time.Hour
	DefaultClockSkew         = 5 * time.Minute
	// DefaultUnknownKeyRefreshInterval bounds the store reads a stream of
	// payloads naming unknown key ids can cause (DataProtection only does
	// this in the first 2 minutes after start; we do it at any time).
	DefaultUnknownKeyRefreshInterval = 2 * time.Second
	// refreshRetry is how soon a failed background refresh is retried; the
	// ring keeps serving its previous snapshot meanwhile.
	refreshRetry = time.Minute
)

// Options configure a Ring. Store is required; every other field has a
// default.
type Options struct {
	Store Store
	// Notifier carries change notices; when nil and Store implements
	// Notifier, the store is used.
	Notifier Notifier
	// MasterKey (32 bytes, see ParseMasterKey) encrypts key material at
	// rest. Without one the ring works and logs one warning.
	MasterKey []byte
	// ApplicationName is the root purpose (default "cesivi").
	ApplicationName string
	Logger          *slog.Logger
	// Registerer receives the ring's metrics (see metrics.go); nil: none.
	Registerer prometheus.Registerer
	// Now is the clock (default time.Now); tests inject theirs.
	Now func() time.Time

	KeyLifetime               time.Duration
	PropagationWindow         time.Duration
	RefreshPeriod             time.Duration
	ClockSkew                 time.Duration
	UnknownKeyRefreshInterval time.Duration

	// ReadOnly rings never create keys (the CLI's list).
	ReadOnly bool
	// NoBackground disables the refresh goroutine and the notice
	// subscription: the owner calls Refresh (tests with a fake clock, the
	// CLI).
	NoBackground bool
}

// Ring is a key ring. It is safe for concurrent use; minting and verifying
// read an immutable snapshot through an atomic pointer and take no lock.
type Ring struct {
	opt     Options
	store   Store
	notify  Notifier
	kek     *kek
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics

	snap atomic.Pointer[snapshot]

	refreshMu        sync.Mutex // serialises refreshes
	lastUnknown      time.Time  // guarded by refreshMu
	warnedPlainKeys  map[KeyID]bool
	kick             chan struct{}
	cancel           context.CancelFunc
	done             chan struct{}
	stopSubscription func()
	closeOnce        sync.Once
}

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

// New opens a ring: it reads the store (a failure, a wrong master key or
// an encrypted store without a master key is an error), creates the first
// key when there is none (coordinated through the store), and, unless
// NoBackground, starts refreshing in the background until Close.
func New(ctx context.Context, opt Options) (*Ring, error) {
	if opt.Store == nil {
		return nil, errors.New("keyring: no store")
	}
	if opt.ApplicationName == "" {
		opt.ApplicationName = DefaultApplicationName
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&opt.KeyLifetime, DefaultKeyLifetime)
	def(&opt.PropagationWindow, DefaultPropagationWindow)
	def(&opt.RefreshPeriod, DefaultRefreshPeriod)
	def(&opt.ClockSkew, DefaultClockSkew)
	def(&opt.UnknownKeyRefreshInterval, DefaultUnknownKeyRefreshInterval)
	if opt.KeyLifetime < 7*24*time.Hour {
		return nil, errors.New("keyring: the key lifetime must be at least 7 days")
	}
	k, err := newKEK(opt.MasterKey)
	if err != nil {
		return nil, err
	}
	r := &Ring{
		opt:             opt,
		store:           opt.Store,
		notify:          opt.Notifier,
		kek:             k,
		log:             opt.Logger,
		now:             opt.Now,
		warnedPlainKeys: map[KeyID]bool{},
		kick:            make(chan struct{}, 1),
	}
	if r.notify == nil {
		r.notify, _ = opt.Store.(Notifier)
	}
	r.metrics = newMetrics(opt.Registerer, r)
	if k == nil {
		r.log.Warn("no master key is configured: key ring material is stored UNENCRYPTED; set Cesivi:DataProtection:MasterKey to 32 random bytes in base64 (openssl rand -base64 32)")
	}
	if err := r.Refresh(ctx); err != nil {
		return nil, err
	}
	if !opt.NoBackground {
		bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
		r.cancel = cancel
		r.done = make(chan struct{})
		stop := r.subscribe(bg, nil)
		go r.loop(bg, stop)
	}
	return r, nil
}

// Close stops the background refresh and the notice subscription.
func (r *Ring) Close() error {
	r.closeOnce.Do(func() {
		if r.cancel != nil {
			r.cancel()
			<-r.done
		}
	})
	return nil
}

// Kick asks the background loop to refresh now (a change notice).
func (r *Ring) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// subscribe starts receiving change notices unless stop says it already
// does; it returns the stop function (nil when notices are unavailable; the
// loop tries again every refreshRetry). Once subscribed, the ring refreshes
// once, for anything announced before the subscription was active.
func (r *Ring) subscribe(ctx context.Context, stop func()) func() {
	if r.notify == nil || stop != nil {
		return stop
	}
	stop, err := r.notify.Subscribe(ctx, r.Kick)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("key ring change notices unavailable; retrying, and the periodic refresh still applies", "error", err, "retry_in", refreshRetry)
		}
		return nil
	}
	r.Kick()
	return stop
}

func (r *Ring) loop(ctx context.Context, stop func()) {
	defer close(r.done)
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	delay := r.nextDelay()
	for {
		if r.notify != nil && stop == nil {
			delay = min(delay, refreshRetry)
		}
		t := time.NewTimer(delay)
		reason := "periodic"
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-r.kick:
			t.Stop()
			reason = "notice"
		}
		stop = r.subscribe(ctx, stop)
		if err := r.refresh(ctx, reason); err != nil {
			if ctx.Err() != nil {
				return
			}
			r.log.Error("key ring refresh failed; keeping the previous keys", "error", err, "retry_in", refreshRetry)
			delay = refreshRetry
			continue
		}
		delay = r.nextDelay()
	}
}

// nextDelay is the refresh period minus up to 20 % jitter, shortened so the
// ring refreshes when the current key expires or needs its successor.
func (r *Ring) nextDelay() time.Duration {
	d := r.opt.RefreshPeriod - time.Duration(mrand.Int64N(int64(r.opt.RefreshPeriod)/5+1))
	now := r.now()
	if cur := r.snap.Load().current(now, r.opt.ClockSkew); cur != nil {
		for _, at := range []time.Time{cur.Expiration.Add(-r.opt.PropagationWindow - r.opt.RefreshPeriod), cur.Expiration} {
			if until := at.Sub(now); until > 0 && until < d {
				d = until
			}
		}
	}
	return max(d, time.Second)
}

// Refresh re-reads the store now and, unless ReadOnly, creates the key the
// rotation policy asks for.
func (r *Ring) Refresh(ctx context.Context) error { return r.refresh(ctx, "explicit") }

func (r *Ring) refresh(ctx context.Context, reason string) error {
	r.refreshMu.Lock()
	defer r.refreshMu.Unlock()
	err := r.refreshLocked(ctx)
	r.metrics.refreshed(reason, err)
	return err
}

func (r *Ring) refreshLocked(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		recs, err := r.store.Load(ctx)
		if err != nil {
			return fmt.Errorf("keyring: read the key store: %w", err)
		}
		snap, err := r.build(recs)
		if err != nil {
			return err
		}
		r.snap.Store(snap)
		if r.opt.ReadOnly {
			return nil
		}
		now := r.now()
		slot, activation, ok := r.needKey(snap, now)
		if !ok {
			return nil
		}
		if attempt >= 5 {
			return fmt.Errorf("keyring: could not settle on a key for slot %q after %d attempts", slot, attempt)
		}
		created := now
		if !snap.maxBefore.IsZero() && created.Before(snap.maxBefore) {
			created = snap.maxBefore.Add(time.Microsecond)
		}
		rec, err := r.newRecord(slot, created, activation)
		if err != nil {
			return err
		}
		inserted, err := r.store.InsertKey(ctx, rec)
		if err != nil {
			return fmt.Errorf("keyring: store a new key: %w", err)
		}
		if inserted {
			r.log.Info("key ring: created key", "key_id", rec.ID, "slot", slot,
				"activation", rec.Activation.Format(time.RFC3339), "expiration", rec.Expiration.Format(time.RFC3339))
			r.notifyChange(ctx)
		}
		// Re-read either way: another node may have won the slot.
	}
}

func (r *Ring) notifyChange(ctx context.Context) {
	if r.notify == nil {
		return
	}
	if err := r.notify.Notify(ctx); err != nil {
		r.log.Warn("key ring: could not publish the change notice; other nodes see it at their next refresh", "error", err)
	}
}

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
