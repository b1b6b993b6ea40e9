// Package flight coalesces concurrent refills of one cache entry: while
// one refill of a key is in flight, other callers for the same key wait for
// its result instead of starting their own, so a hot entry that expires
// under load costs one read of the store, not one per request in flight.
//
// It differs from golang.org/x/sync/singleflight in what a cache that is
// kept coherent by invalidation notices needs:
//
//   - The key is the caller's: the caches key it by (entry, generation), so
//     a caller that arrives after an invalidation never joins a refill that
//     started before it.
//   - The refill runs on its own goroutine, detached from the cancellation
//     of the caller that started it (its values are kept) and bounded by a
//     timeout: a caller whose context ends returns ctx.Err() at once, and
//     the refill goes on for the others, the one that started it included.
//   - Nothing is kept once the refill ends: caching its result, or not, is
//     the caller's business.
package flight

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// Group coalesces the calls of Do by key. The zero Group is ready to use.
type Group[K comparable, V any] struct {
	mu    sync.Mutex
	calls map[K]*call[V]
}

type call[V any] struct {
	done  chan struct{} // closed when val, err (or panicked) are set
	val   V
	err   error
	panic any
	// joiners: callers that joined the call (guarded by Group.mu).
	joiners int
}

// Do returns the result of fn for key. The first caller for a key starts
// fn on a goroutine of its own, under a context that keeps ctx's values
// but not its cancellation or deadline, ended after timeout; callers for
// the same key while it runs wait for that same result. Each caller waits
// until the result is there or its own ctx ends (then it returns
// ctx.Err(), and fn goes on; a ctx already ended starts nothing). led
// reports whether this caller started fn.
//
// Every caller receives the very same V: a V holding mutable memory must
// be copied by each caller before it is changed or handed on. A panic in
// fn is raised again in every caller that waits for it.
func (g *Group[K, V]) Do(ctx context.Context, key K, timeout time.Duration, fn func(context.Context) (V, error)) (val V, led bool, err error) {
	if err := ctx.Err(); err != nil {
		// A caller that has already given up starts nothing.
		return val, false, err
	}
	g.mu.Lock()
	if g.calls == nil {
		g.calls = map[K]*call[V]{}
	}
	c, ok := g.calls[key]
	if ok {
		c.joiners++
	} else {
		c = &call[V]{done: make(chan struct{})}
		g.calls[key] = c
		go g.run(context.WithoutCancel(ctx), key, c, timeout, fn)
	}
	g.mu.Unlock()
	select {
	case <-c.done:
	case <-ctx.Done():
		select {
		case <-c.done: // both: the result is there, take it
		default:
			var zero V
			return zero, !ok, ctx.Err()
		}
	}
	if c.panic != nil {
		panic(c.panic)
	}
	return c.val, !ok, c.err
}

func (g *Group[K, V]) run(ctx context.Context, key K, c *call[V], timeout time.Duration, fn func(context.Context) (V, error)) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			c.panic = fmt.Sprintf("flight: %v\n\n%s", p, debug.Stack())
		}
		// Out of the map before done closes: a caller that sees the
		// result and comes back for the same key starts a new flight.
		g.mu.Lock()
		if g.calls[key] == c {
			delete(g.calls, key)
		}
		g.mu.Unlock()
		close(c.done)
	}()
	c.val, c.err = fn(ctx)
}

// InFlight is the number of keys with a call in flight.
func (g *Group[K, V]) InFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.calls)
}
