package pgstorage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cesivi/cesivi/internal/pgmigrate"
	"github.com/cesivi/cesivi/internal/storage"
)

// MigrateMode says when New applies the schema.
type MigrateMode int

const (
	// MigrateInNew applies the schema in New, which fails if it cannot
	// (the zero value).
	MigrateInNew MigrateMode = iota
	// MigrateInNewOrFirstUse tries in New; when the database does not
	// answer (the attempt fails with ErrUnavailable: refused, timed out,
	// starting up), New returns the store anyway and the schema is applied
	// before its first use. Any other failure — a migration's SQL error, a
	// schema newer than this binary — is still New's error. For servers,
	// which must start while PostgreSQL is down and recover on their own.
	MigrateInNewOrFirstUse
	// MigrateOnFirstUse never contacts the database in New: the first use
	// applies the schema. For commands that may never touch the storage.
	MigrateOnFirstUse
)

// DefaultFirstUseMigrateTimeout bounds one deferred attempt. It is not the
// caller's deadline: the attempt serves every caller waiting for it, and a
// request that gives up must not abort a migration half way for the rest.
const DefaultFirstUseMigrateTimeout = 5 * time.Minute

// ErrSchemaNewer: the database's storage schema has a version this binary
// does not know: a newer cesivi-server migrated it. This one must not
// write to tables whose meaning it does not know.
var ErrSchemaNewer = errors.New("pgstorage: the storage schema is newer than this cesivi-server")

// MigrationResult is what one run of the migrations found and did.
type MigrationResult struct {
	// Applied are the versions this run applied, in order; none when the
	// schema was current (or another server applied them first).
	Applied []int
	// Version is the schema's version after the run.
	Version int
	// Latest is the newest version this binary carries.
	Latest int
}

// ApplyMigrations brings the storage schema up to date and reports what
// it did. Several servers may run it at once (pgmigrate's advisory lock
// applies each migration once). A schema newer than Latest is
// ErrSchemaNewer; connection failures are ErrUnavailable.
func ApplyMigrations(ctx context.Context, pool *pgxpool.Pool) (*MigrationResult, error) {
	ms, err := pgmigrate.Load(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	r := &MigrationResult{}
	if len(ms) > 0 {
		r.Latest = ms[len(ms)-1].Version
	}
	if r.Applied, err = pgmigrate.Apply(ctx, pool, component, ms); err != nil {
		return nil, interpretError(err)
	}
	// Read after applying, not before: a newer server may migrate between
	// a check and the run, and the run then applies nothing.
	if err := pool.QueryRow(ctx, `SELECT COALESCE(max("Version"), 0) FROM "SchemaMigrations" WHERE "Component" = $1`,
		component).Scan(&r.Version); err != nil {
		return nil, interpretError(err)
	}
	if r.Version > r.Latest {
		return nil, fmt.Errorf("%w: the database is at version %d, this binary knows versions up to %d; run a cesivi-server at least as new as the one that migrated it",
			ErrSchemaNewer, r.Version, r.Latest)
	}
	return r, nil
}

// migrationGate applies the schema before a store's first use when New
// could not. One attempt runs at a time; callers arriving during an
// attempt share its outcome instead of starting another, and after a
// failure the next use tries again, so the store recovers on its own
// when PostgreSQL is back.
type migrationGate struct {
	apply   func(context.Context) (*MigrationResult, error)
	log     *slog.Logger
	timeout time.Duration

	done atomic.Bool
	mu   sync.Mutex
	// current is the attempt in flight, nil when none.
	current *attempt
	// lastLogged keeps a lasting failure (a newer schema) from being
	// logged at every health check.
	lastLogged string
	// stop cancels an attempt when the store closes; running counts
	// attempts for Close to wait on.
	stop    context.Context
	cancel  context.CancelFunc
	running sync.WaitGroup
	closed  bool
}

type attempt struct {
	finished chan struct{}
	err      error
	// waiters counts the callers sharing it (under the gate's mu).
	waiters int
}

func newMigrationGate(pool *pgxpool.Pool, log *slog.Logger) *migrationGate {
	g := &migrationGate{log: log, timeout: DefaultFirstUseMigrateTimeout,
		apply: func(ctx context.Context) (*MigrationResult, error) { return ApplyMigrations(ctx, pool) }}
	g.stop, g.cancel = context.WithCancel(context.Background())
	return g
}

// ready returns once the schema is applied, or with the failure of the
// attempt the caller waited for (always ErrUnavailable: no request can be
// served until the schema is in place). A nil gate is always ready.
func (g *migrationGate) ready(ctx context.Context) error {
	if g == nil || g.done.Load() {
		return nil
	}
	g.mu.Lock()
	if g.done.Load() {
		g.mu.Unlock()
		return nil
	}
	if g.closed {
		g.mu.Unlock()
		return fmt.Errorf("%w: the store is closed", storage.ErrUnavailable)
	}
	a := g.current
	if a == nil {
		a = &attempt{finished: make(chan struct{})}
		g.current = a
		g.running.Add(1)
		go g.run(a)
	}
	a.waiters++
	g.mu.Unlock()
	select {
	case <-a.finished:
		return a.err
	case <-ctx.Done():
		return fmt.Errorf("%w: waiting for the storage schema: %w", storage.ErrUnavailable, ctx.Err())
	}
}

func (g *migrationGate) run(a *attempt) {
	defer g.running.Done()
	ctx, cancel := context.WithTimeout(g.stop, g.timeout)
	defer cancel()
	r, err := g.apply(ctx)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.current = nil
	switch {
	case err == nil:
		g.done.Store(true)
		g.log.Info("storage schema applied on first use", "applied", r.Applied, "version", r.Version, "waiting", a.waiters)
	case errors.Is(err, storage.ErrUnavailable):
		// The outage itself is reported by the health checks.
		g.log.Debug("storage schema not applied yet: the database does not answer", "error", err)
	default:
		if msg := err.Error(); msg != g.lastLogged {
			g.lastLogged = msg
			g.log.Error("storage schema cannot be applied; every storage request fails until this is fixed", "error", err)
		}
		err = fmt.Errorf("%w: the storage schema cannot be applied: %w", storage.ErrUnavailable, err)
	}
	a.err = err
	close(a.finished)
}

// close cancels an attempt in flight and waits for it, so that the pool
// can be closed after the store.
func (g *migrationGate) close() {
	if g == nil {
		return
	}
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.cancel()
	g.running.Wait()
}
