package oidclogin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// unknownKeyInterval is the least time between two fetches of the
// provider's keys caused by a token naming a key id not seen before.
const unknownKeyInterval = 5 * time.Second

// guardedKeys is the provider's key set (JWKS) with one difference from
// go-oidc's RemoteKeySet: a token naming an unknown key id makes it fetch
// the keys at most every unknownKeyInterval. Anyone can post a forged
// back-channel logout token with a made-up key id; without the guard each
// one would make the edge fetch the provider's keys (an amplifier aimed at
// the provider). Key ids that verified once are known and never wait; a
// key the provider just rotated in is fetched at once unless a forged
// token took the slot in the last few seconds.
type guardedKeys struct {
	remote *oidc.RemoteKeySet
	now    func() time.Time

	mu          sync.Mutex
	known       map[string]bool
	lastUnknown time.Time
}

func newGuardedKeys(ctx context.Context, jwksURL string, now func() time.Time) *guardedKeys {
	if now == nil {
		now = time.Now
	}
	return &guardedKeys{remote: oidc.NewRemoteKeySet(ctx, jwksURL), now: now, known: map[string]bool{}}
}

var errKeyThrottled = errors.New("oidclogin: token signed with an unknown key id (the provider's keys were fetched moments ago)")

// VerifySignature implements oidc.KeySet.
func (g *guardedKeys) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	kid, ok := keyID(jwt)
	if !ok {
		return nil, errors.New("oidclogin: malformed JWT header")
	}
	g.mu.Lock()
	if !g.known[kid] {
		if now := g.now(); now.Sub(g.lastUnknown) < unknownKeyInterval {
			g.mu.Unlock()
			return nil, errKeyThrottled
		} else {
			g.lastUnknown = now
		}
	}
	g.mu.Unlock()
	payload, err := g.remote.VerifySignature(ctx, jwt)
	if err == nil {
		g.mu.Lock()
		if len(g.known) < 64 { // a provider has a handful of keys
			g.known[kid] = true
		}
		g.mu.Unlock()
	}
	return payload, err
}

// keyID reads the kid of a compact JWS header ("" when absent).
func keyID(jwt string) (string, bool) {
	head, _, ok := strings.Cut(jwt, ".")
	if !ok || len(head) > 4096 {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "", false
	}
	var h struct {
		KID string `json:"kid"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return "", false
	}
	return h.KID, true
}
