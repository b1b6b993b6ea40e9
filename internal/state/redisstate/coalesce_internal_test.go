package redisstate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/fakeclock"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/internal/statekit"
	"github.com/cesivi/cesivi/internal/testenv"
)

// countingShared counts the reads of the shared layer.
type countingShared struct {
	statekit.UserContextShared
	reads atomic.Int32
}

func (s *countingShared) Read(ctx context.Context, key string) ([]byte, time.Time, bool, any, error) {
	s.reads.Add(1)
	return s.UserContextShared.Read(ctx, key)
}

// source is what the cache loads from: it counts its loads, answers the
// current value, and holds the next load when told to.
type source struct {
	loads atomic.Int32
	val   atomic.Value // string
	next  atomic.Pointer[held]
}

// held is one load the test holds: entered closes once it has read the
// source, and it returns what it read (or err) when release closes.
type held struct {
	entered, release chan struct{}
	err              error
	ctxErr           error // the load's context error when released
}

func newSource(v string) *source { s := &source{}; s.val.Store(v); return s }

func (s *source) load(ctx context.Context) ([]byte, error) {
	s.loads.Add(1)
	v := s.val.Load().(string)
	if h := s.next.Swap(nil); h != nil {
		close(h.entered)
		<-h.release
		if h.ctxErr = ctx.Err(); h.ctxErr != nil {
			return nil, fmt.Errorf("the load's context ended: %w", h.ctxErr)
		}
		if h.err != nil {
			return nil, h.err
		}
	}
	return []byte(v), nil
}

func (s *source) hold(err error) *held {
	h := &held{entered: make(chan struct{}), release: make(chan struct{}), err: err}
	s.next.Store(h)
	return h
}

// coalescingCache is a cache of kind over Redis at addr/db whose shared
// reads are counted, with a clock of its own; requests reports how many
// Gets it has seen.
type coalescingCache struct {
	state.UserContextCache
	shared *countingShared
	clock  *fakeclock.Clock
	reg    *prometheus.Registry
	kind   statekit.CacheKind
	rc     *redis.Client
}

var coalescePrefix atomic.Int64

const coalesceTTL = time.Minute

func newCoalescingCache(t *testing.T, addr string, db int, kind statekit.CacheKind, ns string) *coalescingCache {
	t.Helper()
	rc := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	t.Cleanup(func() { rc.Close() })
	clock := fakeclock.New(time.Now())
	k := keys{prefix: fmt.Sprintf("co%d:", coalescePrefix.Add(1))}
	sh := &countingShared{UserContextShared: &ucShared{c: rc, k: k, ns: ns, now: clock.Now}}
	reg := prometheus.NewRegistry()
	c, sub, err := statekit.NewSharedCache(context.Background(), sh, &pubSub{c: rc, k: k}, kind, coalesceTTL,
		slog.New(slog.DiscardHandler), reg, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Close() })
	waitUntil(t, "subscribed", sub.Connected)
	return &coalescingCache{UserContextCache: c, shared: sh, clock: clock, reg: reg, kind: kind, rc: rc}
}

func (c *coalescingCache) requests(t *testing.T) int {
	t.Helper()
	mfs, err := c.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == c.kind.RequestsMetric {
			return int(mf.GetMetric()[0].GetCounter().GetValue())
		}
	}
	return 0
}

type got struct {
	val string
	err error
}

func (c *coalescingCache) getAsync(ctx context.Context, key string, src *source) <-chan got {
	ch := make(chan got, 1)
	go func() { v, err := c.Get(ctx, key, src.load); ch <- got{string(v), err} }()
	return ch
}

// expired caches key once and lets both layers' copies expire.
func (c *coalescingCache) expired(t *testing.T, key string, src *source) {
	t.Helper()
	if _, err := c.Get(context.Background(), key, src.load); err != nil {
		t.Fatal(err)
	}
	c.clock.Advance(coalesceTTL)
}

// joined waits until one more Get than before has started.
func (c *coalescingCache) waitForRequests(t *testing.T, n int) {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%d lookups have started", n), func() bool { return c.requests(t) >= n })
}

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

var coalesceKinds = []struct {
	name string
	kind statekit.CacheKind
	ns   string
}{
	{"user context", statekit.UserContextKind, "usercontext"},
	{"token", statekit.TokenKind, "token"},
}

func commandCalls(t *testing.T, c *redis.Client, cmd string) int {
	t.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+cmd+":calls="); ok {
			n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
			return n
		}
	}
	return 0
}

// TestFiftyMissesOfAnExpiredEntryCostOneReadAndOneLoad: a hot key expires
// in both layers while 50 lookups for it are in flight; one reads Redis
// and loads, the others wait for its value.
func TestFiftyMissesOfAnExpiredEntryCostOneReadAndOneLoad(t *testing.T) {
	srv := testenv.RedisPrivate(t, testenv.RedisOptions{})
	for _, k := range coalesceKinds {
		t.Run(k.name, func(t *testing.T) {
			c := newCoalescingCache(t, srv.Addr, 0, k.kind, k.ns)
			src := newSource("v")
			c.expired(t, "hot", src)
			reads, loads, hmget := c.shared.reads.Load(), src.loads.Load(), commandCalls(t, c.rc, "hmget")
			before := c.requests(t)

			const callers = 50
			h := src.hold(nil)
			start := make(chan struct{})
			results := make(chan got, callers)
			vals := make([][]byte, callers)
			for i := range callers {
				go func() {
					<-start
					v, err := c.Get(context.Background(), "hot", src.load)
					vals[i] = v
					results <- got{string(v), err}
				}()
			}
			close(start)
			<-h.entered
			c.waitForRequests(t, before+callers)
			close(h.release)
			for range callers {
				if res := <-results; res.err != nil || res.val != "v" {
					t.Fatalf("Get = %q, %v", res.val, res.err)
				}
			}
			vals[0][0] = 'x' // each caller owns its bytes
			for _, v := range vals[1:] {
				if string(v) != "v" {
					t.Fatal("callers were handed the same bytes")
				}
			}
			dr, dl, dh := c.shared.reads.Load()-reads, src.loads.Load()-loads, commandCalls(t, c.rc, "hmget")-hmget
			t.Logf("%d concurrent misses: %d shared reads (%d HMGET), %d loads", callers, dr, dh, dl)
			if dr != 1 || dl != 1 || dh != 1 {
				t.Fatalf("%d concurrent misses cost %d shared reads (%d HMGET) and %d loads; want 1, 1 and 1", callers, dr, dh, dl)
			}
		})
	}
}

// TestAnInvalidationDuringARefillIsNotServedFromIt: whoever asks after the
// invalidation gets the new value, and so do the callers that were waiting
// on the refill it overtook (that value answers only the caller that
// started it, and is not cached).
func TestAnInvalidationDuringARefillIsNotServedFromIt(t *testing.T) {
	for _, k := range coalesceKinds {
		t.Run(k.name, func(t *testing.T) {
			addr, db := testenv.RedisDB(t)
			c := newCoalescingCache(t, addr, db, k.kind, k.ns)
			src := newSource("v1")
			c.expired(t, "u", src)
			before := c.requests(t)
			h := src.hold(nil)
			leader := c.getAsync(context.Background(), "u", src)
			<-h.entered // it has read v1
			joiner := c.getAsync(context.Background(), "u", src)
			c.waitForRequests(t, before+2)
			src.val.Store("v2")
			if err := c.Invalidate(context.Background(), "u"); err != nil {
				t.Fatal(err)
			}
			if v, err := c.Get(context.Background(), "u", src.load); err != nil || string(v) != "v2" {
				t.Fatalf("a lookup after the invalidation = %q, %v; want v2", v, err)
			}
			close(h.release)
			if res := <-leader; res.err != nil || res.val != "v1" {
				t.Fatalf("leader = %q, %v; want what it read, v1", res.val, res.err)
			}
			if res := <-joiner; res.err != nil || res.val != "v2" {
				t.Fatalf("joiner = %q, %v; want v2", res.val, res.err)
			}
			if v, err := c.Get(context.Background(), "u", src.load); err != nil || string(v) != "v2" {
				t.Fatalf("cached = %q, %v; want v2", v, err)
			}
		})
	}
}

// TestAJoinerGivingUpLeavesTheRefillToTheOthers: a waiting caller whose
// context ends returns at once; the refill goes on for the rest.
func TestAJoinerGivingUpLeavesTheRefillToTheOthers(t *testing.T) {
	addr, db := testenv.RedisDB(t)
	c := newCoalescingCache(t, addr, db, statekit.UserContextKind, "usercontext")
	src := newSource("v")
	before := c.requests(t)
	h := src.hold(nil)
	leader := c.getAsync(context.Background(), "u", src)
	<-h.entered
	ctx, cancel := context.WithCancel(context.Background())
	joiner := c.getAsync(ctx, "u", src)
	c.waitForRequests(t, before+2)
	cancel()
	if res := <-joiner; !errors.Is(res.err, context.Canceled) {
		t.Fatalf("the joiner whose context ended = %q, %v; want context.Canceled", res.val, res.err)
	}
	close(h.release)
	if res := <-leader; res.err != nil || res.val != "v" {
		t.Fatalf("leader = %q, %v", res.val, res.err)
	}
	if n := src.loads.Load(); n != 1 {
		t.Fatalf("%d loads; want 1", n)
	}
}

// TestTheLeaderGivingUpDoesNotFailTheJoiners: the caller that started the
// refill gives up; the refill is not cancelled with it, and it is cached.
func TestTheLeaderGivingUpDoesNotFailTheJoiners(t *testing.T) {
	addr, db := testenv.RedisDB(t)
	c := newCoalescingCache(t, addr, db, statekit.TokenKind, "token")
	src := newSource("v")
	before := c.requests(t)
	h := src.hold(nil)
	ctx, cancel := context.WithCancel(context.Background())
	leader := c.getAsync(ctx, "u", src)
	<-h.entered
	joiner := c.getAsync(context.Background(), "u", src)
	c.waitForRequests(t, before+2)
	cancel()
	if res := <-leader; !errors.Is(res.err, context.Canceled) {
		t.Fatalf("the leader whose context ended = %q, %v; want context.Canceled", res.val, res.err)
	}
	close(h.release)
	if res := <-joiner; res.err != nil || res.val != "v" {
		t.Fatalf("joiner = %q, %v", res.val, res.err)
	}
	if h.ctxErr != nil {
		t.Fatalf("the load ran under the leader's context: %v", h.ctxErr)
	}
	if v, err := c.Get(context.Background(), "u", src.load); err != nil || string(v) != "v" || src.loads.Load() != 1 {
		t.Fatalf("the refill was not cached: %q, %v, %d loads", v, err, src.loads.Load())
	}
}

// TestAFailedLoadFailsItsJoinersAndIsNotCached: the load's error reaches
// every caller of the flight (for bearer tokens, a 429 of the leader's
// client included); the next lookup loads again.
func TestAFailedLoadFailsItsJoinersAndIsNotCached(t *testing.T) {
	for _, k := range coalesceKinds {
		t.Run(k.name, func(t *testing.T) {
			addr, db := testenv.RedisDB(t)
			c := newCoalescingCache(t, addr, db, k.kind, k.ns)
			src := newSource("v")
			before := c.requests(t)
			boom := errors.New("boom")
			h := src.hold(boom)
			leader := c.getAsync(context.Background(), "u", src)
			<-h.entered
			joiner := c.getAsync(context.Background(), "u", src)
			c.waitForRequests(t, before+2)
			close(h.release)
			for _, ch := range []<-chan got{leader, joiner} {
				if res := <-ch; !errors.Is(res.err, boom) {
					t.Fatalf("Get = %q, %v; want the load's error", res.val, res.err)
				}
			}
			if v, err := c.Get(context.Background(), "u", src.load); err != nil || string(v) != "v" {
				t.Fatalf("the lookup after the failure = %q, %v", v, err)
			}
			if n := src.loads.Load(); n != 2 {
				t.Fatalf("%d loads; want 2 (the failed one and the retry)", n)
			}
		})
	}
}
