// Package provider opens the distributed state provider the configuration
// names (Cesivi:DistributedState:Provider = InMemory or Redis), with the
// seed's logger categories and metrics wired in.
package provider

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/logging"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/memstate"
	"github.com/cesivi/cesivi/internal/state/redisstate"
)

// Open returns the configured provider. logs and reg may be nil. ctx bounds
// the wait for the first pub/sub subscription (Redis only); without Redis
// the provider still opens and its operations fail with
// state.ErrStoreUnavailable until Redis answers.
func Open(ctx context.Context, s config.DistributedStateSettings, logs *logging.Factory, reg prometheus.Registerer) (*state.Provider, error) {
	opt := state.Options{Registerer: reg}
	if logs != nil {
		opt.SessionLog = logs.Logger(state.SessionLogCategory)
		opt.CacheLog = logs.Logger(state.UserContextLogCategory)
		opt.TokenLog = logs.Logger(state.TokenLogCategory)
	}
	switch s.Provider {
	case config.ProviderInMemory, "":
		return memstate.New(opt)
	case config.ProviderRedis:
		files := redisstate.TLSFiles{CAFile: s.TlsCaFile, CertFile: s.TlsCertFile, KeyFile: s.TlsKeyFile}
		return redisstate.OpenTLS(ctx, s.ConnectionString, files, s.KeyPrefix, opt)
	default:
		return nil, fmt.Errorf("state: Cesivi:DistributedState:Provider %q: want InMemory or Redis", s.Provider)
	}
}
