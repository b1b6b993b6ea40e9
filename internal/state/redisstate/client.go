package redisstate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/redisconn"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/internal/statekit"
)

// Open returns a provider over a client of its own for connectionString
// (its Close closes the client), for tests and tools that need the state
// alone. A Cesivi process opens its one client with its other backends
// (internal/backends) and hands it to New.
func Open(ctx context.Context, connectionString, keyPrefix string, opt state.Options) (*state.Provider, error) {
	c, err := redisconn.NewFromConnectionString(connectionString)
	if err != nil {
		return nil, err
	}
	p, err := New(ctx, c, keyPrefix, opt)
	if err != nil {
		c.Close()
		return nil, err
	}
	inner := p.Close
	p.Close = func() error { return errors.Join(inner(), c.Close()) }
	return p, nil
}

// New returns a provider over an existing client, which the caller keeps
// owning. It subscribes to the user-context channel, waiting for the
// subscription at most until ctx ends (without Redis the provider still
// works and keeps retrying).
func New(ctx context.Context, c redis.UniversalClient, keyPrefix string, opt state.Options) (*state.Provider, error) {
	if strings.ContainsAny(keyPrefix, "{}") {
		return nil, fmt.Errorf("redisstate: key prefix %q: braces would break the keys' hash tags", keyPrefix)
	}
	injected := opt.Now != nil
	opt = opt.WithDefaults()
	_, cluster := c.(*redis.ClusterClient)
	k := keys{prefix: keyPrefix, cluster: cluster}
	ps := &pubSub{c: c, k: k}
	clock := newStoreClock(opt.Now, injected)
	ss := &sessions{c: c, k: k, opt: opt, clock: clock}
	if err := ss.register(opt); err != nil {
		return nil, err
	}
	uc, sub, err := statekit.NewUserContextCache(ctx, &ucShared{c: c, k: k, ns: "usercontext", now: opt.Now}, ps, opt)
	if err != nil {
		return nil, err
	}
	tokens, tokenSub, err := statekit.NewTokenCache(ctx, &ucShared{c: c, k: k, ns: "token", now: opt.Now}, ps, opt)
	if err != nil {
		sub.Close()
		return nil, err
	}
	clock.start(c)
	ss.batch = newLoadBatcher(c)
	return &state.Provider{
		Name:         "Redis",
		Sessions:     statekit.WithRevocationNotices(ss, ps),
		UserContexts: uc,
		Tokens:       tokens,
		Locks:        &locker{c: c, k: k},
		PubSub:       ps,
		Queue:        &queue{c: c, k: k},
		Tickets:      &tickets{c: c, k: k},
		Ping: func(ctx context.Context) error {
			if err := c.Ping(ctx).Err(); err != nil {
				return unavailable("ping", err)
			}
			return nil
		},
		Close: func() error {
			clock.close()
			ss.batch.close()
			return errors.Join(tokenSub.Close(), sub.Close())
		},
	}, nil
}

// keys builds the key names (see the package doc).
type keys struct {
	prefix  string
	cluster bool
}

func (k keys) session(id string) string { return k.prefix + "session:" + id }

// tokens names the key of a session's sealed tokens (see sessions.go).
// Its hash tag is the whole session key, which has none of its own (the
// prefix may not hold braces, ids have none), so on Cluster both keys are
// in one slot and one script may touch both.
func (k keys) tokens(id string) string { return "{" + k.session(id) + "}:tokens" }

func (k keys) userIndex(uid string) string     { return k.prefix + "{user:" + uid + "}:sessions" }
func (k keys) sidIndex(sid string) string      { return k.prefix + "{sid:" + sid + "}:sessions" }
func (k keys) active() string                  { return k.prefix + "{sessions}:active" }
func (k keys) cacheEntry(ns, id string) string { return k.prefix + ns + ":{" + id + "}" }
func (k keys) cacheEpoch(ns string) string     { return k.prefix + ns + ":epoch" }
func (k keys) lock(name string) string         { return k.prefix + "lock:{" + name + "}" }
func (k keys) fence(name string) string        { return k.prefix + "lock:{" + name + "}:fence" }
func (k keys) channel(name string) string      { return k.prefix + name }

// unavailable wraps a failure of the store itself.
func unavailable(op string, err error) error {
	return fmt.Errorf("redisstate: %s: %w: %w", op, state.ErrStoreUnavailable, err)
}

// WaitReplicas blocks until at least n replicas have acknowledged every
// write made through c before the call, or timeout passes, and returns how
// many did. WAIT covers the writes of the connection it runs on, so it is
// sent in one pipeline (one connection) after a write of its own: the
// replication stream is ordered, so acknowledging that write acknowledges
// everything before it. Use it where data must survive a failover (with
// Sentinel, an unacknowledged write can be lost when the master changes).
// Not meaningful on Cluster, where each shard replicates on its own.
func WaitReplicas(ctx context.Context, c redis.UniversalClient, keyPrefix string, n int, timeout time.Duration) (int, error) {
	p := c.Pipeline()
	p.Incr(ctx, keyPrefix+"replication:marker")
	w := p.Do(ctx, "WAIT", n, timeout.Milliseconds())
	if _, err := p.Exec(ctx); err != nil {
		return 0, unavailable("wait for replicas", err)
	}
	got, err := w.Int()
	if err != nil {
		return 0, unavailable("wait for replicas", err)
	}
	return got, nil
}
