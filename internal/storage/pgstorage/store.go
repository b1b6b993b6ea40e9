package pgstorage

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cesivi/cesivi/internal/storage"
)

//go:embed migrations/*.up.sql
var migrations embed.FS

// component names this package's migrations in "SchemaMigrations".
const component = "storage"

// DefaultStatementTimeout bounds every statement of a transaction.
const DefaultStatementTimeout = 5 * time.Second

// Options configure the store. The zero value is useful.
type Options struct {
	// StatementTimeout bounds each statement (default 5 s; negative: none).
	// A query that runs longer is ErrThrottled.
	StatementTimeout time.Duration
	// SkipMigrate leaves the schema alone in New (when a migrate command
	// applies it).
	SkipMigrate bool
	// Migrate says when the schema is applied (default: in New, which
	// fails if it cannot); see MigrateMode. Ignored with SkipMigrate.
	Migrate MigrateMode
	// Now is the clock (default storage.Now).
	Now func() time.Time
	// Log receives index maintenance failures (default: discarded).
	Log *slog.Logger
}

// Store is the PostgreSQL provider.
type Store struct {
	pool    *pgxpool.Pool
	timeout string // for set_config, "" for none
	now     func() time.Time
	log     *slog.Logger
	// gate applies the schema before the first use when New did not;
	// nil once New applied it (or with SkipMigrate).
	gate *migrationGate
	// fields holds the fields Locate decoded, checked against the
	// database on every use.
	fields fieldCache
}

var _ storage.Store = (*Store)(nil)

// Migrate applies the storage schema; safe to run from several servers at
// once. See ApplyMigrations.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := ApplyMigrations(ctx, pool)
	return err
}

// New returns a store over pool (which stays the caller's), migrating the
// schema first unless opts.SkipMigrate, or later as opts.Migrate says.
func New(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Store, error) {
	if opts.StatementTimeout == 0 {
		opts.StatementTimeout = DefaultStatementTimeout
	}
	if opts.Now == nil {
		opts.Now = storage.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Store{pool: pool, now: opts.Now, log: opts.Log}
	if opts.StatementTimeout > 0 {
		s.timeout = strconv.FormatInt(max(opts.StatementTimeout.Milliseconds(), 1), 10)
	}
	if opts.SkipMigrate {
		return s, nil
	}
	if opts.Migrate != MigrateOnFirstUse {
		err := Migrate(ctx, pool)
		if err == nil {
			return s, nil
		}
		if opts.Migrate != MigrateInNewOrFirstUse || !errors.Is(err, storage.ErrUnavailable) {
			return nil, err
		}
		opts.Log.Warn("the database does not answer: the storage schema will be applied at first use", "error", err)
	}
	s.gate = newMigrationGate(pool, opts.Log)
	return s, nil
}

// Name is "PostgreSQL".
func (s *Store) Name() string { return "PostgreSQL" }

// Ping asks the database; a store whose schema is still to be applied
// applies it first, so a server becomes ready (and says why not) through
// its health checks before any request needs the storage.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.gate.ready(ctx); err != nil {
		return err
	}
	return interpretError(s.pool.Ping(ctx))
}

// Close stops a deferred migration in flight; the pool is the caller's.
func (s *Store) Close() { s.gate.close() }

// Update runs fn in one read-committed transaction; concurrency is
// handled by row locks (the list's counter row, the item row, the site
// row for users) and unique indexes.
func (s *Store) Update(ctx context.Context, fn func(storage.Tx) error) error {
	t, err := s.run(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, fn)
	if err != nil {
		return err
	}
	if t.indexes {
		s.syncIndexes(ctx)
	}
	return nil
}

// View runs fn in a read-only repeatable-read transaction: one snapshot.
func (s *Store) View(ctx context.Context, fn func(storage.Tx) error) error {
	_, err := s.run(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
	return err
}

func (s *Store) run(ctx context.Context, opts pgx.TxOptions, fn func(storage.Tx) error) (*tx, error) {
	if err := s.gate.ready(ctx); err != nil {
		return nil, err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, interpretError(err)
	}
	ses := &session{conn: conn, begin: []string{beginSQL(opts)}}
	if s.timeout != "" {
		ses.begin = append(ses.begin, "SET LOCAL statement_timeout = "+s.timeout)
	}
	readOnly := opts.AccessMode == pgx.ReadOnly
	t := &tx{s: s, tx: ses, now: s.now(), readOnly: readOnly}
	ended := false
	// Whatever ends fn (an error, a panic, runtime.Goexit from t.Fatal),
	// the transaction is rolled back and its connection released.
	defer func() {
		t.done = true
		if !ended {
			ses.rollback(ctx)
		}
	}()
	if err := fn(t); err != nil {
		return nil, err
	}
	ended = true
	if err := ses.commit(ctx, readOnly); err != nil {
		return nil, interpretError(err)
	}
	return t, nil
}

// beginSQL is the BEGIN statement for opts' isolation and access mode.
func beginSQL(opts pgx.TxOptions) string {
	b := "BEGIN"
	if opts.IsoLevel != "" {
		b += " ISOLATION LEVEL " + string(opts.IsoLevel)
	}
	if opts.AccessMode != "" {
		b += " " + string(opts.AccessMode)
	}
	return b
}

// tx is one transaction; it implements every aggregate.
type tx struct {
	s        *Store
	tx       querier
	now      time.Time
	readOnly bool
	done     bool
	// schemas caches each list's fields read in this transaction.
	schemas map[string]*storage.Schema
	// libraries caches the lists the Files aggregate placed in their
	// site collection (what never changes of a list: its id, web, root
	// folder and base type).
	libraries map[string]*library
	// prefetched is the item Locate read for Items.Get, used once.
	prefetched *prefetched
	// prefetchedUser is the user Locate read for the next lookup by
	// login, used once; a change to users drops it.
	prefetchedUser *prefetchedUser
	// indexes: a field's Indexed flag may have changed, or a field gone;
	// the expression indexes are brought in line after commit.
	indexes bool
}

func (t *tx) Sites() storage.Sites   { return sites{t} }
func (t *tx) Webs() storage.Webs     { return webs{t} }
func (t *tx) Lists() storage.Lists   { return lists{t} }
func (t *tx) Fields() storage.Fields { return fields{t} }
func (t *tx) Views() storage.Views   { return views{t} }
func (t *tx) Items() storage.Items   { return items{t} }
func (t *tx) Users() storage.Users   { return users{t} }

// check refuses use after the transaction ended, and writes in View.
func (t *tx) check(write bool) error {
	return storage.CheckTx(t.done, t.readOnly, write)
}

func (t *tx) exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, sql, args...)
	return tag.RowsAffected(), interpretError(err)
}

// one reads one row into a struct by column name; no row is notFound.
func one[T any](ctx context.Context, t *tx, notFound error, sql string, args ...any) (*T, error) {
	rows, _ := t.tx.Query(ctx, sql, args...)
	v, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[T])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound
	}
	return v, interpretError(err)
}

// all reads every row into structs by column name.
func all[T any](ctx context.Context, t *tx, sql string, args ...any) ([]*T, error) {
	rows, _ := t.tx.Query(ctx, sql, args...)
	vs, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[T])
	if vs == nil {
		vs = []*T{}
	}
	return vs, interpretError(err)
}

// constraints name what a unique index protects, for ErrConflict.
var constraints = map[string]string{
	"UX_Sites_Url":                   "a site exists at this URL",
	"UX_Webs_ServerRelativeUrl":      "a web exists at this URL",
	"UX_Lists_WebId_Title":           "a list with this title exists in the web",
	"UX_Lists_WebId_UrlName":         "a list with this URL exists in the web",
	"UX_Fields_ListId_InternalName":  "the list has a field with this internal name",
	"UX_Views_ListId_Title":          "the list has a view with this title",
	"UX_Users_SiteId_LoginName":      "the site has a user with this login name",
	"UX_RoleDefinitions_SiteId_Name": "the site has a permission level with this name",
	"UX_SiteGroups_SiteId_Title":     "the site has a group with this title",
}

// interpretError maps database errors onto the contract's sentinels; it
// is the only place that knows PostgreSQL's error codes. Errors already
// carrying a sentinel pass unchanged.
func interpretError(err error) error {
	if err == nil {
		return nil
	}
	for _, s := range []error{storage.ErrNotFound, storage.ErrConflict, storage.ErrInvalid, storage.ErrUnavailable, storage.ErrThrottled} {
		if errors.Is(err, s) {
			return err
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch class := pe.Code[:2]; {
		case pe.Code == "23505" && pe.ConstraintName == "IX_Files_Url":
			return storage.NameTaken()
		case pe.Code == "23505":
			if what, ok := constraints[pe.ConstraintName]; ok {
				return storage.Conflict("%s", what)
			}
			return storage.Conflict("a unique value is taken")
		case pe.Code == "23503":
			return storage.NotFound("the parent record does not exist")
		case pe.Code == "57014" && pe.Message == "canceling statement due to statement timeout":
			return fmt.Errorf("%w: the query took longer than the statement timeout; filter or order by an indexed field", storage.ErrThrottled)
		case pe.Code == "55P03":
			return fmt.Errorf("%w: a lock was not granted in time", storage.ErrThrottled)
		case pe.Code == "25006":
			return storage.Invalid("a read-only transaction cannot write")
		case class == "22":
			return storage.Invalid("a value does not fit its column (%s)", pe.Code)
		case pe.Code == "40001", pe.Code == "40P01", pe.Code == "57014", class == "08", class == "53", class == "57", class == "58":
			return fmt.Errorf("%w: postgres %s: %s", storage.ErrUnavailable, pe.Code, pe.Message)
		}
		return fmt.Errorf("storage: postgres %s: %w", pe.Code, err)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.NotFound("no such record")
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		pgconn.SafeToRetry(err) || pgconn.Timeout(err) || strings.Contains(err.Error(), "closed pool") || strings.Contains(err.Error(), "conn closed") {
		return fmt.Errorf("%w: %w", storage.ErrUnavailable, err)
	}
	return err
}
