package statetest

import (
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/state"
)

func getToken(t *testing.T, p *state.Provider, hash string, l *loader) string {
	t.Helper()
	v, err := p.Tokens.Get(ctx(t), hash, l.load)
	if err != nil {
		t.Fatalf("Tokens.Get(%s): %v", hash, err)
	}
	return string(v)
}

var tokenCases = []testCase{
	{"a validated token is shared by every server until invalidated", func(t *testing.T, e *env) {
		a, b := e.server(state.Options{}), e.server(state.Options{})
		l := newLoader("alice")
		getToken(t, a, "h1", l)
		if v := getToken(t, b, "h1", l); v != "alice" || l.n.Load() != 1 {
			t.Fatalf("other server: %q after %d validations, want alice after 1", v, l.n.Load())
		}
		l.val.Store("revoked")
		if err := a.Tokens.Invalidate(ctx(t), "h1"); err != nil {
			t.Fatal(err)
		}
		eventually(t, time.Second, "server b validates again", func() bool { return getToken(t, b, "h1", l) == "revoked" })
	}},
	{"a token is trusted no longer than TokenCacheMaxTTL", func(t *testing.T, e *env) {
		a := e.server(state.Options{TokenCacheMaxTTL: time.Minute})
		l := newLoader("alice")
		getToken(t, a, "h2", l)
		e.clock.Advance(2 * time.Minute)
		getToken(t, a, "h2", l)
		if n := l.n.Load(); n != 2 {
			t.Fatalf("validated %d times, want 2 (the first entry expired)", n)
		}
	}},
	{"a server's copy of a shared token expires with the shared entry", func(t *testing.T, e *env) {
		a, b := e.server(state.Options{TokenCacheMaxTTL: time.Minute}), e.server(state.Options{TokenCacheMaxTTL: time.Minute})
		l := newLoader("alice")
		getToken(t, a, "h3", l) // validated and shared at t0
		e.clock.Advance(50 * time.Second)
		getToken(t, b, "h3", l) // b copies the shared entry, 10 s left
		e.clock.Advance(20 * time.Second)
		getToken(t, b, "h3", l)
		if n := l.n.Load(); n != 2 {
			t.Fatalf("validated %d times by t0+70s, want 2: b's copy outlived the shared entry's minute", n)
		}
	}},
	{"the token cache and the user-context cache do not share entries or invalidations", func(t *testing.T, e *env) {
		a := e.server(state.Options{})
		lu, lt := newLoader("permissions"), newLoader("identity")
		if get(t, a, "same-key", lu) != "permissions" || getToken(t, a, "same-key", lt) != "identity" {
			t.Fatal("one cache answered for the other")
		}
		if err := a.UserContexts.Invalidate(ctx(t), "*"); err != nil {
			t.Fatal(err)
		}
		getToken(t, a, "same-key", lt)
		if n := lt.n.Load(); n != 1 {
			t.Fatalf("invalidating every user context dropped a token (%d validations)", n)
		}
	}},
}
