package ratesync

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/ratelimit"
	"github.com/cesivi/cesivi/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func redisClient(t *testing.T, addr string, db int) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, DB: db, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// edge is one edge's limiter and its running syncer.
func edge(t *testing.T, rdb redis.UniversalClient, events, burst int) (*ratelimit.Limiter, *Syncer) {
	l := ratelimit.New(ratelimit.Config{Events: events, Window: time.Hour, Burst: burst})
	s := New(rdb, []Zone{{Name: "api", Window: time.Hour, Limiter: l}}, Options{Prefix: "test:ratelimit:", Interval: 250 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return l, s
}

// allow is what the edge's handler does: a refusal for unconfirmed counts
// waits for a sync round and asks again.
func allow(l *ratelimit.Limiter, s *Syncer, key string) bool {
	for range 10 {
		ok, retry := l.Allow(key)
		if ok || retry > 0 {
			return ok
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s.Wait(ctx)
		cancel()
	}
	return false
}

// Two edges, each hammered by parallel clients of one user, share a limit
// of 100 a minute through a real Redis: together they admit at most
// 100 - 1 + 2×5 (the burst).
func TestTwoEdgesShareOneLimitThroughRedis(t *testing.T) {
	addr, db := testenv.RedisDB(t)
	rdb := redisClient(t, addr, db)
	a, sa := edge(t, rdb, 100, 5)
	b, sb := edge(t, rdb, 100, 5)
	// (A window of an hour: the test runs in one, or, the rare time it
	// straddles two, again in the next with another user.)
	for attempt := range 2 {
		user := fmt.Sprintf("user-%d", attempt)
		w := time.Now().UnixNano() / int64(time.Hour)
		got := hammer(a, sa, b, sb, user)
		if time.Now().UnixNano()/int64(time.Hour) != w {
			continue
		}
		t.Logf("two edges admitted %d of 480 requests against a limit of 100", got)
		if got < 100 || got > 109 {
			t.Fatalf("two edges admitted %d, want 100..109", got)
		}
		sa.Round(context.Background()) // what is left to push
		sb.Round(context.Background())
		n, err := rdb.Get(context.Background(), sa.Key("api", w, user)).Int64()
		if err != nil || n != got {
			t.Fatalf("Redis counted %d (%v), the edges admitted %d", n, err, got)
		}
		ttl := rdb.PTTL(context.Background(), sa.Key("api", w, user)).Val()
		if ttl <= time.Hour || ttl > 2*time.Hour {
			t.Fatalf("key TTL %v, want two windows", ttl)
		}
		return
	}
	t.Fatal("the window rolled over twice")
}

// hammer sends 480 requests of user, from 8 parallel clients, half to
// each edge, and returns how many were admitted.
func hammer(a *ratelimit.Limiter, sa *Syncer, b *ratelimit.Limiter, sb *Syncer, user string) int64 {
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for i := range 8 {
		l, s := a, sa
		if i%2 == 1 {
			l, s = b, sb
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 60 {
				if allow(l, s, user) {
					admitted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return admitted.Load()
}

// With Redis gone the counts are kept and the edge limits on its own
// counts; when Redis is back they are pushed.
func TestRedisDownKeepsCountsAndLimitsLocally(t *testing.T) {
	r := testenv.RedisPrivate(t, testenv.RedisOptions{})
	rdb := redisClient(t, r.Addr, 0)
	l := ratelimit.New(ratelimit.Config{Events: 10, Window: time.Hour, Burst: 2})
	s := New(rdb, []Zone{{Name: "api", Window: time.Hour, Limiter: l}}, Options{Prefix: "p:", Interval: time.Hour})
	ctx := context.Background()
	l.Allow("k")
	w := time.Now().UnixNano() / int64(time.Hour)
	if err := r.Kill(); err != nil {
		t.Fatal(err)
	}
	l.Allow("k")
	if err := s.Round(ctx); err == nil {
		t.Fatal("a round without Redis reported success")
	}
	got := 2
	for range 20 {
		if ok, _ := l.Allow("k"); ok {
			got++
		}
	}
	if got != 10 {
		t.Fatalf("without Redis the edge admitted %d in all, want its own limit of 10", got)
	}
	if err := r.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Round(ctx); err != nil {
		t.Fatalf("round after Redis came back: %v", err)
	}
	if n, _ := rdb.Get(ctx, s.Key("api", w, "k")).Int64(); n != 10 && time.Now().UnixNano()/int64(time.Hour) == w {
		t.Fatalf("Redis holds %d after the outage, want the 10 counted during it", n)
	}
}
