package caddymodule

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cesivi/cesivi/internal/oidclogin"
)

// bearerToken returns the token of an "Authorization: Bearer <token>"
// header (the scheme is case-insensitive, RFC 6750).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// Limits on what unauthenticated clients can make the provider do.
const (
	// refusedTTL: a token the provider refused is refused locally for
	// this long without asking again; the table keeps the newest maxRefused.
	refusedTTL = 30 * time.Second
	maxRefused = 10_000
	// maxIntrospections in flight per edge, reservedIntrospections of them
	// kept for tokens this edge has seen valid (their cache entry expired),
	// so a flood of new tokens cannot keep known users out; a request waits
	// up to introspectionWait for a slot, then gets 503.
	maxIntrospections      = 8
	reservedIntrospections = 2
	introspectionWait      = 2 * time.Second
	// A client address may have introspectionBurst tokens checked at
	// the provider, then one every introspectionEvery (429 past that):
	// random garbage costs its sender, not everyone.
	introspectionBurst = 10
	introspectionEvery = time.Second
	// maxSeenValid bounds the record of tokens seen valid.
	maxSeenValid = 10_000
)

// bearerGuard keeps invalid tokens and floods away from the provider.
type bearerGuard struct {
	refused   *expiringSet // token hashes refused, until their time
	seenValid *expiringSet // token hashes the provider said were valid
	perClient *clientLimiter
	slots     chan struct{} // any token
	reserved  chan struct{} // tokens seen valid, when slots are taken
	decoded   decodedIdentities
}

func newBearerGuard() *bearerGuard {
	return &bearerGuard{
		refused:   newExpiringSet(maxRefused),
		seenValid: newExpiringSet(maxSeenValid),
		perClient: newClientLimiter(introspectionBurst, introspectionEvery),
		slots:     make(chan struct{}, maxIntrospections-reservedIntrospections),
		reserved:  make(chan struct{}, reservedIntrospections),
	}
}

// slot waits for an introspection slot (a known token may also take a
// reserved one) and returns its release, or an error after
// introspectionWait.
func (g *bearerGuard) slot(ctx context.Context, known bool) (func(), error) {
	wait, cancel := context.WithTimeout(ctx, introspectionWait)
	defer cancel()
	reserved := g.reserved
	if !known {
		reserved = nil // a nil channel never receives: not for new tokens
	}
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, nil
	case reserved <- struct{}{}:
		return func() { <-g.reserved }, nil
	case <-wait.Done():
		return nil, fmt.Errorf("%w: too many token validations in progress", oidclogin.ErrProviderUnavailable)
	}
}

// expiringSet is a bounded set of keys, each until its own time; at the
// bound the entry inserted first goes (all share one lifetime, so that is
// the one nearest its end), never the whole set.
type expiringSet struct {
	max int

	mu    sync.Mutex
	until map[string]*list.Element // of *expiring
	order list.List                // oldest first
}

type expiring struct {
	key   string
	until time.Time
}

func newExpiringSet(max int) *expiringSet {
	return &expiringSet{max: max, until: map[string]*list.Element{}}
}

func (s *expiringSet) has(key string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.until[key]
	return ok && now.Before(e.Value.(*expiring).until)
}

func (s *expiringSet) add(key string, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.until[key]; ok {
		s.order.Remove(e)
	}
	for len(s.until) >= s.max {
		first := s.order.Front()
		delete(s.until, first.Value.(*expiring).key)
		s.order.Remove(first)
	}
	s.until[key] = s.order.PushBack(&expiring{key: key, until: until})
}

func (s *expiringSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.until)
}

// tooManyTokenChecks: the client's budget of introspections is spent.
type tooManyTokenChecks struct{ wait time.Duration }

func (e *tooManyTokenChecks) Error() string { return "too many new bearer tokens from this address" }

// validateBearer asks the distributed token cache who the token is for; on
// a miss the provider's introspection endpoint answers and the result is
// shared with every edge for at most the cache's TTL (and never past the
// token's own expiry). The cache is keyed by the token's SHA-256, so Redis
// never holds a usable token. Malformed tokens never leave the edge,
// refused ones are refused locally for a while, and at most a few
// introspections per edge run at once.
func (h *SessionGate) validateBearer(r *http.Request, token string) (*oidclogin.TokenIdentity, error) {
	if !oidclogin.WellFormedToken(token) {
		return nil, oidclogin.ErrTokenInvalid
	}
	res, g := h.app.res, h.app.res.bearer
	sum := sha256.Sum256([]byte(token))
	hash := hex.EncodeToString(sum[:])
	now := time.Now()
	if g.refused.has(hash, now) {
		return nil, oidclogin.ErrTokenInvalid
	}
	// Concurrent requests with one token share one lookup and at most one
	// introspection (the token cache coalesces them), run with this
	// request's client budget and its outcome shared by all of them,
	// refusals included: when the budget of the request that started the
	// lookup is spent, the others get its 429 too. A bearer token is one
	// client's secret, so they are nearly always that same client, over
	// its budget; re-running the lookup for each of them would turn one
	// refusal into a chain of lookups (a Redis read each), the very
	// stampede the coalescing removes. The refusal is not cached: a
	// retry after Retry-After is judged on its own client's budget.
	// The lookup may outlive this request, so it reads nothing of r: the
	// client's address is taken now (its key, which costs a parse, only
	// when the lookup runs).
	ip, remote := clientIP(r), r.RemoteAddr
	val, err := res.provider.Tokens.Get(r.Context(), hash, func(ctx context.Context) ([]byte, error) {
		known := g.seenValid.has(hash, now)
		if !known {
			if ok, wait := g.perClient.take(clientKeyOf(ip, remote), time.Now()); !ok {
				return nil, &tooManyTokenChecks{wait: wait}
			}
		}
		release, err := g.slot(ctx, known)
		if err != nil {
			return nil, err
		}
		defer release()
		id, err := h.app.flow.Introspect(ctx, token, h.app.oidc.BearerClients)
		if err != nil {
			return nil, err
		}
		until := now.Add(time.Hour)
		if !id.Expires.IsZero() {
			until = id.Expires
		}
		g.seenValid.add(hash, until)
		return json.Marshal(id)
	})
	if err != nil {
		if errors.Is(err, oidclogin.ErrTokenInvalid) {
			g.refused.add(hash, now.Add(refusedTTL))
		}
		return nil, err
	}
	id, err := g.decoded.identity(hash, val)
	if err != nil {
		return nil, err
	}
	if !id.Expires.IsZero() && time.Now().After(id.Expires) {
		return nil, fmt.Errorf("%w: expired", oidclogin.ErrTokenInvalid)
	}
	return id, nil
}

// maxDecoded bounds the decoded identities an edge keeps.
const maxDecoded = 10_000

// decodedIdentities keeps the identity decoded from each token's cached
// value, so a request whose token cache answers the bytes it answered
// before costs a comparison instead of a JSON decoding. It decides
// nothing: the token cache says whether the token is valid, and any other
// bytes are decoded afresh. The identities are shared, read only.
type decodedIdentities struct {
	mu sync.Mutex
	m  map[string]decodedIdentity
}

type decodedIdentity struct {
	raw []byte
	id  *oidclogin.TokenIdentity
}

// identity is the identity val holds (the token cache's value for the
// token hash), or ErrTokenInvalid.
func (d *decodedIdentities) identity(hash string, val []byte) (*oidclogin.TokenIdentity, error) {
	d.mu.Lock()
	e, ok := d.m[hash]
	d.mu.Unlock()
	if ok && bytes.Equal(e.raw, val) {
		return e.id, nil
	}
	var id oidclogin.TokenIdentity
	if err := json.Unmarshal(val, &id); err != nil || id.Subject == "" {
		return nil, oidclogin.ErrTokenInvalid
	}
	d.mu.Lock()
	if d.m == nil || len(d.m) >= maxDecoded {
		d.m = map[string]decodedIdentity{}
	}
	// val is this caller's own copy (the token cache hands out copies).
	d.m[hash] = decodedIdentity{raw: val, id: &id}
	d.mu.Unlock()
	return &id, nil
}
