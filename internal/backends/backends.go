// Package backends opens, once per process, everything a Cesivi process
// talks to outside itself: the one Redis client, the one PostgreSQL pool,
// the distributed state provider over them, the SharePoint storage
// provider and the blob store of file content (servers and commands) and
// the key ring. The app server, the
// edge and every administration command open their backends here, so a
// process holds one client and one pool whatever uses them, and every
// member of a farm reads the same keys and the same state the same way.
//
// Clients connect lazily and reconnect on their own: a process starts
// while Redis or PostgreSQL is down and reports it through Checks. The
// storage schema follows: a server tries to apply it at start, and if the
// database does not answer, the store applies it before its first use
// (see pgstorage.MigrateInNewOrFirstUse); a schema newer than the binary
// or a migration that fails stops the start. The key ring is the
// exception: it must load its keys before Open returns, since a process
// that cannot verify what its peers mint must not take traffic.
package backends

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/blobstore"
	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/connstr"
	"github.com/cesivi/cesivi/internal/logging"
	"github.com/cesivi/cesivi/internal/redisconn"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/memstate"
	"github.com/cesivi/cesivi/internal/state/redisstate"
	"github.com/cesivi/cesivi/internal/storage"
	"github.com/cesivi/cesivi/keyring"
)

// Logger categories of what Open opens; the seed names the state's three.
const (
	SessionLogCategory     = "Cesivi.Server.Services.DistributedSessionStateStore"
	UserContextLogCategory = "Cesivi.Server.Authorization.DistributedUserContextCache"
	TokenLogCategory       = "Cesivi.Server.Authentication.DistributedTokenCache"
	KeyRingLogCategory     = "Cesivi.Server.DataProtection"
	// StorageLogCategory is the storage provider's (schema migrations,
	// index maintenance); the seed names none.
	StorageLogCategory = "Cesivi.Server.Storage"
	// RedisLogCategory is the Redis client's and the Redis server's
	// settings'.
	RedisLogCategory = "Cesivi.Server.Redis"
)

// Role is what the process is; it decides which metrics are registered
// (each only where it can move).
type Role int

const (
	// Server is cesivi-server: it serves permissions (the user-context
	// cache) and never validates bearer tokens.
	Server Role = iota
	// Edge is cesivi-edge: it validates bearer tokens (the token cache)
	// and never reads user contexts.
	Edge
	// Admin is a short-lived administration command. Its storage applies
	// the schema at first use only, so a command that never reads content
	// never touches the storage database.
	Admin
)

// Options are what a caller of Open chooses; the rest comes from the
// settings.
type Options struct {
	Role Role
	// Logs makes the category loggers; nil discards every log.
	Logs *logging.Factory
	// Registerer receives the metrics of the state, the key ring and the
	// PostgreSQL pool; nil registers nothing.
	Registerer prometheus.Registerer
	// KeyRingReadOnly opens a ring that never creates a key (commands
	// that only read); KeyRingNoBackground one that never refreshes on
	// its own (one-shot commands).
	KeyRingReadOnly, KeyRingNoBackground bool
	// NoKeyRing leaves the key ring closed, for commands that neither
	// mint nor verify (a key ring that cannot open must not stop them).
	NoKeyRing bool
	// SubscribeWait bounds the wait for the state's first pub/sub
	// subscription (Redis only; after it the process starts anyway and the
	// subscription keeps retrying). Default 3 s.
	SubscribeWait time.Duration
	// MigrateWait bounds a server's attempt to apply the storage schema
	// at start (PostgreSQL only); a database that has not answered by then
	// gets it at the store's first use. Default 10 s.
	MigrateWait time.Duration
}

// DefaultSubscribeWait is Options.SubscribeWait's default.
const DefaultSubscribeWait = 3 * time.Second

// DefaultMigrateWait is Options.MigrateWait's default.
const DefaultMigrateWait = 10 * time.Second

// Backends are a process's open backends. Close releases all of them.
type Backends struct {
	// Settings they were opened from.
	Settings *config.Settings
	// Redis is the process's one Redis client; nil unless
	// Cesivi:DistributedState:Provider is Redis.
	Redis redis.UniversalClient
	// Postgres is the process's one pool; nil unless the storage or the
	// key ring is PostgreSQL.
	Postgres *pgxpool.Pool
	// State is the distributed state provider.
	State *state.Provider
	// Storage is the SharePoint content store of Cesivi:Storage (InMemory
	// or PostgreSQL over Postgres); nil on the edge, which serves no
	// content. Calls fail with storage.ErrUnavailable while the database
	// does not answer.
	Storage storage.Store
	// Files is the blob store of Cesivi:Storage:Files, the content of
	// document libraries' files (InMemory, Database over Postgres, or
	// SharedDirectory); nil where Storage is.
	Files blobstore.Store
	// KeyRing is the farm's key ring, its keys loaded (nil with
	// Options.NoKeyRing).
	KeyRing *keyring.Ring

	closers []func() error
}

// Open opens the backends s configures. ctx bounds the key ring's first
// load. s must have passed Validate.
func Open(ctx context.Context, s *config.Settings, o Options) (*Backends, error) {
	b := &Backends{Settings: s}
	if err := b.open(ctx, o); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

func (b *Backends) open(ctx context.Context, o Options) (err error) {
	s := b.Settings
	if s.DistributedState.Provider == config.ProviderRedis {
		if b.Redis, err = redisconn.New(s.DistributedState); err != nil {
			return err
		}
		b.onClose(b.Redis.Close)
		if o.Logs != nil && o.Role != Admin {
			stop := make(chan struct{})
			b.onClose(func() error { close(stop); return nil })
			go reportRedisSettings(b.Redis, s.Farm.Enabled, o.Logs.Logger(RedisLogCategory), stop)
		}
		if o.Registerer != nil {
			if err := o.Registerer.Register(newRedisCollector(b.Redis)); err != nil {
				return fmt.Errorf("registering the Redis server's metrics: %w", err)
			}
		}
	}
	var pgOptions *connstr.PostgresOptions
	if needsPostgres(s) {
		if pgOptions, err = connstr.ParsePostgresOptions(s.Storage.ConnectionString); err != nil {
			return &config.Error{Key: "Cesivi:Storage:ConnectionString", Problem: err.Error()}
		}
		if b.Postgres, err = pgxpool.NewWithConfig(context.Background(), pgOptions.Pool); err != nil {
			return fmt.Errorf("opening the PostgreSQL pool: %w", err)
		}
		b.onClose(func() error { b.Postgres.Close(); return nil })
		if o.Registerer != nil {
			if err := o.Registerer.Register(poolCollector{b.Postgres}); err != nil {
				return fmt.Errorf("registering the PostgreSQL pool's metrics: %w", err)
			}
		}
	}
	if err := b.openState(o); err != nil {
		return fmt.Errorf("distributed state (Cesivi:DistributedState:Provider=%s): %w", s.DistributedState.Provider, err)
	}
	if o.Role != Edge {
		if err := b.openStorage(ctx, o, pgOptions); err != nil {
			return fmt.Errorf("storage (Cesivi:Storage:Provider=%s): %w", s.Storage.Provider, err)
		}
		if err := b.openFiles(o); err != nil {
			return fmt.Errorf("file content (Cesivi:Storage:Files:Provider=%s): %w", s.Storage.Files.Provider, err)
		}
	}
	if o.NoKeyRing {
		return nil
	}
	if err := b.openKeyRing(ctx, o); err != nil {
		return fmt.Errorf("key ring (Cesivi:DataProtection:Provider=%s): %w", s.DataProtection.Provider, err)
	}
	return nil
}

// needsPostgres: the storage is PostgreSQL, or the key ring lives in the
// storage database.
func needsPostgres(s *config.Settings) bool {
	return s.Storage.Provider == config.ProviderPostgreSQL || s.DataProtection.Provider == config.KeyRingPostgreSql
}

func (b *Backends) openState(o Options) error {
	opt := state.Options{Registerer: o.Registerer}
	switch o.Role {
	case Server:
		opt.Unused = state.TokenCacheSet
	case Edge:
		opt.Unused = state.UserContextCacheSet
	}
	if o.Logs != nil {
		opt.SessionLog = o.Logs.Logger(SessionLogCategory)
		opt.CacheLog = o.Logs.Logger(UserContextLogCategory)
		opt.TokenLog = o.Logs.Logger(TokenLogCategory)
	}
	var err error
	switch p := b.Settings.DistributedState.Provider; p {
	case config.ProviderInMemory, "":
		b.State, err = memstate.New(opt)
	case config.ProviderRedis:
		wait := o.SubscribeWait
		if wait <= 0 {
			wait = DefaultSubscribeWait
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		b.State, err = redisstate.New(ctx, b.Redis, b.Settings.DistributedState.KeyPrefix, opt)
	default:
		err = fmt.Errorf("want InMemory or Redis, not %q", p)
	}
	if err != nil {
		return err
	}
	b.onClose(b.State.Close)
	return nil
}

func (b *Backends) onClose(f func() error) { b.closers = append(b.closers, f) }

// Close releases everything Open opened, the last opened first. Safe to
// call more than once.
func (b *Backends) Close() error {
	var errs []error
	for i := len(b.closers) - 1; i >= 0; i-- {
		if err := b.closers[i](); err != nil && !errors.Is(err, redis.ErrClosed) {
			errs = append(errs, err)
		}
	}
	b.closers = nil
	return errors.Join(errs...)
}
