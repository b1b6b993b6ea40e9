package backends

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector exposes the PostgreSQL pool's figures (the seed's "SQL
// Connection Pool: active connections") as cesivi_db_pool_*, read from
// pgxpool.Stat at each scrape: no counter of ours to keep in step.
type poolCollector struct {
	pool *pgxpool.Pool
}

// PoolMetricPrefix starts the name of every pool metric.
const PoolMetricPrefix = "cesivi_db_pool_"

type poolMetric struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(*pgxpool.Stat) float64
}

var poolMetrics = []poolMetric{
	gauge("acquired_connections", "Connections in use by a request or job now (the seed's active connections).",
		func(s *pgxpool.Stat) float64 { return float64(s.AcquiredConns()) }),
	gauge("idle_connections", "Open connections waiting in the pool.",
		func(s *pgxpool.Stat) float64 { return float64(s.IdleConns()) }),
	gauge("constructing_connections", "Connections being opened now.",
		func(s *pgxpool.Stat) float64 { return float64(s.ConstructingConns()) }),
	gauge("total_connections", "Connections of the pool: acquired, idle and being opened.",
		func(s *pgxpool.Stat) float64 { return float64(s.TotalConns()) }),
	gauge("max_connections", "The pool's ceiling (Maximum Pool Size).",
		func(s *pgxpool.Stat) float64 { return float64(s.MaxConns()) }),
	counter("acquires_total", "Connections handed out.",
		func(s *pgxpool.Stat) float64 { return float64(s.AcquireCount()) }),
	counter("empty_acquires_total", "Acquires that found no idle connection and waited for one to be opened or released; rising fast means the pool is too small.",
		func(s *pgxpool.Stat) float64 { return float64(s.EmptyAcquireCount()) }),
	counter("canceled_acquires_total", "Acquires abandoned because their request gave up while waiting.",
		func(s *pgxpool.Stat) float64 { return float64(s.CanceledAcquireCount()) }),
	counter("acquire_duration_seconds_total", "Time spent acquiring connections, summed over every acquire.",
		func(s *pgxpool.Stat) float64 { return s.AcquireDuration().Seconds() }),
	counter("empty_acquire_wait_seconds_total", "Time spent by the acquires that had to wait, summed.",
		func(s *pgxpool.Stat) float64 { return s.EmptyAcquireWaitTime().Seconds() }),
	counter("new_connections_total", "Connections opened.",
		func(s *pgxpool.Stat) float64 { return float64(s.NewConnsCount()) }),
	counter("max_lifetime_destroys_total", "Connections closed for reaching Connection Lifetime.",
		func(s *pgxpool.Stat) float64 { return float64(s.MaxLifetimeDestroyCount()) }),
	counter("max_idle_destroys_total", "Connections closed for staying idle past Connection Idle Lifetime.",
		func(s *pgxpool.Stat) float64 { return float64(s.MaxIdleDestroyCount()) }),
}

func gauge(name, help string, v func(*pgxpool.Stat) float64) poolMetric {
	return poolMetric{prometheus.NewDesc(PoolMetricPrefix+name, help, nil, nil), prometheus.GaugeValue, v}
}

func counter(name, help string, v func(*pgxpool.Stat) float64) poolMetric {
	return poolMetric{prometheus.NewDesc(PoolMetricPrefix+name, help, nil, nil), prometheus.CounterValue, v}
}

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range poolMetrics {
		ch <- m.desc
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.pool.Stat()
	for _, m := range poolMetrics {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(st))
	}
}
