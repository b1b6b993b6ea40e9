package backends

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/connstr"
	"github.com/cesivi/cesivi/internal/storage/memstorage"
	"github.com/cesivi/cesivi/internal/storage/pgstorage"
)

// openStorage opens the content store of Cesivi:Storage: InMemory, or
// PostgreSQL over the process's pool. A server tries to apply the schema
// now, bounded by MigrateWait, so that a schema newer than this binary or
// a migration that fails stops the start with its reason; a database that
// does not answer must not (the server reports it on /health/ready and
// the store migrates at its first use once the database is back).
// Commands never migrate here: only at first use, if they use the store.
func (b *Backends) openStorage(ctx context.Context, o Options, pg *connstr.PostgresOptions) error {
	switch p := b.Settings.Storage.Provider; p {
	case config.ProviderInMemory, "":
		b.Storage = memstorage.New(memstorage.Options{})
	case config.ProviderPostgreSQL:
		log := slog.New(slog.DiscardHandler)
		if o.Logs != nil {
			log = o.Logs.Logger(StorageLogCategory)
		}
		opt := pgstorage.Options{StatementTimeout: statementTimeout(pg), Log: log, Migrate: pgstorage.MigrateInNewOrFirstUse}
		if o.Role == Admin {
			opt.Migrate = pgstorage.MigrateOnFirstUse
		}
		wait := o.MigrateWait
		if wait <= 0 {
			wait = DefaultMigrateWait
		}
		ctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		store, err := pgstorage.New(ctx, b.Postgres, opt)
		if err != nil {
			return fmt.Errorf("applying the schema: %w", err)
		}
		b.Storage = store
	default:
		return fmt.Errorf("want InMemory or PostgreSQL, not %q", p)
	}
	b.onClose(func() error { b.Storage.Close(); return nil })
	return nil
}

// statementTimeout is the storage's bound on each statement, from the
// connection string: Npgsql's Command Timeout (seconds; 0 is no limit, as
// in Npgsql); else, for a libpq or URL string that sets the server's
// statement_timeout itself, that setting (the store then sets none of its
// own, which would override it); else pgstorage's default (0 here).
// Npgsql's default of 30 s is not taken on purpose: a request waiting for
// a scan holds a pool connection, and the storage answers a query past its
// timeout with SharePoint's throttling error instead.
func statementTimeout(pg *connstr.PostgresOptions) time.Duration {
	switch {
	case pg.HasCommandTimeout && pg.CommandTimeout == 0:
		return -1
	case pg.HasCommandTimeout:
		return pg.CommandTimeout
	case pg.Pool.ConnConfig.RuntimeParams["statement_timeout"] != "":
		return -1
	}
	return 0
}
