package redisstate

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/state"
)

// maxWaitingLoads bounds the loads a hung Redis may hold after their
// callers gave up; past it, loads fail at once.
const maxWaitingLoads = 1024

// bounded runs a load through the auto-pipeliner within ctx's deadline.
// go-redis' auto-pipeliner (experimental in v9.23) waits out its own
// timeouts and retries (25 s against a paused Redis) whatever the
// context, so the call runs aside and the caller leaves at its deadline;
// what Redis holds meanwhile is bounded by maxWaitingLoads, so a hung
// Redis cannot pile up goroutines.
func (s *sessions) bounded(ctx context.Context, call func(context.Context) error) error {
	if _, ok := ctx.Deadline(); !ok || s.loads == redis.Cmdable(s.c) {
		return call(ctx)
	}
	if s.waiting.Add(1) > maxWaitingLoads {
		s.waiting.Add(-1)
		return fmt.Errorf("%w: too many loads waiting for Redis", state.ErrStoreUnavailable)
	}
	done := make(chan error, 1)
	go func() {
		defer s.waiting.Add(-1)
		done <- call(ctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
