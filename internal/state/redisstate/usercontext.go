package redisstate

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The shared user-context entry is one hash, usercontext:{uid}: ver counts
// the user's invalidations, data is the cached value, dver and depo are the
// user version and global epoch it was loaded under, dexp its expiry (ms). It is valid only while
// dver = ver and depo = the epoch counter, so an invalidation bumping either
// between a reader's Read and Write makes what that reader stores dead on
// arrival (and the write script refuses a changed ver outright).

var ucWriteScript = redis.NewScript(`
if (redis.call('HGET', KEYS[1], 'ver') or '') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'data', ARGV[3], 'dver', ARGV[1], 'depo', ARGV[2], 'dexp', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

// ucInvalidateScript bumps ver and drops the value; the key outlives the
// longest possible entry so that ver is not reset under a slow reader.
var ucInvalidateScript = redis.NewScript(`
redis.call('HINCRBY', KEYS[1], 'ver', 1)
redis.call('HDEL', KEYS[1], 'data', 'dver', 'depo', 'dexp')
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`)

type ucShared struct {
	c   redis.UniversalClient
	k   keys
	ns  string // key namespace: "usercontext" (keys usercontext:{uid}) or "token"
	now func() time.Time
}

type ucVersion struct{ ver, epo string }

func (u *ucShared) Read(ctx context.Context, userID string) ([]byte, time.Time, bool, any, error) {
	p := u.c.Pipeline()
	epo := p.Get(ctx, u.k.cacheEpoch(u.ns))
	h := p.HMGet(ctx, u.k.cacheEntry(u.ns, userID), "ver", "data", "dver", "depo", "dexp")
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, time.Time{}, false, nil, unavailable("read user context", err)
	}
	str := func(v any) string { s, _ := v.(string); return s }
	vals := h.Val()
	v := ucVersion{ver: str(vals[0]), epo: epo.Val()}
	// dexp is checked against the injected clock; PEXPIRE is the
	// wall-clock backstop that frees the memory.
	exp, _ := strconv.ParseInt(str(vals[4]), 10, 64)
	if vals[1] != nil && str(vals[2]) == v.ver && str(vals[3]) == v.epo && u.now().UnixMilli() < exp {
		return []byte(str(vals[1])), time.UnixMilli(exp), true, v, nil
	}
	return nil, time.Time{}, false, v, nil
}

func (u *ucShared) Write(ctx context.Context, userID string, version any, val []byte, ttl time.Duration) (bool, error) {
	v := version.(ucVersion)
	n, err := ucWriteScript.Run(ctx, u.c, []string{u.k.cacheEntry(u.ns, userID)}, v.ver, v.epo, val, ttl.Milliseconds(), u.now().Add(ttl).UnixMilli()).Int()
	if err != nil {
		return false, unavailable("write user context", err)
	}
	return n == 1, nil
}

func (u *ucShared) Invalidate(ctx context.Context, userID string) error {
	var err error
	if userID == "*" {
		err = u.c.Incr(ctx, u.k.cacheEpoch(u.ns)).Err()
	} else {
		err = ucInvalidateScript.Run(ctx, u.c, []string{u.k.cacheEntry(u.ns, userID)}, (24 * time.Hour).Milliseconds()).Err()
	}
	if err != nil {
		return unavailable("invalidate user context", err)
	}
	return nil
}
