package backends

import (
	"context"
	"maps"
	"strings"

	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/health"
	"github.com/cesivi/cesivi/internal/redisconn"
)

// Checks are the health checks of the backends, as the seed names their
// entries: DistributedState, Storage (where the process opened it: not on
// the edge) and DataProtection (unless Options.NoKeyRing).
func (b *Backends) Checks() []health.Check {
	checks := []health.Check{{Name: "DistributedState", Run: b.checkState}}
	if b.Storage != nil {
		checks = append(checks, health.Check{Name: "Storage", Run: b.checkStorage})
	}
	if b.KeyRing != nil {
		checks = append(checks, health.Check{Name: "DataProtection", Run: b.checkKeyRing, Local: true})
	}
	return checks
}

func (b *Backends) checkState(ctx context.Context) health.Entry {
	name := b.State.Name
	if err := b.State.Ping(ctx); err != nil {
		return health.Entry{Status: health.Unhealthy, Description: name + " unreachable: " + err.Error(),
			Data: map[string]any{"provider": name, "connected": false}}
	}
	data := map[string]any{"provider": name, "connected": true}
	if name == config.ProviderInMemory || b.Redis == nil {
		return health.Entry{Status: health.Healthy, Description: "In-memory distributed state (single server)", Data: data}
	}
	// Settings that can lose sessions or jobs make the entry Degraded:
	// reported, never a reason to take the server out of the rotation.
	r, err := redisconn.Inspect(ctx, b.Redis)
	if err != nil {
		data["settingsReadable"] = false
		return health.Entry{Status: health.Healthy, Description: "Redis connection healthy (INFO not readable: " + err.Error() + ")", Data: data}
	}
	maps.Copy(data, r.Data())
	if w := r.Warnings(b.Settings.Farm.Enabled); len(w) > 0 {
		data["warnings"] = w
		return health.Entry{Status: health.Degraded, Description: "Redis reachable, but " + strings.Join(w, "; "), Data: data}
	}
	return health.Entry{Status: health.Healthy, Description: "Redis connection healthy", Data: data}
}

// checkStorage asks the store itself, so the entry says what requests
// will meet: a PostgreSQL store whose schema is still to be applied
// applies it here first, and one that cannot says why. Pool figures, never
// the connection string. The blob store of file content answers under
// Files; a server that cannot reach it cannot serve a file, so it is
// unhealthy too.
func (b *Backends) checkStorage(ctx context.Context) health.Entry {
	name := b.Storage.Name()
	data := map[string]any{"provider": name, "connected": true}
	if b.Postgres != nil && name == config.ProviderPostgreSQL {
		st := b.Postgres.Stat()
		data["poolTotal"], data["poolIdle"], data["poolAcquired"], data["poolMax"] = st.TotalConns(), st.IdleConns(), st.AcquiredConns(), st.MaxConns()
	}
	// Storage first: the Database blob store waits for its schema.
	storageErr := b.Storage.Ping(ctx)
	var filesErr error
	if b.Files != nil {
		filesErr = b.Files.Ping(ctx)
		data["Files"] = map[string]any{"provider": b.Files.Name(), "connected": filesErr == nil}
	}
	if storageErr != nil {
		data["connected"] = false
		return health.Entry{Status: health.Unhealthy, Description: name + " unavailable: " + storageErr.Error(), Data: data}
	}
	if filesErr != nil {
		return health.Entry{Status: health.Unhealthy, Description: "file content (" + b.Files.Name() + ") unavailable: " + filesErr.Error(), Data: data}
	}
	desc := "PostgreSQL connection healthy"
	if name == config.ProviderInMemory {
		desc = "In-memory storage (single server)"
	}
	return health.Entry{Status: health.Healthy, Description: desc, Data: data}
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
