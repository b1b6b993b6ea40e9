package backends_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cesivi/cesivi/internal/backends"
	"github.com/cesivi/cesivi/internal/health"
	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/internal/testenv"
)

// npgsql turns a testenv database URL into the Npgsql form the seed
// configures, with extra items appended.
func npgsql(t *testing.T, rawURL string, extra ...string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	items := append([]string{"Host=" + u.Hostname(), "Port=" + u.Port(), "Database=" + strings.TrimPrefix(u.Path, "/"),
		"Username=" + u.User.Username(), "SSL Mode=Disable"}, extra...)
	return strings.Join(items, ";")
}

// pgSettings are the settings of a server on PostgreSQL storage whose key
// ring lives outside the database (so that only the storage depends on
// PostgreSQL).
func pgSettings(t *testing.T, connString string) []string {
	return []string{
		"Cesivi__Storage__Provider=PostgreSQL",
		"Cesivi__Storage__ConnectionString=" + connString,
		"Cesivi__DataProtection__Provider=FileSystem",
		"Cesivi__DataProtection__KeysPath=" + t.TempDir(),
	}
}

func createSite(ctx context.Context, s storage.Store, url string) error {
	return s.Update(ctx, func(tx storage.Tx) error {
		_, err := tx.Sites().Create(ctx, storage.SiteInput{URL: url, Title: "Root"})
		return err
	})
}

func storageEntry(t *testing.T, b *backends.Backends) (health.Entry, bool) {
	t.Helper()
	for _, c := range b.Checks() {
		if c.Name == "Storage" {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return c.Run(ctx), true
		}
	}
	return health.Entry{}, false
}

func TestStorageIsOpenedForServersAndCommandsNotForEdges(t *testing.T) {
	// InMemory storage and state: no external service at all.
	s := settings(t, "Cesivi__DataProtection__KeysPath="+t.TempDir())
	for _, role := range []backends.Role{backends.Server, backends.Admin} {
		b := open(t, s, backends.Options{Role: role, NoKeyRing: true})
		if b.Storage == nil || b.Storage.Name() != "InMemory" {
			t.Fatalf("role %d: storage %v, want InMemory", role, b.Storage)
		}
		if err := createSite(t.Context(), b.Storage, "/"); err != nil {
			t.Fatalf("role %d: %v", role, err)
		}
		e, ok := storageEntry(t, b)
		if !ok || e.Status != health.Healthy || e.Data["provider"] != "InMemory" || e.Data["connected"] != true {
			t.Fatalf("role %d: Storage entry %+v (present %v)", role, e, ok)
		}
	}
	edge := open(t, s, backends.Options{Role: backends.Edge, NoKeyRing: true})
	if edge.Storage != nil {
		t.Fatal("the edge opened a storage")
	}
	if _, ok := storageEntry(t, edge); ok {
		t.Fatal("the edge reports a Storage entry it has no store for")
	}
}

// startPostgresAt starts (or restarts) a PostgreSQL on port with its
// cluster in dir.
func startPostgresAt(t *testing.T, dir string, port int) *testenv.PostgresServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := testenv.StartPostgres(ctx, testenv.PostgresOptions{Dir: dir, Port: port})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	return p
}

// failsFast checks that a storage call on a database that is down fails
// with ErrUnavailable within a few seconds, however the caller's deadline
// is set.
func failsFast(t *testing.T, s storage.Store) {
	t.Helper()
	start := time.Now()
	err := s.View(context.Background(), func(tx storage.Tx) error {
		_, err := tx.Sites().List(context.Background())
		return err
	})
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("View with the database down: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("View with the database down took %v", d)
	}
}

func waitHealthy(t *testing.T, b *backends.Backends) health.Entry {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		e, _ := storageEntry(t, b)
		if e.Status == health.Healthy {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("storage never became healthy: %+v", e)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAServerStartsWithPostgreSQLDownAndRecoversOnItsOwn: the server
// opens its storage while nothing listens on the database's port; storage
// calls fail at once with ErrUnavailable and the health entry says so;
// once PostgreSQL is up the first use applies the schema and works; after
// a stop and a restart on the same port the data is back, with no new
// Open.
func TestAServerStartsWithPostgreSQLDownAndRecoversOnItsOwn(t *testing.T) {
	dir, err := os.MkdirTemp("", "cesivi-bk-") // short: it holds the socket
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	const secret = "hunter2-Secret"
	cs := fmt.Sprintf("Host=127.0.0.1;Port=%d;Database=cesivi;Username=postgres;Password=%s;SSL Mode=Disable;Timeout=2", port, secret)
	s := settings(t, pgSettings(t, cs)...)

	start := time.Now()
	b := open(t, s, backends.Options{Role: backends.Server})
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Open took %v with the database down", d)
	}
	failsFast(t, b.Storage)
	e, _ := storageEntry(t, b)
	if e.Status != health.Unhealthy || e.Data["provider"] != "PostgreSQL" || e.Data["connected"] != false {
		t.Fatalf("Storage entry with the database down: %+v", e)
	}
	if j, _ := json.Marshal(e); strings.Contains(string(j), secret) {
		t.Fatalf("the health entry shows the password: %s", j)
	}

	pg := startPostgresAt(t, dir, port)
	if err := createSite(t.Context(), b.Storage, "/"); err != nil {
		t.Fatalf("first use after PostgreSQL came up: %v", err)
	}
	e = waitHealthy(t, b)
	if e.Data["poolMax"] == nil || e.Data["connected"] != true {
		t.Fatalf("healthy entry %+v", e)
	}
	if j, _ := json.Marshal(e); strings.Contains(string(j), secret) {
		t.Fatalf("the health entry shows the password: %s", j)
	}

	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	failsFast(t, b.Storage)
	startPostgresAt(t, dir, port)
	waitHealthy(t, b)
	err = b.Storage.View(t.Context(), func(tx storage.Tx) error {
		_, err := tx.Sites().GetByURL(t.Context(), "/")
		return err
	})
	if err != nil {
		t.Fatalf("after a restart of PostgreSQL: %v", err)
	}
}

// TestThreeServersOnAnEmptyDatabaseMigrateItOnce: each version of the
// storage schema is recorded once, and every server works.
func TestThreeServersOnAnEmptyDatabaseMigrateItOnce(t *testing.T) {
	u := testenv.Postgres(t)
	s := settings(t, pgSettings(t, npgsql(t, u))...)
	var wg sync.WaitGroup
	opened := make([]*backends.Backends, 3)
	errs := make([]error, 3)
	for i := range opened {
		wg.Go(func() {
			opened[i], errs[i] = backends.Open(t.Context(), s, backends.Options{Role: backends.Server, NoKeyRing: true})
		})
	}
	wg.Wait()
	for i, b := range opened {
		if errs[i] != nil {
			t.Fatalf("server %d: %v", i, errs[i])
		}
		t.Cleanup(func() { b.Close() })
	}
	for i, b := range opened {
		if err := createSite(t.Context(), b.Storage, fmt.Sprintf("/sites/s%d", i)); err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
	}
	conn, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var rows, versions int
	if err := conn.QueryRow(t.Context(), `SELECT count(*), count(DISTINCT "Version") FROM "SchemaMigrations" WHERE "Component" = 'storage'`).Scan(&rows, &versions); err != nil {
		t.Fatal(err)
	}
	if rows == 0 || rows != versions {
		t.Fatalf("%d migration rows for %d versions; want each version once", rows, versions)
	}
}

// TestASchemaNewerThanTheServerStopsItsStart: the server must not write
// to tables whose meaning it does not know.
func TestASchemaNewerThanTheServerStopsItsStart(t *testing.T) {
	u := testenv.Postgres(t)
	s := settings(t, pgSettings(t, npgsql(t, u))...)
	open(t, s, backends.Options{Role: backends.Server, NoKeyRing: true}) // migrates
	conn, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), `INSERT INTO "SchemaMigrations" ("Component", "Version", "Name") VALUES ('storage', 9999, 'from_the_future')`); err != nil {
		t.Fatal(err)
	}
	b, err := backends.Open(t.Context(), s, backends.Options{Role: backends.Server, NoKeyRing: true})
	if err == nil {
		b.Close()
		t.Fatal("a server started on a schema newer than it knows")
	}
	if !strings.Contains(err.Error(), "Cesivi:Storage:Provider=PostgreSQL") || !strings.Contains(err.Error(), "version 9999") {
		t.Fatalf("error %q: want it to name the storage and the version", err)
	}
	// A command that never uses the storage is not stopped by it.
	open(t, s, backends.Options{Role: backends.Admin, NoKeyRing: true})
}

func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]float64{}
	for _, f := range families {
		for _, metric := range f.GetMetric() {
			switch {
			case metric.GetGauge() != nil:
				m[f.GetName()] = metric.GetGauge().GetValue()
			case metric.GetCounter() != nil:
				m[f.GetName()] = metric.GetCounter().GetValue()
			}
		}
	}
	return m
}

// TestThePoolMetricsFollowThePool, with Maximum Pool Size=1 from the
// connection string: a held connection shows as acquired, a second
// acquire cannot have one and gives up, a release makes it idle.
func TestThePoolMetricsFollowThePool(t *testing.T) {
	u := testenv.Postgres(t)
	s := settings(t, pgSettings(t, npgsql(t, u, "Maximum Pool Size=1"))...)
	reg := prometheus.NewRegistry()
	b := open(t, s, backends.Options{Role: backends.Server, Registerer: reg})
	ctx := t.Context()
	m := gather(t, reg)
	if m["cesivi_db_pool_max_connections"] != 1 {
		t.Fatalf("max connections %v, want 1 (Maximum Pool Size)", m["cesivi_db_pool_max_connections"])
	}
	// The schema's migration at Open found the pool empty and waited for
	// its first connection.
	if m["cesivi_db_pool_empty_acquires_total"] < 1 || m["cesivi_db_pool_new_connections_total"] != 1 {
		t.Fatalf("after Open: %v", m)
	}
	conn, err := b.Postgres.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	held := gather(t, reg)
	if held["cesivi_db_pool_acquired_connections"] != 1 || held["cesivi_db_pool_acquires_total"] <= m["cesivi_db_pool_acquires_total"] {
		t.Fatalf("holding a connection: %v", held)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err = b.Postgres.Acquire(waitCtx)
	cancel()
	if err == nil {
		t.Fatal("a second connection from a pool of one")
	}
	if got := gather(t, reg); got["cesivi_db_pool_canceled_acquires_total"] != held["cesivi_db_pool_canceled_acquires_total"]+1 {
		t.Fatalf("after an acquire that gave up: %v", got)
	}
	conn.Release()
	if got := gather(t, reg); got["cesivi_db_pool_acquired_connections"] != 0 || got["cesivi_db_pool_idle_connections"] != 1 ||
		got["cesivi_db_pool_total_connections"] != 1 || got["cesivi_db_pool_acquire_duration_seconds_total"] <= 0 {
		t.Fatalf("after the release: %v", got)
	}
}

// TestPoolingAndTimeoutReachThePool: Pooling=false closes each connection
// after use; Timeout bounds a connection attempt to a server that never
// answers.
func TestPoolingAndTimeoutReachThePool(t *testing.T) {
	u := testenv.Postgres(t)
	b := open(t, settings(t, pgSettings(t, npgsql(t, u, "Pooling=false"))...), backends.Options{Role: backends.Server})
	if err := createSite(t.Context(), b.Storage, "/"); err != nil {
		t.Fatal(err)
	}
	// pgxpool destroys a refused connection in the background.
	deadline := time.Now().Add(10 * time.Second)
	for b.Postgres.Stat().TotalConns() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st := b.Postgres.Stat(); st.TotalConns() != 0 || st.NewConnsCount() < 2 {
		t.Fatalf("Pooling=false: %d connections kept, %d opened; want none kept, one per use", st.TotalConns(), st.NewConnsCount())
	}

	// A listener that accepts and never speaks: the connection attempt
	// waits for PostgreSQL's answer until Timeout.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	silent := settings(t, pgSettings(t, fmt.Sprintf("Host=127.0.0.1;Port=%d;Database=d;Username=u;SSL Mode=Disable;Timeout=1", port))...)
	start := time.Now()
	b = open(t, silent, backends.Options{Role: backends.Server, MigrateWait: 30 * time.Second})
	if d := time.Since(start); d < time.Second || d > 5*time.Second {
		t.Fatalf("Open took %v; want the 1 s connect timeout to end its migration attempt", d)
	}
	start = time.Now()
	if err := b.Storage.Ping(context.Background()); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("Ping: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Ping took %v with Timeout=1", d)
	}
}

// TestCommandTimeoutBoundsEveryStorageStatement: with Command Timeout=1
// a statement that waits on a lock held elsewhere is cancelled after a
// second (throttled), not after the 5 s default.
func TestCommandTimeoutBoundsEveryStorageStatement(t *testing.T) {
	u := testenv.Postgres(t)
	b := open(t, settings(t, pgSettings(t, npgsql(t, u, "Command Timeout=1"))...), backends.Options{Role: backends.Server})
	ctx := t.Context()
	if err := createSite(ctx, b.Storage, "/"); err != nil {
		t.Fatal(err)
	}
	var siteID string
	if err := b.Storage.View(ctx, func(tx storage.Tx) error {
		site, err := tx.Sites().GetByURL(ctx, "/")
		if err == nil {
			siteID = site.ID
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Another session holds the site row, which creating a user locks.
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `SELECT 1 FROM "Sites" FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = b.Storage.Update(ctx, func(tx storage.Tx) error {
		_, err := tx.Users().Ensure(ctx, siteID, "i:0#.f|membership|a@example.com", "A", "a@example.com")
		return err
	})
	d := time.Since(start)
	if !errors.Is(err, storage.ErrThrottled) {
		t.Fatalf("Ensure behind a held lock: %v, want ErrThrottled", err)
	}
	if d < time.Second || d > 4*time.Second {
		t.Fatalf("cancelled after %v; want about the 1 s Command Timeout", d)
	}
}
