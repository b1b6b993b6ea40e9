package websession_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/redisstate"
	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/internal/websession"
	"github.com/cesivi/cesivi/keyring"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// farm is one key ring and one Redis shared by several edges.
type farm struct {
	t    *testing.T
	ring *keyring.Ring
	conn string
}

func newFarm(t *testing.T, conn string) *farm {
	ring, err := keyring.New(context.Background(), keyring.Options{Store: keyring.NewMemoryStore(), NoBackground: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ring.Close() })
	return &farm{t: t, ring: ring, conn: conn}
}

// edge opens one more provider on the farm's Redis and a resolver on it.
func (f *farm) edge(cacheTTL time.Duration) (*websession.Resolver, *state.Provider) {
	f.t.Helper()
	p, err := redisstate.Open(context.Background(), f.conn, "", state.Options{})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { p.Close() })
	r, err := websession.New(context.Background(), websession.Options{Ring: f.ring, Sessions: p.Sessions, PubSub: p.PubSub, CacheTTL: cacheTTL})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { r.Close() })
	return r, p
}

func sharedFarm(t *testing.T) *farm {
	addr, db := testenv.RedisDB(t)
	return newFarm(t, fmt.Sprintf("%s,defaultDatabase=%d", addr, db))
}

func create(t *testing.T, r *websession.Resolver, user string) (*state.Session, string) {
	t.Helper()
	s, cookie, err := r.Create(context.Background(), &state.Session{UserID: user, Data: map[string]string{websession.DataName: "N"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cookie) != keyring.SessionCookieLen {
		t.Fatalf("cookie of %d chars, want the constant %d", len(cookie), keyring.SessionCookieLen)
	}
	return s, cookie
}

func TestASessionCreatedOnOneEdgeResolvesOnAnother(t *testing.T) {
	f := sharedFarm(t)
	a, _ := f.edge(0)
	b, _ := f.edge(0)
	s, cookie := create(t, a, "u-alice")
	got, err := b.Resolve(context.Background(), cookie)
	if err != nil || got.ID != s.ID || got.UserID != "u-alice" || got.Data[websession.DataName] != "N" {
		t.Fatalf("Resolve = %+v, %v", got, err)
	}
	// The second resolve is served from memory.
	if _, err := b.Resolve(context.Background(), cookie); err != nil {
		t.Fatal(err)
	}
	if hits, _ := b.Stats(); hits != 1 {
		t.Fatalf("cache hits = %d, want 1", hits)
	}
}

func TestBadCookiesAreInvalid(t *testing.T) {
	f := sharedFarm(t)
	a, _ := f.edge(0)
	_, cookie := create(t, a, "u")
	tampered := []byte(cookie)
	tampered[20] ^= 0x01
	other, _ := f.ring.MintSessionCookie(keyring.NewSessionID(), time.Time{}) // valid MAC, no such session
	for name, c := range map[string]string{
		"empty": "", "garbage": "not-a-cookie", "truncated": cookie[:40], "tampered": string(tampered), "unknown session": other,
	} {
		if _, err := a.Resolve(context.Background(), c); !errors.Is(err, websession.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestDeletionOnOneEdgeReachesAnotherEdgesCache(t *testing.T) {
	f := sharedFarm(t)
	a, pa := f.edge(time.Hour) // a cache that would otherwise keep the session for an hour
	b, _ := f.edge(time.Hour)
	cases := []struct {
		name   string
		revoke func(s *state.Session) error
	}{
		{"logout", func(s *state.Session) error { return a.Delete(context.Background(), s.ID) }},
		{"revoke the user", func(s *state.Session) error {
			_, err := pa.Sessions.RevokeUser(context.Background(), s.UserID)
			return err
		}},
	}
	for _, c := range cases {
		s, cookie := create(t, a, "u-"+c.name)
		if _, err := b.Resolve(context.Background(), cookie); err != nil { // now cached on b
			t.Fatal(err)
		}
		start := time.Now()
		if err := c.revoke(s); err != nil {
			t.Fatal(err)
		}
		for {
			_, err := b.Resolve(context.Background(), cookie)
			if errors.Is(err, websession.ErrInvalid) {
				t.Logf("%s: refused on the other edge after %v", c.name, time.Since(start))
				break
			}
			if time.Since(start) > time.Second {
				t.Fatalf("%s: still resolves on the other edge after 1 s (err %v)", c.name, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func TestARevokedKeyRefusesItsCookiesEvenWhenCached(t *testing.T) {
	f := sharedFarm(t)
	a, _ := f.edge(time.Hour)
	_, cookie := create(t, a, "u")
	if _, err := a.Resolve(context.Background(), cookie); err != nil {
		t.Fatal(err)
	}
	k, _ := f.ring.Current()
	if err := f.ring.Revoke(context.Background(), k.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Resolve(context.Background(), cookie); !errors.Is(err, websession.ErrInvalid) || !errors.Is(err, keyring.ErrRevoked) {
		t.Fatalf("err = %v, want ErrInvalid wrapping ErrRevoked", err)
	}
}

func TestRedisDownIsUnavailableNeverInvalid(t *testing.T) {
	srv := testenv.RedisPrivate(t, testenv.RedisOptions{})
	f := newFarm(t, srv.Addr)
	a, _ := f.edge(time.Hour)
	_, cookie := create(t, a, "u")
	if _, err := a.Resolve(context.Background(), cookie); err != nil {
		t.Fatal(err)
	}
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	// Losing the notices empties the cache and bypasses it: the session is
	// neither served stale nor declared invalid.
	deadline := time.Now().Add(5 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := a.Resolve(ctx, cookie)
		cancel()
		if errors.Is(err, websession.ErrInvalid) {
			t.Fatalf("Redis down made the session invalid: %v", err)
		}
		if errors.Is(err, state.ErrStoreUnavailable) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still served from the cache 5 s after Redis stopped (err %v)", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := srv.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Without AOF the private server lost the session: after the restart
	// the cookie is (correctly) invalid, not unavailable.
	deadline = time.Now().Add(10 * time.Second)
	for {
		_, err := a.Resolve(context.Background(), cookie)
		if errors.Is(err, websession.ErrInvalid) || err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("store still unavailable 10 s after Redis restarted: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// BenchmarkResolve: a cookie verified and its session served from the
// edge's cache (the per-request cost with the farm-invalidated cache), and
// loaded from Redis every time (cache off).
func BenchmarkResolve(b *testing.B) {
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{{"cached", time.Hour}, {"redis", -1}} {
		b.Run(c.name, func(b *testing.B) {
			addr, db := testenv.RedisDB(b)
			ring, err := keyring.New(context.Background(), keyring.Options{Store: keyring.NewMemoryStore(), NoBackground: true})
			if err != nil {
				b.Fatal(err)
			}
			defer ring.Close()
			p, err := redisstate.Open(context.Background(), fmt.Sprintf("%s,defaultDatabase=%d", addr, db), "", state.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			r, err := websession.New(context.Background(), websession.Options{Ring: ring, Sessions: p.Sessions, PubSub: p.PubSub, CacheTTL: c.ttl})
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			_, cookie, err := r.Create(context.Background(), &state.Session{UserID: "u", Data: map[string]string{websession.DataName: "N"}})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := r.Resolve(context.Background(), cookie); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
