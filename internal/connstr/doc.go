// Package connstr parses the Redis and PostgreSQL connection strings that
// Cesivi administrators configure, in the forms they already use with .NET,
// into go-redis and pgx configurations.
//
// # Redis
//
// ParseRedis accepts StackExchange.Redis configuration strings,
//
//	redis-host:6379,password=secret,ssl=true,abortConnect=false,connectTimeout=5000
//	h1:26379,h2:26379,serviceName=mymaster,user=app,password=p,defaultDatabase=2
//
// and redis:// or rediss:// URLs with go-redis's query parameters (db,
// protocol, client_name, max_retries, pool_size, min_idle_conns,
// max_idle_conns, max_active_conns, dial_timeout, read_timeout,
// write_timeout, pool_timeout, conn_max_idle_time, conn_max_lifetime, and
// addr=host:port, repeatable, for more nodes).
//
// In the StackExchange form items are separated by ','; an item without '='
// is an endpoint, host[:port] or [IPv6]:port; keys are case-insensitive and
// values are trimmed. As in StackExchange.Redis, a port left out is 26379
// with serviceName, 6380 with ssl=true and 6379 otherwise, an endpoint given
// twice counts once, and a later key overrides an earlier one. A password
// cannot contain ',' in this form; use a URL with percent-encoding instead.
// Endpoints must be listed before password=, because anything after a
// password may be the rest of a password that contained a ','.
//
// Options that take effect: password, user, sentinelUser, sentinelPassword
// (default to user and password, as in StackExchange.Redis), ssl, sslHost
// (TLS server name), sslProtocols (Tls12, Tls13, None, joined with '|'),
// connectTimeout (ms, DialTimeout), syncTimeout (ms, ReadTimeout and
// WriteTimeout), defaultDatabase, serviceName, name (client name),
// connectRetry (connection attempts are connectRetry+1), setlib=false
// (DisableIdentity), protocol (resp2 or resp3). Recorded on RedisOptions
// for the caller: abortConnect and keepAlive (seconds).
//
// Accepted, validated and ignored because go-redis has no equivalent
// and dropping them changes nothing a client relies on: asyncTimeout,
// allowAdmin, resolveDns, checkCertificateRevocation, tcpKeepAlive,
// configCheckSeconds, topologyRefreshSeconds, tiebreaker, configChannel,
// version, proxy=None, highIntegrity=false, and the obsolete
// highPriorityThreads, preserveAsyncOrder, responseTimeout and writeBuffer.
//
// Rejected: channelPrefix with a value (go-redis cannot prefix channels, and
// ignoring it would share pub/sub channels with other tenants),
// proxy=Twemproxy or Envoyproxy, tunnel, highIntegrity=true, $COMMAND
// renames, sslProtocols below TLS 1.2, and any other key.
//
// Timeouts are always set: DialTimeout from connectTimeout and Read and
// WriteTimeout from syncTimeout, each 5 s by default as in
// StackExchange.Redis, with ContextTimeoutEnabled so that context deadlines
// apply too. TLS uses at least TLS 1.2; its server name is sslHost, or else
// the host of a single standalone server; for Sentinel and Cluster it is
// left to crypto/tls, which takes it from each address dialled.
//
// # Mode selection
//
// The result is meant for redis.NewUniversalClient, and its rule decides
// the mode, reported as RedisOptions.Mode:
//
//   - serviceName (Sentinel master name) given: Sentinel, and the endpoints
//     are the sentinels;
//   - otherwise several distinct endpoints: Cluster (only database 0, so a
//     non-zero defaultDatabase is an error);
//   - otherwise: a single standalone server.
//
// StackExchange.Redis discovers clusters itself and also treats several
// endpoints as primary and replicas; go-redis does neither, which is why
// several endpoints mean Cluster here. A cluster reached through a single
// configuration endpoint needs Universal().IsClusterMode set by the caller.
//
// # PostgreSQL
//
// ParsePostgres and ParsePostgresOptions accept Npgsql strings,
//
//	Host=pg-host;Port=5432;Database=Cesivi;Username=postgres;Password=secret
//
// libpq keyword/value strings (host=pg-host dbname=cesivi) and postgres:// or
// postgresql:// URLs. A string is libpq when every key is a lower-case libpq
// keyword and no unquoted value contains ';' (or, if it does not tokenize,
// when it starts with such a keyword and has no ';'); otherwise it is
// Npgsql. libpq strings and URLs are handed to pgx, which applies its own
// rules.
//
// Npgsql strings follow ADO.NET syntax: items separated by ';', keys
// case-insensitive with spaces ignored ("SslMode" = "SSL Mode"), values
// optionally quoted with " or ' (a doubled quote stands for itself; only a
// quoted value can contain ';'). Keys and synonyms: Host/Server (a
// comma-separated list, each host optionally with :port, becomes pgx
// fallbacks), Port, Database/DB/Initial Catalog, Username/User/User
// Id/UID, Password/PWD/PSW, Passfile, Application Name, Search Path,
// Timezone, Options, SSL Mode (Disable, Allow, Prefer, Require, VerifyCA,
// VerifyFull), Trust Server Certificate (never verify the server
// certificate; VerifyCA and VerifyFull become Require), Root Certificate, SSL
// Certificate, SSL Key, SSL Password, Timeout (connect, seconds, default 15
// as in Npgsql), Command Timeout (seconds, returned as
// PostgresOptions.CommandTimeout), Pooling, Minimum/Min Pool Size,
// Maximum/Max Pool Size, Connection Idle Lifetime, Connection Lifetime/Load
// Balance Timeout (0 = unlimited), Keepalive (seconds, applied as TCP
// keep-alive), Target Session Attributes, Kerberos Service Name, Channel
// Binding, Load Balance Hosts=false; Include Error Detail, Persist
// Security Info and Enlist are accepted and ignored. Other keys are errors.
// Settings not given keep pgx's defaults and, as in pgx, the PG* environment
// variables; an Npgsql string always sets host, port, sslmode (Prefer unless
// given) and connect_timeout itself, so PGHOST, PGPORT, PGSSLMODE and
// PGCONNECT_TIMEOUT do not apply to it.
//
// Pooling=false keeps the pool but makes every connection single-use:
// AfterRelease refuses each connection back and no idle connections are
// kept, which is what Npgsql does without a pool. A Minimum Pool Size above
// pgx's default maximum raises the maximum, since Npgsql's default of 100
// would have allowed it.
//
// # Secrecy
//
// Passwords never appear in errors or redacted output. Every error is a
// *ParseError whose message names the offending key or endpoint and never
// contains a password or any part of one:
//
//   - values of password keys are never quoted;
//   - text after a password key may be the tail of a password that
//     contained the separator, so it is described by position ("item 4")
//     or by the canonical key name, never shown; for the same reason
//     endpoints (Redis) and settings pgx would pass to the server as runtime
//     parameters (libpq, URL query) must come before the password;
//   - a value that contains "password=" (a forgotten separator) is refused
//     and never quoted, and no value mentioning a password is quoted;
//   - a URL whose password holds an unencoded '/', '?', '#' or '@' is
//     refused without detail, since its tail would land in the host, path or
//     query, and url.Parse errors, which quote the URL, are not passed on;
//   - pgx is given the connection string without the password, which is
//     set on the result afterwards (so pgxpool.Config.ConnString never holds
//     it either); pgx errors are cut down to their reason and withheld
//     entirely if that reason contains a secret.
//
// RedisOptions.Redacted and RedactPostgres show the connection string as
// written with each password replaced by "*****"; RedactPostgres withholds
// a string that does not parse, whose password cannot be located. A
// password cut up by an unescaped separator whose tail forms a valid option
// cannot be recognised and stays visible there; quote or encode passwords.
package connstr
