package testenv_test

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sys/unix"

	"github.com/cesivi/cesivi/internal/testenv"
)

func redisClient(t *testing.T, addr, password string, db int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, Password: password, DB: db})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRedisStartStop(t *testing.T) {
	ctx := t.Context()
	start := time.Now()
	r, err := testenv.StartRedis(ctx, testenv.RedisOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("redis start-up: %d ms (pid %d, %s)", time.Since(start).Milliseconds(), r.PID, r.Addr)
	t.Cleanup(func() { r.Stop() })

	c := redisClient(t, r.Addr, "", 0)
	if err := c.Set(ctx, "greeting", "hello", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, "greeting").Result(); err != nil || got != "hello" {
		t.Fatalf("GET greeting = %q, %v; want hello", got, err)
	}
	c.Close()

	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, r.PID)
	assertNoDir(t, r.Dir)
	if err := r.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestRedisRestartKeepsAppendOnlyData(t *testing.T) {
	ctx := t.Context()
	r := testenv.RedisPrivate(t, testenv.RedisOptions{AppendOnly: true})
	c := redisClient(t, r.Addr, "", 0)
	if err := c.Set(ctx, "k", "survives", 0).Err(); err != nil {
		t.Fatal(err)
	}
	oldPID, oldAddr := r.PID, r.Addr
	if err := r.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if r.Addr != oldAddr {
		t.Errorf("Restart moved the server from %s to %s", oldAddr, r.Addr)
	}
	if r.PID == oldPID {
		t.Errorf("Restart kept PID %d; want a new process", r.PID)
	}
	assertGone(t, oldPID)
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "survives" {
		t.Fatalf("after Restart GET k = %q, %v; want survives", got, err)
	}
}

func TestRedisKill(t *testing.T) {
	ctx := t.Context()
	r := testenv.RedisPrivate(t, testenv.RedisOptions{AppendOnly: true})
	c := redisClient(t, r.Addr, "", 0)
	if err := c.Set(ctx, "k", "written before the crash", 0).Err(); err != nil {
		t.Fatal(err)
	}
	pid := r.PID
	if err := r.Kill(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, pid)
	if conn, err := net.DialTimeout("tcp", r.Addr, time.Second); err == nil {
		conn.Close()
		t.Fatal("the port still accepts connections after Kill")
	}
	if _, err := os.Stat(r.Dir); err != nil {
		t.Fatalf("Kill removed the directory: %v", err)
	}
	// Redis writes the append-only file before it replies, so a killed
	// process (unlike a crashed machine) loses nothing acknowledged.
	if err := r.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "written before the crash" {
		t.Fatalf("after Kill and Restart GET k = %q, %v", got, err)
	}
}

func TestRedisDistinctPorts(t *testing.T) {
	a := testenv.RedisPrivate(t, testenv.RedisOptions{})
	b := testenv.RedisPrivate(t, testenv.RedisOptions{})
	if a.Port == b.Port || a.Addr == b.Addr {
		t.Fatalf("two servers share %s", a.Addr)
	}
	if a.Dir == b.Dir {
		t.Fatalf("two servers share directory %s", a.Dir)
	}
	for _, p := range []int{a.Port, b.Port} {
		if p == 6379 {
			t.Fatal("a test server took the machine's Redis port 6379")
		}
	}
}

func TestRedisPassword(t *testing.T) {
	ctx := t.Context()
	r := testenv.RedisPrivate(t, testenv.RedisOptions{Password: "s3cret pass"})
	if err := redisClient(t, r.Addr, "", 0).Set(ctx, "k", "v", 0).Err(); err == nil {
		t.Fatal("SET without password succeeded")
	}
	if err := redisClient(t, r.Addr, r.Password, 0).Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET with password: %v", err)
	}
}

func TestRedisDetachedOutlivesHandle(t *testing.T) {
	ctx := t.Context()
	r, err := testenv.StartRedis(ctx, testenv.RedisOptions{Detached: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop() })
	sid, err := unix.Getsid(r.PID)
	if err != nil {
		t.Fatal(err)
	}
	if sid != r.PID {
		t.Errorf("detached server's session is %d; want its own (%d)", sid, r.PID)
	}
	// A later launcher run knows only the PID and address: Stop must work
	// from those alone (by polling, as the process is not its child).
	handle := &testenv.RedisServer{Addr: r.Addr, Port: r.Port, PID: r.PID}
	if err := handle.Stop(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, r.PID)
}

func TestRedisDB(t *testing.T) {
	ctx := t.Context()
	addr1, db1 := testenv.RedisDB(t)
	addr2, db2 := testenv.RedisDB(t)
	if addr1 == addr2 && db1 == db2 {
		t.Fatalf("two calls got the same database %s/%d", addr1, db1)
	}
	c1 := redisClient(t, addr1, "", db1)
	c2 := redisClient(t, addr2, "", db2)
	if err := c1.Set(ctx, "k", "one", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c2.Get(ctx, "k").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("key of db %d visible in db %d (err %v)", db1, db2, err)
	}
	if testenv.Redis(t).Addr != addr1 {
		t.Errorf("RedisDB used %s, not the shared server", addr1)
	}
}

func TestRedisDBIsFlushedForTheNextTest(t *testing.T) {
	ctx := t.Context()
	var db int
	t.Run("writer", func(t *testing.T) {
		var addr string
		addr, db = testenv.RedisDB(t)
		if err := redisClient(t, addr, "", db).Set(ctx, "left-over", "x", 0).Err(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("reader", func(t *testing.T) {
		addr, db2 := testenv.RedisDB(t)
		if db2 != db {
			t.Logf("got db %d after db %d", db2, db)
		}
		if n, err := redisClient(t, addr, "", db2).DBSize(ctx).Result(); err != nil || n != 0 {
			t.Fatalf("fresh db %d holds %d keys (err %v)", db2, n, err)
		}
	})
}

func TestRedisDBFallsBackToPrivateServer(t *testing.T) {
	shared := testenv.Redis(t).Addr
	seen := map[int]bool{}
	for i := 0; i < 15; i++ {
		_, db := testenv.RedisDB(t)
		seen[db] = true
	}
	if len(seen) != 15 {
		t.Fatalf("15 calls got %d distinct databases", len(seen))
	}
	addr, db := testenv.RedisDB(t)
	if addr == shared || db != 0 {
		t.Fatalf("16th call got %s/%d; want a private server's db 0", addr, db)
	}
}
