package caddymodule

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/cesivi/cesivi/internal/backends"
	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/identity"
	"github.com/cesivi/cesivi/internal/logging"
	"github.com/cesivi/cesivi/internal/oidclogin"
	"github.com/cesivi/cesivi/internal/ratelimit"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/websession"
	"github.com/cesivi/cesivi/keyring"
)

// App is the cesivi app: what every Cesivi handler of an edge shares — the
// farm's key ring, its distributed state (sessions, login state, revocation
// notices) and the OpenID Connect client.
//
// The key ring and the distributed state are configured exactly as on the
// app servers (Cesivi:DistributedState:*, Cesivi:DataProtection:*,
// Cesivi:Storage:ConnectionString for a PostgreSql key ring), read from
// the Cesivi__* environment variables and appsettings.json in SettingsDir,
// so one environment file configures a whole farm and the edges can never
// disagree with the servers about where the keys are.
type App struct {
	// SettingsDir is where appsettings.json and appsettings.{Environment}.json
	// are looked for (default: the working directory). Environment
	// variables override them, as on the servers.
	SettingsDir string `json:"settings_dir,omitempty"`

	// OIDC configures sign-in with an OpenID provider. Without it (or with
	// an empty issuer) the edge serves anonymous sessions only.
	OIDC *OIDC `json:"oidc,omitempty"`

	// CookieName is the session cookie's name. Default: cesivi_session.
	CookieName string `json:"cookie_name,omitempty"`

	// CookieSecure is "auto" (default): cookies are Secure and __Host-
	// prefixed on requests that came in over TLS. "always": on every
	// request, for an edge behind a load balancer that terminates TLS (the
	// site must then be reached over HTTPS only).
	CookieSecure string `json:"cookie_secure,omitempty"`

	// SessionCacheTTL bounds how long an edge serves a session from memory
	// (invalidated across the farm by revocation notices). Default: 10s; a
	// negative value loads every request's session from the store.
	SessionCacheTTL caddy.Duration `json:"session_cache_ttl,omitempty"`

	// AssertionAudience must equal the servers' Cesivi:Server:AssertionAudience.
	// Default: cesivi-server.
	AssertionAudience string `json:"assertion_audience,omitempty"`

	// AssertionTTL is the lifetime of the identity assertion sent to app
	// servers. Default: 60s.
	AssertionTTL caddy.Duration `json:"assertion_ttl,omitempty"`

	res     *resources
	poolKey string
	// hostCookieName is "__Host-" + CookieName; edgeCookies are every
	// cookie name of the edge, removed from requests to app servers. Both
	// are built once here, not on every request.
	hostCookieName string
	edgeCookies    []string
	flow           *oidclogin.Flow
	oidc           OIDC // placeholders replaced
	logger         *slog.Logger
}

// OIDC configures the OpenID Connect client. Values may be placeholders
// such as {env.NAME} or {file./run/secrets/NAME}; they are replaced when
// the config loads, so secrets never appear in the JSON config.
type OIDC struct {
	// Issuer is the provider's issuer URL (discovery at
	// <issuer>/.well-known/openid-configuration). Discovery happens on the
	// first login, so an edge starts while its provider is down.
	Issuer string `json:"issuer,omitempty"`
	// ClientID and ClientSecret of the confidential client.
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	// Scopes requested. Default: openid profile email.
	Scopes []string `json:"scopes,omitempty"`
	// RedirectURL is the absolute callback URL registered with the
	// provider. Default: the request's own origin + /oauth2/callback, for
	// an origin PublicOrigins names.
	RedirectURL string `json:"redirect_url,omitempty"`
	// PublicOrigins are the origins (scheme://host[:port]) browsers reach
	// this site at, when it answers at several and RedirectURL is unset:
	// a sign-in at any other address is refused (400), so a forged Host
	// header cannot pick the redirect_uri. Unset: loopback addresses only
	// (development).
	PublicOrigins []string `json:"public_origins,omitempty"`
	// PostLogoutRedirectURL is where the provider sends the browser after
	// sign-out. Default: the site's root at the request's origin, for an
	// origin PublicOrigins allows.
	PostLogoutRedirectURL string `json:"post_logout_redirect_url,omitempty"`
	// BearerClients are the provider's other clients whose access tokens
	// this site accepts from API clients (Authorization: Bearer), besides
	// its own client_id. Tokens issued to any other client are refused.
	BearerClients []string `json:"bearer_clients,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "cesivi", New: func() caddy.Module { return new(App) }}
}

// Defaults and choices.
const (
	DefaultCookieName  = "cesivi_session"
	CookieSecureAuto   = "auto"
	CookieSecureAlways = "always"
)

// Provision loads the farm's settings and opens (or shares, across config
// reloads) the key ring and the distributed state. An edge whose key ring
// cannot be opened does not start: it could verify no cookie.
func (a *App) Provision(ctx caddy.Context) error {
	a.logger = ctx.Slogger()
	if a.CookieName == "" {
		a.CookieName = DefaultCookieName
	}
	if a.CookieSecure == "" {
		a.CookieSecure = CookieSecureAuto
	}
	a.hostCookieName = hostPrefix + a.CookieName
	a.edgeCookies = []string{a.CookieName, a.hostCookieName, bindingCookie, hostPrefix + bindingCookie}
	if a.AssertionAudience == "" {
		a.AssertionAudience = identity.DefaultAudience
	}
	if a.AssertionTTL == 0 {
		a.AssertionTTL = caddy.Duration(keyring.DefaultAssertionTTL)
	}
	if a.SessionCacheTTL == 0 {
		a.SessionCacheTTL = caddy.Duration(websession.DefaultCacheTTL)
	}
	dir := a.SettingsDir
	if dir == "" {
		dir = "."
	}
	settings, err := config.Load(dir, os.Environ())
	if err != nil {
		return fmt.Errorf("cesivi: settings: %w", err)
	}
	if err := settings.Validate(); err != nil {
		return fmt.Errorf("cesivi: settings: %w", err)
	}
	a.poolKey = resourceKey(settings, time.Duration(a.SessionCacheTTL))
	v, _, err := pool.LoadOrNew(a.poolKey, func() (caddy.Destructor, error) {
		return openResources(settings, time.Duration(a.SessionCacheTTL), a.logger)
	})
	if err != nil {
		return err
	}
	a.res = v.(*resources)
	if err := registerMetrics(ctx, a.res); err != nil {
		return fmt.Errorf("cesivi: metrics: %w", err)
	}

	if a.OIDC != nil {
		repl := caddy.NewReplacer()
		o := *a.OIDC
		o.Issuer = strings.TrimSpace(repl.ReplaceKnown(o.Issuer, ""))
		o.ClientID = strings.TrimSpace(repl.ReplaceKnown(o.ClientID, ""))
		o.ClientSecret = repl.ReplaceKnown(o.ClientSecret, "")
		o.RedirectURL = repl.ReplaceKnown(o.RedirectURL, "")
		o.PostLogoutRedirectURL = repl.ReplaceKnown(o.PostLogoutRedirectURL, "")
		// A placeholder ({env.CESIVI_PUBLIC_ORIGINS}) may hold several
		// origins, space-separated, or none.
		var origins []string
		for _, v := range o.PublicOrigins {
			origins = append(origins, strings.Fields(repl.ReplaceKnown(v, ""))...)
		}
		if o.PublicOrigins, err = normalizeOrigins(origins); err != nil {
			return err
		}
		a.oidc = o
		if o.Issuer != "" {
			a.flow, err = oidclogin.New(oidclogin.Config{
				Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret, Scopes: o.Scopes,
			}, a.res.provider.Tickets)
			if err != nil {
				return fmt.Errorf("cesivi: oidc: %w", err)
			}
		}
	}
	if a.flow == nil {
		a.logger.Info("sign-in is not configured (no oidc issuer): the edge serves anonymous sessions only")
	}
	return nil
}

// Validate checks what Provision could not default.
func (a *App) Validate() error {
	if strings.ContainsAny(a.CookieName, " \t\r\n;,=\"") {
		return fmt.Errorf("cesivi: cookie_name %q is not a valid cookie name", a.CookieName)
	}
	if a.CookieSecure != CookieSecureAuto && a.CookieSecure != CookieSecureAlways {
		return fmt.Errorf("cesivi: cookie_secure %q: want auto or always", a.CookieSecure)
	}
	if a.AssertionTTL < caddy.Duration(time.Second) || a.AssertionTTL > caddy.Duration(time.Hour) {
		return fmt.Errorf("cesivi: assertion_ttl %v: want between 1s and 1h", time.Duration(a.AssertionTTL))
	}
	return nil
}

// Start and Stop: the app has nothing to run; its resources live in the
// pool so a config reload does not drop the Redis connections.
func (a *App) Start() error { return nil }
func (a *App) Stop() error  { return nil }

// Cleanup releases this config's hold on the shared resources.
func (a *App) Cleanup() error {
	if a.poolKey != "" {
		_, err := pool.Delete(a.poolKey)
		return err
	}
	return nil
}

// pool shares resources between the old and the new config during a
// reload (the new one provisions before the old one is cleaned up), keyed
// by what they were opened from.
var pool = caddy.NewUsagePool()

type resources struct {
	backends *backends.Backends
	// provider and ring are backends.State and backends.KeyRing.
	provider *state.Provider
	ring     *keyring.Ring
	// collectors are the backends' metrics, registered again in each
	// config's registry (the backends outlive a reload; a registry does
	// not).
	collectors collectorSet
	sessions   *websession.Resolver
	counters   edgeCounters
	refresher  *websession.Refresher
	bearer     *bearerGuard
	logins     *sharedLimit
	// anonSessions limits anonymous sessions per client; allSessions all
	// of them together.
	anonSessions, allSessions *clientLimiter
	// refusedLogouts samples the warnings about refused logout tokens.
	refusedLogouts *logSampler
}

func (r *resources) Destruct() error {
	var errs []error
	r.logins.close() // before the Redis client closes
	if r.sessions != nil {
		errs = append(errs, r.sessions.Close())
	}
	if r.backends != nil {
		errs = append(errs, r.backends.Close())
	}
	return errors.Join(errs...)
}

// openResources opens the farm's backends as the servers do (one Redis
// client, one pool, the state, the key ring), logging under the seed's
// categories through Caddy's logger.
func openResources(s *config.Settings, cacheTTL time.Duration, log *slog.Logger) (*resources, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := &resources{
		bearer:       newBearerGuard(),
		anonSessions: newClientLimiter(sessionBurst, sessionEvery),
		allSessions:  newClientLimiter(sessionsGlobalBurst, sessionsGlobalEvery),
		// One warning per 10 s about refused logout tokens.
		refusedLogouts: &logSampler{every: 10 * time.Second},
	}
	logs, err := logging.NewHandler(log.Handler(), s.Logging.LogLevel)
	if err != nil {
		return nil, fmt.Errorf("cesivi: %w", err)
	}
	r.backends, err = backends.Open(ctx, s, backends.Options{Role: backends.Edge, Logs: logs, Registerer: &r.collectors})
	if err != nil {
		return nil, fmt.Errorf("cesivi: %w", err)
	}
	r.provider, r.ring = r.backends.State, r.backends.KeyRing
	r.logins = newSharedLimit("signin", ratelimit.Config{Events: loginEvents, Window: loginWindow},
		r.backends.Redis, s.DistributedState.KeyPrefix+"ratelimit:", log)
	r.sessions, err = websession.New(ctx, websession.Options{
		Ring: r.ring, Sessions: r.provider.Sessions, PubSub: r.provider.PubSub, CacheTTL: cacheTTL,
	})
	if err != nil {
		r.Destruct()
		return nil, fmt.Errorf("cesivi: sessions: %w", err)
	}
	r.refresher = websession.NewRefresher(r.sessions, r.provider.Locks, log)
	return r, nil
}

// resourceKey identifies the resources by a digest of everything they are
// opened from, so the key (which Caddy may log) never shows a password.
func resourceKey(s *config.Settings, cacheTTL time.Duration) string {
	b, _ := json.Marshal([]any{s.DistributedState, s.DataProtection, s.Storage.ConnectionString, cacheTTL})
	sum := sha256.Sum256(b)
	return "cesivi:" + hex.EncodeToString(sum[:16])
}

// Interface guards.
var (
	_ caddy.App          = (*App)(nil)
	_ caddy.Provisioner  = (*App)(nil)
	_ caddy.Validator    = (*App)(nil)
	_ caddy.CleanerUpper = (*App)(nil)
)
