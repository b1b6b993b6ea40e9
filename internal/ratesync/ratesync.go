// Package ratesync shares the edges' rate-limit counters through Redis
// without a Redis round trip per request: each edge counts locally
// (internal/ratelimit) and a background round, every short interval,
// pushes the counts not yet pushed with one INCRBY per key and window and
// merges the farm totals INCRBY answers back into the local table. See
// docs/edge.md ("Rate limits") for the consistency model and its bound.
package ratesync

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/ratelimit"
)

// Zone is one limiter and the name its keys carry in Redis.
type Zone struct {
	Name    string
	Window  time.Duration
	Limiter *ratelimit.Limiter
}

// Syncer runs the sync rounds of a set of zones.
type Syncer struct {
	rdb      redis.UniversalClient
	prefix   string
	interval time.Duration
	zones    []Zone
	log      *slog.Logger

	kick chan struct{}
	mu   sync.Mutex
	next chan struct{} // closed when the round after the current one ends
	ok   bool          // the last round reached Redis
}

// Options of New.
type Options struct {
	// Prefix starts every Redis key (the farm's key prefix, then
	// "ratelimit:").
	Prefix   string
	Interval time.Duration
	Logger   *slog.Logger
}

// RoundTimeout bounds one round's Redis time: a hung Redis turns the
// limits local instead of stalling them.
const RoundTimeout = time.Second

// New returns a syncer; Run starts it.
func New(rdb redis.UniversalClient, zones []Zone, o Options) *Syncer {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Syncer{rdb: rdb, prefix: o.Prefix, interval: o.Interval, zones: zones, log: o.Logger,
		kick: make(chan struct{}, 1), next: make(chan struct{}), ok: true}
}

// Run syncs every interval, and at once when Wait asks, until ctx ends;
// then it pushes what is left, so a config reload loses no counts.
func (s *Syncer) Run(ctx context.Context) {
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.Background(), RoundTimeout)
			s.Round(final)
			cancel()
			return
		case <-t.C:
		case <-s.kick:
		}
		s.Round(ctx)
	}
}

// Wait asks for a round now and waits until a round that started after
// the call has ended (or ctx ends): a request refused because its edge's
// unconfirmed counts reached the burst asks again after it.
func (s *Syncer) Wait(ctx context.Context) {
	s.mu.Lock()
	ch := s.next
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default: // a round is already asked for
	}
	select {
	case <-ch:
	case <-ctx.Done():
	}
}

// Round pushes every zone's pending counts and merges the totals back. On
// failure the counts are restored (pushed again next round) and the zones
// limit on their own counts until Redis answers again.
func (s *Syncer) Round(ctx context.Context) error {
	s.mu.Lock()
	done := s.next
	s.next = make(chan struct{})
	s.mu.Unlock()
	defer close(done)

	type push struct {
		zone  int
		delta ratelimit.Delta
		incr  *redis.IntCmd
	}
	var pushes []push
	pending := make([][]ratelimit.Delta, len(s.zones))
	pipe := s.rdb.Pipeline()
	for i, z := range s.zones {
		pending[i] = z.Limiter.Pending()
		for _, d := range pending[i] {
			key := s.Key(z.Name, d.Window, d.Key)
			pushes = append(pushes, push{zone: i, delta: d, incr: pipe.IncrBy(ctx, key, d.Count)})
			// The key outlives its window by one window, for edges whose
			// clocks are a little behind.
			pipe.PExpire(ctx, key, 2*z.Window)
		}
	}
	if len(pushes) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, RoundTimeout)
	defer cancel()
	_, err := pipe.Exec(ctx)
	if err != nil {
		for i, z := range s.zones {
			z.Limiter.Restore(pending[i])
			z.Limiter.SetShared(false)
		}
		s.setOK(false, err)
		return err
	}
	for _, p := range pushes {
		s.zones[p.zone].Limiter.Merge(p.delta, p.incr.Val())
	}
	for _, z := range s.zones {
		z.Limiter.SetShared(true)
	}
	s.setOK(true, nil)
	return nil
}

// setOK logs the transitions only, not every failed round.
func (s *Syncer) setOK(ok bool, err error) {
	s.mu.Lock()
	was := s.ok
	s.ok = ok
	s.mu.Unlock()
	switch {
	case was && !ok:
		s.log.Warn("rate limits cannot be shared (Redis unreachable): each edge limits on its own counts until it answers", "error", err)
	case !was && ok:
		s.log.Info("rate limits are shared again")
	}
}

// Key is the Redis key of one zone's key in one window. The window's
// index (its start / its length) is the same on every edge whose clock
// agrees, so their counts meet in one key.
func (s *Syncer) Key(zone string, window int64, key string) string {
	return s.prefix + zone + ":" + strconv.FormatInt(window, 10) + ":" + key
}
