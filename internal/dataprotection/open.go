// Package dataprotection opens the key ring a configuration names
// (Cesivi:DataProtection), with its store, change notices and master key.
// The app server, its administration commands and the edge all open the
// ring through here, so every member of a farm reads the same keys the
// same way.
package dataprotection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/connstr"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/redisstate"
	"github.com/cesivi/cesivi/keyring"
	"github.com/cesivi/cesivi/keyring/dirstore"
	"github.com/cesivi/cesivi/keyring/pgstore"
	"github.com/cesivi/cesivi/keyring/redisstore"
)

// Options are what a caller of Open chooses; the rest comes
// from the configuration.
type Options struct {
	Logger       *slog.Logger
	Registerer   prometheus.Registerer
	ReadOnly     bool
	NoBackground bool
}

// Open opens the key ring configured in Cesivi:DataProtection: its
// store (PostgreSql: the storage database; Redis: the distributed state
// server; SharedDirectory and FileSystem: KeysPath), change notices over
// Redis pub/sub whenever the distributed state is Redis, and the master key.
// The returned function closes the ring and its connections.
func Open(ctx context.Context, s *config.Settings, o Options) (*keyring.Ring, func(), error) {
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	master, err := keyring.ParseMasterKey(s.DataProtection.MasterKey)
	if err != nil {
		return nil, nil, fmt.Errorf("Cesivi:DataProtection:MasterKey: %w", err)
	}
	var rdb redis.UniversalClient
	if s.DistributedState.Provider == config.ProviderRedis {
		ds := s.DistributedState
		client, _, err := redisstate.NewClientTLS(ds.ConnectionString,
			redisstate.TLSFiles{CAFile: ds.TlsCaFile, CertFile: ds.TlsCertFile, KeyFile: ds.TlsKeyFile})
		if err != nil {
			return nil, nil, fmt.Errorf("Cesivi:DistributedState:ConnectionString: %w", err)
		}
		rdb = client
		closers = append(closers, func() { rdb.Close() })
	}
	var store keyring.Store
	var notifier keyring.Notifier
	redisOpts := redisstore.Options{Prefix: s.DistributedState.KeyPrefix}
	switch s.DataProtection.Provider {
	case config.KeyRingPostgreSql:
		cfg, err := connstr.ParsePostgres(s.Storage.ConnectionString)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("Cesivi:Storage:ConnectionString: %w", err)
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("key ring database: %w", err)
		}
		closers = append(closers, pool.Close)
		if store, err = pgstore.New(ctx, pool); err != nil {
			closeAll()
			return nil, nil, err
		}
	case config.KeyRingRedis:
		if rdb == nil {
			return nil, nil, errors.New("the Redis key ring needs Cesivi:DistributedState:Provider=Redis")
		}
		store = redisstore.New(rdb, redisOpts)
	case config.KeyRingSharedDirectory, config.KeyRingFileSystem:
		dir := s.DataProtection.KeysPath
		if strings.TrimSpace(dir) == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				closeAll()
				return nil, nil, errors.New("set Cesivi:DataProtection:KeysPath (no home directory for the default)")
			}
			dir = filepath.Join(home, ".cesivi", "DataProtection-Keys")
		}
		if store, err = dirstore.New(dir); err != nil {
			closeAll()
			return nil, nil, err
		}
	default:
		closeAll()
		return nil, nil, fmt.Errorf("Cesivi:DataProtection:Provider=%s is not supported", s.DataProtection.Provider)
	}
	if rdb != nil {
		// Change notices travel on the farm's pub/sub facade, which
		// reconnects on its own and reports every reset as a change.
		notifier = state.ChangeNotices{
			PubSub:  redisstate.NewPubSub(rdb, s.DistributedState.KeyPrefix),
			Channel: redisstore.DefaultChannel,
		}
	}
	ring, err := keyring.New(ctx, keyring.Options{
		Store: store, Notifier: notifier, MasterKey: master, Logger: o.Logger, Registerer: o.Registerer,
		ReadOnly: o.ReadOnly, NoBackground: o.NoBackground,
	})
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return ring, func() { ring.Close(); closeAll() }, nil
}
