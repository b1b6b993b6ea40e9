package state

import (
	"context"
	"fmt"
	"strings"
)

// SessionRevokedChannel carries session revocations, so a server that keeps
// sessions in a local cache (the edge, to save a Redis round trip per
// request) drops a revoked session at once instead of at its cache TTL.
// Payloads are "session <id>", "user <user id>" or "sid <OpenID sid>".
const SessionRevokedChannel = "session:revoked"

// The kinds of SessionRevocation.
const (
	RevokedSession = "session"
	RevokedUser    = "user"
	RevokedSID     = "sid"
)

// SessionRevocation is one notice: every cached session whose id, user id
// or OpenID sid (by Kind) equals Value must be dropped.
type SessionRevocation struct {
	Kind  string
	Value string
}

func (r SessionRevocation) String() string { return r.Kind + " " + r.Value }

// ParseSessionRevocation reads a notice's payload.
func ParseSessionRevocation(payload string) (SessionRevocation, error) {
	kind, value, ok := strings.Cut(payload, " ")
	switch {
	case !ok || value == "":
		return SessionRevocation{}, fmt.Errorf("state: session revocation %q: want \"<kind> <value>\"", payload)
	case kind != RevokedSession && kind != RevokedUser && kind != RevokedSID:
		return SessionRevocation{}, fmt.Errorf("state: session revocation %q: unknown kind", payload)
	}
	return SessionRevocation{Kind: kind, Value: value}, nil
}

// WithRevocationNotices returns s publishing a notice on
// SessionRevokedChannel after every deletion that succeeded (Delete,
// ChangeID's retired id, RevokeUser, RevokeSID). When the notice cannot be
// published the call fails with the publish error although the deletion
// happened: the caller may retry (deletions are idempotent), and a cache
// that missed the notice still drops the session at its own TTL.
func WithRevocationNotices(s SessionStore, ps PubSub) SessionStore {
	return &noticingSessions{SessionStore: s, ps: ps}
}

type noticingSessions struct {
	SessionStore
	ps PubSub
}

func (n *noticingSessions) notify(ctx context.Context, kind, value string) error {
	return n.ps.Publish(ctx, SessionRevokedChannel, SessionRevocation{Kind: kind, Value: value}.String())
}

func (n *noticingSessions) Delete(ctx context.Context, id string) error {
	if err := n.SessionStore.Delete(ctx, id); err != nil {
		return err
	}
	return n.notify(ctx, RevokedSession, id)
}

func (n *noticingSessions) ChangeID(ctx context.Context, id string) (string, error) {
	newID, err := n.SessionStore.ChangeID(ctx, id)
	if err != nil {
		return "", err
	}
	return newID, n.notify(ctx, RevokedSession, id)
}

func (n *noticingSessions) RevokeUser(ctx context.Context, userID string) (int, error) {
	count, err := n.SessionStore.RevokeUser(ctx, userID)
	if err != nil {
		return count, err
	}
	return count, n.notify(ctx, RevokedUser, userID)
}

func (n *noticingSessions) RevokeSID(ctx context.Context, sid string) (int, error) {
	count, err := n.SessionStore.RevokeSID(ctx, sid)
	if err != nil {
		return count, err
	}
	return count, n.notify(ctx, RevokedSID, sid)
}

// SubscribeSessionRevocations calls onRevoke for every notice and onReset
// whenever notices may have been missed (the subscription was lost or
// re-established): a local session cache must then drop everything.
// Malformed payloads (someone publishing by hand) are ignored.
func SubscribeSessionRevocations(ctx context.Context, ps PubSub, onRevoke func(SessionRevocation), onReset func(connected bool)) (Subscription, error) {
	return ps.Subscribe(ctx, SessionRevokedChannel, Handler{
		OnMessage: func(payload string) {
			if r, err := ParseSessionRevocation(payload); err == nil {
				onRevoke(r)
			}
		},
		OnReset: onReset,
	})
}
