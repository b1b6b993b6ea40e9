package redisstate

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/internal/statekit"
)

// acquireScript: KEYS lock, fence; ARGV holder, ttl ms, fence retention ms.
// The lock value is "<token>:<holder>". A retry of our own success returns
// the same token. The fence counter expires fenceRetention after the last
// acquisition, so locks named after short-lived things (one per session)
// leave nothing behind; tokens need only grow while a protected resource
// can still see writes of an earlier holder, which is far shorter.
var acquireScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur then
  local tok, holder = string.match(cur, '^(%d+):(.*)$')
  if holder == ARGV[1] then return tonumber(tok) end
  return 0
end
local tok = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('SET', KEYS[1], tok .. ':' .. ARGV[1], 'PX', ARGV[2])
return tok
`)

// renewScript and releaseScript act only if the caller still holds the lock.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`)

var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`)

// fenceRetention is how long a lock's fence counter outlives its last
// acquisition (at least 1000 lease TTLs).
const fenceRetention = 7 * 24 * time.Hour

type locker struct {
	c redis.UniversalClient
	k keys
}

// Acquire takes the lease on one Redis primary. With Sentinel, a failover
// can lose a lease that was not yet replicated (the new primary lets a
// second holder in), which is why writes it protects must check the fencing
// token: the fence counter is only ever incremented, and a replica that
// missed increments hands out tokens already seen, which the protected
// resource then refuses. Tokens can repeat after such a failover, so
// where two holders must never share a token, make the counter durable
// with WaitReplicas(ctx, c, prefix, 1, ...) right after Acquire and give up
// the lease if no replica acknowledged. Redlock would not remove the need
// for fencing either.
func (l *locker) Acquire(ctx context.Context, name string, ttl time.Duration) (*state.Lease, error) {
	if ttl < 3*time.Millisecond {
		return nil, fmt.Errorf("redisstate: lock %q: ttl %v too short", name, ttl)
	}
	holder := state.NewID()
	keys := []string{l.k.lock(name), l.k.fence(name)}
	retention := max(fenceRetention, 1000*ttl)
	tok, err := acquireScript.Run(ctx, l.c, keys, holder, ttl.Milliseconds(), retention.Milliseconds()).Int64()
	if err != nil {
		return nil, unavailable("acquire lock", err)
	}
	if tok == 0 {
		return nil, fmt.Errorf("redisstate: lock %q: %w", name, state.ErrConflict)
	}
	val := fmt.Sprintf("%d:%s", tok, holder)
	held := func(ctx context.Context, s *redis.Script, args ...any) error {
		n, err := s.Run(ctx, l.c, keys[:1], append([]any{val}, args...)...).Int()
		if err != nil {
			return unavailable("lock "+name, err)
		}
		if n == 0 {
			return fmt.Errorf("redisstate: lock %q: %w", name, state.ErrConflict)
		}
		return nil
	}
	renew := func(ctx context.Context) error { return held(ctx, renewScript, ttl.Milliseconds()) }
	release := func(ctx context.Context) error { return held(ctx, releaseScript) }
	return statekit.NewLease(name, uint64(tok), ttl, renew, release), nil
}
