package state

import (
	"context"
	"fmt"
	"strings"
)

// The notice vocabulary is part of the contract, not of the providers' kit:
// the edge reads it (websession's cache) and writes it (the back-channel
// logout), while the providers' session stores publish it (see
// SessionStore).

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
