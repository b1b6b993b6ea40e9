package appserver

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/connstr"
	"github.com/cesivi/cesivi/internal/health"
	"github.com/cesivi/cesivi/internal/logging"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/provider"
	"github.com/cesivi/cesivi/keyring"
)

// dependencies are the external services a server talks to. Both connect
// lazily and reconnect on their own, so a server starts while Redis or the
// database is down and reports it on /health/ready.
type dependencies struct {
	storageProvider string
	state           *state.Provider
	pg              *pgxpool.Pool // nil with InMemory storage

	keyRing         *keyring.Ring
	keyRingProvider string
	closeKeyRing    func()
}

// stateSubscribeWait bounds how long start-up waits for the distributed
// state's first pub/sub subscription; after it the server starts anyway and
// the subscription keeps retrying.
const stateSubscribeWait = 3 * time.Second

func openDependencies(s *config.Settings, logs *logging.Factory, reg prometheus.Registerer) (*dependencies, error) {
	d := &dependencies{storageProvider: s.Storage.Provider}
	ctx, cancel := context.WithTimeout(context.Background(), stateSubscribeWait)
	defer cancel()
	st, err := provider.Open(ctx, s.DistributedState, logs, reg)
	if err != nil {
		return nil, fmt.Errorf("opening the distributed state: %w", err)
	}
	d.state = st
	if d.storageProvider == config.ProviderPostgreSQL {
		cfg, err := connstr.ParsePostgres(s.Storage.ConnectionString)
		if err != nil {
			d.close()
			return nil, &config.Error{Key: "Cesivi:Storage:ConnectionString", Problem: err.Error()}
		}
		pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			d.close()
			return nil, fmt.Errorf("opening the PostgreSQL pool: %w", err)
		}
		d.pg = pool
	}
	return d, nil
}

func (d *dependencies) checks() []health.Check {
	return []health.Check{
		{Name: "DistributedState", Run: d.checkState},
		{Name: "Storage", Run: d.checkStorage},
		{Name: "DataProtection", Run: d.checkKeyRing},
	}
}

func (d *dependencies) checkState(ctx context.Context) health.Entry {
	name := d.state.Name
	if err := d.state.Ping(ctx); err != nil {
		return health.Entry{Status: health.Unhealthy, Description: name + " unreachable: " + err.Error(),
			Data: map[string]any{"provider": name, "connected": false}}
	}
	desc := "Redis connection healthy"
	if name == config.ProviderInMemory {
		desc = "In-memory distributed state (single server)"
	}
	return health.Entry{Status: health.Healthy, Description: desc,
		Data: map[string]any{"provider": name, "connected": true}}
}

func (d *dependencies) checkStorage(ctx context.Context) health.Entry {
	if d.pg == nil {
		return health.Entry{Status: health.Healthy, Description: "In-memory storage (single server)",
			Data: map[string]any{"provider": d.storageProvider, "connected": true}}
	}
	if err := d.pg.Ping(ctx); err != nil {
		return health.Entry{Status: health.Unhealthy, Description: "PostgreSQL unreachable: " + err.Error(),
			Data: map[string]any{"provider": d.storageProvider, "connected": false}}
	}
	st := d.pg.Stat()
	return health.Entry{Status: health.Healthy, Description: "PostgreSQL connection healthy",
		Data: map[string]any{"provider": d.storageProvider, "connected": true,
			"poolTotal": st.TotalConns(), "poolIdle": st.IdleConns(), "poolMax": st.MaxConns()}}
}

// checkKeyRing reads the ring's in-memory snapshot (no I/O): the ring keeps
// it fresh in the background, and a ring without a current key can mint
// nothing.
func (d *dependencies) checkKeyRing(context.Context) health.Entry {
	data := map[string]any{"provider": d.keyRingProvider, "keys": len(d.keyRing.Keys())}
	cur, err := d.keyRing.Current()
	if err != nil {
		return health.Entry{Status: health.Unhealthy, Description: "key ring has no usable key: " + err.Error(), Data: data}
	}
	data["currentKeyId"] = cur.ID.String()
	return health.Entry{Status: health.Healthy, Description: "key ring ready", Data: data}
}

func (d *dependencies) close() {
	if d.closeKeyRing != nil {
		d.closeKeyRing()
	}
	if d.state != nil {
		_ = d.state.Close()
	}
	if d.pg != nil {
		d.pg.Close()
	}
}
