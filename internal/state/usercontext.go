package state

import "context"

// UserContextCache caches what a user may do, per server and shared,
// invalidated across the farm.
type UserContextCache interface {
	// Get returns the user's cached context, calling load on a miss. A
	// value loaded while an invalidation for the user raced it is returned
	// to this caller but not cached.
	Get(ctx context.Context, userID string, load func(context.Context) ([]byte, error)) ([]byte, error)
	// Invalidate drops the user's entry on every server; "*" drops all.
	Invalidate(ctx context.Context, userID string) error
}
