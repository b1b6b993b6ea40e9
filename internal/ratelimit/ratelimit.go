// Package ratelimit is the pure logic of the edge's shared rate limits: a
// fixed-window counter table per zone, bounded in size, whose local counts
// are meant to be pushed to a shared store every short interval and whose
// farm totals are pulled back (see Pending and Merge). It has no Caddy or
// Redis imports so that it can be tested with a fake clock.
package ratelimit

import (
	"container/list"
	"net/netip"
	"sync"
	"time"
)

// Config is one zone's limit: at most Events in each Window per key.
type Config struct {
	Events  int
	Window  time.Duration
	MaxKeys int              // table cap; the oldest-used key is evicted first
	Now     func() time.Time // injected clock
	// Burst bounds, per key, the events this limiter admits that the
	// shared store has not confirmed yet (counted here, not yet merged
	// back). It is what bounds the farm's overshoot: between two syncs an
	// edge admits at most Burst events per key that the others cannot
	// see. 0: no bound (a limiter used alone). Applies only while the
	// store is reachable (SetShared).
	Burst int
}

type entry struct {
	key     string
	window  int64 // window index (start / Window)
	local   int64 // counted here in this window
	pending int64 // counted here, not yet pushed
	remote  int64 // last farm total pulled for this window (includes our pushed counts)
	pushed  int64 // of local, how much the store confirmed (inside remote)
	elem    *list.Element
}

// Limiter counts events per key. Safe for concurrent use.
type Limiter struct {
	cfg   Config
	mu    sync.Mutex
	table map[string]*entry
	lru   *list.List // front: most recently used
	// shared: the last sync reached the store, so Burst applies. While the
	// store is unreachable each edge limits on its own counts (a farm of N
	// edges then admits up to N times Events), rather than refusing
	// everything it could not confirm.
	shared bool
}

// New returns a limiter for cfg; MaxKeys defaults to 100000.
func New(cfg Config) *Limiter {
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 100000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Limiter{cfg: cfg, table: make(map[string]*entry), lru: list.New(), shared: cfg.Burst > 0}
}

// SetShared records whether the shared store answered the last sync.
func (l *Limiter) SetShared(ok bool) {
	l.mu.Lock()
	l.shared = ok
	l.mu.Unlock()
}

func (l *Limiter) window(now time.Time) int64 { return now.UnixNano() / int64(l.cfg.Window) }

// Allow counts one event for key. When refused by the limit, it returns
// the time until the current window ends, for Retry-After. When refused
// because Burst events of key are still unconfirmed, retryAfter is 0: the
// next sync decides (the caller may wait for it and ask again).
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.cfg.Now()
	w := l.window(now)
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.get(key, w)
	// The farm total is what others counted (remote minus our part already in
	// it) plus everything we counted.
	others := e.remote - e.pushed
	if others < 0 {
		others = 0
	}
	total := others + e.local
	if total >= int64(l.cfg.Events) {
		end := time.Unix(0, (w+1)*int64(l.cfg.Window))
		return false, end.Sub(now)
	}
	if l.shared && l.cfg.Burst > 0 && e.local-e.pushed >= int64(l.cfg.Burst) {
		return false, 0
	}
	e.local++
	e.pending++
	return true, 0
}

func (l *Limiter) get(key string, w int64) *entry {
	e, found := l.table[key]
	if found {
		l.lru.MoveToFront(e.elem)
		if e.window != w { // a new window starts from zero
			*e = entry{key: key, window: w, elem: e.elem}
		}
		return e
	}
	for len(l.table) >= l.cfg.MaxKeys {
		old := l.lru.Back()
		delete(l.table, old.Value.(*entry).key)
		l.lru.Remove(old)
	}
	e = &entry{key: key, window: w}
	e.elem = l.lru.PushFront(e)
	l.table[key] = e
	return e
}

// Len is the number of keys held (bounded by MaxKeys).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.table)
}

// Delta is a count not yet pushed to the shared store for one key and window.
type Delta struct {
	Key    string
	Window int64
	Count  int64
}

// Pending takes the counts not yet pushed (the caller INCRBYs them); after
// the push the caller passes each delta with the store's total to Merge,
// or the deltas that failed to Restore. Until then a taken count is in
// local only, neither pending nor pushed, so the farm total stays exact.
func (l *Limiter) Pending() []Delta {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Delta
	for _, e := range l.table {
		if e.pending > 0 {
			out = append(out, Delta{Key: e.key, Window: e.window, Count: e.pending})
			e.pending = 0
		}
	}
	return out
}

// Restore gives back deltas that could not be pushed (store unavailable):
// they stay counted locally and are tried again on the next sync.
func (l *Limiter) Restore(ds []Delta) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range ds {
		if e, ok := l.table[d.Key]; ok && e.window == d.Window {
			e.pending += d.Count
		}
	}
}

// Merge records that d was pushed and that the store's total for its key
// and window is now total (INCRBY's result, which includes d).
func (l *Limiter) Merge(d Delta, total int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.table[d.Key]
	if !ok || e.window != d.Window {
		return // evicted, or its window is over
	}
	e.pushed += d.Count
	if total > e.remote {
		e.remote = total
	}
}

// ClientKey groups an address for per-address limits: IPv4 as is, IPv6 by
// its /64, since one host commonly holds a whole /64.
func ClientKey(addr netip.Addr) string {
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}
