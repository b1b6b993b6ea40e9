package backends

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/keyring"
	"github.com/cesivi/cesivi/keyring/dirstore"
	"github.com/cesivi/cesivi/keyring/pgstore"
	"github.com/cesivi/cesivi/keyring/redisstore"
)

// openKeyRing opens the key ring of Cesivi:DataProtection over the
// backends already open: its store (PostgreSql: the storage database;
// Redis: the distributed state's server; SharedDirectory and FileSystem:
// KeysPath), change notices on the state's pub/sub whenever the state is
// Redis (so a revocation reaches every process within a second), and the
// master key.
func (b *Backends) openKeyRing(ctx context.Context, o Options) error {
	s := b.Settings
	master, err := keyring.ParseMasterKey(s.DataProtection.MasterKey)
	if err != nil {
		return &config.Error{Key: "Cesivi:DataProtection:MasterKey", Problem: err.Error()}
	}
	var store keyring.Store
	switch s.DataProtection.Provider {
	case config.KeyRingPostgreSql:
		if store, err = pgstore.New(ctx, b.Postgres); err != nil {
			return err
		}
	case config.KeyRingRedis:
		if b.Redis == nil {
			return errors.New("the Redis key ring needs Cesivi:DistributedState:Provider=Redis")
		}
		store = redisstore.New(b.Redis, redisstore.Options{Prefix: s.DistributedState.KeyPrefix})
	case config.KeyRingSharedDirectory, config.KeyRingFileSystem:
		dir := s.DataProtection.KeysPath
		if strings.TrimSpace(dir) == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return errors.New("set Cesivi:DataProtection:KeysPath (no home directory for the default)")
			}
			dir = filepath.Join(home, ".cesivi", "DataProtection-Keys")
		}
		if store, err = dirstore.New(dir); err != nil {
			return err
		}
	default:
		return fmt.Errorf("Cesivi:DataProtection:Provider=%s is not supported", s.DataProtection.Provider)
	}
	var notifier keyring.Notifier
	if b.Redis != nil {
		// The state's pub/sub facade reconnects on its own and reports
		// every reset, which the ring treats as a change.
		notifier = state.ChangeNotices{PubSub: b.State.PubSub, Channel: redisstore.DefaultChannel}
	}
	opt := keyring.Options{
		Store: store, Notifier: notifier, MasterKey: master, Registerer: o.Registerer,
		ReadOnly: o.KeyRingReadOnly, NoBackground: o.KeyRingNoBackground,
	}
	if o.Logs != nil {
		opt.Logger = o.Logs.Logger(KeyRingLogCategory)
	}
	ring, err := keyring.New(ctx, opt)
	if err != nil {
		return err
	}
	b.KeyRing = ring
	b.onClose(func() error { ring.Close(); return nil })
	return nil
}
