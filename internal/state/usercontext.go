package state

import "context"

// UserContextCache caches what a user may do, per server and shared,
// invalidated across the farm.
type UserContextCache interface {
	// Get returns the user's cached context, calling load on a miss. A
	// value loaded while an invalidation for the user raced it is returned
	// to this caller but not cached.
	//
	// Concurrent misses of one user share one refill: the load of the
	// caller that started it runs (detached from that caller's
	// cancellation, under a bounded context of its own) and every caller
	// that came before the next invalidation gets a copy of its value, or
	// its error; a caller whose ctx ends returns ctx.Err() at once. So load
	// must answer for any caller of the same user, and its error is every
	// waiting caller's error.
	Get(ctx context.Context, userID string, load func(context.Context) ([]byte, error)) ([]byte, error)
	// Invalidate drops the user's entry on every server; "*" drops all.
	Invalidate(ctx context.Context, userID string) error
}
