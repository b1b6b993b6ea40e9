package connstr

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/redis/go-redis/v9"
)

// RedisMode says which kind of client redis.NewUniversalClient builds from a
// RedisOptions.
type RedisMode string

// The Redis deployment modes; see the package documentation for the rule
// that picks one.
const (
	RedisStandalone RedisMode = "standalone"
	RedisSentinel   RedisMode = "sentinel"
	RedisCluster    RedisMode = "cluster"
)

// StackExchange.Redis defaults, kept where the go-redis ones differ so that a
// string means the same thing in both.
const (
	defaultRedisPort      = 6379
	defaultRedisTLSPort   = 6380
	defaultSentinelPort   = 26379
	defaultConnectTimeout = 5 * time.Second
	defaultSyncTimeout    = 5 * time.Second
	defaultConnectRetry   = 3
)

// RedisOptions is a parsed Redis connection string: the go-redis options
// plus the facts that go-redis has no field for.
type RedisOptions struct {
	// Mode is the client kind the options select.
	Mode RedisMode
	// TLS is true when connections use TLS (ssl=true or rediss://).
	TLS bool
	// AbortConnect is StackExchange.Redis's abortConnect (default true).
	// go-redis always connects lazily, so a caller that wants the
	// StackExchange behaviour pings at start-up and fails when this is true.
	AbortConnect bool
	// KeepAlive is the keepAlive option, or zero when it was not given or
	// not positive. go-redis's default dialer already sends TCP keep-alives
	// after 30 s idle; a caller needing a shorter interval sets its own
	// Dialer.
	KeepAlive time.Duration

	universal *redis.UniversalOptions
	redacted  string
}

// Universal returns the options for redis.NewUniversalClient. The pointer
// is shared with o, not copied.
func (o *RedisOptions) Universal() *redis.UniversalOptions { return o.universal }

// Redacted returns the connection string as given, with every password
// replaced by "*****", for logs.
func (o *RedisOptions) Redacted() string { return o.redacted }

// String returns Redacted, so that printing the options never shows the
// password.
func (o *RedisOptions) String() string { return o.redacted }

// ParseRedis parses a StackExchange.Redis configuration string
// ("host:6379,password=…,ssl=true") or a redis:// or rediss:// URL. See the
// package documentation for the accepted options and the mode rule.
func ParseRedis(s string) (*RedisOptions, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, &ParseError{Format: FormatRedis, Reason: "is empty"}
	}
	if scheme, ok := urlScheme(s); ok {
		if scheme != "redis" && scheme != "rediss" {
			return nil, &ParseError{Format: FormatRedis, Part: "scheme", Reason: quote(scheme) + " is not redis:// or rediss://"}
		}
		return parseRedisURL(s, scheme)
	}
	return parseStackExchange(s)
}

// urlScheme returns the lower-cased scheme when s starts with "scheme://".
func urlScheme(s string) (string, bool) {
	i := strings.Index(s, "://")
	if i <= 0 {
		return "", false
	}
	for j := 0; j < i; j++ {
		c := s[j]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (j == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return "", false
		}
	}
	return strings.ToLower(s[:i]), true
}

// seParser holds the state of one StackExchange.Redis string.
type seParser struct {
	src string
	// hide is set once a password has been read: StackExchange strings
	// cannot escape ',', so every later item may be the tail of a password
	// that contained one, and errors must not show it.
	hide    bool
	secrets []span

	endpoints                        []endpoint
	user, password                   string
	sentinelUser, sentinelPassword   string
	sentinelUserSet, sentinelPassSet bool
	ssl                              bool
	sslHost                          string
	tlsMin, tlsMax                   uint16
	abortConnect                     bool
	connectTimeout, syncTimeout      time.Duration
	db                               int
	serviceName, clientName          string
	keepAlive                        time.Duration
	connectRetry, protocol           int
	disableIdentity                  bool
}

func parseStackExchange(s string) (*RedisOptions, error) {
	p := &seParser{
		src:            s,
		abortConnect:   true,
		connectTimeout: defaultConnectTimeout,
		syncTimeout:    defaultSyncTimeout,
		connectRetry:   defaultConnectRetry,
	}
	off := 0
	for i, raw := range strings.Split(s, ",") {
		if err := p.item(i+1, raw, off); err != nil {
			return nil, err
		}
		off += len(raw) + 1
	}
	return p.finish()
}

func (p *seParser) fail(part, reason string) error {
	return &ParseError{Format: FormatStackExchange, Part: part, Reason: reason}
}

// badValue reports an unacceptable value of a known option, quoting the value
// unless it may be part of a password.
func (p *seParser) badValue(name, val, what string) error {
	subject, note := describe(val, p.hide)
	return p.fail(name, subject+" "+what+note)
}

// itemPart names item n by its text when that is safe to show.
func (p *seParser) itemPart(n int, text string) string {
	if p.hide || text == "" || !printable(text) {
		return fmt.Sprintf("item %d", n)
	}
	return text
}

// item handles the n-th comma-separated item, raw, found at byte off.
func (p *seParser) item(n int, raw string, off int) error {
	tok := strings.TrimSpace(raw)
	if tok == "" {
		return nil // StackExchange.Redis skips empty items
	}
	eq := strings.IndexByte(raw, '=')
	if eq < 0 {
		return p.endpoint(n, tok)
	}
	key := strings.TrimSpace(raw[:eq])
	if key == "" {
		return p.fail(fmt.Sprintf("item %d", n), "has '=' but no option name before it"+hiddenIf(p.hide))
	}
	rawVal := raw[eq+1:]
	val := strings.TrimSpace(rawVal)
	start := off + eq + 1 + len(rawVal) - len(strings.TrimLeftFunc(rawVal, unicode.IsSpace))
	return p.option(n, key, val, span{start, start + len(val)})
}

func (p *seParser) endpoint(n int, tok string) error {
	if p.hide {
		return p.fail(fmt.Sprintf("item %d", n), "looks like an endpoint, but endpoints must come before password="+hiddenNote)
	}
	e, reason := splitEndpoint(tok)
	if reason != "" {
		part := fmt.Sprintf("item %d", n)
		if e.host != "" {
			part = "endpoint " + quote(e.host)
		}
		return p.fail(part, reason)
	}
	p.endpoints = append(p.endpoints, e)
	return nil
}

// secret records the span of a password value for Redacted and hides what
// follows it, even when the value is empty: a password that starts with ','
// leaves password= empty and its whole text in the following items.
func (p *seParser) secret(sp span, val string) {
	if val != "" {
		p.secrets = append(p.secrets, sp)
	}
	p.hide = true
}

func (p *seParser) option(n int, key, val string, sp span) error {
	lower := strings.ToLower(key)
	if lower != "password" && lower != "sentinelpassword" && assignsSecret(val) {
		return p.fail(p.itemPart(n, key), missingSeparator+hiddenIf(p.hide))
	}
	var err error
	switch lower {
	case "password":
		p.password = val
		p.secret(sp, val)
	case "user":
		p.user = val
	case "sentinelpassword":
		p.sentinelPassword, p.sentinelPassSet = val, true
		p.secret(sp, val)
	case "sentineluser":
		p.sentinelUser, p.sentinelUserSet = val, true
	case "ssl":
		p.ssl, err = p.boolean("ssl", val)
	case "sslhost":
		if val != "" && !validHost(val) {
			return p.badValue("sslHost", val, "is not a valid host name")
		}
		p.sslHost = val
	case "sslprotocols":
		p.tlsMin, p.tlsMax, err = p.sslProtocols(val)
	case "abortconnect":
		p.abortConnect, err = p.boolean("abortConnect", val)
	case "connecttimeout":
		p.connectTimeout, err = p.millis("connectTimeout", val)
	case "synctimeout":
		p.syncTimeout, err = p.millis("syncTimeout", val)
	case "asynctimeout":
		// go-redis has no separate budget for asynchronous calls; callers
		// bound them with their context.
		_, err = p.millis("asyncTimeout", val)
	case "defaultdatabase":
		p.db, err = p.number("defaultDatabase", val, "a database number", 0)
	case "servicename":
		p.serviceName = val
	case "name":
		p.clientName = val
	case "keepalive":
		var secs int
		secs, err = p.number("keepAlive", val, "a number of seconds", -1<<31)
		p.keepAlive = time.Duration(max(secs, 0)) * time.Second
	case "connectretry":
		p.connectRetry, err = p.number("connectRetry", val, "a retry count", 0)
	case "setlib":
		var on bool
		on, err = p.boolean("setlib", val)
		p.disableIdentity = !on
	case "protocol":
		switch strings.ToLower(val) {
		case "resp2", "2":
			p.protocol = 2
		case "resp3", "3":
			p.protocol = 3
		default:
			return p.badValue("protocol", val, "is not resp2 or resp3")
		}
	case "allowadmin", "resolvedns", "checkcertificaterevocation", "tcpkeepalive":
		// Accepted and ignored: go-redis has no admin-command guard, resolves
		// names on every dial, always enables TCP keep-alive and, like all of
		// Go's crypto/tls, does not check certificate revocation.
		_, err = p.boolean(canonical(key), val)
	case "configcheckseconds", "topologyrefreshseconds":
		// Accepted and ignored: go-redis re-reads topology on MOVED/ASK and
		// Sentinel notifications instead of polling.
		_, err = p.number(canonical(key), val, "a number of seconds", 0)
	case "tiebreaker", "configchannel":
		// Accepted and ignored: StackExchange.Redis's own primary election
		// and reconfiguration broadcast; go-redis uses Sentinel or Cluster.
	case "version":
		if !validVersion(val) {
			return p.badValue("version", val, "is not a version such as 7.2")
		}
	case "highprioritythreads", "preserveasyncorder", "responsetimeout", "writebuffer":
		// Obsolete; StackExchange.Redis itself ignores them.
	case "proxy":
		switch strings.ToLower(val) {
		case "none":
		case "twemproxy", "envoyproxy":
			return p.fail("proxy", "twemproxy and envoyproxy are not supported")
		default:
			return p.badValue("proxy", val, "is not None, Twemproxy or Envoyproxy")
		}
	case "highintegrity":
		var on bool
		if on, err = p.boolean("highIntegrity", val); err == nil && on {
			return p.fail("highIntegrity", "true is not supported: go-redis has no per-command sequence check")
		}
	case "channelprefix":
		// Rejected rather than ignored: dropping the prefix would silently
		// share pub/sub channels with every other user of the server.
		if val != "" {
			return p.fail("channelPrefix", "is not supported: go-redis cannot prefix pub/sub channels")
		}
	case "tunnel":
		// The value may hold proxy credentials, so it is never quoted.
		return p.fail("tunnel", "is not supported: go-redis cannot connect through an HTTP tunnel")
	default:
		if strings.HasPrefix(key, "$") {
			return p.fail(p.itemPart(n, key), "renaming or disabling commands is not supported"+hiddenIf(p.hide))
		}
		return p.fail(p.itemPart(n, key), "is not a known option"+hiddenIf(p.hide))
	}
	return err
}

// canonical returns the documented spelling of a StackExchange.Redis key, so
// that error messages name it the same way whatever case the user typed.
func canonical(key string) string {
	for _, k := range []string{"allowAdmin", "resolveDns", "checkCertificateRevocation", "tcpKeepAlive", "configCheckSeconds", "topologyRefreshSeconds"} {
		if strings.EqualFold(k, key) {
			return k
		}
	}
	return key
}

func (p *seParser) boolean(name, val string) (bool, error) {
	b, ok := parseBool(val)
	if !ok {
		return false, p.badValue(name, val, "is not true or false")
	}
	return b, nil
}

// number parses a 32-bit integer (the .NET option type) of at least min.
func (p *seParser) number(name, val, what string, min int) (int, error) {
	n, err := strconv.ParseInt(val, 10, 32)
	if err != nil {
		return 0, p.badValue(name, val, "is not "+what)
	}
	if n < int64(min) {
		return 0, p.badValue(name, val, fmt.Sprintf("is less than %d", min))
	}
	return int(n), nil
}

func (p *seParser) millis(name, val string) (time.Duration, error) {
	n, err := p.number(name, val, "a number of milliseconds", 1)
	return time.Duration(n) * time.Millisecond, err
}

// sslProtocols reads .NET SslProtocols names joined by '|' and returns the
// TLS version range they allow. Versions before TLS 1.2 are refused because
// Go's client does not offer SSL and servers should not accept TLS 1.0/1.1.
func (p *seParser) sslProtocols(val string) (lo, hi uint16, err error) {
	for _, name := range strings.Split(val, "|") {
		var v uint16
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "none":
			continue // "let the system decide"
		case "tls12":
			v = tls.VersionTLS12
		case "tls13":
			v = tls.VersionTLS13
		case "ssl2", "ssl3", "tls", "tls11", "default":
			return 0, 0, p.badValue("sslProtocols", val, "asks for a protocol older than TLS 1.2, which is not supported")
		default:
			return 0, 0, p.badValue("sslProtocols", val, "is not Tls12, Tls13 or None (joined with '|')")
		}
		if lo == 0 || v < lo {
			lo = v
		}
		hi = max(hi, v)
	}
	return lo, hi, nil
}

// validVersion accepts 1 to 4 dot-separated numbers, as System.Version does.
func validVersion(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return false
	}
	for _, part := range parts {
		if _, err := strconv.ParseUint(part, 10, 31); err != nil {
			return false
		}
	}
	return true
}

func (p *seParser) finish() (*RedisOptions, error) {
	if len(p.endpoints) == 0 {
		return nil, p.fail("endpoints", "none given; start the string with host[:port]")
	}
	mode := RedisStandalone
	port := defaultRedisPort
	switch {
	case p.serviceName != "":
		mode, port = RedisSentinel, defaultSentinelPort
	case p.ssl:
		port = defaultRedisTLSPort
	}
	// Like StackExchange.Redis, an endpoint listed twice counts once.
	var addrs []string
	for _, e := range p.endpoints {
		if e.port == 0 {
			e.port = port
		}
		if a := e.addr(); !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	if mode == RedisStandalone && len(addrs) > 1 {
		mode = RedisCluster
	}
	if mode == RedisCluster && p.db != 0 {
		return nil, p.fail("defaultDatabase", fmt.Sprintf("is %d, but several endpoints without serviceName select Redis Cluster, which only has database 0", p.db))
	}

	u := &redis.UniversalOptions{
		Addrs:                 addrs,
		Username:              p.user,
		Password:              p.password,
		DB:                    p.db,
		ClientName:            p.clientName,
		MasterName:            p.serviceName,
		Protocol:              p.protocol,
		DisableIdentity:       p.disableIdentity,
		DialTimeout:           p.connectTimeout,
		ReadTimeout:           p.syncTimeout,
		WriteTimeout:          p.syncTimeout,
		ContextTimeoutEnabled: true,
		// connectRetry counts repeats; DialerRetries counts attempts.
		DialerRetries: p.connectRetry + 1,
	}
	if mode == RedisSentinel {
		// StackExchange.Redis authenticates to sentinels with the server
		// credentials unless sentinelUser/sentinelPassword say otherwise.
		u.SentinelUsername, u.SentinelPassword = p.user, p.password
		if p.sentinelUserSet {
			u.SentinelUsername = p.sentinelUser
		}
		if p.sentinelPassSet {
			u.SentinelPassword = p.sentinelPassword
		}
	}
	if p.ssl {
		u.TLSConfig = redisTLS(mode, p.endpoints[0].host, p.sslHost)
		if p.tlsMin != 0 {
			u.TLSConfig.MinVersion, u.TLSConfig.MaxVersion = p.tlsMin, p.tlsMax
		}
	}
	return &RedisOptions{
		Mode:         mode,
		TLS:          p.ssl,
		AbortConnect: p.abortConnect,
		KeepAlive:    p.keepAlive,
		universal:    u,
		redacted:     redact(p.src, p.secrets),
	}, nil
}

// redisTLS builds the client TLS configuration. The server name is pinned
// only for a single standalone server: with several servers, or with the
// addresses Sentinel and Cluster hand out, crypto/tls must take the name
// from each dialled address instead of checking every node against one host.
func redisTLS(mode RedisMode, host, sslHost string) *tls.Config {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	switch {
	case sslHost != "":
		c.ServerName = sslHost
	case mode == RedisStandalone:
		c.ServerName = host
	}
	return c
}
