package oidclogin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/cesivi/cesivi/internal/state"
)

// Sentinel errors, tested with errors.Is. Their messages are meant to be
// shown to the person signing in; the wrapped details are for logs.
var (
	// ErrStateUnknown: the callback's state is malformed, expired, already
	// used or was never issued.
	ErrStateUnknown = errors.New("oidclogin: the sign-in link has expired or was already used; start again")
	// ErrBindingMismatch: the callback came from another browser than the
	// one that began the login (or the binding cookie was lost).
	ErrBindingMismatch = errors.New("oidclogin: the sign-in was started in another browser or its cookie is missing; start again in this browser")
	// ErrProvider: the identity provider answered the callback with an
	// error (the user refused consent, the client is misconfigured...).
	ErrProvider = errors.New("oidclogin: the identity provider refused the sign-in")
	// ErrBadCallback: the callback carries no authorization code.
	ErrBadCallback = errors.New("oidclogin: the sign-in callback is incomplete (no authorization code); start again")
	// ErrExchange: the code could not be redeemed at the token endpoint.
	ErrExchange = errors.New("oidclogin: the sign-in could not be completed with the identity provider; start again")
	// ErrIDToken: the ID token is missing or invalid (signature, issuer,
	// audience, expiry or nonce).
	ErrIDToken = errors.New("oidclogin: the identity provider's answer could not be verified; start again")
	// ErrBadReturnTo: the page to return to is not a path on this site.
	ErrBadReturnTo = errors.New("oidclogin: the page to return to after sign-in is not a path on this site")
	// ErrProviderUnavailable: discovery failed; the provider is down or
	// misconfigured. Retried at most every RetryInterval.
	ErrProviderUnavailable = errors.New("oidclogin: provider unavailable")
)

// Defaults for Config.
const (
	DefaultStateTTL    = 10 * time.Minute
	DefaultHTTPTimeout = 10 * time.Second
	// RetryInterval is how long a failed discovery is remembered before
	// the next call tries again.
	RetryInterval = 2 * time.Second
)

// DefaultScopes are used when Config.Scopes is empty.
var DefaultScopes = []string{oidc.ScopeOpenID, "profile", "email"}

// Config configures a Flow.
type Config struct {
	// Issuer is the provider's issuer URL, also its discovery base URL. It
	// must equal the "issuer" of the discovery document exactly (a
	// trailing slash matters).
	Issuer       string
	ClientID     string
	ClientSecret string
	// Scopes requested; default DefaultScopes. "openid" is added if
	// missing, since without it there is no ID token.
	Scopes []string
	// StateTTL is how long a begun login may take (default 10 min).
	StateTTL time.Duration
	// HTTPClient is used for discovery, JWKS, token and userinfo requests
	// (default: a client with a 10 s timeout).
	HTTPClient *http.Client
	// Now is the clock (default time.Now); tests inject one.
	Now func() time.Time
}

// Flow runs logins against one provider. It is safe for concurrent use.
type Flow struct {
	cfg     Config
	tickets state.Tickets

	mu       sync.Mutex
	prov     *provider     // set once discovery succeeded
	lastErr  error         // last discovery failure
	lastTry  time.Time     // when it was attempted
	inflight chan struct{} // closed when the running discovery ends
}

// provider is what discovery yields.
type provider struct {
	oidc          *oidc.Provider
	oauth         oauth2.Config // without RedirectURL: each login has its own
	verifier      *oidc.IDTokenVerifier
	endSession    string
	introspection string
}

// New validates cfg and returns a Flow storing login states in tickets. It
// does not contact the provider.
func New(cfg Config, tickets state.Tickets) (*Flow, error) {
	if tickets == nil {
		return nil, errors.New("oidclogin: no ticket store")
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("oidclogin: issuer %q must be an absolute http(s) URL without query or fragment", cfg.Issuer)
	}
	if strings.TrimSpace(cfg.ClientID) == "" {
		return nil, errors.New("oidclogin: client id is required")
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = DefaultScopes
	}
	cfg.Scopes = slices.Clone(cfg.Scopes)
	if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	if cfg.StateTTL <= 0 {
		cfg.StateTTL = DefaultStateTTL
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Flow{cfg: cfg, tickets: tickets}, nil
}

// provider returns the discovered provider, discovering it if needed. Only
// one discovery runs at a time; callers arriving meanwhile wait for it (or
// for their own context), and a failure is answered from memory until
// RetryInterval has passed.
func (f *Flow) provider(ctx context.Context) (*provider, error) {
	for {
		f.mu.Lock()
		if f.prov != nil {
			p := f.prov
			f.mu.Unlock()
			return p, nil
		}
		if ch := f.inflight; ch != nil {
			f.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, fmt.Errorf("%w: %w", ErrProviderUnavailable, ctx.Err())
			}
		}
		if since := f.cfg.Now().Sub(f.lastTry); f.lastErr != nil && since >= 0 && since < RetryInterval {
			err := f.lastErr
			f.mu.Unlock()
			return nil, err
		}
		ch := make(chan struct{})
		f.inflight = ch
		f.mu.Unlock()

		// The discovery outlives a caller that gives up, so that its
		// result still serves the next caller; the HTTP client's timeout
		// bounds it.
		go func() {
			p, err := f.discover(context.WithoutCancel(ctx))
			f.mu.Lock()
			defer f.mu.Unlock()
			// The interval counts from the failure, not the attempt, so
			// that a discovery slower than RetryInterval still makes its
			// waiters return its error instead of starting another one.
			f.inflight, f.lastTry = nil, f.cfg.Now()
			if err != nil {
				f.lastErr = fmt.Errorf("%w: %w", ErrProviderUnavailable, err)
			} else {
				f.prov, f.lastErr = p, nil
			}
			close(ch)
		}()
	}
}

func (f *Flow) discover(ctx context.Context) (*provider, error) {
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, f.cfg.HTTPClient), DefaultHTTPTimeout+time.Second)
	defer cancel()
	// NewProvider keeps the client from the context for the JWKS fetches.
	op, err := oidc.NewProvider(ctx, f.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	var meta struct {
		EndSession    string   `json:"end_session_endpoint"`
		Introspection string   `json:"introspection_endpoint"`
		JWKS          string   `json:"jwks_uri"`
		Algs          []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := op.Claims(&meta); err != nil {
		return nil, err
	}
	ep := op.Endpoint()
	if ep.AuthURL == "" || ep.TokenURL == "" || meta.JWKS == "" {
		return nil, errors.New("discovery document lacks the authorization, token or JWKS endpoint")
	}
	keys := newKeySet(meta.JWKS, f.cfg.HTTPClient)
	keys.prefetch()
	return &provider{
		oidc: op,
		oauth: oauth2.Config{
			ClientID:     f.cfg.ClientID,
			ClientSecret: f.cfg.ClientSecret,
			Endpoint:     ep,
			Scopes:       f.cfg.Scopes,
		},
		verifier: oidc.NewVerifier(f.cfg.Issuer, keys, &oidc.Config{ClientID: f.cfg.ClientID, Now: f.cfg.Now,
			SupportedSigningAlgs: meta.Algs}),
		endSession:    meta.EndSession,
		introspection: meta.Introspection,
	}, nil
}

// EndSessionURL returns the provider's RP-initiated logout URL with the ID
// token hint, the client id and, if not empty, postLogoutRedirectURL (which
// the provider must have registered). It returns "" and nil when the
// provider has no end_session_endpoint.
func (f *Flow) EndSessionURL(ctx context.Context, idTokenHint, postLogoutRedirectURL string) (string, error) {
	p, err := f.provider(ctx)
	if err != nil {
		return "", err
	}
	if p.endSession == "" {
		return "", nil
	}
	u, err := url.Parse(p.endSession)
	if err != nil {
		return "", fmt.Errorf("%w: end_session_endpoint: %w", ErrProviderUnavailable, err)
	}
	q := u.Query()
	if idTokenHint != "" {
		q.Set("id_token_hint", idTokenHint)
	}
	q.Set("client_id", f.cfg.ClientID)
	if postLogoutRedirectURL != "" {
		q.Set("post_logout_redirect_uri", postLogoutRedirectURL)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
