package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// mainRunning is set by Main; the shared servers require it, because only
// Main stops them and removes their directories.
var mainRunning atomic.Bool

// shared holds the servers started lazily for the whole test binary.
var shared struct {
	mu       sync.Mutex
	redis    *RedisServer
	redisErr error
	dbInUse  [16]bool // Redis logical databases handed out by RedisDB
	pg       *PostgresServer
	pgErr    error
}

// Main runs the tests, then stops the shared servers and removes their
// directories. A package whose tests use Redis, RedisDB or Postgres calls it
// from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) {
	mainRunning.Store(true)
	code := m.Run()
	stopShared()
	os.Exit(code)
}

func stopShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.redis != nil {
		if err := shared.redis.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "testenv: stop shared redis:", err)
		}
	}
	if shared.pg != nil {
		if err := shared.pg.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "testenv: stop shared postgres:", err)
		}
	}
}

func requireMain(t testing.TB) {
	t.Helper()
	if !mainRunning.Load() {
		t.Fatal("testenv: shared servers need cleanup at exit; add `func TestMain(m *testing.M) { testenv.Main(m) }` to this package's tests")
	}
}

// Redis returns the Redis server shared by the whole test binary, started on
// first use. Every caller shares database 0: use RedisDB for a database of
// the test's own, and RedisPrivate for a server the test may kill, restart
// or configure. Never Stop, Kill or Restart the shared server.
func Redis(t testing.TB) *RedisServer {
	t.Helper()
	requireMain(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.redis == nil && shared.redisErr == nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		shared.redis, shared.redisErr = StartRedis(ctx, RedisOptions{})
	}
	if shared.redisErr != nil {
		t.Fatal(shared.redisErr)
	}
	return shared.redis
}

// RedisDB hands the test a logical database of the shared Redis (1 to 15;
// 0 is what Redis callers share), flushed before use and flushed and given
// back at cleanup. When all fifteen are in use by parallel tests, it starts
// a private server for the test and returns its database 0.
func RedisDB(t testing.TB) (addr string, db int) {
	t.Helper()
	r := Redis(t)
	shared.mu.Lock()
	for i := 1; i < len(shared.dbInUse); i++ {
		if !shared.dbInUse[i] {
			shared.dbInUse[i], db = true, i
			break
		}
	}
	shared.mu.Unlock()
	if db == 0 {
		return RedisPrivate(t, RedisOptions{}).Addr, 0
	}
	flush := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return redisDo(ctx, r.Addr, nil, r.Password, []string{"SELECT", strconv.Itoa(db)}, []string{"FLUSHDB"})
	}
	t.Cleanup(func() {
		if err := flush(); err != nil {
			t.Errorf("testenv: flush redis db %d: %v", db, err)
			return // keep a database we could not empty out of the pool
		}
		shared.mu.Lock()
		shared.dbInUse[db] = false
		shared.mu.Unlock()
	})
	if err := flush(); err != nil {
		t.Fatalf("testenv: flush redis db %d: %v", db, err)
	}
	return r.Addr, db
}

// RedisPrivate starts a Redis server for this test alone, stopped (and its
// temporary directory removed) at cleanup.
func RedisPrivate(t testing.TB, opt RedisOptions) *RedisServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := StartRedis(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Stop(); err != nil {
			t.Errorf("testenv: stop redis: %v", err)
		}
	})
	return r
}

// Postgres returns the URL of a new, empty database on the PostgreSQL server
// shared by the whole test binary (started on first use). The database is
// dropped at cleanup, even if the test left connections open.
func Postgres(t testing.TB) string {
	t.Helper()
	requireMain(t)
	shared.mu.Lock()
	if shared.pg == nil && shared.pgErr == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		shared.pg, shared.pgErr = StartPostgres(ctx, PostgresOptions{})
		cancel()
	}
	pg, err := shared.pg, shared.pgErr
	shared.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	name := "t_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u, err := pg.CreateDatabase(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := pg.DropDatabase(ctx, name); err != nil {
			t.Errorf("testenv: %v", err)
		}
	})
	return u
}

// PostgresPrivate starts a PostgreSQL server for this test alone, stopped
// (and its temporary directory removed) at cleanup.
func PostgresPrivate(t testing.TB) *PostgresServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := StartPostgres(ctx, PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("testenv: stop postgres: %v", err)
		}
	})
	return p
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
