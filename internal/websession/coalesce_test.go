package websession_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/fakeclock"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/redisstate"
	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/internal/websession"
)

// heldLoad is one Load the test holds: entered closes once the load has
// read the store, and the load returns what it read (or fails with err)
// when release closes, as a Redis reply overtaken by other events would.
type heldLoad struct {
	entered, release chan struct{}
	err              error
	// ctxErr is the load's own context error when it was released.
	ctxErr error
}

// countingSessions counts the loads that reach the store and holds the
// next one when told to.
type countingSessions struct {
	state.SessionStore
	loads atomic.Int32
	next  atomic.Pointer[heldLoad]
}

func (s *countingSessions) Load(ctx context.Context, id string) (*state.Session, error) {
	s.loads.Add(1)
	h := s.next.Swap(nil)
	se, err := s.SessionStore.Load(ctx, id)
	if h != nil {
		close(h.entered)
		<-h.release
		if h.ctxErr = ctx.Err(); h.ctxErr != nil {
			return nil, fmt.Errorf("the load's context ended: %w", h.ctxErr)
		}
		if h.err != nil {
			return nil, h.err
		}
	}
	return se, err
}

// hold makes the next Load wait for release.
func (s *countingSessions) hold(err error) *heldLoad {
	h := &heldLoad{entered: make(chan struct{}), release: make(chan struct{}), err: err}
	s.next.Store(h)
	return h
}

// waitUntil waits for cond, checking it as the goroutines it waits for
// make progress; it fails the test after ten seconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// coalescingEdge is one edge on Redis at conn whose store loads are
// counted and whose cache expiry follows clock.
func coalescingEdge(t *testing.T, conn string, clock *fakeclock.Clock) (*websession.Resolver, *countingSessions) {
	t.Helper()
	f := newFarm(t, conn)
	p, err := redisstate.Open(context.Background(), conn, "", state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	store := &countingSessions{SessionStore: p.Sessions}
	r, err := websession.New(context.Background(), websession.Options{Ring: f.ring, Sessions: store, PubSub: p.PubSub, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, store
}

// missed is how many resolves have missed the cache so far.
func missed(r *websession.Resolver) uint64 { _, m := r.Stats(); return m }

type resolved struct {
	s   *state.Session
	err error
}

func resolveAsync(ctx context.Context, r *websession.Resolver, cookie string) <-chan resolved {
	ch := make(chan resolved, 1)
	go func() { s, err := r.Resolve(ctx, cookie); ch <- resolved{s, err} }()
	return ch
}

// expiredSession creates a session, caches it with one resolve, and lets
// the cached copy expire.
func expiredSession(t *testing.T, r *websession.Resolver, clock *fakeclock.Clock) (*state.Session, string) {
	t.Helper()
	s, cookie := create(t, r, "u-hot")
	if _, err := r.Resolve(context.Background(), cookie); err != nil {
		t.Fatal(err)
	}
	clock.Advance(websession.DefaultCacheTTL)
	return s, cookie
}

func commandCalls(t *testing.T, c *redis.Client, cmd string) int {
	t.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+cmd+":calls=")
		if ok {
			n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
			return n
		}
	}
	return 0
}

// TestFiftyMissesOfAnExpiredSessionCostOneRedisRead: the hot session's
// cached copy expires while 50 requests for it are in flight; one of them
// reads Redis and the others wait for what it read.
func TestFiftyMissesOfAnExpiredSessionCostOneRedisRead(t *testing.T) {
	srv := testenv.RedisPrivate(t, testenv.RedisOptions{})
	clock := fakeclock.New(time.Now())
	r, store := coalescingEdge(t, srv.Addr, clock)
	s, cookie := expiredSession(t, r, clock)
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { rc.Close() })
	loadsBefore, hgetallBefore, missesBefore := store.loads.Load(), commandCalls(t, rc, "hgetall"), missed(r)

	const callers = 50
	h := store.hold(nil)
	start := make(chan struct{})
	results := make(chan resolved, callers)
	for range callers {
		go func() {
			<-start
			got, err := r.Resolve(context.Background(), cookie)
			results <- resolved{got, err}
		}()
	}
	close(start)
	<-h.entered
	waitUntil(t, "every caller has missed the expired copy", func() bool { return missed(r)-missesBefore == callers })
	close(h.release)
	seen := map[*state.Session]bool{}
	for range callers {
		res := <-results
		if res.err != nil || res.s.ID != s.ID || res.s.Data[websession.DataName] != "N" {
			t.Fatalf("Resolve = %+v, %v", res.s, res.err)
		}
		if seen[res.s] {
			t.Fatal("two callers were handed the same *state.Session")
		}
		seen[res.s] = true
	}
	loads, hgetall := store.loads.Load()-loadsBefore, commandCalls(t, rc, "hgetall")-hgetallBefore
	t.Logf("%d concurrent misses: %d store loads, %d HGETALL", callers, loads, hgetall)
	if loads != 1 || hgetall != 1 {
		t.Fatalf("%d concurrent misses cost %d store loads and %d HGETALL; want 1 and 1", callers, loads, hgetall)
	}
	// What the flight read is cached for the requests that follow.
	if _, err := r.Resolve(context.Background(), cookie); err != nil || store.loads.Load()-loadsBefore != 1 {
		t.Fatalf("the next resolve: %v, %d loads", err, store.loads.Load()-loadsBefore)
	}
}

// TestAChangeDuringARefillIsNotServedFromIt: a session updated while its
// refill is in flight; whoever asks after the update gets the new copy,
// and so do the callers waiting on the old refill (its result answers
// only the caller that started it, and is not cached).
func TestAChangeDuringARefillIsNotServedFromIt(t *testing.T) {
	f := sharedFarm(t)
	clock := fakeclock.New(time.Now())
	r, store := coalescingEdge(t, f.conn, clock)
	s, cookie := expiredSession(t, r, clock)
	h := store.hold(nil)
	leader := resolveAsync(context.Background(), r, cookie)
	<-h.entered
	m := missed(r)
	joiner := resolveAsync(context.Background(), r, cookie)
	waitUntil(t, "the joiner missed", func() bool { return missed(r) > m })
	// The old copy is on its way back from Redis; change the session.
	if err := r.Update(context.Background(), s.ID, state.SessionUpdate{Set: map[string]string{websession.DataName: "M"}}); err != nil {
		t.Fatal(err)
	}
	after, err := r.Resolve(context.Background(), cookie)
	if err != nil || after.Data[websession.DataName] != "M" {
		t.Fatalf("a resolve after the update = %+v, %v; want the updated session", after, err)
	}
	close(h.release)
	if res := <-leader; res.err != nil {
		t.Fatalf("leader: %v", res.err)
	}
	if res := <-joiner; res.err != nil || res.s.Data[websession.DataName] != "M" {
		t.Fatalf("joiner: %+v, %v; want the updated session", res.s, res.err)
	}
	if got, err := r.Resolve(context.Background(), cookie); err != nil || got.Data[websession.DataName] != "M" {
		t.Fatalf("cached after the update: %+v, %v", got, err)
	}
}

// TestARevocationDuringARefillEndsTheSessionForWhoeverAsksAfter: the
// session is revoked (its notice reaches this edge) while its refill is
// in flight.
func TestARevocationDuringARefillEndsTheSessionForWhoeverAsksAfter(t *testing.T) {
	f := sharedFarm(t)
	clock := fakeclock.New(time.Now())
	r, store := coalescingEdge(t, f.conn, clock)
	s, cookie := expiredSession(t, r, clock)
	h := store.hold(nil)
	leader := resolveAsync(context.Background(), r, cookie)
	<-h.entered
	if err := r.Delete(context.Background(), s.ID); err != nil { // as a notice would
		t.Fatal(err)
	}
	if _, err := r.Resolve(context.Background(), cookie); !errors.Is(err, websession.ErrInvalid) {
		t.Fatalf("a resolve after the revocation: %v; want ErrInvalid", err)
	}
	close(h.release)
	<-leader // it read the session before the deletion: what it gets is not checked
	if _, err := r.Resolve(context.Background(), cookie); !errors.Is(err, websession.ErrInvalid) {
		t.Fatalf("after the refill: %v; want ErrInvalid", err)
	}
}

// TestAJoinerGivingUpLeavesTheRefillToTheOthers: a waiting caller whose
// request ends returns at once; the refill goes on for the rest.
func TestAJoinerGivingUpLeavesTheRefillToTheOthers(t *testing.T) {
	f := sharedFarm(t)
	clock := fakeclock.New(time.Now())
	r, store := coalescingEdge(t, f.conn, clock)
	s, cookie := expiredSession(t, r, clock)
	loadsBefore := store.loads.Load()
	h := store.hold(nil)
	leader := resolveAsync(context.Background(), r, cookie)
	<-h.entered
	m := missed(r)
	ctx, cancel := context.WithCancel(context.Background())
	joiner := resolveAsync(ctx, r, cookie)
	waitUntil(t, "the joiner missed", func() bool { return missed(r) > m })
	cancel()
	if res := <-joiner; !errors.Is(res.err, context.Canceled) {
		t.Fatalf("the joiner whose context ended: %+v, %v; want context.Canceled", res.s, res.err)
	}
	close(h.release)
	if res := <-leader; res.err != nil || res.s.ID != s.ID {
		t.Fatalf("leader: %+v, %v", res.s, res.err)
	}
	if n := store.loads.Load() - loadsBefore; n != 1 {
		t.Fatalf("%d loads; want 1", n)
	}
}

// TestTheLeaderGivingUpDoesNotFailTheJoiners: the request that started
// the refill ends; the refill is not cancelled with it.
func TestTheLeaderGivingUpDoesNotFailTheJoiners(t *testing.T) {
	f := sharedFarm(t)
	clock := fakeclock.New(time.Now())
	r, store := coalescingEdge(t, f.conn, clock)
	s, cookie := expiredSession(t, r, clock)
	loadsBefore := store.loads.Load()
	h := store.hold(nil)
	ctx, cancel := context.WithCancel(context.Background())
	leader := resolveAsync(ctx, r, cookie)
	<-h.entered
	m := missed(r)
	joiner := resolveAsync(context.Background(), r, cookie)
	waitUntil(t, "the joiner missed", func() bool { return missed(r) > m })
	cancel()
	if res := <-leader; !errors.Is(res.err, context.Canceled) {
		t.Fatalf("the leader whose context ended: %+v, %v; want context.Canceled", res.s, res.err)
	}
	close(h.release)
	if res := <-joiner; res.err != nil || res.s.ID != s.ID {
		t.Fatalf("joiner: %+v, %v", res.s, res.err)
	}
	if h.ctxErr != nil {
		t.Fatalf("the load ran under the leader's context: %v", h.ctxErr)
	}
	if _, err := r.Resolve(context.Background(), cookie); err != nil || store.loads.Load()-loadsBefore != 1 {
		t.Fatalf("the refill was not cached: %v, %d loads", err, store.loads.Load()-loadsBefore)
	}
}

// TestAFailedRefillFailsItsJoinersAndIsNotCached: the store error reaches
// every caller of the flight; the next request tries again.
func TestAFailedRefillFailsItsJoinersAndIsNotCached(t *testing.T) {
	f := sharedFarm(t)
	clock := fakeclock.New(time.Now())
	r, store := coalescingEdge(t, f.conn, clock)
	s, cookie := expiredSession(t, r, clock)
	loadsBefore := store.loads.Load()
	boom := fmt.Errorf("redis went away: %w", state.ErrStoreUnavailable)
	h := store.hold(boom)
	leader := resolveAsync(context.Background(), r, cookie)
	<-h.entered
	m := missed(r)
	joiner := resolveAsync(context.Background(), r, cookie)
	waitUntil(t, "the joiner missed", func() bool { return missed(r) > m })
	close(h.release)
	for _, ch := range []<-chan resolved{leader, joiner} {
		if res := <-ch; !errors.Is(res.err, boom) || errors.Is(res.err, websession.ErrInvalid) {
			t.Fatalf("Resolve = %+v, %v; want the store's error", res.s, res.err)
		}
	}
	got, err := r.Resolve(context.Background(), cookie)
	if err != nil || got.ID != s.ID {
		t.Fatalf("the resolve after the failure: %+v, %v", got, err)
	}
	if n := store.loads.Load() - loadsBefore; n != 2 {
		t.Fatalf("%d loads; want 2 (the failed one and the retry)", n)
	}
}
