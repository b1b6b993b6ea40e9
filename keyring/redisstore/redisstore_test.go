package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/keyring"
	"github.com/cesivi/cesivi/keyring/keyringtest"
	"github.com/cesivi/cesivi/keyring/redisstore"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func client(t *testing.T, addr string, db int) redis.UniversalClient {
	t.Helper()
	c := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{addr}, DB: db})
	t.Cleanup(func() { c.Close() })
	return c
}

// Each store of the suite gets a database of its own; pub/sub ignores
// databases, so each also gets a channel of its own (the suite's subtests
// run in parallel and must not hear each other's notices).
func TestExercise(t *testing.T) {
	var n atomic.Int64
	keyringtest.Exercise(t, func(t *testing.T) keyring.Store {
		addr, db := testenv.RedisDB(t)
		return redisstore.New(client(t, addr, db), redisstore.Options{Channel: fmt.Sprintf("%s:t%d", redisstore.DefaultChannel, n.Add(1))})
	})
}

func TestExerciseWithPrefix(t *testing.T) {
	var n atomic.Int64
	keyringtest.Exercise(t, func(t *testing.T) keyring.Store {
		addr, db := testenv.RedisDB(t)
		return redisstore.New(client(t, addr, db), redisstore.Options{Prefix: fmt.Sprintf("farm%d:", n.Add(1))})
	})
}

// Eight nodes, each with its own client, start together on an empty
// database: one key.
func TestEightNodesOwnClients(t *testing.T) {
	addr, db := testenv.RedisDB(t)
	ids := keyringtest.StartTogether(t, keyringtest.Concurrency, func(int) (keyring.Store, error) {
		return redisstore.New(client(t, addr, db), redisstore.Options{}), nil
	})
	n, err := client(t, addr, db).HLen(context.Background(), "{keyring}:keys").Result()
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || len(ids) != 1 {
		t.Fatalf("%d keys stored, %d distinct current keys; want 1 and 1", n, len(ids))
	}
}

// A revoked key's payloads are refused by every other node within a second,
// through the pub/sub notice (the periodic refresh is 24 h away); a
// rotation is seen at once too, and does not invalidate older cookies.
func TestRevocationReachesOtherNodesWithinOneSecond(t *testing.T) {
	addr, db := testenv.RedisDB(t)
	var rings []*keyring.Ring
	for range 3 {
		r, err := keyring.New(context.Background(), keyring.Options{
			Store: redisstore.New(client(t, addr, db), redisstore.Options{}), MasterKey: keyringtest.MasterKey,
			// No unknown-key refresh within the test: only notices count.
			UnknownKeyRefreshInterval: time.Hour,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		rings = append(rings, r)
	}
	admin, edge, app := rings[0], rings[1], rings[2]
	cookie, err := edge.MintSessionCookie(keyring.NewSessionID(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	old, _ := edge.Current()
	rotated, err := admin.Rotate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "rotation notice", func() bool {
		k, _ := app.Current()
		return k.ID == rotated.ID
	})
	if _, err := app.VerifySessionCookie(cookie); err != nil {
		t.Fatalf("cookie minted before the rotation: %v", err)
	}
	start := time.Now()
	if err := admin.Revoke(context.Background(), old.ID, "test"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "revocation notice", func() bool {
		_, e1 := app.VerifySessionCookie(cookie)
		_, e2 := edge.VerifySessionCookie(cookie)
		return errors.Is(e1, keyring.ErrRevoked) && errors.Is(e2, keyring.ErrRevoked)
	})
	t.Logf("revocation refused on every node after %v", time.Since(start))
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not seen within 1 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// After Redis restarts, the subscription comes back and a notice sent after
// it still reaches the other node.
func TestNoticesSurviveRedisRestart(t *testing.T) {
	srv := testenv.RedisPrivate(t, testenv.RedisOptions{})
	mk := func() redis.UniversalClient {
		c := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{srv.Addr}, Password: srv.Password})
		t.Cleanup(func() { c.Close() })
		return c
	}
	n := redisstore.NewNotifier(mk(), redisstore.Options{})
	got := make(chan struct{}, 16)
	stop, err := n.Subscribe(context.Background(), func() { got <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if err := srv.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	pub := redisstore.NewNotifier(mk(), redisstore.Options{})
	deadline := time.Now().Add(10 * time.Second)
	for {
		pub.Notify(context.Background())
		select {
		case <-got:
			return
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no notice after the restart")
		}
	}
}

// The key ring works on a Redis configured as the seed's security
// section (TLS only, an ACL user without the dangerous commands, CONFIG
// and the FLUSH commands renamed away): its scripts, hashes and pub/sub
// need none of them. Each store keeps to a prefix of its own.
func TestExerciseOnTheSeedsHardenedRedis(t *testing.T) {
	r := testenv.RedisHardened(t, testenv.RedisOptions{})
	cfg, err := r.ClientTLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	u := r.Users[0]
	var n atomic.Int64
	keyringtest.Exercise(t, func(t *testing.T) keyring.Store {
		c := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{r.Addr}, Username: u.Name, Password: u.Password, TLSConfig: cfg})
		t.Cleanup(func() { c.Close() })
		return redisstore.New(c, redisstore.Options{Prefix: fmt.Sprintf("hardened%d:", n.Add(1))})
	})
}
