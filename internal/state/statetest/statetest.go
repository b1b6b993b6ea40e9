// Package statetest is the contract every distributed state provider must
// pass. A provider's test calls
//
//	statetest.Exercise(t, func(t *testing.T) statetest.NewServer { ... })
//
// with a function that prepares a fresh, isolated backing store for one
// subtest and returns a constructor of providers over it; each provider it
// returns plays one server of a farm sharing that store.
package statetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/fakeclock"
	"github.com/cesivi/cesivi/internal/state"
)

// NewServer returns a new provider over the subtest's store. The suite
// closes it at the end of the subtest.
type NewServer func(opt state.Options) (*state.Provider, error)

// newClock returns a clock standing at the current time (so that Redis
// TTLs computed from it stay sensible).
func newClock() *fakeclock.Clock { return fakeclock.New(time.Now().Truncate(time.Millisecond)) }

type env struct {
	t     *testing.T
	clock *fakeclock.Clock
	newS  NewServer
}

// server starts one more provider with the suite's clock and opt.
func (e *env) server(opt state.Options) *state.Provider {
	e.t.Helper()
	if opt.Now == nil {
		opt.Now = e.clock.Now
	}
	p, err := e.newS(opt)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		if err := p.Close(); err != nil {
			e.t.Errorf("close provider: %v", err)
		}
	})
	return p
}

// Exercise runs the whole contract as parallel subtests.
func Exercise(t *testing.T, newBackend func(t *testing.T) NewServer) {
	run := func(name string, f func(t *testing.T, e *env)) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t, &env{t: t, clock: newClock(), newS: newBackend(t)})
		})
	}
	for _, c := range sessionCases {
		run("Sessions/"+c.name, c.f)
	}
	for _, c := range cacheCases {
		run("UserContext/"+c.name, c.f)
	}
	for _, c := range lockCases {
		run("Locks/"+c.name, c.f)
	}
	for _, c := range pubsubCases {
		run("PubSub/"+c.name, c.f)
	}
	for _, c := range queueCases {
		run("Queue/"+c.name, c.f)
	}
	for _, c := range ticketCases {
		run("Tickets/"+c.name, c.f)
	}
	for _, c := range tokenCases {
		run("Tokens/"+c.name, c.f)
	}
}

type testCase struct {
	name string
	f    func(t *testing.T, e *env)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func mustCreate(t *testing.T, p *state.Provider, s *state.Session) *state.Session {
	t.Helper()
	if err := p.Sessions.Create(ctx(t), s); err != nil {
		t.Fatalf("Create: %v", err)
	}
	return s
}

func mustLoad(t *testing.T, p *state.Provider, id string) *state.Session {
	t.Helper()
	s, err := p.Sessions.Load(ctx(t), id)
	if err != nil {
		t.Fatalf("Load(%s): %v", id, err)
	}
	return s
}

func mustTokens(t *testing.T, p *state.Provider, id string) []byte {
	t.Helper()
	tok, err := p.Sessions.Tokens(ctx(t), id)
	if err != nil {
		t.Fatalf("Tokens(%s): %v", id, err)
	}
	return tok
}

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got %v, want %v", what, err, target)
	}
}

func ids(ss []*state.Session) map[string]bool {
	m := map[string]bool{}
	for _, s := range ss {
		m[s.ID] = true
	}
	return m
}

var sessionCases = []testCase{
	{"a created session loads with everything it was given, on another server too", func(t *testing.T, e *env) {
		a, b := e.server(state.Options{}), e.server(state.Options{})
		tokens := []byte{0, 1, 2, 0xff, 0xfe, '\n'}
		s := mustCreate(t, a, &state.Session{UserID: "u1", SID: "sid1", Tokens: tokens, Data: map[string]string{"k": "v", "empty": ""}})
		if s.ID == "" || s.Created.IsZero() {
			t.Fatalf("Create did not fill in the id and times: %+v", s)
		}
		got := mustLoad(t, b, s.ID)
		if got.UserID != "u1" || got.SID != "sid1" || got.Tokens != nil ||
			got.Data["k"] != "v" || len(got.Data) != 2 || !got.Created.Equal(s.Created) {
			t.Fatalf("loaded %+v, want %+v without its tokens", got, s)
		}
		if got := mustTokens(t, b, s.ID); !bytes.Equal(got, tokens) {
			t.Fatalf("Tokens = %q, want %q", got, tokens)
		}
		if want := e.clock.Now().Add(state.DefaultIdleTimeout); !got.Expires.Equal(want) {
			t.Fatalf("Expires = %v, want %v", got.Expires, want)
		}
	}},
	{"a session's tokens are read on their own, and end with it", func(t *testing.T, e *env) {
		a, b := e.server(state.Options{IdleTimeout: time.Hour}), e.server(state.Options{IdleTimeout: time.Hour})
		s := mustCreate(t, a, &state.Session{UserID: "u", Tokens: []byte("sealed")})
		none := mustCreate(t, a, &state.Session{UserID: "u"})
		if got := mustTokens(t, b, none.ID); len(got) != 0 {
			t.Fatalf("Tokens of a session created without any = %q", got)
		}
		if got := mustLoad(t, b, s.ID); got.Tokens != nil {
			t.Fatalf("Load returned the tokens %q; it leaves them out", got.Tokens)
		}
		if l, err := a.Sessions.ListUser(ctx(t), "u"); err != nil || len(l) != 2 || l[0].Tokens != nil || l[1].Tokens != nil {
			t.Fatalf("ListUser = %v, %v; want both sessions, without tokens", l, err)
		}
		e.clock.Advance(time.Hour - time.Millisecond)
		if got := mustTokens(t, b, s.ID); string(got) != "sealed" {
			t.Fatalf("Tokens just before the idle timeout = %q", got)
		}
		e.clock.Advance(time.Millisecond) // reading the tokens did not slide the expiry
		_, err := b.Sessions.Tokens(ctx(t), s.ID)
		wantErr(t, err, state.ErrNotFound, "Tokens of an expired session")
		_, err = b.Sessions.Tokens(ctx(t), "nope")
		wantErr(t, err, state.ErrNotFound, "Tokens of an unknown session")
		d := mustCreate(t, a, &state.Session{UserID: "v", Tokens: []byte("t")})
		if err := a.Sessions.Delete(ctx(t), d.ID); err != nil {
			t.Fatal(err)
		}
		_, err = b.Sessions.Tokens(ctx(t), d.ID)
		wantErr(t, err, state.ErrNotFound, "Tokens of a deleted session")
		r := mustCreate(t, a, &state.Session{UserID: "w", Tokens: []byte("t")})
		if n, err := a.Sessions.RevokeUser(ctx(t), "w"); err != nil || n != 1 {
			t.Fatalf("RevokeUser = %d, %v", n, err)
		}
		_, err = b.Sessions.Tokens(ctx(t), r.ID)
		wantErr(t, err, state.ErrNotFound, "Tokens of a revoked session")
	}},
	{"creating an id that exists is a conflict", func(t *testing.T, e *env) {
		p := e.server(state.Options{})
		s := mustCreate(t, p, &state.Session{UserID: "u1"})
		wantErr(t, p.Sessions.Create(ctx(t), &state.Session{ID: s.ID, UserID: "u2"}), state.ErrConflict, "Create")
		if got := mustLoad(t, p, s.ID); got.UserID != "u1" {
			t.Fatalf("the conflicting Create changed the session: %+v", got)
		}
		list, err := p.Sessions.ListUser(ctx(t), "u2")
		if err != nil || len(list) != 0 {
			t.Fatalf("ListUser(u2) = %v, %v; want nothing", list, err)
		}
	}},
	{"an unknown session is not found", func(t *testing.T, e *env) {
		p := e.server(state.Options{})
		_, err := p.Sessions.Load(ctx(t), "nope")
		wantErr(t, err, state.ErrNotFound, "Load")
		wantErr(t, p.Sessions.Update(ctx(t), "nope", state.SessionUpdate{Set: map[string]string{"a": "b"}}), state.ErrNotFound, "Update")
		if err := p.Sessions.Delete(ctx(t), "nope"); err != nil {
			t.Fatalf("Delete of a missing session: %v", err)
		}
	}},
	{"an idle session expires after the idle timeout", func(t *testing.T, e *env) {
		p := e.server(state.Options{IdleTimeout: time.Hour})
		s := mustCreate(t, p, &state.Session{UserID: "u"})
		e.clock.Advance(time.Hour - time.Millisecond)
		mustLoad(t, p, s.ID)
		e.clock.Advance(time.Hour)
		_, err := p.Sessions.Load(ctx(t), s.ID)
		wantErr(t, err, state.ErrNotFound, "Load after the idle timeout")
	}},
	{"loading slides the expiry, refreshing at most every quarter of the idle timeout", func(t *testing.T, e *env) {
		p := e.server(state.Options{IdleTimeout: time.Hour})
		s := mustCreate(t, p, &state.Session{UserID: "u"})
		e.clock.Advance(10 * time.Minute)
		if got := mustLoad(t, p, s.ID); !got.LastSeen.Equal(s.Created) {
			t.Fatalf("refreshed after 10 min of a 1 h idle timeout: LastSeen %v", got.LastSeen)
		}
		e.clock.Advance(5 * time.Minute)
		got := mustLoad(t, p, s.ID)
		if !got.LastSeen.Equal(e.clock.Now()) || !got.Expires.Equal(e.clock.Now().Add(time.Hour)) {
			t.Fatalf("not refreshed after 15 min: %+v", got)
		}
		e.clock.Advance(50 * time.Minute) // 65 min after creation, 50 after the refresh
		mustLoad(t, p, s.ID)
	}},
	{"the absolute lifetime ends a session however active it is", func(t *testing.T, e *env) {
		p := e.server(state.Options{IdleTimeout: time.Hour, AbsoluteLifetime: 2 * time.Hour})
		s := mustCreate(t, p, &state.Session{UserID: "u"})
		for range 3 {
			e.clock.Advance(30 * time.Minute)
			mustLoad(t, p, s.ID)
		}
		e.clock.Advance(29 * time.Minute)
		if got := mustLoad(t, p, s.ID); !got.Expires.Equal(s.Created.Add(2 * time.Hour)) {
			t.Fatalf("Expires = %v, want the absolute limit %v", got.Expires, s.Created.Add(2*time.Hour))
		}
		e.clock.Advance(time.Minute)
		_, err := p.Sessions.Load(ctx(t), s.ID)
		wantErr(t, err, state.ErrNotFound, "Load at the absolute limit")
	}},
	{"updates write only what changed, so concurrent updates of different entries both survive", func(t *testing.T, e *env) {
		a, b := e.server(state.Options{}), e.server(state.Options{})
		s := mustCreate(t, a, &state.Session{UserID: "u", Tokens: []byte("t1"), Data: map[string]string{"keep": "1", "drop": "1"}})
		var wg sync.WaitGroup
		for i, p := range []*state.Provider{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := p.Sessions.Update(ctx(t), s.ID, state.SessionUpdate{Set: map[string]string{fmt.Sprint("k", i): "v"}}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		tok := []byte("t2")
		if err := a.Sessions.Update(ctx(t), s.ID, state.SessionUpdate{Tokens: &tok, Delete: []string{"drop"}}); err != nil {
			t.Fatal(err)
		}
		got := mustLoad(t, b, s.ID)
		want := map[string]string{"keep": "1", "k0": "v", "k1": "v"}
		if fmt.Sprint(got.Data) != fmt.Sprint(want) || string(mustTokens(t, a, s.ID)) != "t2" || got.UserID != "u" {
			t.Fatalf("got %+v, want data %v and tokens t2", got, want)
		}
	}},
	{"an update conditional on the tokens read applies only while they are unchanged", func(t *testing.T, e *env) {
		a, b := e.server(state.Options{}), e.server(state.Options{})
		s := mustCreate(t, a, &state.Session{UserID: "u", Tokens: []byte("t1")})
		read := []byte("t1")
		// Two edges read t1 and both got fresh tokens: the first write wins,
		// the second is refused and changes nothing.
		first, second := []byte("from-a"), []byte("from-b")
		if err := a.Sessions.Update(ctx(t), s.ID, state.SessionUpdate{Tokens: &first, IfTokens: &read, Set: map[string]string{"by": "a"}}); err != nil {
			t.Fatal(err)
		}
		err := b.Sessions.Update(ctx(t), s.ID, state.SessionUpdate{Tokens: &second, IfTokens: &read, Set: map[string]string{"by": "b"}})
		wantErr(t, err, state.ErrConflict, "Update with stale IfTokens")
		if got := mustLoad(t, b, s.ID); string(mustTokens(t, b, s.ID)) != "from-a" || got.Data["by"] != "a" {
			t.Fatalf("after a refused conditional update: %+v", got)
		}
		// No tokens stored matches an empty condition.
		n := mustCreate(t, a, &state.Session{UserID: "u"})
		empty, tok := []byte{}, []byte("t")
		if err := b.Sessions.Update(ctx(t), n.ID, state.SessionUpdate{Tokens: &tok, IfTokens: &empty}); err != nil {
			t.Fatal(err)
		}
		wantErr(t, a.Sessions.Update(ctx(t), "nope", state.SessionUpdate{IfTokens: &read}), state.ErrNotFound, "conditional Update of a missing session")
	}},
	{"a fenced update is refused once a newer lease holder has written the session", func(t *testing.T, e *env) {
		a, b := e.server(state.Options{}), e.server(state.Options{})
		s := mustCreate(t, a, &state.Session{UserID: "u", Tokens: []byte("t0")})
		// Edge A holds the lease (fence 1) and claims the session; its
		// lease is lost, edge B takes the next (fence 2) and claims it.
		older, newer := state.Fence{Token: 1, Holder: "a"}, state.Fence{Token: 2, Holder: "b"}
		if err := a.Sessions.Update(ctx(t), s.ID, state.SessionUpdate{Fence: &older}); err != nil {
			t.Fatalf("A's claim: %v", err)
		}
		if err := b.Sessions.Update(ctx(t), s.ID, state.SessionUpdate{Fence: &newer}); err != nil {
			t.Fatalf("B's claim: %v", err)
		}
		// A's late writes are refused whatever they are, even while the
		// tokens are still the ones it read.
		read, late, none := []byte("t0"), []byte("late-a"), []byte{}
		err := a.Sessions.Update(ctx(t), s.ID, state.SessionUpdate{Fence: &older, Tokens: &late, IfTokens: &read, Set: map[string]string{"by": "a"}})
		wantErr(t, err, state.ErrFenced, "Update with an older fence")
		wantErr(t, err, state.ErrConflict, "Update with an older fence")
		wantErr(t, a.Sessions.Update(ctx(t), s.ID, state.SessionUpdate{Fence: &older, Tokens: &none, IfTokens: &read}), state.ErrFenced, "emptying with an older fence")
		// The same token held by someone else (a failover that handed the
		// token out twice) is refused as well.
		twin := state.Fence{Token: 2, Holder: "twin"}
		wantErr(t, a.Sessions.Update(ctx(t), s.ID, state.SessionUpdate{Fence: &twin, Tokens: &late}), state.ErrFenced, "Update with the same token and another holder")
		if got, tok := mustLoad(t, b, s.ID), mustTokens(t, b, s.ID); string(tok) != "t0" || got.Data["by"] != "" {
			t.Fatalf("a refused fenced update wrote: tokens %q data %v", tok, got.Data)
		}
		// The current holder's write is accepted, and so is a later one's.
		fresh := []byte("fresh-b")
		if err := b.Sessions.Update(ctx(t), s.ID, state.SessionUpdate{Fence: &newer, Tokens: &fresh, IfTokens: &read, Set: map[string]string{"by": "b"}}); err != nil {
			t.Fatalf("Update with the current fence: %v", err)
		}
		if got, tok := mustLoad(t, a, s.ID), mustTokens(t, a, s.ID); string(tok) != "fresh-b" || got.Data["by"] != "b" {
			t.Fatalf("after the current holder's write: tokens %q data %v", tok, got.Data)
		}
		// A newer fence whose IfTokens fails writes nothing, not even
		// its fence: the current holder can still write.
		third := state.Fence{Token: 3, Holder: "c"}
		wantErr(t, a.Sessions.Update(ctx(t), s.ID, state.SessionUpdate{Fence: &third, Tokens: &late, IfTokens: &read}), state.ErrConflict, "Update with a newer fence and stale IfTokens")
		if err := b.Sessions.Update(ctx(t), s.ID, state.SessionUpdate{Fence: &newer, Set: map[string]string{"again": "b"}}); err != nil {
			t.Fatalf("the current holder was fenced out by a write that failed: %v", err)
		}
		if err := a.Sessions.Update(ctx(t), s.ID, state.SessionUpdate{Fence: &third, Set: map[string]string{"by": "c"}}); err != nil {
			t.Fatalf("Update with a later fence: %v", err)
		}
		// Unfenced updates neither check nor move the fence.
		if err := a.Sessions.Update(ctx(t), s.ID, state.SessionUpdate{Set: map[string]string{"plain": "1"}}); err != nil {
			t.Fatal(err)
		}
		wantErr(t, b.Sessions.Update(ctx(t), s.ID, state.SessionUpdate{Fence: &newer}), state.ErrFenced, "claim with an older fence")
		wantErr(t, a.Sessions.Update(ctx(t), "nope", state.SessionUpdate{Fence: &third}), state.ErrNotFound, "fenced Update of a missing session")
		// A session's fence ends with it: a session created again under
		// the same id starts unfenced.
		if err := a.Sessions.Delete(ctx(t), s.ID); err != nil {
			t.Fatal(err)
		}
		n := mustCreate(t, a, &state.Session{ID: s.ID, UserID: "u"})
		if err := b.Sessions.Update(ctx(t), n.ID, state.SessionUpdate{Fence: &older}); err != nil {
			t.Fatalf("first fenced Update of a new session: %v", err)
		}
	}},
	{"a deleted session is gone everywhere", func(t *testing.T, e *env) {
		a, b := e.server(state.Options{}), e.server(state.Options{})
		s := mustCreate(t, a, &state.Session{UserID: "u", SID: "x"})
		if err := b.Sessions.Delete(ctx(t), s.ID); err != nil {
			t.Fatal(err)
		}
		_, err := a.Sessions.Load(ctx(t), s.ID)
		wantErr(t, err, state.ErrNotFound, "Load after Delete")
		if l, err := a.Sessions.ListUser(ctx(t), "u"); err != nil || len(l) != 0 {
			t.Fatalf("ListUser after Delete = %v, %v", l, err)
		}
	}},
	{"a user's sessions are listed and revoked together, and no one else's", func(t *testing.T, e *env) {
		a, b := e.server(state.Options{}), e.server(state.Options{})
		var mine []string
		for range 3 {
			mine = append(mine, mustCreate(t, a, &state.Session{UserID: "alice"}).ID)
		}
		other := mustCreate(t, b, &state.Session{UserID: "bob"})
		l, err := b.Sessions.ListUser(ctx(t), "alice")
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(l); len(got) != 3 || !got[mine[0]] || !got[mine[1]] || !got[mine[2]] {
			t.Fatalf("ListUser = %v, want %v", got, mine)
		}
		n, err := b.Sessions.RevokeUser(ctx(t), "alice")
		if err != nil || n != 3 {
			t.Fatalf("RevokeUser = %d, %v; want 3", n, err)
		}
		for _, id := range mine {
			_, err := a.Sessions.Load(ctx(t), id)
			wantErr(t, err, state.ErrNotFound, "Load of a revoked session")
		}
		mustLoad(t, a, other.ID)
		if n, err := b.Sessions.RevokeUser(ctx(t), "alice"); err != nil || n != 0 {
			t.Fatalf("second RevokeUser = %d, %v", n, err)
		}
	}},
	{"listing leaves out sessions that expired", func(t *testing.T, e *env) {
		p := e.server(state.Options{IdleTimeout: time.Hour})
		old := mustCreate(t, p, &state.Session{UserID: "u"})
		e.clock.Advance(40 * time.Minute)
		fresh := mustCreate(t, p, &state.Session{UserID: "u"})
		e.clock.Advance(30 * time.Minute)
		l, err := p.Sessions.ListUser(ctx(t), "u")
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(l); len(got) != 1 || !got[fresh.ID] || got[old.ID] {
			t.Fatalf("ListUser = %v, want only %s", got, fresh.ID)
		}
	}},
	{"back-channel logout revokes by OpenID sid", func(t *testing.T, e *env) {
		p := e.server(state.Options{})
		s1 := mustCreate(t, p, &state.Session{UserID: "u", SID: "idp-1"})
		s2 := mustCreate(t, p, &state.Session{UserID: "u", SID: "idp-2"})
		if n, err := p.Sessions.RevokeSID(ctx(t), "idp-1"); err != nil || n != 1 {
			t.Fatalf("RevokeSID = %d, %v", n, err)
		}
		_, err := p.Sessions.Load(ctx(t), s1.ID)
		wantErr(t, err, state.ErrNotFound, "Load")
		mustLoad(t, p, s2.ID)
	}},
}

// loader counts how often the cache falls through to the source.
type loader struct {
	n   atomic.Int32
	val atomic.Value
}

func newLoader(v string) *loader { l := &loader{}; l.val.Store(v); return l }

func (l *loader) load(context.Context) ([]byte, error) {
	l.n.Add(1)
	return []byte(l.val.Load().(string)), nil
}

func get(t *testing.T, p *state.Provider, user string, l *loader) string {
	t.Helper()
	v, err := p.UserContexts.Get(ctx(t), user, l.load)
	if err != nil {
		t.Fatalf("Get(%s): %v", user, err)
	}
	return string(v)
}

// eventually polls f for up to d.
func eventually(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var cacheCases = []testCase{
	{"a value is loaded once and then served from the cache, on every server", func(t *testing.T, e *env) {
		a, b := e.server(state.Options{}), e.server(state.Options{})
		l := newLoader("read")
		for range 3 {
			if v := get(t, a, "u", l); v != "read" {
				t.Fatalf("Get = %q", v)
			}
		}
		if v := get(t, b, "u", l); v != "read" {
			t.Fatalf("Get on the other server = %q", v)
		}
		if n := l.n.Load(); n != 1 {
			t.Fatalf("loaded %d times, want 1", n)
		}
	}},
	{"a change on one server is visible on another within a second", func(t *testing.T, e *env) {
		a, b := e.server(state.Options{}), e.server(state.Options{})
		l := newLoader("read")
		get(t, a, "u", l)
		get(t, b, "u", l)
		l.val.Store("write")
		if err := a.UserContexts.Invalidate(ctx(t), "u"); err != nil {
			t.Fatal(err)
		}
		if v := get(t, a, "u", l); v != "write" {
			t.Fatalf("the invalidating server still serves %q", v)
		}
		eventually(t, time.Second, "server b sees the change", func() bool { return get(t, b, "u", l) == "write" })
	}},
	{"invalidating * drops every user", func(t *testing.T, e *env) {
		a, b := e.server(state.Options{}), e.server(state.Options{})
		l1, l2 := newLoader("1"), newLoader("1")
		get(t, b, "u1", l1)
		get(t, b, "u2", l2)
		l1.val.Store("2")
		l2.val.Store("2")
		if err := a.UserContexts.Invalidate(ctx(t), "*"); err != nil {
			t.Fatal(err)
		}
		eventually(t, time.Second, "both users reloaded", func() bool {
			return get(t, b, "u1", l1) == "2" && get(t, b, "u2", l2) == "2"
		})
	}},
	{"a value loaded while an invalidation races it is not cached", func(t *testing.T, e *env) {
		a, b := e.server(state.Options{}), e.server(state.Options{})
		l := newLoader("new")
		stale := func(ctx context.Context) ([]byte, error) {
			// The source changes (and is invalidated) after we read it.
			if err := b.UserContexts.Invalidate(ctx, "u"); err != nil {
				return nil, err
			}
			return []byte("stale"), nil
		}
		v, err := a.UserContexts.Get(ctx(t), "u", stale)
		if err != nil || string(v) != "stale" {
			t.Fatalf("Get = %q, %v", v, err)
		}
		if v := get(t, a, "u", l); v != "new" {
			t.Fatalf("the racing value was cached: %q", v)
		}
		if v := get(t, b, "u", l); v != "new" {
			t.Fatalf("the racing value was shared: %q", v)
		}
	}},
	{"no entry outlives the maximum TTL", func(t *testing.T, e *env) {
		p := e.server(state.Options{CacheMaxTTL: time.Minute})
		l := newLoader("1")
		get(t, p, "u", l)
		e.clock.Advance(59 * time.Second)
		get(t, p, "u", l)
		if n := l.n.Load(); n != 1 {
			t.Fatalf("loaded %d times before the TTL", n)
		}
		e.clock.Advance(time.Second)
		get(t, p, "u", l)
		if n := l.n.Load(); n != 2 {
			t.Fatalf("loaded %d times after the TTL, want 2", n)
		}
	}},
	{"a failing load is returned and not cached", func(t *testing.T, e *env) {
		p := e.server(state.Options{})
		boom := errors.New("boom")
		_, err := p.UserContexts.Get(ctx(t), "u", func(context.Context) ([]byte, error) { return nil, boom })
		wantErr(t, err, boom, "Get")
		if v := get(t, p, "u", newLoader("ok")); v != "ok" {
			t.Fatalf("Get = %q", v)
		}
	}},
}

var lockCases = []testCase{
	{"a lease is exclusive until released, and fencing tokens only grow", func(t *testing.T, e *env) {
		a, b := e.server(state.Options{}), e.server(state.Options{})
		var last uint64
		for i := range 3 {
			p := []*state.Provider{a, b}[i%2]
			l, err := p.Locks.Acquire(ctx(t), "rotate", time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if l.Token <= last {
				t.Fatalf("token %d after %d", l.Token, last)
			}
			last = l.Token
			_, err = []*state.Provider{a, b}[(i+1)%2].Locks.Acquire(ctx(t), "rotate", time.Minute)
			wantErr(t, err, state.ErrConflict, "Acquire of a held lock")
			if err := l.Release(ctx(t)); err != nil {
				t.Fatal(err)
			}
			if err := l.Release(ctx(t)); err != nil {
				t.Fatalf("second Release: %v", err)
			}
		}
	}},
	{"a held lease is renewed past its ttl", func(t *testing.T, e *env) {
		a, b := e.server(state.Options{}), e.server(state.Options{})
		l, err := a.Locks.Acquire(ctx(t), "job", 1500*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Release(ctx(t))
		time.Sleep(3500 * time.Millisecond) // more than two ttls
		_, err = b.Locks.Acquire(ctx(t), "job", time.Second)
		wantErr(t, err, state.ErrConflict, "Acquire while renewed")
		select {
		case <-l.Lost():
			t.Fatal("lease reported lost")
		default:
		}
		if err := l.Renew(ctx(t)); err != nil {
			t.Fatalf("Renew: %v", err)
		}
	}},
	{"different names do not contend", func(t *testing.T, e *env) {
		p := e.server(state.Options{})
		l1, err := p.Locks.Acquire(ctx(t), "a", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		l2, err := p.Locks.Acquire(ctx(t), "b", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		l1.Release(ctx(t))
		l2.Release(ctx(t))
	}},
}

var pubsubCases = []testCase{
	{"a change notice on one server makes every other re-read, as does a reset", func(t *testing.T, e *env) {
		a, b := e.server(state.Options{}), e.server(state.Options{})
		changes := make(chan struct{}, 16)
		stop, err := state.ChangeNotices{PubSub: b.PubSub, Channel: "things:changed"}.Subscribe(ctx(t), func() { changes <- struct{}{} })
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		select { // the subscription's own start is a reset: re-read once
		case <-changes:
		case <-time.After(time.Second):
			t.Fatal("no change signalled when the subscription started")
		}
		if err := (state.ChangeNotices{PubSub: a.PubSub, Channel: "things:changed"}).Notify(ctx(t)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-changes:
		case <-time.After(time.Second):
			t.Fatal("no change signalled within 1 s of the notice")
		}
	}},
	{"every deletion of a session is announced to the other servers", func(t *testing.T, e *env) {
		a, b := e.server(state.Options{}), e.server(state.Options{})
		got := make(chan state.SessionRevocation, 16)
		var resets atomic.Int32
		sub, err := state.SubscribeSessionRevocations(ctx(t), b.PubSub,
			func(r state.SessionRevocation) { got <- r },
			func(bool) { resets.Add(1) })
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		if resets.Load() == 0 {
			t.Error("no reset on subscribe: a cache would keep what it held before")
		}
		want := func(kind, value string) {
			t.Helper()
			select {
			case r := <-got:
				if r.Kind != kind || r.Value != value {
					t.Fatalf("notice %v, want %s %s", r, kind, value)
				}
			case <-time.After(time.Second):
				t.Fatalf("no notice for %s %s within 1 s", kind, value)
			}
		}
		s1 := mustCreate(t, a, &state.Session{UserID: "u-rev", SID: "sid-rev"})
		if err := a.Sessions.Delete(ctx(t), s1.ID); err != nil {
			t.Fatal(err)
		}
		want(state.RevokedSession, s1.ID)
		mustCreate(t, a, &state.Session{UserID: "u-rev", SID: "sid-rev"})
		if _, err := a.Sessions.RevokeUser(ctx(t), "u-rev"); err != nil {
			t.Fatal(err)
		}
		want(state.RevokedUser, "u-rev")
		if _, err := a.Sessions.RevokeSID(ctx(t), "sid-rev"); err != nil {
			t.Fatal(err)
		}
		want(state.RevokedSID, "sid-rev")
		// A payload published by hand that is not a notice is ignored.
		a.PubSub.Publish(ctx(t), state.SessionRevokedChannel, "gibberish")
		select {
		case r := <-got:
			t.Fatalf("malformed payload delivered as %v", r)
		case <-time.After(100 * time.Millisecond):
		}
	}},
	{"a message published on one server reaches subscribers on every server", func(t *testing.T, e *env) {
		a, b := e.server(state.Options{}), e.server(state.Options{})
		got := make(chan string, 10)
		var resets atomic.Int32
		sub, err := b.PubSub.Subscribe(ctx(t), "notices", state.Handler{
			OnMessage: func(p string) { got <- p },
			OnReset:   func(up bool) { resets.Add(1) },
		})
		if err != nil {
			t.Fatal(err)
		}
		if !sub.Connected() || resets.Load() != 1 {
			t.Fatalf("after Subscribe: connected %v, %d resets; want true, 1", sub.Connected(), resets.Load())
		}
		if err := a.PubSub.Publish(ctx(t), "notices", "hello"); err != nil {
			t.Fatal(err)
		}
		if err := a.PubSub.Publish(ctx(t), "other", "no"); err != nil {
			t.Fatal(err)
		}
		select {
		case p := <-got:
			if p != "hello" {
				t.Fatalf("got %q", p)
			}
		case <-time.After(time.Second):
			t.Fatal("no message within 1 s")
		}
		if err := sub.Close(); err != nil {
			t.Fatal(err)
		}
		a.PubSub.Publish(ctx(t), "notices", "late")
		select {
		case p := <-got:
			t.Fatalf("message %q after Close", p)
		case <-time.After(100 * time.Millisecond):
		}
	}},
}
