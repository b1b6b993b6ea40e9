package redisstate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/state"
)

// tickets stores one-time values under the caller's key (plus the prefix).
// Put is SET NX PX: a retried Put that already succeeded reports
// ErrConflict, which callers treat as failure and retry with a fresh random
// key, so the retry is harmless. Take is GETDEL (Redis ≥ 6.2): if a retry
// repeats it after the first one deleted the value, the second answers
// not-found, which is the safe side for a login state (the user starts the
// login again).
type tickets struct {
	c redis.UniversalClient
	k keys
}

func (t *tickets) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("redisstate: ticket ttl must be positive, got %v", ttl)
	}
	ok, err := t.c.SetNX(ctx, t.k.prefix+key, value, ttl).Result()
	if err != nil {
		return unavailable("ticket put", err)
	}
	if !ok {
		return fmt.Errorf("redisstate: ticket: %w", state.ErrConflict)
	}
	return nil
}

func (t *tickets) Take(ctx context.Context, key string) ([]byte, error) {
	v, err := t.c.GetDel(ctx, t.k.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstate: ticket: %w", state.ErrNotFound)
	}
	if err != nil {
		return nil, unavailable("ticket take", err)
	}
	return v, nil
}
