package redisconn

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Report is what Cesivi needs to know of a Redis server's settings, read
// with INFO (never CONFIG GET, which hardened servers rename away).
type Report struct {
	MaxmemoryPolicy  string
	UsedMemory       int64 // bytes
	Maxmemory        int64 // bytes; 0: no limit
	ConnectedClients int64
	// AOFEnabled says the append-only file is on (appendonly yes);
	// AOFWriteFailed that its last write failed.
	AOFEnabled, AOFWriteFailed bool
	// RDBLastSave is when the last RDB snapshot was written (the server's
	// start when it has written none); RDBChangesSinceLastSave what a
	// restart without the append-only file would lose; RDBSaveFailed
	// that the last snapshot failed. Whether snapshots are scheduled
	// (save …) is a setting only CONFIG GET shows.
	RDBLastSave             time.Time
	RDBChangesSinceLastSave int64
	RDBSaveFailed           bool
}

// Inspect reads the report with one INFO command.
func Inspect(ctx context.Context, c redis.UniversalClient) (Report, error) {
	text, err := c.Info(ctx, "memory", "persistence", "clients").Result()
	if err != nil {
		return Report{}, err
	}
	return ReportFromInfo(ParseInfo(text)), nil
}

// ParseInfo reads INFO's "name:value" lines; section headers and blank
// lines are skipped.
func ParseInfo(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out
}

// ReportFromInfo picks the report's fields out of parsed INFO.
func ReportFromInfo(info map[string]string) Report {
	num := func(k string) int64 { n, _ := strconv.ParseInt(info[k], 10, 64); return n }
	r := Report{
		MaxmemoryPolicy:         info["maxmemory_policy"],
		UsedMemory:              num("used_memory"),
		Maxmemory:               num("maxmemory"),
		ConnectedClients:        num("connected_clients"),
		AOFEnabled:              info["aof_enabled"] == "1",
		AOFWriteFailed:          info["aof_last_write_status"] == "err",
		RDBChangesSinceLastSave: num("rdb_changes_since_last_save"),
		RDBSaveFailed:           info["rdb_last_bgsave_status"] == "err",
	}
	if t := num("rdb_last_save_time"); t > 0 {
		r.RDBLastSave = time.Unix(t, 0).UTC()
	}
	return r
}

// Data is the report as the DistributedState health entry's data.
func (r Report) Data() map[string]any {
	d := map[string]any{
		"maxmemoryPolicy":         r.MaxmemoryPolicy,
		"maxmemory":               r.Maxmemory,
		"usedMemory":              r.UsedMemory,
		"connectedClients":        r.ConnectedClients,
		"aofEnabled":              r.AOFEnabled,
		"rdbChangesSinceLastSave": r.RDBChangesSinceLastSave,
	}
	if !r.RDBLastSave.IsZero() {
		d["rdbLastSave"] = r.RDBLastSave.Format(time.RFC3339)
	}
	return d
}

// Summary is the report on one line, for the start-up log.
func (r Report) Summary() string {
	limit := "no maxmemory"
	if r.Maxmemory > 0 {
		limit = "maxmemory " + mib(r.Maxmemory)
	}
	aof := "appendonly no"
	if r.AOFEnabled {
		aof = "appendonly yes"
	}
	return fmt.Sprintf("maxmemory-policy %s, %s, %s used, %s, %d changes since the last RDB snapshot, %d clients",
		r.MaxmemoryPolicy, limit, mib(r.UsedMemory), aof, r.RDBChangesSinceLastSave, r.ConnectedClients)
}

func mib(b int64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB" }

// Warnings says what in the report can lose Cesivi's data. An allkeys-*
// policy may evict any key when memory runs out, those without a TTL
// included: the job queue's streams, the key ring, the fencing counters,
// the session indexes. volatile-* evicts only keys with a TTL (caches,
// sessions, sign-ins in progress, leases) and noeviction refuses writes
// instead, so neither is warned about. In a farm, a Redis without the
// append-only file loses what changed since its last snapshot when it
// restarts. A failing append-only file or snapshot is reported wherever it
// happens: Redis then refuses writes.
func (r Report) Warnings(farm bool) []string {
	var w []string
	if strings.HasPrefix(r.MaxmemoryPolicy, "allkeys-") {
		w = append(w, "maxmemory-policy "+r.MaxmemoryPolicy+" can evict sessions, locks and queued jobs: use volatile-lru or noeviction")
	}
	if farm && !r.AOFEnabled {
		w = append(w, "appendonly is off: a Redis restart loses the sessions and jobs written since its last snapshot (set appendonly yes)")
	}
	if r.AOFEnabled && r.AOFWriteFailed {
		w = append(w, "the append-only file's last write failed (aof_last_write_status:err): Redis refuses writes until it succeeds")
	}
	if r.RDBSaveFailed {
		w = append(w, "the last RDB snapshot failed (rdb_last_bgsave_status:err): Redis may refuse writes (stop-writes-on-bgsave-error)")
	}
	return w
}
