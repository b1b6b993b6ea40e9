// Package ratelimit is the pure logic of the edge's shared rate limits: a
// sliding-window counter table per zone (the current window's count plus
// the last window's, weighted by how much of it the sliding window still
// covers), bounded in size, whose local counts
// are meant to be pushed to a shared store every short interval and whose
// farm totals are pulled back (see Pending and Merge). It has no Caddy or
// Redis imports so that it can be tested with a fake clock.
package ratelimit

import (
	"container/list"
	"math"
	"net/netip"
	"sync"
	"time"
)

// Config is one zone's limit: at most Events per key in any Window-long
// stretch of time, as a sliding-window counter estimates it (the events
// of the current fixed window, plus those of the window before weighted by
// the share of it that the last Window still covers). Fixed windows alone
// would admit up to 2×Events around a window's end.
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
	// previous is the farm total of the window before (window-1): as known
	// when it ended, then as its last push (of prevPending) answers. It is
	// the sliding window's weighted part.
	previous int64
	// prevPending is what was counted here in window-1 and not yet pushed
	// when it ended: still pushed, since the other edges weigh that window
	// in for as long again.
	prevPending int64
	elem        *list.Element
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
// the time until an event would be admitted if none were counted
// meanwhile, for Retry-After. When refused because Burst events of key are
// still unconfirmed, retryAfter is 0: the next sync decides (the caller
// may wait for it and ask again).
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.cfg.Now()
	w := l.window(now)
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.get(key, w)
	total := e.total()
	// The share of the window that has gone by, and so the share of the
	// last window the sliding window no longer covers.
	elapsed := time.Duration(now.UnixNano() - w*int64(l.cfg.Window))
	gone := float64(elapsed) / float64(l.cfg.Window)
	if float64(e.previous)*(1-gone)+float64(total) >= float64(l.cfg.Events) {
		return false, l.retryAfter(e.previous, total, elapsed)
	}
	if l.shared && l.cfg.Burst > 0 && e.local-e.pushed >= int64(l.cfg.Burst) {
		return false, 0
	}
	e.local++
	e.pending++
	return true, 0
}

// total is the farm's count of the entry's window: what the others counted
// (remote minus our part already in it) plus everything counted here.
func (e *entry) total() int64 {
	return max(e.remote-e.pushed, 0) + e.local
}

// retryAfter is how long after elapsed (into the current window) the
// estimate falls below Events with no event counted meanwhile: later in
// this window, as the last window's weight wanes, or in the next one, as
// this window's does.
func (l *Limiter) retryAfter(previous, current int64, elapsed time.Duration) time.Duration {
	win := float64(l.cfg.Window)
	events := float64(l.cfg.Events)
	var at float64 // when, from the current window's start
	if current < int64(l.cfg.Events) {
		// previous×(1-t/win) + current < events
		at = win * (1 - (events-float64(current))/float64(previous))
	} else {
		// In the next window: current×(1-t/win) < events.
		at = win + win*(1-events/float64(current))
	}
	// Strictly below Events: a moment (a millisecond) after the point,
	// which is rounded to the millisecond against float error.
	wait := time.Duration(math.Round((at-float64(elapsed))/float64(time.Millisecond))) * time.Millisecond
	return max(wait+time.Millisecond, time.Millisecond)
}

func (l *Limiter) get(key string, w int64) *entry {
	e, found := l.table[key]
	if found {
		l.lru.MoveToFront(e.elem)
		if e.window != w {
			// A new window starts from zero; the one it follows, if it
			// is the last, weighs in as the sliding window's older part.
			var previous, prevPending int64
			if e.window == w-1 {
				previous, prevPending = e.total(), e.pending
			}
			*e = entry{key: key, window: w, elem: e.elem, previous: previous, prevPending: prevPending}
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

// Pending takes the counts not yet pushed (the caller INCRBYs them, a
// count of 0 included: it reads the total); after
// the push the caller passes each delta with the store's total to Merge,
// or the deltas that failed to Restore. Until then a taken count is in
// local only, neither pending nor pushed, so the farm total stays exact.
func (l *Limiter) Pending() []Delta {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Delta
	for _, e := range l.table {
		// The window before goes along whenever the key is pushed at all,
		// with a count of 0 when nothing of it is left: the store's answer
		// is that window's farm total, counts other edges pushed after
		// this one last saw it included, which is the sliding window's
		// older part (see Merge).
		if e.prevPending > 0 || e.pending > 0 {
			out = append(out, Delta{Key: e.key, Window: e.window - 1, Count: e.prevPending})
			e.prevPending = 0
		}
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
		e, ok := l.table[d.Key]
		if !ok {
			continue
		}
		// The window may have ended meanwhile: its counts are then the
		// previous window's, still to push.
		switch d.Window {
		case e.window:
			e.pending += d.Count
		case e.window - 1:
			e.prevPending += d.Count
		}
	}
}

// Merge records that d was pushed and that the store's total for its key
// and window is now total (INCRBY's result, which includes d).
func (l *Limiter) Merge(d Delta, total int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.table[d.Key]
	switch {
	case !ok:
		return // evicted
	case e.window == d.Window:
		e.pushed += d.Count
		if total > e.remote {
			e.remote = total
		}
	case e.window-1 == d.Window:
		// The window ended after its counts were taken, or they are its
		// last ones: the store's total (every edge's, ours included) is
		// the sliding window's older part now.
		e.previous = max(e.previous, total)
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
