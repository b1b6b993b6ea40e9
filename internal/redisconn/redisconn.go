// Package redisconn builds the one go-redis client a Cesivi process holds,
// from Cesivi:DistributedState (the seed's StackExchange.Redis connection
// string or a redis:// URL, and the TLS files). Standalone, Sentinel and
// Cluster are chosen by the connection string, through go-redis'
// UniversalClient, never by code paths of ours.
//
// Everything about the settings is checked here, once: a missing or
// unreadable TLS file, a client certificate without its key, TLS files with
// a connection string that does not turn TLS on. Problems are
// *config.Error values that name the key to change and never hold a
// password or a file's contents.
package redisconn

import (
	"crypto/tls"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/connstr"
	"github.com/cesivi/cesivi/internal/tlsfiles"
)

// The keys whose values this package reads, for its messages.
const (
	ConnectionStringKey = "Cesivi:DistributedState:ConnectionString"
	TLSCAFileKey        = "Cesivi:DistributedState:TlsCaFile"
	TLSCertFileKey      = "Cesivi:DistributedState:TlsCertFile"
	TLSKeyFileKey       = "Cesivi:DistributedState:TlsKeyFile"
)

// New returns a client for s. It does not connect: go-redis dials on first
// use and redials on its own, so a process starts while Redis is down.
//
// The timeouts are the connection string's (connectTimeout, syncTimeout:
// 5 s each by default) so an operator can tighten them; retries are
// limited to two with short backoff so that a dead Redis fails a request
// within about a second of refusals instead of stalling it (every command
// Cesivi sends is safe to retry: see internal/state/redisstate's doc).
func New(s config.DistributedStateSettings) (redis.UniversalClient, error) {
	ro, err := connstr.ParseRedis(s.ConnectionString)
	if err != nil {
		return nil, &config.Error{Key: ConnectionStringKey, Problem: err.Error()}
	}
	u := *ro.Universal()
	if u.TLSConfig, err = withTLSFiles(s, ro.TLS, u.TLSConfig); err != nil {
		return nil, err
	}
	// A caller's deadline bounds the whole command, retries included:
	// without this go-redis waits out its own timeouts (3 attempts of up
	// to syncTimeout each against a Redis that accepts and never answers)
	// whatever the request's budget.
	u.ContextTimeoutEnabled = true
	u.MaxRetries = 2
	u.MinRetryBackoff = 8 * time.Millisecond
	u.MaxRetryBackoff = 256 * time.Millisecond
	if u.PoolTimeout == 0 || u.PoolTimeout > u.ReadTimeout+time.Second {
		u.PoolTimeout = u.ReadTimeout + time.Second
	}
	return redis.NewUniversalClient(&u), nil
}

// NewFromConnectionString is New for a connection string alone (no TLS
// files): tests and tools that talk to one Redis.
func NewFromConnectionString(connectionString string) (redis.UniversalClient, error) {
	return New(config.DistributedStateSettings{Provider: config.ProviderRedis, ConnectionString: connectionString})
}

// withTLSFiles returns base (the connection string's TLS settings, nil
// without TLS) with the trusted CAs and the client certificate of s's TLS
// files added, reading each file once. base is cloned, never changed.
func withTLSFiles(s config.DistributedStateSettings, tlsOn bool, base *tls.Config) (*tls.Config, error) {
	set := map[string]bool{TLSCAFileKey: s.TlsCaFile != "", TLSCertFileKey: s.TlsCertFile != "", TLSKeyFileKey: s.TlsKeyFile != ""}
	if !set[TLSCAFileKey] && !set[TLSCertFileKey] && !set[TLSKeyFileKey] {
		return base, nil
	}
	if !tlsOn || base == nil {
		for _, k := range []string{TLSCAFileKey, TLSCertFileKey, TLSKeyFileKey} {
			if set[k] {
				return nil, &config.Error{Key: k, Problem: "is only used over TLS; add ssl=true to " + ConnectionStringKey + " (or use a rediss:// URL)"}
			}
		}
	}
	switch {
	case set[TLSCertFileKey] && !set[TLSKeyFileKey]:
		return nil, &config.Error{Key: TLSKeyFileKey, Problem: "required with " + TLSCertFileKey + " (the client certificate's private key)"}
	case set[TLSKeyFileKey] && !set[TLSCertFileKey]:
		return nil, &config.Error{Key: TLSCertFileKey, Problem: "required with " + TLSKeyFileKey + " (the client certificate for the private key)"}
	}
	c := base.Clone()
	if set[TLSCAFileKey] {
		pool, err := tlsfiles.LoadCAs(s.TlsCaFile)
		if err != nil {
			return nil, &config.Error{Key: TLSCAFileKey, Problem: oneLine(err)}
		}
		c.RootCAs = pool
	}
	if set[TLSCertFileKey] {
		// Say which of the two files is missing before saying they do not
		// make a pair.
		for _, f := range []struct{ key, path string }{{TLSCertFileKey, s.TlsCertFile}, {TLSKeyFileKey, s.TlsKeyFile}} {
			fh, err := os.Open(f.path)
			if err != nil {
				return nil, &config.Error{Key: f.key, Problem: oneLine(err)}
			}
			fh.Close()
		}
		pair, err := tls.LoadX509KeyPair(s.TlsCertFile, s.TlsKeyFile)
		if err != nil {
			return nil, &config.Error{Key: TLSCertFileKey, Problem: "with " + TLSKeyFileKey + " is not a usable client certificate and key: " + oneLine(err)}
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}

// oneLine keeps an error message on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
