package statekit

import (
	"context"

	"github.com/cesivi/cesivi/internal/state"
)

// WithRevocationNotices returns s publishing a notice on
// state.SessionRevokedChannel after every deletion that succeeded (Delete,
// RevokeUser, RevokeSID). When the notice cannot be
// published the call fails with the publish error although the deletion
// happened: the caller may retry (deletions are idempotent), and a cache
// that missed the notice still drops the session at its own TTL.
func WithRevocationNotices(s state.SessionStore, ps state.PubSub) state.SessionStore {
	return &noticingSessions{SessionStore: s, ps: ps}
}

type noticingSessions struct {
	state.SessionStore
	ps state.PubSub
}

func (n *noticingSessions) notify(ctx context.Context, kind, value string) error {
	return n.ps.Publish(ctx, state.SessionRevokedChannel, state.SessionRevocation{Kind: kind, Value: value}.String())
}

func (n *noticingSessions) Delete(ctx context.Context, id string) error {
	if err := n.SessionStore.Delete(ctx, id); err != nil {
		return err
	}
	return n.notify(ctx, state.RevokedSession, id)
}

func (n *noticingSessions) RevokeUser(ctx context.Context, userID string) (int, error) {
	count, err := n.SessionStore.RevokeUser(ctx, userID)
	if err != nil {
		return count, err
	}
	return count, n.notify(ctx, state.RevokedUser, userID)
}

func (n *noticingSessions) RevokeSID(ctx context.Context, sid string) (int, error) {
	count, err := n.SessionStore.RevokeSID(ctx, sid)
	if err != nil {
		return count, err
	}
	return count, n.notify(ctx, state.RevokedSID, sid)
}
