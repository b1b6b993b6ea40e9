package redisstate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/internal/statekit"
	"github.com/cesivi/cesivi/internal/state/redisstate"
	"github.com/cesivi/cesivi/internal/state/statetest"
	"github.com/cesivi/cesivi/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var prefixSeq atomic.Int64

// backend gives each subtest a private logical database and a key prefix
// of its own (the prefix also keeps pub/sub channels, which are shared by
// every database, apart).
func backend(t *testing.T, connStr string) statetest.NewServer {
	prefix := fmt.Sprintf("t%d:", prefixSeq.Add(1))
	return func(opt state.Options) (*state.Provider, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return redisstate.Open(ctx, connStr, prefix, opt)
	}
}

func TestContract(t *testing.T) {
	statetest.Exercise(t, func(t *testing.T) statetest.NewServer {
		addr, db := testenv.RedisDB(t)
		return backend(t, fmt.Sprintf("%s,defaultDatabase=%d", addr, db))
	})
}

func rawClient(t *testing.T, addr string, db int) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	t.Cleanup(func() { c.Close() })
	return c
}

func open(t *testing.T, connStr string, opt state.Options) *state.Provider {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := redisstate.Open(ctx, connStr, "", opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestSessionsLiveUnderTheRunbookKeysWithATTL(t *testing.T) {
	addr, db := testenv.RedisDB(t)
	p := open(t, fmt.Sprintf("%s,defaultDatabase=%d", addr, db), state.Options{})
	s := &state.Session{UserID: "u"}
	if err := p.Sessions.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	rc := rawClient(t, addr, db)
	keys, err := rc.Keys(context.Background(), "session:*").Result()
	if err != nil || len(keys) != 1 || keys[0] != "session:"+s.ID {
		t.Fatalf(`KEYS "session:*" = %v, %v`, keys, err)
	}
	ttl, err := rc.TTL(context.Background(), "session:"+s.ID).Result()
	if err != nil || ttl <= 19*time.Minute || ttl > 20*time.Minute {
		t.Fatalf(`TTL "session:<id>" = %v, %v; want about 20 min`, ttl, err)
	}
}

func TestActiveSessionsGaugeCountsLiveSessions(t *testing.T) {
	addr, db := testenv.RedisDB(t)
	reg := prometheus.NewRegistry()
	p := open(t, fmt.Sprintf("%s,defaultDatabase=%d", addr, db), state.Options{Registerer: reg})
	ctx := context.Background()
	var last *state.Session
	for range 3 {
		last = &state.Session{UserID: "u"}
		if err := p.Sessions.Create(ctx, last); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Sessions.Delete(ctx, last.ID); err != nil {
		t.Fatal(err)
	}
	want := "# HELP redis_sessions_active Sessions alive in the distributed state store (farm-wide).\n# TYPE redis_sessions_active gauge\nredis_sessions_active 2\n"
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "redis_sessions_active"); err != nil {
		t.Fatal(err)
	}
	l := func(context.Context) ([]byte, error) { return []byte("x"), nil }
	for range 3 {
		if _, err := p.UserContexts.Get(ctx, "u", l); err != nil {
			t.Fatal(err)
		}
	}
	if n := metricValue(t, reg, "usercontext_cache_requests_total"); n != 3 {
		t.Fatalf("requests = %v, want 3", n)
	}
	if n := metricValue(t, reg, "usercontext_cache_hits_total"); n != 2 {
		t.Fatalf("hits = %v, want 2", n)
	}
}

func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// silentChange makes the shared user-context entry stale without telling
// anyone, so only a local-cache flush or a message can reveal it.
func silentChange(t *testing.T, rc *redis.Client, user string) {
	t.Helper()
	if err := rc.HIncrBy(context.Background(), "usercontext:{"+user+"}", "ver", 1).Err(); err != nil {
		t.Fatal(err)
	}
}

func waitLoads(t *testing.T, p *state.Provider, user string, loads *atomic.Int32, want int32, what string) {
	t.Helper()
	l := func(context.Context) ([]byte, error) { loads.Add(1); return []byte("v"), nil }
	deadline := time.Now().Add(time.Second)
	for {
		if _, err := p.UserContexts.Get(context.Background(), user, l); err != nil {
			t.Fatal(err)
		}
		if loads.Load() >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within 1 s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestKillingTheSubscriberConnectionFlushesTheLocalCache(t *testing.T) {
	r := testenv.RedisPrivate(t, testenv.RedisOptions{})
	p := open(t, r.Addr, state.Options{})
	rc := rawClient(t, r.Addr, 0)
	var loads atomic.Int32
	waitLoads(t, p, "u", &loads, 1, "first load")
	silentChange(t, rc, "u")
	l := func(context.Context) ([]byte, error) { loads.Add(1); return []byte("v"), nil }
	p.UserContexts.Get(context.Background(), "u", l)
	if loads.Load() != 1 {
		t.Fatal("the local cache was not used")
	}
	// One subscriber connection per cache (user contexts, tokens).
	if n, err := rc.ClientKillByFilter(context.Background(), "TYPE", "pubsub").Result(); err != nil || n != 2 {
		t.Fatalf("CLIENT KILL TYPE pubsub = %d, %v", n, err)
	}
	waitLoads(t, p, "u", &loads, 2, "the local cache is flushed after the subscriber was killed")
	// And the subscription came back: a hand-made PUBLISH works again.
	waitLoads(t, p, "u", &loads, 2, "")
	deadline := time.Now().Add(time.Second)
	for {
		n, err := rc.PubSubNumSub(context.Background(), statekit.UserContextChannel).Result()
		if err == nil && n[statekit.UserContextChannel] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not resubscribed within 1 s: %v %v", n, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	silentChange(t, rc, "u")
	if err := rc.Publish(context.Background(), statekit.UserContextChannel, "u").Err(); err != nil {
		t.Fatal(err)
	}
	waitLoads(t, p, "u", &loads, 3, "a hand-made PUBLISH after resubscribing invalidates")
}

func TestAHandMadePublishInvalidates(t *testing.T) {
	for _, payload := range []string{"u", "*"} {
		t.Run(payload, func(t *testing.T) {
			r := testenv.RedisPrivate(t, testenv.RedisOptions{})
			p := open(t, r.Addr, state.Options{})
			rc := rawClient(t, r.Addr, 0)
			var loads atomic.Int32
			waitLoads(t, p, "u", &loads, 1, "first load")
			silentChange(t, rc, "u")
			if err := rc.Publish(context.Background(), "usercontext:invalidated", payload).Err(); err != nil {
				t.Fatal(err)
			}
			waitLoads(t, p, "u", &loads, 2, "PUBLISH usercontext:invalidated "+payload)
		})
	}
}

func TestReleaseDeletesOnlyTheHoldersLock(t *testing.T) {
	addr, db := testenv.RedisDB(t)
	p := open(t, fmt.Sprintf("%s,defaultDatabase=%d", addr, db), state.Options{})
	rc := rawClient(t, addr, db)
	ctx := context.Background()
	l, err := p.Locks.Acquire(ctx, "k", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// The lease expired and someone else took it.
	if err := rc.Set(ctx, "lock:{k}", "99:someone-else", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	wantIs(t, l.Renew(ctx), state.ErrConflict)
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _ := rc.Get(ctx, "lock:{k}").Result(); v != "99:someone-else" {
		t.Fatalf("Release deleted a lock it did not hold: %q", v)
	}
}

func wantIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got %v, want %v", err, target)
	}
}

func TestSessionsSurviveARestartWithAOFAndAnOutageIsUnavailable(t *testing.T) {
	r := testenv.RedisPrivate(t, testenv.RedisOptions{AppendOnly: true})
	p := open(t, r.Addr, state.Options{})
	ctx := context.Background()
	s := &state.Session{UserID: "u", Data: map[string]string{"a": "b"}}
	if err := p.Sessions.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := r.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := p.Sessions.Load(ctx, s.ID); err != nil || got.Data["a"] != "b" {
		t.Fatalf("after a restart: %+v, %v", got, err)
	}
	if err := r.Kill(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := p.Sessions.Load(ctx, s.ID)
	wantIs(t, err, state.ErrStoreUnavailable)
	if errors.Is(err, state.ErrNotFound) {
		t.Fatal("an outage reported as not found")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("failing took %v", d)
	}
	for name, err := range map[string]error{
		"Create":     p.Sessions.Create(ctx, &state.Session{UserID: "u"}),
		"Update":     p.Sessions.Update(ctx, s.ID, state.SessionUpdate{Set: map[string]string{"x": "y"}}),
		"Delete":     p.Sessions.Delete(ctx, s.ID),
		"Invalidate": p.UserContexts.Invalidate(ctx, "u"),
		"Ping":       p.Ping(ctx),
	} {
		if !errors.Is(err, state.ErrStoreUnavailable) {
			t.Errorf("%s while Redis is down: %v", name, err)
		}
	}
	_, err = p.Locks.Acquire(ctx, "x", time.Second)
	wantIs(t, err, state.ErrStoreUnavailable)
	_, err = p.UserContexts.Get(ctx, "u", func(context.Context) ([]byte, error) { return []byte("x"), nil })
	wantIs(t, err, state.ErrStoreUnavailable)
	if err := r.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	// go-redis answers with its last dial error for up to a second after
	// many failed dials (it probes the server once a second), so recovery
	// is awaited, boundedly.
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := p.Sessions.Load(ctx, s.ID)
		if err == nil && got.UserID == "u" {
			break
		}
		wantIs(t, err, state.ErrStoreUnavailable)
		if time.Now().After(deadline) {
			t.Fatalf("no recovery within 5 s without a new client: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func BenchmarkProvider(b *testing.B) {
	addr, db := testenv.RedisDB(b)
	p, err := redisstate.Open(context.Background(), fmt.Sprintf("%s,defaultDatabase=%d", addr, db), "", state.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	statetest.Benchmark(b, p)
}

// Locks named after short-lived things must not leave keys forever: the
// fence counter expires (long after the lease).
func TestALockLeavesNoKeyWithoutExpiry(t *testing.T) {
	r := testenv.RedisPrivate(t, testenv.RedisOptions{})
	p := open(t, r.Addr, state.Options{})
	rc := rawClient(t, r.Addr, 0)
	ctx := context.Background()
	l, err := p.Locks.Acquire(ctx, "token-refresh:s1", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	keys, err := rc.Keys(ctx, "*lock*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("no fence key: the test would prove nothing")
	}
	for _, k := range keys {
		if ttl := rc.PTTL(ctx, k).Val(); ttl < 0 {
			t.Errorf("%s has no expiry (PTTL %v)", k, ttl)
		}
	}
}

// TestConcurrentLoadsEachGetTheirOwnSession: loads of many requests at
// once share pipelines; each gets the session it asked for, and each is
// one HGETALL (none is sent twice, none is merged away).
func TestConcurrentLoadsEachGetTheirOwnSession(t *testing.T) {
	r := testenv.RedisPrivate(t, testenv.RedisOptions{})
	p := open(t, r.Addr, state.Options{})
	rc := rawClient(t, r.Addr, 0)
	ctx := context.Background()
	const sessions, loaders, rounds = 16, 48, 20
	ids := make([]string, sessions)
	for i := range ids {
		s := &state.Session{UserID: fmt.Sprint("user-", i), Data: map[string]string{"i": fmt.Sprint(i)}}
		if err := p.Sessions.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
		ids[i] = s.ID
	}
	if err := rc.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, loaders)
	for g := range loaders {
		go func() {
			for j := range rounds {
				i := (g + j) % sessions
				lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				s, err := p.Sessions.Load(lctx, ids[i])
				cancel()
				switch {
				case err != nil:
					errs <- err
					return
				case s.ID != ids[i] || s.UserID != fmt.Sprint("user-", i) || s.Data["i"] != fmt.Sprint(i):
					errs <- fmt.Errorf("load of session %d got %+v", i, s)
					return
				}
			}
			errs <- nil
		}()
	}
	for range loaders {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	stats, err := rc.Info(ctx, "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("cmdstat_hgetall:calls=%d,", loaders*rounds)
	if !strings.Contains(stats, want) {
		t.Fatalf("want %s in\n%s", want, stats)
	}
}
