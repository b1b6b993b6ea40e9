package websession_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/fakeclock"
	"github.com/cesivi/cesivi/internal/oidclogin"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/memstate"
	"github.com/cesivi/cesivi/internal/websession"
	"github.com/cesivi/cesivi/keyring"
)

// rotatingProvider issues a new refresh token at every refresh and refuses
// a refresh token it has already redeemed, as most providers do.
type rotatingProvider struct {
	calls   atomic.Int32
	current string
	refuse  bool
}

func (p *rotatingProvider) Refresh(_ context.Context, refreshToken string) (*oidclogin.Tokens, error) {
	n := p.calls.Add(1)
	if p.refuse || refreshToken != p.current {
		return nil, fmt.Errorf("%w: invalid_grant", oidclogin.ErrRefreshRefused)
	}
	p.current = fmt.Sprintf("r%d", n+1)
	return &oidclogin.Tokens{AccessToken: fmt.Sprintf("a%d", n+1), RefreshToken: p.current, Expiry: time.Now().Add(time.Hour)}, nil
}

// twoEdges are two edges' resolvers and refreshers (caches on) over one
// in-memory farm store.
func twoEdges(t *testing.T) (a, b *websession.Resolver, ra, rb *websession.Refresher) {
	t.Helper()
	a, b, ra, rb, _ = twoEdgesAt(t, time.Now)
	return a, b, ra, rb
}

// twoEdgesAt is twoEdges with the farm's clock (store, leases and
// resolvers) and its key ring.
func twoEdgesAt(t *testing.T, now func() time.Time) (a, b *websession.Resolver, ra, rb *websession.Refresher, ring *keyring.Ring) {
	t.Helper()
	ring, err := keyring.New(context.Background(), keyring.Options{Store: keyring.NewMemoryStore(), NoBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ring.Close() })
	store := memstate.NewStore()
	edge := func() (*websession.Resolver, *websession.Refresher) {
		p, err := store.Provider(state.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		r, err := websession.New(context.Background(), websession.Options{Ring: ring, Sessions: p.Sessions, PubSub: p.PubSub, CacheTTL: time.Hour, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r, websession.NewRefresher(r, p.Locks, nil)
	}
	a, ra = edge()
	b, rb = edge()
	return a, b, ra, rb, ring
}

func resolve(t *testing.T, r *websession.Resolver, cookie string) *state.Session {
	t.Helper()
	s, err := r.Resolve(context.Background(), cookie)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestARefreshedSessionIsServedFreshFromTheCacheOfEveryEdge(t *testing.T) {
	a, b, ra, rb := twoEdges(t)
	idp := &rotatingProvider{current: "r1"}
	ctx := context.Background()
	s, cookie, err := a.SignIn(ctx, websession.SignIn{UserID: "u",
		Tokens: websession.Tokens{AccessToken: "a1", RefreshToken: "r1", Expiry: time.Now().Add(-time.Minute)}}, "")
	if err != nil {
		t.Fatal(err)
	}
	stale := s.Data[websession.DataTokenExpiry]
	resolve(t, a, cookie) // both edges cache the session with the expired token
	resolve(t, b, cookie)

	ra.Refresh(ctx, s.ID, idp)
	if got := resolve(t, a, cookie).Data[websession.DataTokenExpiry]; got == stale {
		t.Fatal("the refreshing edge still serves the old expiry from its cache")
	}
	// Edge B's cache still has the old expiry: its attempt finds the
	// session refreshed, does not ask the provider, and caches what it found.
	rb.Refresh(ctx, s.ID, idp)
	if got := resolve(t, b, cookie).Data[websession.DataTokenExpiry]; got == stale {
		t.Fatal("the other edge still serves the old expiry after finding the session refreshed")
	}
	for range 10 {
		ra.Maybe(resolve(t, a, cookie), idp)
		rb.Maybe(resolve(t, b, cookie), idp)
	}
	// Wait for any refresh those calls started, rather than for a while:
	// a wrongly started one must have asked the provider before the check.
	for ra.InFlight() != 0 || rb.InFlight() != 0 {
		runtime.Gosched()
	}
	if n := idp.calls.Load(); n != 1 {
		t.Fatalf("the provider was asked %d times; want once", n)
	}
	if st := ra.Stats(); st.OK != 1 {
		t.Fatalf("stats %+v; want one refresh", st)
	}
}

func TestARefusedRefreshEndsTheSessionOnTheRefreshingEdgeAtOnce(t *testing.T) {
	a, _, ra, _ := twoEdges(t)
	ctx := context.Background()
	s, cookie, err := a.SignIn(ctx, websession.SignIn{UserID: "u",
		Tokens: websession.Tokens{RefreshToken: "r1", Expiry: time.Now().Add(-time.Minute)}}, "")
	if err != nil {
		t.Fatal(err)
	}
	resolve(t, a, cookie)
	ra.Refresh(ctx, s.ID, &rotatingProvider{refuse: true})
	if _, err := a.Resolve(ctx, cookie); !errors.Is(err, websession.ErrInvalid) {
		t.Fatalf("err = %v; want ErrInvalid", err)
	}
	if st := ra.Stats(); st.Refused != 1 {
		t.Fatalf("stats %+v; want one refusal", st)
	}
}

func TestASignInEndsTheBrowsersPreviousSession(t *testing.T) {
	a, b, _, _ := twoEdges(t)
	ctx := context.Background()
	_, before, err := a.Create(ctx, &state.Session{})
	if err != nil {
		t.Fatal(err)
	}
	resolve(t, b, before)
	s, after, err := b.SignIn(ctx, websession.SignIn{UserID: "u", Name: "N", Groups: []string{"g1", "g2"}}, before)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Resolve(ctx, before); !errors.Is(err, websession.ErrInvalid) {
		t.Fatalf("the previous session still resolves (err %v)", err)
	}
	got := resolve(t, a, after)
	if got.ID != s.ID || got.UserID != "u" || got.Data[websession.DataName] != "N" || len(websession.Groups(got)) != 2 {
		t.Fatalf("signed-in session %+v", got)
	}
	if _, ok := got.Data[websession.DataTokenExpiry]; ok {
		t.Fatal("a session without a refresh token has a token expiry")
	}
}

// profileProvider answers a refresh with a new ID token's profile.
type profileProvider struct{ id *oidclogin.Identity }

func (p *profileProvider) Refresh(_ context.Context, refreshToken string) (*oidclogin.Tokens, error) {
	return &oidclogin.Tokens{AccessToken: "a2", RefreshToken: refreshToken, IDToken: "id2", Expiry: time.Now().Add(time.Hour), Identity: p.id}, nil
}

// TestARefreshUpdatesWhoTheUserIs: the refreshed ID token's name, email
// and groups replace the sign-in's, so a group removed at the provider is
// no longer asserted after the next refresh; groups are a list (a name
// with a newline stays one group).
func TestARefreshUpdatesWhoTheUserIs(t *testing.T) {
	a, _, ra, _ := twoEdges(t)
	ctx := context.Background()
	s, cookie, err := a.SignIn(ctx, websession.SignIn{UserID: "u", Name: "Old", Email: "old@example.com",
		Groups: []string{"admins", "line one\nline two"},
		Tokens: websession.Tokens{AccessToken: "a1", RefreshToken: "r1", Expiry: time.Now().Add(-time.Minute)}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if g := websession.Groups(resolve(t, a, cookie)); len(g) != 2 || g[1] != "line one\nline two" {
		t.Fatalf("groups after sign-in %q; want 2, the second with its newline", g)
	}
	ra.Refresh(ctx, s.ID, &profileProvider{id: &oidclogin.Identity{Subject: "u", Name: "New", Email: "new@example.com", Groups: []string{"readers"}}})
	got := resolve(t, a, cookie)
	if got.Data[websession.DataName] != "New" || got.Data[websession.DataEmail] != "new@example.com" || fmt.Sprint(websession.Groups(got)) != "[readers]" {
		t.Fatalf("after the refresh: name %q email %q groups %q; want the refreshed profile", got.Data[websession.DataName], got.Data[websession.DataEmail], websession.Groups(got))
	}
	// An ID token for another subject changes nothing.
	s2, cookie2, err := a.SignIn(ctx, websession.SignIn{UserID: "v", Name: "V", Groups: []string{"g"},
		Tokens: websession.Tokens{AccessToken: "a1", RefreshToken: "r1", Expiry: time.Now().Add(-time.Minute)}}, "")
	if err != nil {
		t.Fatal(err)
	}
	ra.Refresh(ctx, s2.ID, &profileProvider{id: &oidclogin.Identity{Subject: "someone-else", Name: "X"}})
	if got := resolve(t, a, cookie2); got.Data[websession.DataName] != "V" || fmt.Sprint(websession.Groups(got)) != "[g]" {
		t.Fatalf("a token for another subject changed the session: %+v", got.Data)
	}
}

// raceProvider lets another edge save the session's renewed tokens while
// this edge's refresh is at the provider (its lease lost to a failover),
// then answers as told.
type raceProvider struct {
	meanwhile func()
	refuse    bool
}

func (p *raceProvider) Refresh(_ context.Context, refreshToken string) (*oidclogin.Tokens, error) {
	p.meanwhile()
	if p.refuse {
		return nil, fmt.Errorf("%w: invalid_grant", oidclogin.ErrRefreshRefused)
	}
	return &oidclogin.Tokens{AccessToken: "late", RefreshToken: "late", Expiry: time.Now().Add(time.Hour)}, nil
}

// Two edges redeeming the same refresh token: whatever the order of
// answers, the renewal the other edge saved is neither overwritten nor
// ended by this edge's late result.
func TestALateRefreshNeverUndoesAnotherEdgesRenewal(t *testing.T) {
	for _, refuse := range []bool{true, false} {
		t.Run(fmt.Sprint("refused=", refuse), func(t *testing.T) {
			a, b, ra, _ := twoEdges(t)
			ctx := context.Background()
			s, cookie, err := a.SignIn(ctx, websession.SignIn{UserID: "u",
				Tokens: websession.Tokens{RefreshToken: "r1", Expiry: time.Now().Add(-time.Minute)}}, "")
			if err != nil {
				t.Fatal(err)
			}
			renewed := []byte("sealed-by-edge-b")
			src := &raceProvider{refuse: refuse, meanwhile: func() {
				if err := b.Update(ctx, s.ID, state.SessionUpdate{Tokens: &renewed}); err != nil {
					t.Error(err)
				}
			}}
			ra.Refresh(ctx, s.ID, src)
			got, err := b.Resolve(ctx, cookie)
			if err != nil {
				t.Fatalf("the session renewed by another edge ended: %v", err)
			}
			if tok, err := b.Tokens(ctx, got.ID); err != nil || string(tok) != string(renewed) {
				t.Fatalf("the other edge's renewal was overwritten: tokens %q (%v)", tok, err)
			}
			if st := ra.Stats(); st.Refused != 0 || st.OK != 0 {
				t.Fatalf("stats %+v: a lost race counted as a refusal or a refresh", st)
			}
		})
	}
}

// providerFunc is a TokenSource made of a function.
type providerFunc func(refreshToken string) (*oidclogin.Tokens, error)

func (f providerFunc) Refresh(_ context.Context, refreshToken string) (*oidclogin.Tokens, error) {
	return f(refreshToken)
}

// Edge A's lease expires while it is at the provider (a failover, a
// paused process); edge B takes the next lease and redeems the refresh
// token, and A's answer arrives while B's is still on its way to the
// store: the window the tokens condition alone left open (A read the
// same tokens as B and nothing was saved yet). B's fence, claimed before
// it redeemed, refuses A's write: A's invalid_grant does not end the
// session, A's late tokens are not written, and the session keeps B's.
func TestAnEdgeThatLostItsLeaseCannotUndoTheNextHoldersRefresh(t *testing.T) {
	for _, refused := range []bool{true, false} {
		t.Run(fmt.Sprint("refused=", refused), func(t *testing.T) {
			clock := fakeclock.New(time.Now())
			a, b, ra, rb, ring := twoEdgesAt(t, clock.Now)
			ctx := context.Background()
			s, cookie, err := a.SignIn(ctx, websession.SignIn{UserID: "u",
				Tokens: websession.Tokens{AccessToken: "a1", RefreshToken: "r1", Expiry: clock.Now().Add(-time.Minute)}}, "")
			if err != nil {
				t.Fatal(err)
			}
			bRedeemed, bMaySave, bDone := make(chan struct{}), make(chan struct{}), make(chan struct{})
			srcB := providerFunc(func(rt string) (*oidclogin.Tokens, error) {
				if rt != "r1" {
					return nil, fmt.Errorf("%w: edge B redeemed %q", oidclogin.ErrRefreshRefused, rt)
				}
				close(bRedeemed)
				<-bMaySave
				return &oidclogin.Tokens{AccessToken: "a-from-b", RefreshToken: "r-from-b", Expiry: clock.Now().Add(time.Hour)}, nil
			})
			srcA := providerFunc(func(rt string) (*oidclogin.Tokens, error) {
				clock.Advance(time.Minute) // A's lease (30 s) expires
				go func() { defer close(bDone); rb.Refresh(ctx, s.ID, srcB) }()
				select {
				case <-bRedeemed:
				case <-bDone:
					t.Error("edge B did not take the expired lease and redeem")
				}
				if refused {
					return nil, fmt.Errorf("%w: invalid_grant (r1 already redeemed)", oidclogin.ErrRefreshRefused)
				}
				return &oidclogin.Tokens{AccessToken: "a-from-a", RefreshToken: "r-from-a", Expiry: clock.Now().Add(time.Hour)}, nil
			})
			ra.Refresh(ctx, s.ID, srcA)
			if _, err := a.Resolve(ctx, cookie); err != nil {
				t.Errorf("edge A's stale answer ended the session: %v", err)
			}
			close(bMaySave)
			<-bDone
			got, err := b.Resolve(ctx, cookie)
			if err != nil {
				t.Fatalf("the session ended: %v", err)
			}
			sealed, err := b.Tokens(ctx, got.ID)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := websession.OpenTokens(ring, sealed)
			if err != nil {
				t.Fatal(err)
			}
			if tok.RefreshToken != "r-from-b" || tok.AccessToken != "a-from-b" {
				t.Fatalf("the session holds %q/%q; want edge B's tokens", tok.AccessToken, tok.RefreshToken)
			}
			if st := ra.Stats(); st != (websession.RefreshStats{}) {
				t.Fatalf("edge A's stats %+v: a stale answer counted", st)
			}
			if st := rb.Stats(); st.OK != 1 {
				t.Fatalf("edge B's stats %+v; want one refresh", st)
			}
		})
	}
}

// pausedAfterAcquire is a Locker that runs meanwhile right after each
// lease is taken: the holder paused before it could claim the session.
type pausedAfterAcquire struct {
	state.Locker
	meanwhile func()
}

func (l pausedAfterAcquire) Acquire(ctx context.Context, name string, ttl time.Duration) (*state.Lease, error) {
	lease, err := l.Locker.Acquire(ctx, name, ttl)
	if err == nil {
		l.meanwhile()
	}
	return lease, err
}

// An edge that took its lease, paused until the lease expired, and finds
// the session claimed by the next holder stops there: it never redeems the
// refresh token the next holder has already redeemed.
func TestAnEdgeWhoseClaimIsRefusedDoesNotAskTheProvider(t *testing.T) {
	clock := fakeclock.New(time.Now())
	store := memstate.NewStore()
	ring, err := keyring.New(context.Background(), keyring.Options{Store: keyring.NewMemoryStore(), NoBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ring.Close() })
	edge := func() (*websession.Resolver, state.Locker) {
		p, err := store.Provider(state.Options{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		r, err := websession.New(context.Background(), websession.Options{Ring: ring, Sessions: p.Sessions, PubSub: p.PubSub, Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r, p.Locks
	}
	a, locksA := edge()
	b, locksB := edge()
	ctx := context.Background()
	s, cookie, err := a.SignIn(ctx, websession.SignIn{UserID: "u",
		Tokens: websession.Tokens{AccessToken: "a1", RefreshToken: "r1", Expiry: clock.Now().Add(-time.Minute)}}, "")
	if err != nil {
		t.Fatal(err)
	}
	idp := &rotatingProvider{current: "r1"}
	rb := websession.NewRefresher(b, locksB, nil)
	ra := websession.NewRefresher(a, pausedAfterAcquire{Locker: locksA, meanwhile: func() {
		clock.Advance(time.Minute) // A's lease expires while it is paused
		// B's refresh, with its own fresh lease, completes meanwhile; its
		// expiry is made due again so that only the fence can stop A.
		rb.Refresh(ctx, s.ID, idp)
		due := strconv.FormatInt(clock.Now().Add(-time.Minute).Unix(), 10)
		if err := b.Update(ctx, s.ID, state.SessionUpdate{Set: map[string]string{websession.DataTokenExpiry: due}}); err != nil {
			t.Error(err)
		}
	}}, nil)
	ra.Refresh(ctx, s.ID, idp)
	if n := idp.calls.Load(); n != 1 {
		t.Fatalf("the provider was asked %d times; want once (by edge B only)", n)
	}
	got, err := b.Resolve(ctx, cookie)
	if err != nil {
		t.Fatalf("the session ended: %v", err)
	}
	sealed, err := b.Tokens(ctx, got.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := websession.OpenTokens(ring, sealed); err != nil || tok.RefreshToken != idp.current {
		t.Fatalf("the session holds refresh token %q (err %v); want edge B's %q", tok.RefreshToken, err, idp.current)
	}
}

// A claim refused to the lease's holder (the session bears a fence the
// lease's counter has not reached: the counter was evicted and started
// over) neither asks the provider nor is retried on every request.
func TestARefusedClaimIsNotRetriedOnEveryRequest(t *testing.T) {
	clock := fakeclock.New(time.Now())
	store := memstate.NewStore()
	ring, err := keyring.New(context.Background(), keyring.Options{Store: keyring.NewMemoryStore(), NoBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ring.Close() })
	p, err := store.Provider(state.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	r, err := websession.New(context.Background(), websession.Options{Ring: ring, Sessions: p.Sessions, PubSub: p.PubSub, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	ctx := context.Background()
	s, _, err := r.SignIn(ctx, websession.SignIn{UserID: "u",
		Tokens: websession.Tokens{AccessToken: "a1", RefreshToken: "r1", Expiry: clock.Now().Add(-time.Minute)}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Update(ctx, s.ID, state.SessionUpdate{Fence: &state.Fence{Token: 1000, Holder: "before-the-counter-was-lost"}}); err != nil {
		t.Fatal(err)
	}
	var acquired atomic.Int32
	idp := &rotatingProvider{current: "r1"}
	rf := websession.NewRefresher(r, pausedAfterAcquire{Locker: p.Locks, meanwhile: func() { acquired.Add(1) }}, nil)
	for range 5 {
		rf.Maybe(s, idp)
		for rf.InFlight() != 0 {
			runtime.Gosched()
		}
	}
	if n := idp.calls.Load(); n != 0 {
		t.Fatalf("the provider was asked %d times under a refused claim", n)
	}
	if n := acquired.Load(); n != 1 {
		t.Fatalf("%d attempts in a row took the lease; want 1, the others held back", n)
	}
	// After refreshRetry the next request tries again.
	clock.Advance(31 * time.Second)
	rf.Maybe(s, idp)
	for rf.InFlight() != 0 {
		runtime.Gosched()
	}
	if n := acquired.Load(); n != 2 {
		t.Fatalf("%d attempts took the lease; want a second one after the hold-back", n)
	}
}
