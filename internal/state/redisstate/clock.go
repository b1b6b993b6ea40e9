package redisstate

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// storeClock is the time sessions are judged by: Redis's own clock, so that
// every node of a farm agrees on when a session ends however far its own
// clock has drifted (a node 15 minutes fast deleted sessions 6 minutes into
// their idle window). The session scripts read TIME themselves where they
// decide; the Go side (the read fast path, index scores) uses the local
// clock corrected by the offset to Redis's, measured at start and every
// clockSyncInterval. Tests that inject a clock (Options.Now) get exactly
// that clock, everywhere.
type storeClock struct {
	now    func() time.Time
	server bool         // judge by Redis's clock (no clock injected)
	offset atomic.Int64 // Redis's clock minus the local one, ms
	stop   chan struct{}
}

const clockSyncInterval = 30 * time.Second

func newStoreClock(now func() time.Time, injected bool) *storeClock {
	return &storeClock{now: now, server: !injected, stop: make(chan struct{})}
}

// start measures the offset in the background (a process starts while
// Redis is down; until then the offset is 0 and the scripts still judge by
// TIME) and keeps it current until close.
func (k *storeClock) start(c redis.UniversalClient) {
	if k.server {
		go func() {
			k.measure(c)
			k.sync(c)
		}()
	}
}

// nowMS is the store's time in Unix milliseconds.
func (k *storeClock) nowMS() int64 { return k.now().UnixMilli() + k.offset.Load() }

// serverFlag tells the scripts whether to read Redis's clock.
func (k *storeClock) serverFlag() string {
	if k.server {
		return "1"
	}
	return "0"
}

func (k *storeClock) sync(c redis.UniversalClient) {
	t := time.NewTicker(clockSyncInterval)
	defer t.Stop()
	for {
		select {
		case <-k.stop:
			return
		case <-t.C:
			k.measure(c)
		}
	}
}

// measure sets the offset from one TIME round trip, taking the midpoint of
// the local clock before and after; a failure keeps the last offset.
func (k *storeClock) measure(c redis.UniversalClient) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	before := k.now()
	remote, err := c.Time(ctx).Result()
	if err != nil {
		return
	}
	after := k.now()
	mid := before.Add(after.Sub(before) / 2)
	k.offset.Store(remote.UnixMilli() - mid.UnixMilli())
}

func (k *storeClock) close() {
	select {
	case <-k.stop:
	default:
		close(k.stop)
	}
}
