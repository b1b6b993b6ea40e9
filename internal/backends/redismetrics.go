package backends

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/redisconn"
)

// redisCollector exposes the Redis server's memory use and client count
// (the seed's "Redis Memory Usage" panel) from one INFO per scrape; a
// Redis that does not answer within a second yields no samples rather
// than holding the scrape.
type redisCollector struct {
	client                  redis.UniversalClient
	used, max, clients, aof *prometheus.Desc
}

func newRedisCollector(c redis.UniversalClient) *redisCollector {
	return &redisCollector{
		client:  c,
		used:    prometheus.NewDesc("cesivi_redis_used_memory_bytes", "Memory the Redis server uses (INFO used_memory).", nil, nil),
		max:     prometheus.NewDesc("cesivi_redis_maxmemory_bytes", "The Redis server's maxmemory (0: no limit).", nil, nil),
		clients: prometheus.NewDesc("cesivi_redis_connected_clients", "Clients connected to the Redis server.", nil, nil),
		aof:     prometheus.NewDesc("cesivi_redis_aof_enabled", "1 when the Redis server writes its append-only file.", nil, nil),
	}
}

func (c *redisCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.used
	ch <- c.max
	ch <- c.clients
	ch <- c.aof
}

func (c *redisCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	r, err := redisconn.Inspect(ctx, c.client)
	if err != nil {
		return
	}
	aof := 0.0
	if r.AOFEnabled {
		aof = 1
	}
	ch <- prometheus.MustNewConstMetric(c.used, prometheus.GaugeValue, float64(r.UsedMemory))
	ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(r.Maxmemory))
	ch <- prometheus.MustNewConstMetric(c.clients, prometheus.GaugeValue, float64(r.ConnectedClients))
	ch <- prometheus.MustNewConstMetric(c.aof, prometheus.GaugeValue, aof)
}

// reportRedisSettings logs, once at start-up, the Redis server's settings
// that matter to Cesivi (Info) and what in them can lose data (Warn; the
// health entry keeps saying it). A Redis that does not answer yet is
// asked again, less and less often, until it does or stop is closed.
func reportRedisSettings(c redis.UniversalClient, farm bool, log *slog.Logger, stop <-chan struct{}) {
	wait := time.Second
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		r, err := redisconn.Inspect(ctx, c)
		cancel()
		if err == nil {
			log.Info("Redis server: "+r.Summary(), "maxmemory_policy", r.MaxmemoryPolicy, "maxmemory", r.Maxmemory,
				"used_memory", r.UsedMemory, "aof_enabled", r.AOFEnabled, "rdb_changes_since_last_save", r.RDBChangesSinceLastSave,
				"connected_clients", r.ConnectedClients)
			for _, w := range r.Warnings(farm) {
				log.Warn("Redis settings can lose data: " + w)
			}
			return
		}
		if errors.Is(err, redis.ErrClosed) {
			return
		}
		select {
		case <-stop:
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Minute)
	}
}
