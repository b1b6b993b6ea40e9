// Package caddymodule holds the Caddy modules of the Cesivi edge
// (cesivi-edge is Caddy with them; docs/edge.md describes the edge as a
// whole). The session behaviour itself — cookies to sessions, sign-in,
// sessions ended, token refresh, the farm-wide cache and its consistency
// model — lives in internal/websession, which knows nothing of Caddy; this
// package adapts it to HTTP.
//
// Modules:
//
//	cesivi                              App: the key ring, distributed state and OpenID Connect client every site of the edge shares (app.go)
//	http.handlers.cesivi_session        SessionGate: sign-in endpoints, session and bearer identification, the sign-in gate, the identity assertion (session.go)
//	http.handlers.cesivi_strip_identity StripIdentity: removes identity headers a client sent (strip.go)
//	http.handlers.cesivi_cors           CORS: browser scripts of other origins, preflights answered without a session (cors.go, internal/cors)
//	http.handlers.cesivi_rate_limit     RateLimit: request limits per client, session or user, shared by every edge (limits.go, internal/ratelimit, internal/ratesync)
//
// Caddyfile (caddyfile.go): the global option "cesivi { … }" and the
// directives cesivi_cors, cesivi_rate_limit, cesivi_strip_identity and
// cesivi_session, all ordered directly before basic_auth, in that order.
//
// Placeholders: cesivi_session sets {http.auth.user.id} to the user of a
// forwarded request, so Caddy's access log names the user. The cesivi
// option's oidc values take {env.NAME} and {file.PATH}, replaced when the
// config loads, so secrets never appear in the JSON config.
//
// Endpoints answered by cesivi_session itself, never by an app server:
//
//	/oauth2/login?rd=<path>      start signing in (LoginPath)
//	/oauth2/callback             the provider sends the browser back (CallbackPath)
//	/oauth2/logout               POST: end the session everywhere; GET: a page with the button (LogoutPath)
//	/oauth2/backchannel-logout   POST logout_token: the provider ends sessions (BackChannelLogoutPath)
//
// and, passed on to the app server after the edge's part,
// GET /api/session/create (CreateSessionPath), which gives a client without
// a session an anonymous one.
//
// How cesivi_session serves any other request (session.go, ServeHTTP):
// identify (identify.go: the session cookie, else a bearer token; a store
// outage keeps the cookie), authorize (authorize.go: anonymous paths,
// session creation, the sign-in gate), forward (forward.go: the assertion,
// the placeholder, the edge's cookies removed). Refusals are httperr
// errors written in one place (refusals.go); metrics.go adds the edge's
// Prometheus counters.
package caddymodule
