package keyring

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// KeyID identifies a key. It is random, never zero, and travels in the clear
// header of every payload (4 bytes, like Tink's output prefix), so payloads
// stay short. The stores' unique constraint on the id catches the unlikely
// collision, and the ring then draws another id.
type KeyID uint32

// String is the id as 8 lower-case hex digits, the form logs and the CLI use.
func (id KeyID) String() string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(id))
	return hex.EncodeToString(b[:])
}

// ParseKeyID reads the 8-hex-digit form String writes.
func ParseKeyID(s string) (KeyID, error) {
	if len(s) != 8 {
		return 0, fmt.Errorf("keyring: key id %q: want 8 hex digits", s)
	}
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil || v == 0 {
		return 0, fmt.Errorf("keyring: key id %q: want 8 hex digits, not all zero", s)
	}
	return KeyID(v), nil
}

// KeyRecord is a key as a Store keeps it. Records are append-only: a store
// never changes or deletes one.
type KeyRecord struct {
	ID         KeyID     `json:"id"`
	Created    time.Time `json:"created"`
	Activation time.Time `json:"activation"`
	Expiration time.Time `json:"expiration"`
	// Material is the sealed key material (see Seal): encrypted with the
	// key-encryption key when a master key is configured. Opaque to stores.
	Material []byte `json:"material"`
	// Slot is the coordination slot the key was created for; a store accepts
	// at most one key per slot (see Store.InsertKey).
	Slot string `json:"slot"`
}

// Revocation is a revocation record: of one key (KeyID set) or of every key
// created strictly before a time (Before set), as in DataProtection.
type Revocation struct {
	// ID is the record's unique id ("key-<keyid>" or "before-<unixnano>").
	ID      string    `json:"id"`
	KeyID   KeyID     `json:"keyId,omitzero"`
	Before  time.Time `json:"before,omitzero"`
	Reason  string    `json:"reason,omitempty"`
	Revoked time.Time `json:"revoked"`
}

// The JSON form of records is what the text-based stores (directory,
// Redis) keep; key ids appear as their 8 hex digits.

// MarshalText writes the id as 8 hex digits.
func (id KeyID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText reads what MarshalText writes.
func (id *KeyID) UnmarshalText(b []byte) error {
	v, err := ParseKeyID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// Records is the whole content of a store.
type Records struct {
	Keys        []KeyRecord
	Revocations []Revocation
}

// Store is the backend contract. Implementations must be safe for concurrent
// use by several rings, in one process or many. Records are append-only.
// keyringtest.Exercise is the shared test suite every implementation passes.
type Store interface {
	// Load returns every key and revocation record. An error is fatal for a
	// refresh (the ring keeps its previous snapshot): a partial read could
	// miss a revocation.
	Load(ctx context.Context) (Records, error)
	// InsertKey stores rec unless a key with the same Slot or the same ID
	// already exists; it reports whether it stored it. The check and the
	// insert are one atomic step across every node sharing the store. When
	// it reports false, the key holding the slot or the id is already
	// visible to Load: a ring that lost re-reads to find the winner, and
	// gives up after a few passes that find nothing new.
	InsertKey(ctx context.Context, rec KeyRecord) (bool, error)
	// InsertRevocation stores a revocation record; storing a record whose ID
	// exists already is not an error and changes nothing. Either way Load
	// returns the record once it returns.
	InsertRevocation(ctx context.Context, rev Revocation) error
}

// Notifier carries change notices between the rings of a farm (Redis
// pub/sub in keyring/redisstore). A notice makes every subscriber refresh
// at once; the periodic refresh is the backstop for lost notices.
type Notifier interface {
	// Notify tells every subscriber that the store changed.
	Notify(ctx context.Context) error
	// Subscribe calls onChange for every notice (and whenever the
	// subscription is re-established, since notices may have been missed)
	// until stop is called. It returns once the subscription is active.
	Subscribe(ctx context.Context, onChange func()) (stop func(), err error)
}

// KeyState is where a key stands at a given time.
type KeyState string

// Key states, as DataProtection's.
const (
	StateCreated KeyState = "created" // not yet active
	StateActive  KeyState = "active"
	StateExpired KeyState = "expired"
	StateRevoked KeyState = "revoked"
)

// Key is what a ring knows about a key, without its material.
type Key struct {
	ID         KeyID
	Created    time.Time
	Activation time.Time
	Expiration time.Time
	Revoked    bool
	// RevokedAt and RevocationReason come from the first revocation record
	// that applies to the key.
	RevokedAt        time.Time
	RevocationReason string
	// Current is true for the key the ring mints with at the time asked.
	Current bool
	// Encrypted tells whether the material is encrypted at rest.
	Encrypted bool
}

// State returns the key's state at now.
func (k Key) State(now time.Time) KeyState {
	switch {
	case k.Revoked:
		return StateRevoked
	case !now.Before(k.Expiration):
		return StateExpired
	case now.Before(k.Activation):
		return StateCreated
	}
	return StateActive
}

// Refusal reasons. Verification errors wrap exactly one of them; test with
// errors.Is, and use Reason for a metric label.
var (
	ErrMalformed     = errors.New("keyring: malformed payload")
	ErrTruncated     = errors.New("keyring: truncated payload")
	ErrBadVersion    = errors.New("keyring: unknown format version")
	ErrWrongPurpose  = errors.New("keyring: payload minted for another purpose")
	ErrUnknownKey    = errors.New("keyring: unknown key id")
	ErrRevoked       = errors.New("keyring: key revoked")
	ErrTampered      = errors.New("keyring: payload tampered (authentication failed)")
	ErrExpired       = errors.New("keyring: payload expired")
	ErrNotYetValid   = errors.New("keyring: payload issued in the future")
	ErrWrongAudience = errors.New("keyring: assertion for another audience")
	ErrWrongRequest  = errors.New("keyring: assertion for another request")
	ErrWrongUser     = errors.New("keyring: form digest of another user")
)

// Ring and store errors.
var (
	// ErrNoActiveKey: the ring has no key to mint with and may not create one.
	ErrNoActiveKey = errors.New("keyring: no active key")
	// ErrWrongMasterKey: a key's material does not open with the configured
	// master key (or is corrupted). A start-up error, never garbage keys.
	ErrWrongMasterKey = errors.New("keyring: key material does not decrypt with the configured master key (wrong Cesivi:DataProtection:MasterKey, or a corrupted key record)")
	// ErrMasterKeyRequired: the store holds encrypted keys and no master key
	// is configured.
	ErrMasterKeyRequired = errors.New("keyring: the key ring is encrypted at rest; set Cesivi:DataProtection:MasterKey")
)

// reasons names each refusal for logs and metric labels, and says it for
// people (an error page, a 401 body): what happened, never key material.
var reasons = []struct {
	err          error
	name, people string
}{
	{ErrMalformed, "malformed", "it is not a value this farm minted"},
	{ErrTruncated, "truncated", "it is cut short"},
	{ErrBadVersion, "bad_version", "it is in a format this server does not know"},
	{ErrWrongPurpose, "wrong_purpose", "it was minted for another use"},
	{ErrUnknownKey, "unknown_key", "it names a key this farm does not have"},
	{ErrRevoked, "revoked_key", "the key that signed it has been revoked"},
	// Before ErrTampered, which it wraps.
	{ErrWrongScope, "wrong_scope", "it was minted for another site"},
	{ErrTampered, "tampered", "its signature does not match its content"},
	{ErrExpired, "expired", "it has expired"},
	{ErrNotYetValid, "not_yet_valid", "it was issued in the future (check the clocks of the farm)"},
	{ErrWrongAudience, "wrong_audience", "it was minted for another audience"},
	{ErrWrongRequest, "wrong_request", "it was minted for another request (method or path), or a proxy rewrote the request after the edge"},
	{ErrWrongUser, "wrong_user", "it was minted for another user"},
	{ErrNoActiveKey, "no_active_key", "the farm has no key to sign with"},
}

// Reason names the refusal reason of err for logs and metric labels
// ("tampered", "unknown_key", …), or "other". The key ring's metrics and
// every verifier of its payloads use this one vocabulary.
func Reason(err error) string {
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "other"
}

// Explain says why err refused a payload, for people ("it has
// expired"), or "it could not be verified" for an error that is not a
// refusal reason.
func Explain(err error) string {
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.people
		}
	}
	return "it could not be verified"
}
