package redisconn

import (
	"context"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Report is what Cesivi needs to know of a Redis server's settings, read
// with INFO (never CONFIG GET, which hardened servers rename away).
type Report struct {
	MaxmemoryPolicy  string
	UsedMemory       int64 // bytes
	Maxmemory        int64 // bytes; 0: no limit
	AOFEnabled       bool
	ConnectedClients int64
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
	return Report{
		MaxmemoryPolicy:  info["maxmemory_policy"],
		UsedMemory:       num("used_memory"),
		Maxmemory:        num("maxmemory"),
		AOFEnabled:       info["aof_enabled"] == "1",
		ConnectedClients: num("connected_clients"),
	}
}

// Warnings says what in the report can lose Cesivi's data. Sessions,
// login states, locks and leases, the job queue's streams and the key
// ring's notices are keys Redis may evict under an allkeys-* policy (some
// have no TTL at all); volatile-* and noeviction only evict keys with a
// TTL or refuse writes. In a farm, a Redis without the append-only file
// loses what changed since its last snapshot when it restarts.
func (r Report) Warnings(farm bool) []string {
	var w []string
	if strings.HasPrefix(r.MaxmemoryPolicy, "allkeys-") {
		w = append(w, "maxmemory-policy "+r.MaxmemoryPolicy+" can evict sessions, locks and queued jobs: use volatile-lru or noeviction")
	}
	if farm && !r.AOFEnabled {
		w = append(w, "appendonly is off: a Redis restart loses the sessions and jobs written since its last snapshot (set appendonly yes)")
	}
	return w
}
