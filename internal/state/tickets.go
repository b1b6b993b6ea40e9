package state

import (
	"context"
	"time"
)

// Tickets keeps small one-time values with a short TTL: the OpenID Connect
// login state a browser's login started on one edge and completes on
// another. A ticket is taken at most once, whichever server takes it, so a
// replayed callback finds nothing.
type Tickets interface {
	// Put stores value under key for ttl. An existing key is ErrConflict
	// (keys are random; a collision means a bug or an attack).
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Take returns the value and deletes it in the same step. A missing or
	// expired key is ErrNotFound.
	Take(ctx context.Context, key string) ([]byte, error)
}
