package connstr

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// parseRedisURL reads redis://[user:password@]host[:port][/db][?param=…]
// with the query parameters of go-redis's ParseURL and ParseClusterURL
// (addr=host:port adds a node, which selects Cluster).
func parseRedisURL(s, scheme string) (*RedisOptions, error) {
	fail := func(part, reason string) (*RedisOptions, error) {
		return nil, &ParseError{Format: FormatRedisURL, Part: part, Reason: reason}
	}
	// An unencoded '/', '?' or '#' in the password ends the authority early
	// and pushes the rest of the password, and its '@', into the path or
	// query, where a later message could quote it. Refuse that shape
	// before anything else looks at the text.
	base := len(scheme) + len("://")
	rest := s[base:]
	authEnd := strings.IndexAny(rest, "/?#")
	if authEnd < 0 {
		authEnd = len(rest)
	}
	if strings.Contains(rest[authEnd:], "@") {
		return fail("url", "has an '@' after the host; percent-encode '@', '/', '?' and '#' in the user name and password")
	}
	if strings.Contains(rest[authEnd:], "#") {
		return fail("url", "must not have a #fragment")
	}
	// url.Parse errors quote the whole URL, password included, so only the
	// fact of the failure is reported.
	u, err := url.Parse(s)
	if err != nil {
		return fail("url", "is not a valid URL; percent-encode special characters in the user name and password")
	}

	// The password is everything between the first ':' and the last '@' of
	// the authority, exactly as url.Parse splits it.
	var secrets []span
	auth := rest[:authEnd]
	if at := strings.LastIndexByte(auth, '@'); at >= 0 {
		if c := strings.IndexByte(auth[:at], ':'); c >= 0 && c+1 < at {
			secrets = append(secrets, span{base + c + 1, base + at})
		}
	}
	var user, password string
	if u.User != nil {
		user = u.User.Username()
		password, _ = u.User.Password()
	}

	host := u.Hostname()
	if host == "" {
		host = "localhost" // as go-redis
	}
	if !validHost(host) {
		return fail("host", shown(host, "is not a valid host name or IP address"))
	}
	first := endpoint{host: host, port: defaultRedisPort}
	if p := u.Port(); p != "" {
		n, ok := parsePort(p)
		if !ok {
			return fail("port", shown(p, "is not a number from 1 to 65535"))
		}
		first.port = n
	}
	addrs := []string{first.addr()}

	db := 0
	if path := strings.TrimPrefix(u.Path, "/"); path != "" {
		n, err := strconv.Atoi(path)
		if err != nil || n < 0 {
			return fail("db", shown(u.Path, "is not a database number"))
		}
		db = n
	}

	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fail("query", "is not valid URL query syntax")
	}
	o := &redis.UniversalOptions{
		DialTimeout:           defaultConnectTimeout,
		ReadTimeout:           defaultSyncTimeout,
		ContextTimeoutEnabled: true,
	}
	writeSet := false
	for _, key := range slices.Sorted(maps.Keys(query)) {
		vals := query[key]
		if key == "addr" {
			for _, v := range vals {
				e, reason := splitEndpoint(v)
				if reason != "" {
					return fail("addr", shown(v, reason))
				}
				if e.port == 0 {
					e.port = defaultRedisPort
				}
				if a := e.addr(); !slices.Contains(addrs, a) {
					addrs = append(addrs, a)
				}
			}
			continue
		}
		if len(vals) > 1 {
			return fail(key, "is given more than once")
		}
		v := vals[0]
		var err string
		switch key {
		case "db":
			db, err = urlInt(v, 0)
		case "protocol":
			if v != "2" && v != "3" {
				err = "is not 2 or 3"
			}
			o.Protocol, _ = strconv.Atoi(v)
		case "client_name":
			o.ClientName = v
		case "max_retries":
			o.MaxRetries, err = urlInt(v, -1)
		case "pool_size":
			o.PoolSize, err = urlInt(v, 1)
		case "min_idle_conns":
			o.MinIdleConns, err = urlInt(v, 0)
		case "max_idle_conns":
			o.MaxIdleConns, err = urlInt(v, 0)
		case "max_active_conns":
			o.MaxActiveConns, err = urlInt(v, 0)
		case "dial_timeout":
			o.DialTimeout, err = urlDuration(v)
		case "read_timeout":
			o.ReadTimeout, err = urlDuration(v)
		case "write_timeout":
			o.WriteTimeout, err = urlDuration(v)
			writeSet = true
		case "pool_timeout":
			o.PoolTimeout, err = urlDuration(v)
		case "conn_max_idle_time":
			o.ConnMaxIdleTime, err = urlDuration(v)
		case "conn_max_lifetime":
			o.ConnMaxLifetime, err = urlDuration(v)
		default:
			return fail(key, "is not a known query parameter")
		}
		if err != "" {
			return fail(key, shown(v, err))
		}
	}
	if !writeSet {
		o.WriteTimeout = o.ReadTimeout // go-redis's rule for an unset write timeout
	}

	mode := RedisStandalone
	if len(addrs) > 1 {
		mode = RedisCluster
		if db != 0 {
			return fail("db", "must be 0: several addresses select Redis Cluster, which only has database 0")
		}
	}
	o.Addrs, o.Username, o.Password, o.DB = addrs, user, password, db
	tlsOn := scheme == "rediss"
	if tlsOn {
		o.TLSConfig = redisTLS(mode, host, "")
	}
	return &RedisOptions{
		Mode:         mode,
		TLS:          tlsOn,
		AbortConnect: true,
		universal:    o,
		redacted:     redact(s, secrets),
	}, nil
}

// urlInt parses an integer query value of at least min.
func urlInt(v string, min int) (int, string) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, "is not a whole number"
	}
	if n < min {
		return 0, "is less than " + strconv.Itoa(min)
	}
	return n, ""
}

// urlDuration parses a positive duration the way go-redis does: a bare
// number is seconds, anything else is a Go duration such as "500ms".
func urlDuration(v string) (time.Duration, string) {
	d, err := time.ParseDuration(v)
	if n, nerr := strconv.Atoi(v); nerr == nil {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil {
		return 0, "is not a duration such as 5s or 500ms"
	}
	if d <= 0 {
		return 0, "is not a positive duration"
	}
	return d, ""
}
