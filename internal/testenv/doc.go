// Package testenv starts the real services Cesivi's tests and local farm need:
// Redis, PostgreSQL and an OpenID provider.
//
// Nothing here is a mock. Redis and PostgreSQL are the machine's own
// redis-server and postgres binaries, each started as a private child process
// on a free loopback port with its data in a private directory; the OpenID
// provider is the zitadel/oidc example OP served in-process on loopback, with
// its real HTML login form.
//
// # The rule: never touch the machine's long-lived services
//
// A developer machine or CI host may already run a Redis on 6379 and a
// PostgreSQL on 5432. This package never connects to them, never uses their
// ports or data directories, and never signals a process it did not start:
// every server it stops is addressed by the PID it recorded when starting it,
// never by name. Keep it that way when changing this package.
//
// # Which helper to use
//
// Process-level functions (StartRedis, StartPostgres, StartIdentityProvider)
// take no *testing.T, so a command can use them to launch a long-lived local
// farm (see RedisOptions.Detached and PostgresOptions.Detached).
//
// In tests:
//   - RedisDB: a fresh logical database on the shared Redis, flushed before
//     the test. The default choice.
//   - Redis: the shared Redis itself (database 0, shared by every caller).
//   - RedisPrivate: a dedicated Redis, for tests that kill, restart or
//     reconfigure it.
//   - RedisSentinel: a dedicated Sentinel set (1 master, 1 replica, 3
//     sentinels) with Failover; RedisCluster: a dedicated three-master
//     Redis Cluster; RedisTLS: a dedicated TLS-only Redis that requires a
//     client certificate, with a throwaway CA (NewRedisTLSFiles);
//     RedisHardened: a dedicated Redis configured as the seed's "Redis
//     Security" section (requirepass, FLUSHDB/FLUSHALL/CONFIG/SHUTDOWN
//     renamed away, TLS only, an ACL user for Cesivi), stopped by signal.
//   - Postgres: a fresh database on the shared PostgreSQL, dropped after the
//     test. The default choice.
//   - PostgresPrivate: a dedicated PostgreSQL server.
//   - IdentityProviderT: a dedicated OpenID provider.
//
// The shared servers are started lazily, once per test binary, and stopped by
// Main, so a package that uses Redis, RedisDB or Postgres must have
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// If redis-server or PostgreSQL is missing, FindBinary installs them with
// apt-get when running as root on Debian; otherwise tests fail (they are
// never skipped) with a message saying what to install.
package testenv
