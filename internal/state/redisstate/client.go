package redisstate

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/connstr"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/internal/statekit"
	"github.com/cesivi/cesivi/internal/tlsfiles"
)

// NewClient builds a go-redis client from the seed's connection string
// (StackExchange.Redis syntax or a redis:// URL). The timeouts are the
// connection string's (connectTimeout, syncTimeout: 5 s each by default) so
// an operator can tighten them; retries are limited to two with short
// backoff so that a dead Redis fails a request within about a second of
// refusals instead of stalling it (see the package doc for why retries are
// safe here).
func NewClient(connectionString string) (redis.UniversalClient, *connstr.RedisOptions, error) {
	return NewClientTLS(connectionString, TLSFiles{})
}

// TLSFiles names PEM files for a TLS connection (Cesivi:DistributedState:
// TlsCaFile, TlsCertFile, TlsKeyFile). Every field is optional; CertFile and
// KeyFile go together.
type TLSFiles struct {
	// CAFile holds the certificates of the CAs trusted to sign the server's
	// certificate, instead of the system roots.
	CAFile string
	// CertFile and KeyFile are the client certificate (with any
	// intermediates) and its private key, for servers that require one
	// (tls-auth-clients yes).
	CertFile string
	KeyFile  string
}

func (f TLSFiles) empty() bool { return f.CAFile == "" && f.CertFile == "" && f.KeyFile == "" }

// NewClientTLS is NewClient with TLS files: the connection string must turn
// TLS on (ssl=true or rediss://); the files add trusted CAs and a client
// certificate to its TLS settings (minimum version and server name stay the
// connection string's). The files are read once, here.
func NewClientTLS(connectionString string, files TLSFiles) (redis.UniversalClient, *connstr.RedisOptions, error) {
	ro, err := connstr.ParseRedis(connectionString)
	if err != nil {
		return nil, nil, err
	}
	u := *ro.Universal()
	if !files.empty() {
		if !ro.TLS || u.TLSConfig == nil {
			return nil, nil, errors.New("redisstate: TLS files are given but the connection string does not turn TLS on (ssl=true or rediss://)")
		}
		if u.TLSConfig, err = withTLSFiles(u.TLSConfig, files); err != nil {
			return nil, nil, err
		}
	}
	u.MaxRetries = 2
	u.MinRetryBackoff = 8 * time.Millisecond
	u.MaxRetryBackoff = 256 * time.Millisecond
	if u.PoolTimeout == 0 || u.PoolTimeout > u.ReadTimeout+time.Second {
		u.PoolTimeout = u.ReadTimeout + time.Second
	}
	return redis.NewUniversalClient(&u), ro, nil
}

// withTLSFiles returns a copy of base that trusts files.CAFile's
// certificates and presents files' client certificate.
func withTLSFiles(base *tls.Config, files TLSFiles) (*tls.Config, error) {
	c := base.Clone()
	if files.CAFile != "" {
		pool, err := tlsfiles.LoadCAs(files.CAFile)
		if err != nil {
			return nil, fmt.Errorf("redisstate: CA file: %w", err)
		}
		c.RootCAs = pool
	}
	if (files.CertFile == "") != (files.KeyFile == "") {
		return nil, errors.New("redisstate: a client certificate needs both its certificate file and its key file")
	}
	if files.CertFile != "" {
		pair, err := tls.LoadX509KeyPair(files.CertFile, files.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("redisstate: client certificate %s with key %s: %w", files.CertFile, files.KeyFile, err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}

// Open connects to Redis and returns a provider that owns the client (its
// Close closes the client).
func Open(ctx context.Context, connectionString, keyPrefix string, opt state.Options) (*state.Provider, error) {
	return OpenTLS(ctx, connectionString, TLSFiles{}, keyPrefix, opt)
}

// OpenTLS is Open with TLS files (see NewClientTLS).
func OpenTLS(ctx context.Context, connectionString string, files TLSFiles, keyPrefix string, opt state.Options) (*state.Provider, error) {
	c, _, err := NewClientTLS(connectionString, files)
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
	opt = opt.WithDefaults()
	_, cluster := c.(*redis.ClusterClient)
	k := keys{prefix: keyPrefix, cluster: cluster}
	ps := &pubSub{c: c, k: k}
	ss := &sessions{c: c, k: k, opt: opt, loads: c}
	if ap, ok := c.(interface {
		AutoPipeline() (*redis.AutoPipeliner, error)
	}); ok {
		// Closed with the client.
		if p, err := ap.AutoPipeline(); err == nil {
			ss.loads = p
		}
	}
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
		Close: func() error { return errors.Join(tokenSub.Close(), sub.Close()) },
	}, nil
}

// keys builds the key names (see the package doc).
type keys struct {
	prefix  string
	cluster bool
}

func (k keys) session(id string) string        { return k.prefix + "session:" + id }
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

// slot is the Redis Cluster hash slot of key (CRC16/XMODEM of the hash tag
// or the whole key, mod 16384).
func slot(key string) uint16 {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			key = key[s+1 : s+1+e]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for b := 0; b < 8; b++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc % 16384
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
