package state

import (
	"context"
	"time"
)

// Session is one login session. Tokens are opaque: the caller encrypts them
// with the key ring before storing and decrypts after reading, so the store
// never holds a usable token. Load and ListUser leave Tokens nil (see
// SessionStore.Tokens).
type Session struct {
	ID       string
	UserID   string
	SID      string // OpenID Connect session id ("sid" claim), may be empty
	Tokens   []byte
	Data     map[string]string
	Created  time.Time
	LastSeen time.Time // as of the last TTL refresh (at most IdleTimeout/4 old)
	Expires  time.Time // the earlier of LastSeen+IdleTimeout and Created+AbsoluteLifetime
}

// SessionUpdate names what changed; only that is written.
type SessionUpdate struct {
	Tokens *[]byte           // nil: unchanged
	Set    map[string]string // data entries to set
	Delete []string          // data entries to remove
	// IfTokens, when not nil, makes the update conditional: it is applied
	// only while the stored tokens are exactly these (the ones the caller
	// read), else nothing is written and Update returns ErrConflict. Two
	// edges that both redeemed a refresh token thus cannot overwrite each
	// other's result, and one whose refresh was refused cannot end a
	// session another edge has renewed meanwhile.
	IfTokens *[]byte
	// Fence, when not nil, makes the update a lease holder's: it is
	// applied only if no newer fence has written the session (see
	// Fence.Newer), else nothing is written and Update returns ErrFenced;
	// when applied, Fence becomes the session's. An update with a Fence
	// and nothing else claims the session for the lease: from then on,
	// every earlier holder's fenced write is refused. The token refresher
	// claims right after taking its lease, so an edge that lost the lease
	// (a Redis failover) can neither end the session on a refusal nor
	// overwrite it with tokens it redeemed late. Unfenced updates neither
	// check nor change the session's fence.
	Fence *Fence
}

// SessionStore keeps sessions with a sliding idle timeout and an absolute
// lifetime.
type SessionStore interface {
	// Create stores a new session. An empty s.ID gets a fresh random id;
	// Created and LastSeen are set from the clock. An existing id is
	// ErrConflict.
	Create(ctx context.Context, s *Session) error
	// Load returns the session and slides its expiry, in one round trip.
	// The expiry is refreshed at most every IdleTimeout/4. The session's
	// Tokens are left out (nil): every request without a session cache
	// loads its session, the sealed tokens are most of its bytes (a few
	// kilobytes with a real provider's tokens), and only a token refresh
	// or a logout needs them.
	Load(ctx context.Context, id string) (*Session, error)
	// Tokens returns the session's tokens as last stored (empty when it
	// has none); a missing or ended session is ErrNotFound. It does not
	// slide the session's expiry.
	Tokens(ctx context.Context, id string) ([]byte, error)
	// Update writes only what upd names, all or nothing; a missing
	// session is ErrNotFound, a newer fence ErrFenced (checked first), a
	// failed upd.IfTokens condition ErrConflict.
	Update(ctx context.Context, id string, upd SessionUpdate) error
	// Delete removes a session; a missing one is not an error.
	Delete(ctx context.Context, id string) error
	// ListUser returns the user's live sessions, pruning dead index entries.
	ListUser(ctx context.Context, userID string) ([]*Session, error)
	// RevokeUser deletes every session of the user and returns how many.
	RevokeUser(ctx context.Context, userID string) (int, error)
	// RevokeSID deletes every session with the OpenID Connect sid.
	RevokeSID(ctx context.Context, sid string) (int, error)
}
