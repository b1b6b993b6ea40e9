package websession

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/cesivi/cesivi/internal/state"
)

// ErrSealing means a new session's tokens could not be sealed with the key
// ring: nothing was stored.
var ErrSealing = errors.New("websession: the session's tokens could not be sealed")

// SignIn is what a completed sign-in puts in its new session.
type SignIn struct {
	UserID string // the subject
	SID    string // the provider's session id ("sid"), may be empty
	Name   string
	Email  string
	Groups []string
	Tokens Tokens
}

// SignIn starts the session of a completed sign-in under a fresh id and
// ends the session previousCookie named, if any (anonymous, or another
// user's): a new id at every sign-in, so a session id planted before the
// sign-in is worth nothing after it. The tokens are sealed with the key
// ring; with a refresh token, the access token's expiry is kept in the
// data so the refresher can see it without opening them.
func (r *Resolver) SignIn(ctx context.Context, in SignIn, previousCookie string) (*state.Session, string, error) {
	sealed, err := SealTokens(r.ring, in.Tokens)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrSealing, err)
	}
	data := map[string]string{DataName: in.Name, DataEmail: in.Email}
	if len(in.Groups) > 0 {
		data[DataGroups] = encodeGroups(in.Groups)
	}
	if in.Tokens.RefreshToken != "" && !in.Tokens.Expiry.IsZero() {
		data[DataTokenExpiry] = strconv.FormatInt(in.Tokens.Expiry.Unix(), 10)
	}
	s, cookie, err := r.Create(ctx, &state.Session{UserID: in.UserID, SID: in.SID, Tokens: sealed, Data: data})
	if err != nil {
		return nil, "", err
	}
	if previousCookie != "" {
		if old, err := r.ring.VerifySessionCookie(previousCookie); err == nil {
			// Best effort: the new session is in place, and an old one
			// that survives a store hiccup ends with its idle timeout.
			_ = r.Delete(ctx, old.SessionID.String())
		}
	}
	return s, cookie, nil
}

// Logout ends the session the cookie names on every edge and returns the
// session's ID token (for the provider's end_session_endpoint; empty when
// there is none). A cookie that names no live session is ErrInvalid: there
// is nothing to end. Any other error means the session may still be alive.
func (r *Resolver) Logout(ctx context.Context, cookie string) (idToken string, err error) {
	s, err := r.Resolve(ctx, cookie)
	if err != nil {
		return "", err
	}
	// The ID token is only a hint for the provider's logout: without it
	// (the tokens unreadable, or the store failing just now) the session
	// still ends here.
	if sealed, err := r.Tokens(ctx, s.ID); err == nil {
		if t, err := OpenTokens(r.ring, sealed); err == nil {
			idToken = t.IDToken
		}
	}
	if err := r.Delete(ctx, s.ID); err != nil {
		return "", err
	}
	return idToken, nil
}

// RevokeUser ends every session of the user on every edge and returns how
// many there were.
func (r *Resolver) RevokeUser(ctx context.Context, userID string) (int, error) {
	// Dropped from this edge's cache after the store's deletion, even when
	// it failed part way, so the very next request here cannot be served
	// from the cache; the store's notice does the same on the other edges.
	defer r.Revoked(state.SessionRevocation{Kind: state.RevokedUser, Value: userID})
	return r.sessions.RevokeUser(ctx, userID)
}

// RevokeSID ends every session that carries the provider's session id
// (the "sid" claim) on every edge and returns how many there were.
func (r *Resolver) RevokeSID(ctx context.Context, sid string) (int, error) {
	defer r.Revoked(state.SessionRevocation{Kind: state.RevokedSID, Value: sid})
	return r.sessions.RevokeSID(ctx, sid)
}

// EndSessions ends what a back-channel logout token names: with a sid, the
// sessions of that sid — and, when the token also names the subject, that
// subject's sessions that carry no sid at all (the provider left the sid
// out of their ID tokens), but never the subject's other sessions; without
// a sid, every session of the subject. It returns how many ended; ending
// sessions is idempotent, so a failed call may simply be repeated.
func (r *Resolver) EndSessions(ctx context.Context, subject, sid string) (int, error) {
	if sid == "" {
		return r.RevokeUser(ctx, subject)
	}
	n, err := r.RevokeSID(ctx, sid)
	if err != nil || subject == "" {
		return n, err
	}
	list, err := r.sessions.ListUser(ctx, subject)
	if err != nil {
		return n, err
	}
	for _, s := range list {
		if s.SID == "" {
			if err := r.Delete(ctx, s.ID); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
