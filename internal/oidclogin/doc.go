// Package oidclogin runs the OpenID Connect authorization-code login (with
// PKCE and a nonce) for a farm of edges that share no sticky sessions: a
// login begun on one edge may complete on another.
//
// # Server-side state
//
// The login state (nonce, PKCE verifier, where to return, the callback URL
// and a hash of the browser binding) is kept in the shared state.Tickets
// store, not in a cookie. A cookie-held state would have to be encrypted and
// authenticated with a key every edge shares and rotates, would grow every
// request, and could be replayed for as long as the cookie lives. In the
// store, the state is readable by every edge, expires on its own (StateTTL)
// and can be consumed exactly once.
//
// # The state parameter is only an id
//
// The state parameter sent to the provider is 128 random bits (22
// characters of base64url) naming the server-side record, nothing more: it
// keeps the authorization URL short, reveals nothing (no return path, no
// verifier) to the provider, logs or the browser history, and cannot be
// forged into a valid record because the record only exists in the store.
//
// # Consumed once (GETDEL)
//
// Complete takes the record with Tickets.Take, which reads and deletes it in
// one step (GETDEL on Redis). Two edges racing on the same callback, or a
// callback replayed from history or a log, find nothing the second time and
// get ErrStateUnknown: an authorization code can be redeemed through this
// package at most once per Begin.
//
// # Browser binding (login CSRF)
//
// Without a binding, an attacker could start a login, stop at the callback
// and make a victim's browser open the attacker's callback URL, logging the
// victim in as the attacker. The caller therefore sets a random value in a
// short-lived cookie when it calls Begin and passes the cookie's value to
// Complete; the record keeps only its SHA-256, so a read of the store does
// not reveal the cookie. A callback whose browser lacks the matching cookie
// gets ErrBindingMismatch, and the state is consumed all the same so it
// cannot be retried from elsewhere.
//
// # Provider discovery
//
// New never contacts the provider, so an edge starts while the provider is
// down. Discovery happens on the first Begin, Complete or EndSessionURL and
// is cached once it succeeds; a failure is remembered for a couple of
// seconds (so a dead provider is not hammered by every request) and then
// retried.
package oidclogin
