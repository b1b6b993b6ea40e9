package oidclogin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Key set timing. The provider's keys are fetched when the provider is
// first discovered, again when they are older than keyMaxAge (in the
// background: the keys in hand keep verifying meanwhile), and when a token
// names a key id the set does not hold — but never more than once per
// keyFetchInterval, whatever arrives.
const (
	keyFetchInterval = 5 * time.Second
	keyMaxAge        = 15 * time.Minute
	maxKeySetBytes   = 1 << 20
)

// signingAlgs are the JWS algorithms a provider's tokens may use (the
// verifier narrows them further to what the provider announces).
var signingAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// keySet is the provider's key set (JWKS), an oidc.KeySet made to resist
// what anyone on the Internet can send: forged back-channel logout tokens.
//
//   - A token whose key id is in the set is checked against that key
//     only; a bad signature is a refusal, never a reason to fetch (go-oidc's
//     RemoteKeySet refetches on every failed signature).
//   - A token with a key id the set lacks makes the set be fetched again,
//     at most once per keyFetchInterval, the fetch shared by every waiter;
//     within the interval it is refused at once and a fetch is scheduled
//     for the interval's end. A fetch returns the provider's real set
//     whoever caused it, so forged tokens cannot keep a genuine key out:
//     a key the provider rotates in is known within keyFetchInterval.
//   - The set is replaced by each fetch: key ids come from the provider's
//     current set, not from a list that grows with what tokens claim.
type keySet struct {
	url    string
	client *http.Client

	mu      sync.Mutex
	keys    map[string][]jose.JSONWebKey // by key id; "" holds keys without one
	loaded  time.Time                    // when keys were last fetched successfully
	started time.Time                    // when the last fetch started
	call    *keyFetch                    // the fetch in flight, if any
}

// keyFetch is one fetch, awaited by every caller that needs it.
type keyFetch struct {
	done chan struct{}
	err  error
}

func newKeySet(jwksURL string, client *http.Client) *keySet {
	return &keySet{url: jwksURL, client: client}
}

var (
	errUnknownKeyID = errors.New("oidclogin: token signed with a key the provider does not publish")
	errMalformedJWT = errors.New("oidclogin: malformed JWT")
)

// VerifySignature implements oidc.KeySet.
func (k *keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	jws, err := jose.ParseSigned(jwt, signingAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, errMalformedJWT
	}
	kid := jws.Signatures[0].Header.KeyID
	keys, err := k.keysFor(ctx, kid)
	if err != nil {
		return nil, err
	}
	for _, key := range keys {
		if payload, err := jws.Verify(key.Key); err == nil {
			return payload, nil
		}
	}
	return nil, errors.New("oidclogin: signature does not verify with the provider's key")
}

// keysFor returns the keys a token naming kid may be signed with, waiting
// for a fetch when the set does not hold kid.
func (k *keySet) keysFor(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	k.mu.Lock()
	keys, ok := k.keys[kid]
	if ok && time.Since(k.loaded) > keyMaxAge {
		k.startFetchLocked() // refresh in the background; these keys still serve
	}
	k.mu.Unlock()
	if ok {
		return keys, nil
	}
	k.mu.Lock()
	recent := !k.loaded.IsZero() && time.Since(k.started) < keyFetchInterval
	if recent {
		// The set was fetched moments ago and does not hold kid: the token
		// is refused now, and a fetch is scheduled for when the interval
		// ends, so a key the provider has just rotated in is known a few
		// seconds later whatever else arrives meanwhile.
		k.startFetchLocked()
		k.mu.Unlock()
		return nil, errUnknownKeyID
	}
	k.mu.Unlock()
	if err := k.refresh(ctx); err != nil {
		k.mu.Lock()
		loaded := !k.loaded.IsZero()
		k.mu.Unlock()
		if !loaded {
			return nil, fmt.Errorf("%w: the provider's keys: %w", ErrProviderUnavailable, err)
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if keys, ok := k.keys[kid]; ok {
		return keys, nil
	}
	return nil, errUnknownKeyID
}

// refresh waits for a fetch: the one in flight, or a new one (started no
// sooner than keyFetchInterval after the last).
func (k *keySet) refresh(ctx context.Context) error {
	k.mu.Lock()
	c := k.startFetchLocked()
	k.mu.Unlock()
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// prefetch starts a fetch without waiting for it (at discovery, so the
// first token finds the keys in hand).
func (k *keySet) prefetch() {
	k.mu.Lock()
	k.startFetchLocked()
	k.mu.Unlock()
}

func (k *keySet) startFetchLocked() *keyFetch {
	if k.call != nil {
		return k.call
	}
	c := &keyFetch{done: make(chan struct{})}
	k.call = c
	var wait time.Duration
	if !k.started.IsZero() {
		wait = keyFetchInterval - time.Since(k.started)
	}
	go k.fetch(c, wait)
	return c
}

// fetch runs outside any request: its context is its own, so a client
// that gives up does not cancel what the other waiters need.
func (k *keySet) fetch(c *keyFetch, wait time.Duration) {
	if wait > 0 {
		time.Sleep(wait)
	}
	k.mu.Lock()
	k.started = time.Now()
	k.mu.Unlock()
	keys, err := k.download()
	k.mu.Lock()
	if err == nil {
		k.keys, k.loaded = keys, time.Now()
	}
	k.call = nil
	c.err = err
	k.mu.Unlock()
	close(c.done)
}

func (k *keySet) download() (map[string][]jose.JSONWebKey, error) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultHTTPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET jwks_uri: %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKeySetBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxKeySetBytes {
		return nil, errors.New("the key set is larger than 1 MiB")
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("the key set does not parse: %w", err)
	}
	keys := map[string][]jose.JSONWebKey{}
	for _, key := range set.Keys {
		if key.Use != "" && key.Use != "sig" || !key.IsPublic() {
			continue
		}
		keys[key.KeyID] = append(keys[key.KeyID], key)
	}
	if len(keys) == 0 {
		return nil, errors.New("the key set holds no signing key")
	}
	return keys, nil
}
