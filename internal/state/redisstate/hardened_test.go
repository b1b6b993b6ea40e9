package redisstate_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/redisconn"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/redisstate"
	"github.com/cesivi/cesivi/internal/state/statetest"
	"github.com/cesivi/cesivi/internal/testenv"
)

// hardenedSettings are the settings a Cesivi process uses for r: the
// seed's connection string (the ACL user, its password, ssl=true) and the
// TLS files.
func hardenedSettings(r *testenv.RedisServer) config.DistributedStateSettings {
	return config.DistributedStateSettings{
		Provider:         config.ProviderRedis,
		ConnectionString: r.ConnectionString(),
		TlsCaFile:        r.TLS.CAFile,
		TlsCertFile:      r.TLS.ClientCertFile,
		TlsKeyFile:       r.TLS.ClientKeyFile,
	}
}

// TestContractOnTheSeedsHardenedRedis runs the whole contract against one
// Redis configured as the seed's security section: TLS only, signed in as
// an ACL user without the dangerous commands, CONFIG, FLUSHDB, FLUSHALL
// and SHUTDOWN renamed away. Subtests share database 0 and keep apart by
// key prefix (nothing can be flushed).
func TestContractOnTheSeedsHardenedRedis(t *testing.T) {
	r := testenv.RedisHardened(t, testenv.RedisOptions{})
	ds := hardenedSettings(r)
	statetest.Exercise(t, func(t *testing.T) statetest.NewServer {
		prefix := fmt.Sprintf("t%d:", prefixSeq.Add(1))
		return func(opt state.Options) (*state.Provider, error) {
			c, err := redisconn.New(ds)
			if err != nil {
				return nil, err
			}
			t.Cleanup(func() { c.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return redisstate.New(ctx, c, prefix, opt)
		}
	})
}
