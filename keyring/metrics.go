package keyring

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names. Every ring registered on the same Registerer shares the
// counters; the gauges describe the ring registered first.
const (
	metricKeys              = "cesivi_keyring_keys"
	metricActiveKeyAge      = "cesivi_keyring_active_key_age_seconds"
	metricRefreshes         = "cesivi_keyring_refreshes_total"
	metricUnknownRefreshes  = "cesivi_keyring_unknown_key_refreshes_total"
	metricVerifyFailures    = "cesivi_keyring_verification_failures_total"
	labelReason, labelState = "reason", "state"
)

type metrics struct {
	refreshes        *prometheus.CounterVec
	unknownRefreshes prometheus.Counter
	failures         *prometheus.CounterVec
}

// register registers c, or returns the collector already registered under
// the same description (several rings in one process or test).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}

func newMetrics(reg prometheus.Registerer, r *Ring) *metrics {
	m := &metrics{
		refreshes: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricRefreshes,
			Help: "Key ring reads of the store, by trigger (periodic, notice, unknown_key, explicit, no_active_key) and result (ok, error).",
		}, []string{"trigger", "result"})),
		unknownRefreshes: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: metricUnknownRefreshes,
			Help: "Key ring refreshes caused by a payload naming a key id the ring did not know.",
		})),
		failures: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricVerifyFailures,
			Help: "Payloads refused, by format (session_cookie, assertion, form_digest, protected) and reason (tampered, truncated, wrong_purpose, unknown_key, revoked_key, expired, bad_version, ...).",
		}, []string{"format", labelReason})),
	}
	if reg != nil {
		// Gauge functions read the ring's snapshot at scrape time; a second
		// ring on the same registry keeps the first one's (same figures).
		register(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: metricActiveKeyAge,
			Help: "Seconds since the current key's activation (0 when there is none).",
		}, func() float64 {
			now := r.now()
			if e := r.snap.Load().current(now, r.opt.ClockSkew); e != nil {
				return max(now.Sub(e.Activation).Seconds(), 0)
			}
			return 0
		}))
		register(reg, &keyCountCollector{r: r, desc: prometheus.NewDesc(metricKeys,
			"Keys in the ring by state (created, active, expired, revoked).", []string{labelState}, nil)})
	}
	return m
}

func (m *metrics) refreshed(trigger string, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.refreshes.WithLabelValues(trigger, result).Inc()
}

func (m *metrics) unknownKeyRefresh() { m.unknownRefreshes.Inc() }

func (m *metrics) refused(format string, err error) error {
	m.failures.WithLabelValues(format, Reason(err)).Inc()
	return err
}

type keyCountCollector struct {
	r    *Ring
	desc *prometheus.Desc
}

func (c *keyCountCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *keyCountCollector) Collect(ch chan<- prometheus.Metric) {
	counts := map[KeyState]int{StateCreated: 0, StateActive: 0, StateExpired: 0, StateRevoked: 0}
	now := c.r.now()
	if s := c.r.snap.Load(); s != nil {
		for _, e := range s.ordered {
			counts[e.State(now)]++
		}
	}
	for st, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), string(st))
	}
}
