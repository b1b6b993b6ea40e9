package backends

import (
	"context"

	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/health"
)

// Checks are the health checks of the backends, as the seed names their
// entries: DistributedState, Storage and DataProtection.
func (b *Backends) Checks() []health.Check {
	return []health.Check{
		{Name: "DistributedState", Run: b.checkState},
		{Name: "Storage", Run: b.checkStorage},
		{Name: "DataProtection", Run: b.checkKeyRing, Local: true},
	}
}

func (b *Backends) checkState(ctx context.Context) health.Entry {
	name := b.State.Name
	if err := b.State.Ping(ctx); err != nil {
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

func (b *Backends) checkStorage(ctx context.Context) health.Entry {
	if b.Settings.Storage.Provider != config.ProviderPostgreSQL {
		return health.Entry{Status: health.Healthy, Description: "In-memory storage (single server)",
			Data: map[string]any{"provider": b.Settings.Storage.Provider, "connected": true}}
	}
	if err := b.Postgres.Ping(ctx); err != nil {
		return health.Entry{Status: health.Unhealthy, Description: "PostgreSQL unreachable: " + err.Error(),
			Data: map[string]any{"provider": b.Settings.Storage.Provider, "connected": false}}
	}
	st := b.Postgres.Stat()
	return health.Entry{Status: health.Healthy, Description: "PostgreSQL connection healthy",
		Data: map[string]any{"provider": b.Settings.Storage.Provider, "connected": true,
			"poolTotal": st.TotalConns(), "poolIdle": st.IdleConns(), "poolMax": st.MaxConns()}}
}

// checkKeyRing reads the ring's in-memory snapshot (no I/O): the ring keeps
// it fresh in the background, and a ring without a current key can mint
// nothing.
func (b *Backends) checkKeyRing(context.Context) health.Entry {
	data := map[string]any{"provider": b.Settings.DataProtection.Provider, "keys": len(b.KeyRing.Keys())}
	cur, err := b.KeyRing.Current()
	if err != nil {
		return health.Entry{Status: health.Unhealthy, Description: "key ring has no usable key: " + err.Error(), Data: data}
	}
	data["currentKeyId"] = cur.ID.String()
	return health.Entry{Status: health.Healthy, Description: "key ring ready", Data: data}
}
