package backends_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/backends"
	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/health"
	"github.com/cesivi/cesivi/internal/logging"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/keyring"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const masterKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

func settings(t *testing.T, env ...string) *config.Settings {
	t.Helper()
	s, err := config.Load(t.TempDir(), env)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

func open(t *testing.T, s *config.Settings, o backends.Options) *backends.Backends {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := backends.Open(ctx, s, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// use exercises every backend one after the other: the key ring mints,
// the state stores a session, every health check runs. Used one at a
// time, a pool keeps one connection; a second client or pool needs one
// of its own.
func use(t *testing.T, b *backends.Backends) {
	t.Helper()
	ctx := context.Background()
	if _, err := b.KeyRing.MintSessionCookie(keyring.NewSessionID(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.KeyRing.Rotate(ctx); err != nil { // a write to the key ring's store
		t.Fatal(err)
	}
	sess := &state.Session{UserID: "u"}
	if err := b.State.Sessions.Create(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if _, err := b.State.Sessions.Load(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	for _, c := range b.Checks() {
		if e := c.Run(ctx); e.Status != health.Healthy {
			t.Fatalf("%s: %s %s", c.Name, e.Status, e.Description)
		}
	}
}

// redisCommandConns counts the connections to logical database db that
// are not pub/sub subscriptions, leaving out the caller's own.
func redisCommandConns(t *testing.T, addr string, db int) int {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, DB: db})
	defer c.Close()
	ctx := context.Background()
	self, err := c.ClientID(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		f := map[string]string{}
		for _, kv := range strings.Fields(line) {
			k, v, _ := strings.Cut(kv, "=")
			f[k] = v
		}
		if f["id"] == fmt.Sprint(self) || f["db"] != fmt.Sprint(db) || f["sub"] != "0" || f["psub"] != "0" {
			continue
		}
		n++
	}
	return n
}

// onePool is a Redis connection string whose client pools one
// connection: a process with one client then holds exactly two command
// connections, whatever runs concurrently — the pool's and the one the
// client's auto-pipeliner (session loads) keeps for itself; a second
// client holds more. (Pub/sub subscriptions have connections of their
// own, outside the pool, and are not counted.)
const oneClientsConns = 2

func onePool(addr string, db int) string {
	return fmt.Sprintf("Cesivi__DistributedState__ConnectionString=redis://%s/%d?pool_size=1", addr, db)
}

func withQuery(url, q string) string {
	if strings.Contains(url, "?") {
		return url + "&" + q
	}
	return url + "?" + q
}

// TestAProcessHoldsOneRedisClient: with Redis state and a Redis key ring
// (the ring's store and its notices), every part uses the one client.
func TestAProcessHoldsOneRedisClient(t *testing.T) {
	addr, db := testenv.RedisDB(t)
	s := settings(t,
		"Cesivi__DistributedState__Provider=Redis",
		onePool(addr, db),
		"Cesivi__DataProtection__Provider=Redis",
		"Cesivi__DataProtection__MasterKey="+masterKey)
	b := open(t, s, backends.Options{Role: backends.Server, KeyRingNoBackground: true})
	use(t, b)
	if n := redisCommandConns(t, addr, db); n != oneClientsConns {
		t.Fatalf("%d command connections to Redis after using every backend in turn; want %d (one client)", n, oneClientsConns)
	}
}

// TestAProcessHoldsOnePostgresPool: with PostgreSQL storage and the key
// ring in the storage database, both use the one pool (of one
// connection, so that two pools would show as two connections).
func TestAProcessHoldsOnePostgresPool(t *testing.T) {
	url := testenv.Postgres(t)
	addr, db := testenv.RedisDB(t)
	s := settings(t,
		"Cesivi__Storage__Provider=PostgreSQL",
		"Cesivi__Storage__ConnectionString="+withQuery(url, "pool_max_conns=1"),
		"Cesivi__DistributedState__Provider=Redis",
		onePool(addr, db),
		"Cesivi__DataProtection__Provider=PostgreSql",
		"Cesivi__DataProtection__MasterKey="+masterKey)
	b := open(t, s, backends.Options{Role: backends.Server, KeyRingNoBackground: true})
	use(t, b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d connections to the database after using the storage and the key ring in turn; want 1 (one pool)", n)
	}
	if n := redisCommandConns(t, addr, db); n != oneClientsConns {
		t.Fatalf("%d command connections to Redis; want %d (one client)", n, oneClientsConns)
	}
}

// TestEachCacheMetricWhereItsCacheIsUsed: servers expose the user-context
// cache's metrics, edges the token cache's; neither exposes a metric
// that could only ever read 0.
func TestEachCacheMetricWhereItsCacheIsUsed(t *testing.T) {
	s := settings(t, "Cesivi__DataProtection__KeysPath="+t.TempDir())
	for _, c := range []struct {
		role      backends.Role
		want, not string
	}{
		{backends.Server, "usercontext_cache_requests_total", "token_cache_requests_total"},
		{backends.Edge, "token_cache_requests_total", "usercontext_cache_requests_total"},
	} {
		reg := prometheus.NewRegistry()
		open(t, s, backends.Options{Role: c.role, Registerer: reg})
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, f := range families {
			names[f.GetName()] = true
		}
		if !names[c.want] || names[c.not] {
			t.Errorf("role %d registers %v; want %s and not %s", c.role, names, c.want, c.not)
		}
	}
}

// TestLogsGoToTheSeedsCategories: the state and the key ring log under
// the seed's category names through the factory they are given (the
// caches log their subscriptions at start).
func TestLogsGoToTheSeedsCategories(t *testing.T) {
	var out strings.Builder
	logs, err := logging.New(&out, "json", map[string]string{"Default": "Trace"})
	if err != nil {
		t.Fatal(err)
	}
	s := settings(t, "Cesivi__DataProtection__KeysPath="+t.TempDir())
	open(t, s, backends.Options{Role: backends.Server, Logs: logs})
	for _, category := range []string{backends.KeyRingLogCategory, backends.UserContextLogCategory, backends.TokenLogCategory} {
		if !strings.Contains(out.String(), `"category":"`+category+`"`) {
			t.Errorf("no log line under %s in:\n%s", category, out.String())
		}
	}
}

func TestOpenRefusesWhatItCannotOpen(t *testing.T) {
	for _, c := range []struct {
		name   string
		env    []string
		change func(*config.Settings)
		want   string
	}{
		{"an unknown state provider", nil, func(s *config.Settings) { s.DistributedState.Provider = "Memcached" }, "Memcached"},
		{"a master key that does not parse", []string{"Cesivi__DataProtection__MasterKey=###"}, nil, "Cesivi:DataProtection:MasterKey"},
		{"a Redis connection string that does not parse", []string{"Cesivi__DistributedState__Provider=Redis",
			"Cesivi__DistributedState__ConnectionString=127.0.0.1:6379"}, func(s *config.Settings) {
			s.DistributedState.ConnectionString = "127.0.0.1:6379,password=hunter2-secret,syncTimeout=soon"
		}, "Cesivi:DistributedState:ConnectionString"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := config.Load(t.TempDir(), append(c.env, "Cesivi__DataProtection__KeysPath="+t.TempDir()))
			if err != nil {
				t.Fatal(err)
			}
			if c.change != nil {
				c.change(s)
			}
			b, err := backends.Open(context.Background(), s, backends.Options{})
			if err == nil {
				b.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "hunter2-secret") {
				t.Fatalf("error %q: want it to name %q and never show a password", err, c.want)
			}
		})
	}
}

// TestTheTLSFilesTravelFromTheSettingsToTheClient: a Redis that requires
// a client certificate is reached with the configured files.
func TestTheTLSFilesTravelFromTheSettingsToTheClient(t *testing.T) {
	r := testenv.RedisTLS(t)
	s := settings(t,
		"Cesivi__DistributedState__Provider=Redis",
		"Cesivi__DistributedState__ConnectionString="+r.Addr+",ssl=true",
		"Cesivi__DistributedState__TlsCaFile="+r.TLS.CAFile,
		"Cesivi__DistributedState__TlsCertFile="+r.TLS.ClientCertFile,
		"Cesivi__DistributedState__TlsKeyFile="+r.TLS.ClientKeyFile,
		"Cesivi__DataProtection__Provider=Redis",
		"Cesivi__DataProtection__MasterKey="+masterKey)
	b := open(t, s, backends.Options{Role: backends.Server})
	if b.State.Name != "Redis" {
		t.Fatalf("state provider %q, want Redis", b.State.Name)
	}
	use(t, b)
}

// A Redis set up as the seed recommends (allkeys-lru) with the seed's
// hardening (CONFIG renamed away) and no append-only file: the settings
// are read with INFO, the DistributedState entry is Degraded (never
// Unhealthy: readiness holds) and says why, and the server's memory and
// clients are metrics.
func TestRedisSettingsThatCanLoseDataDegradeTheHealthEntry(t *testing.T) {
	r := testenv.RedisPrivate(t, testenv.RedisOptions{ExtraConfig: []string{
		"maxmemory 256mb", "maxmemory-policy allkeys-lru",
		`rename-command CONFIG ""`, `rename-command FLUSHALL ""`, `rename-command FLUSHDB ""`,
	}})
	s, err := config.Load(t.TempDir(), []string{
		"Cesivi__Farm__Enabled=true",
		"Cesivi__DistributedState__Provider=Redis",
		"Cesivi__DistributedState__ConnectionString=" + r.Addr,
	})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	logOut := &testenv.LogBuffer{}
	logs, err := logging.New(logOut, "json", nil)
	if err != nil {
		t.Fatal(err)
	}
	b := open(t, s, backends.Options{Role: backends.Edge, NoKeyRing: true, Registerer: reg, Logs: logs})
	// The start-up warning is logged once, in the background.
	logOut.WaitContains(t, "allkeys-lru", 30*time.Second)
	if !strings.Contains(logOut.String(), `"category":"`+backends.RedisLogCategory+`"`) {
		t.Fatalf("the warning is not under %s: %s", backends.RedisLogCategory, logOut.String())
	}
	if !strings.Contains(logOut.String(), `"msg":"Redis server: maxmemory-policy allkeys-lru, maxmemory 256.0 MiB, `) ||
		!strings.Contains(logOut.String(), `"maxmemory_policy":"allkeys-lru"`) || !strings.Contains(logOut.String(), `"aof_enabled":false`) {
		t.Fatalf("no start-up report of the settings: %s", logOut.String())
	}
	e := b.Checks()[0].Run(context.Background())
	if e.Status != health.Degraded || !strings.Contains(e.Description, "allkeys-lru") || !strings.Contains(e.Description, "appendonly") {
		t.Fatalf("DistributedState: %s %q", e.Status, e.Description)
	}
	if e.Data["maxmemoryPolicy"] != "allkeys-lru" || e.Data["aofEnabled"] != false || e.Data["maxmemory"] != int64(256<<20) ||
		e.Data["usedMemory"].(int64) <= 0 || e.Data["rdbLastSave"] == nil || len(e.Data["warnings"].([]string)) != 2 {
		t.Fatalf("data %+v", e.Data)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if m := mf.GetMetric(); len(m) == 1 && m[0].GetGauge() != nil {
			got[mf.GetName()] = m[0].GetGauge().GetValue()
		}
	}
	if got["cesivi_redis_used_memory_bytes"] <= 0 || got["cesivi_redis_connected_clients"] < 1 || got["cesivi_redis_maxmemory_bytes"] != 256<<20 {
		t.Fatalf("Redis metrics: %v", got)
	}
}

// A server on a Redis configured as the seed's security section (TLS
// only, signed in as an ACL user without the dangerous commands, CONFIG
// renamed away) with appendonly yes and the default noeviction: every
// backend works, the settings are read with INFO and reported at
// start-up, nothing is warned about and every entry is Healthy.
func TestAServerOnTheSeedsHardenedRedis(t *testing.T) {
	r := testenv.RedisHardened(t, testenv.RedisOptions{AppendOnly: true})
	s := settings(t, append(r.CesiviEnv(),
		"Cesivi__Farm__Enabled=true",
		"Cesivi__DistributedState__Provider=Redis",
		"Cesivi__DataProtection__Provider=Redis",
		"Cesivi__DataProtection__MasterKey="+masterKey)...)
	reg := prometheus.NewRegistry()
	logOut := &testenv.LogBuffer{}
	logs, err := logging.New(logOut, "json", nil)
	if err != nil {
		t.Fatal(err)
	}
	b := open(t, s, backends.Options{Role: backends.Server, Registerer: reg, Logs: logs})
	use(t, b) // every check Healthy
	logOut.WaitContains(t, "Redis server: maxmemory-policy noeviction, no maxmemory, ", 30*time.Second)
	if strings.Contains(logOut.String(), "can lose data") {
		t.Fatalf("safe settings warned: %s", logOut.String())
	}
	e := b.Checks()[0].Run(context.Background())
	if e.Data["maxmemoryPolicy"] != "noeviction" || e.Data["aofEnabled"] != true || e.Data["settingsReadable"] != nil {
		t.Fatalf("DistributedState data %+v", e.Data)
	}
	n, err := testutil.GatherAndCount(reg, "cesivi_redis_used_memory_bytes", "cesivi_redis_connected_clients")
	if err != nil || n != 2 {
		t.Fatalf("%d Redis metrics, %v; want memory and clients", n, err)
	}
}
