package connstr

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// defaultNpgsqlTimeout is Npgsql's connect timeout. It is applied to Npgsql
// strings because pgx would otherwise wait for ever on an unreachable host.
const defaultNpgsqlTimeout = 15

// PostgresOptions is a parsed PostgreSQL connection string: the pgx pool
// configuration plus the one Npgsql setting pgx has no field for.
type PostgresOptions struct {
	// Pool is ready for pgxpool.NewWithConfig.
	Pool *pgxpool.Config
	// CommandTimeout is Npgsql's "Command Timeout", or zero when it was
	// not given or given as 0 (no limit). pgx has no per-pool statement
	// timeout, so callers apply it themselves (the storage as its
	// statement timeout). Npgsql's own default, used when the key is
	// absent, is 30 seconds.
	CommandTimeout time.Duration
	// HasCommandTimeout says Command Timeout was given, which tells "no
	// limit" (given as 0) from "not given" (the caller's default).
	HasCommandTimeout bool
}

// ParsePostgres parses a PostgreSQL connection string in Npgsql
// ("Host=…;Username=…"), libpq keyword/value ("host=… dbname=…") or URL
// (postgres://, postgresql://) form into a pgx pool configuration. See
// ParsePostgresOptions.
func ParsePostgres(s string) (*pgxpool.Config, error) {
	o, err := ParsePostgresOptions(s)
	if err != nil {
		return nil, err
	}
	return o.Pool, nil
}

// ParsePostgresOptions is ParsePostgres that also returns the settings pgx
// has no field for. See the package documentation for the accepted keys.
func ParsePostgresOptions(s string) (*PostgresOptions, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, &ParseError{Format: FormatPostgres, Reason: "is empty"}
	}
	switch postgresFormat(s) {
	case FormatPostgresURL:
		return parsePostgresURL(s)
	case FormatLibpq:
		return parseLibpq(s)
	}
	return parseNpgsql(s)
}

// postgresFormat tells the three forms apart. libpq keywords are lower
// case and its items are separated by spaces, so a string whose keys are
// all lower-case identifiers and whose unquoted values hold no ';' is libpq;
// so is a string that libpq cannot tokenize but that starts with a libpq
// keyword and has no ';' at all, so that its error comes from the libpq
// reader (read as Npgsql, all of it would be one value). Everything else is
// Npgsql.
func postgresFormat(s string) string {
	if scheme, ok := urlScheme(s); ok && (scheme == "postgres" || scheme == "postgresql") {
		return FormatPostgresURL
	}
	pairs, err := splitLibpq(s, isLibpqSecret)
	if err != nil {
		key, _, _ := strings.Cut(strings.TrimLeft(s, spaces), "=")
		if libpqKeyword(strings.TrimRight(key, spaces)) && !strings.Contains(s, ";") {
			return FormatLibpq
		}
		return FormatNpgsql
	}
	for _, p := range pairs {
		if !libpqKeyword(p.key) || !p.quoted && strings.Contains(p.val, ";") {
			return FormatNpgsql
		}
	}
	return FormatLibpq
}

func libpqKeyword(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c == '_' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return k != ""
}

func isLibpqSecret(key string) bool { return key == "password" || key == "sslpassword" }

// npgsqlKeys maps Npgsql keywords and their synonyms, lower-cased and with
// spaces removed (Npgsql accepts both "SSL Mode" and "SslMode"), to the
// name used in messages.
var npgsqlKeys = map[string]string{
	"host":                    "Host",
	"server":                  "Host",
	"port":                    "Port",
	"database":                "Database",
	"db":                      "Database",
	"initialcatalog":          "Database",
	"username":                "Username",
	"user":                    "Username",
	"userid":                  "Username",
	"uid":                     "Username",
	"password":                "Password",
	"pwd":                     "Password",
	"psw":                     "Password",
	"passfile":                "Passfile",
	"applicationname":         "Application Name",
	"searchpath":              "Search Path",
	"timezone":                "Timezone",
	"options":                 "Options",
	"sslmode":                 "SSL Mode",
	"trustservercertificate":  "Trust Server Certificate",
	"rootcertificate":         "Root Certificate",
	"sslcertificate":          "SSL Certificate",
	"sslkey":                  "SSL Key",
	"sslpassword":             "SSL Password",
	"timeout":                 "Timeout",
	"commandtimeout":          "Command Timeout",
	"pooling":                 "Pooling",
	"minimumpoolsize":         "Minimum Pool Size",
	"minpoolsize":             "Minimum Pool Size",
	"maximumpoolsize":         "Maximum Pool Size",
	"maxpoolsize":             "Maximum Pool Size",
	"connectionidlelifetime":  "Connection Idle Lifetime",
	"connectionlifetime":      "Connection Lifetime",
	"loadbalancetimeout":      "Connection Lifetime",
	"keepalive":               "Keepalive",
	"targetsessionattributes": "Target Session Attributes",
	"kerberosservicename":     "Kerberos Service Name",
	"krbsrvname":              "Kerberos Service Name",
	"channelbinding":          "Channel Binding",
	"loadbalancehosts":        "Load Balance Hosts",
	"includeerrordetail":      "Include Error Detail",
	"persistsecurityinfo":     "Persist Security Info",
	"enlist":                  "Enlist",
}

func npgsqlName(key string) (string, bool) {
	name, ok := npgsqlKeys[strings.ToLower(strings.ReplaceAll(key, " ", ""))]
	return name, ok
}

func isNpgsqlSecret(key string) bool {
	name, _ := npgsqlName(key)
	return name == "Password" || name == "SSL Password"
}

// readNpgsql tokenizes s and checks that every key is known.
func readNpgsql(s string) ([]kv, error) {
	pairs, serr := splitNpgsql(s, isNpgsqlSecret)
	if serr != nil {
		return nil, serr.parseError(FormatNpgsql)
	}
	for _, p := range pairs {
		if _, ok := npgsqlName(p.key); !ok {
			return nil, &ParseError{Format: FormatNpgsql, Part: p.part(), Reason: "is not a known Npgsql keyword" + hiddenIf(p.hidden)}
		}
	}
	return pairs, nil
}

// npgsqlSettings are the validated values of one Npgsql string.
type npgsqlSettings struct {
	hosts                  []endpoint
	port                   int
	sslmode                string
	trust                  bool
	connectTimeout         int
	commandTimeout         int
	pooling                bool
	minPool, maxPool       int
	idleLifetime, lifetime int
	keepalive              int
	text                   map[string]string // libpq key → value, passed through
	password, sslPassword  string
	set                    map[string]bool // names that were given
}

func parseNpgsql(s string) (*PostgresOptions, error) {
	pairs, err := readNpgsql(s)
	if err != nil {
		return nil, err
	}
	st := npgsqlSettings{
		port:           5432,
		sslmode:        "prefer",
		connectTimeout: defaultNpgsqlTimeout,
		pooling:        true,
		text:           make(map[string]string),
		set:            make(map[string]bool),
	}
	// Every item is checked, even one a later item overrides, as
	// NpgsqlConnectionStringBuilder does; the last one wins.
	for _, p := range pairs {
		name, _ := npgsqlName(p.key)
		if err := st.apply(name, p); err != nil {
			return nil, err
		}
	}
	if !st.set["Host"] {
		return nil, &ParseError{Format: FormatNpgsql, Part: "Host", Reason: "is missing"}
	}
	return st.build()
}

func npgsqlBad(name string, p kv, what string) error {
	subject, note := describe(p.val, p.hidden)
	return &ParseError{Format: FormatNpgsql, Part: name, Reason: subject + " " + what + note}
}

// npgsqlInt parses a 32-bit integer of at least min.
func npgsqlInt(name string, p kv, what string, min int) (int, error) {
	n, err := strconv.ParseInt(p.val, 10, 32)
	if err != nil {
		return 0, npgsqlBad(name, p, "is not "+what)
	}
	if n < int64(min) {
		return 0, npgsqlBad(name, p, fmt.Sprintf("is less than %d", min))
	}
	return int(n), nil
}

func npgsqlBool(name string, p kv) (bool, error) {
	b, ok := parseBool(p.val)
	if !ok {
		return false, npgsqlBad(name, p, "is not true or false")
	}
	return b, nil
}

// apply validates one item and records it.
func (st *npgsqlSettings) apply(name string, p kv) error {
	st.set[name] = true
	if name != "Password" && name != "SSL Password" && assignsSecret(p.val) {
		return &ParseError{Format: FormatNpgsql, Part: name, Reason: missingSeparator}
	}
	if strings.IndexByte(p.val, 0) >= 0 {
		// pgx refuses NUL, which would end a C string in libpq.
		return &ParseError{Format: FormatNpgsql, Part: name, Reason: "contains a NUL character"}
	}
	var err error
	switch name {
	case "Host":
		st.hosts, err = npgsqlHosts(p)
	case "Port":
		var ok bool
		if st.port, ok = parsePort(p.val); !ok {
			return npgsqlBad(name, p, "is not a number from 1 to 65535")
		}
	case "Password":
		st.password = p.val
	case "SSL Password":
		st.sslPassword = p.val
		st.text["sslpassword"] = p.val
	case "Database":
		st.text["dbname"] = p.val
	case "Username":
		st.text["user"] = p.val
	case "Passfile":
		st.text["passfile"] = p.val
	case "Application Name":
		st.text["application_name"] = p.val
	case "Search Path":
		st.text["search_path"] = p.val
	case "Timezone":
		st.text["timezone"] = p.val
	case "Options":
		st.text["options"] = p.val
	case "Root Certificate":
		st.text["sslrootcert"] = p.val
	case "SSL Certificate":
		st.text["sslcert"] = p.val
	case "SSL Key":
		st.text["sslkey"] = p.val
	case "Kerberos Service Name":
		st.text["krbsrvname"] = p.val
	case "SSL Mode":
		mode, ok := map[string]string{
			"disable": "disable", "allow": "allow", "prefer": "prefer", "require": "require",
			"verifyca": "verify-ca", "verifyfull": "verify-full",
		}[strings.ToLower(strings.ReplaceAll(p.val, "-", ""))]
		if !ok {
			return npgsqlBad(name, p, "is not Disable, Allow, Prefer, Require, VerifyCA or VerifyFull")
		}
		st.sslmode = mode
	case "Trust Server Certificate":
		st.trust, err = npgsqlBool(name, p)
	case "Timeout":
		st.connectTimeout, err = npgsqlInt(name, p, "a number of seconds", 0)
	case "Command Timeout":
		st.commandTimeout, err = npgsqlInt(name, p, "a number of seconds", 0)
	case "Pooling":
		st.pooling, err = npgsqlBool(name, p)
	case "Minimum Pool Size":
		st.minPool, err = npgsqlInt(name, p, "a number of connections", 0)
	case "Maximum Pool Size":
		st.maxPool, err = npgsqlInt(name, p, "a number of connections", 1)
	case "Connection Idle Lifetime":
		st.idleLifetime, err = npgsqlInt(name, p, "a number of seconds", 1)
	case "Connection Lifetime":
		st.lifetime, err = npgsqlInt(name, p, "a number of seconds", 0)
	case "Keepalive":
		st.keepalive, err = npgsqlInt(name, p, "a number of seconds", 0)
	case "Target Session Attributes":
		v := strings.ToLower(strings.ReplaceAll(p.val, "-", ""))
		tsa, ok := map[string]string{
			"any": "any", "primary": "primary", "standby": "standby", "preferstandby": "prefer-standby",
			"readwrite": "read-write", "readonly": "read-only",
		}[v]
		switch {
		case v == "preferprimary":
			return &ParseError{Format: FormatNpgsql, Part: name, Reason: "prefer-primary is not supported by pgx"}
		case !ok:
			return npgsqlBad(name, p, "is not any, primary, standby, prefer-standby, read-write or read-only")
		}
		st.text["target_session_attrs"] = tsa
	case "Channel Binding":
		v := strings.ToLower(p.val)
		if v != "disable" && v != "prefer" && v != "require" {
			return npgsqlBad(name, p, "is not Disable, Prefer or Require")
		}
		st.text["channel_binding"] = v
	case "Load Balance Hosts":
		var on bool
		if on, err = npgsqlBool(name, p); err == nil && on {
			return &ParseError{Format: FormatNpgsql, Part: name, Reason: "true is not supported: pgx tries hosts in the order given"}
		}
	case "Include Error Detail", "Persist Security Info", "Enlist":
		// Accepted and ignored: pgx always reports error details, never
		// keeps the password visible on the connection, and has no
		// ambient transactions.
		_, err = npgsqlBool(name, p)
	}
	return err
}

// npgsqlHosts reads Host=a,b:5433,[::1]:5434 into endpoints; port 0 means
// the Port setting. A value starting with '/' is a Unix socket directory.
func npgsqlHosts(p kv) ([]endpoint, error) {
	var out []endpoint
	for _, h := range strings.Split(p.val, ",") {
		h = strings.Trim(h, spaces)
		if strings.HasPrefix(h, "/") {
			if !printable(h) || strings.ContainsAny(h, spaces) {
				return nil, npgsqlBad("Host", p, "has a socket directory with spaces or control characters")
			}
			out = append(out, endpoint{host: h})
			continue
		}
		e, reason := splitEndpoint(h)
		if reason != "" {
			subject, note := describe(h, p.hidden)
			return nil, &ParseError{Format: FormatNpgsql, Part: "Host", Reason: subject + " " + reason + note}
		}
		out = append(out, e)
	}
	return out, nil
}

// build turns validated settings into a pgx pool configuration. Everything
// except the password goes through a libpq string so that pgx applies its
// own rules (TLS per sslmode, host fallbacks, runtime parameters); the
// password is set afterwards so that no pgx error can ever quote it.
func (st *npgsqlSettings) build() (*PostgresOptions, error) {
	var hosts, ports []string
	for _, e := range st.hosts {
		port := e.port
		if port == 0 {
			port = st.port
		}
		hosts = append(hosts, e.host)
		ports = append(ports, strconv.Itoa(port))
	}
	sslmode := st.sslmode
	if st.trust && (sslmode == "verify-ca" || sslmode == "verify-full") {
		sslmode = "require"
	}
	var d dsn
	d.add("host", strings.Join(hosts, ","))
	d.add("port", strings.Join(ports, ","))
	d.add("sslmode", sslmode)
	d.add("connect_timeout", strconv.Itoa(st.connectTimeout))
	for _, k := range []string{
		"dbname", "user", "passfile", "sslrootcert", "sslcert", "sslkey", "sslpassword",
		"application_name", "search_path", "timezone", "options",
		"target_session_attrs", "krbsrvname", "channel_binding",
	} {
		if v := st.text[k]; v != "" {
			d.add(k, v)
		}
	}
	cfg, err := pgxpool.ParseConfig(d.String())
	if err != nil {
		return nil, fromPgx(FormatNpgsql, err, st.password, st.sslPassword)
	}
	if st.password != "" {
		cfg.ConnConfig.Password = st.password
	}

	if st.set["Maximum Pool Size"] {
		cfg.MaxConns = int32(st.maxPool)
	}
	if st.set["Minimum Pool Size"] {
		if int32(st.minPool) > cfg.MaxConns {
			if st.set["Maximum Pool Size"] {
				return nil, &ParseError{Format: FormatNpgsql, Part: "Minimum Pool Size",
					Reason: fmt.Sprintf("%d is larger than Maximum Pool Size %d", st.minPool, st.maxPool)}
			}
			// Npgsql's default maximum is 100; pgx's is smaller, so grow
			// it rather than reject a string Npgsql accepts.
			cfg.MaxConns = int32(st.minPool)
		}
		cfg.MinConns = int32(st.minPool)
	}
	if st.set["Connection Idle Lifetime"] {
		cfg.MaxConnIdleTime = time.Duration(st.idleLifetime) * time.Second
	}
	if st.set["Connection Lifetime"] {
		// 0 means no limit in both Npgsql and pgxpool.
		cfg.MaxConnLifetime = time.Duration(st.lifetime) * time.Second
	}
	if !st.pooling {
		// Npgsql opens and closes a physical connection per use. pgxpool
		// does the same when AfterRelease refuses every connection back,
		// and keeps no idle ones in reserve.
		cfg.AfterRelease = func(*pgx.Conn) bool { return false }
		cfg.MinConns, cfg.MinIdleConns = 0, 0
	}
	if st.keepalive > 0 {
		// TCP keep-alive stands in for Npgsql's keepalive query: both keep
		// idle connections from being dropped by firewalls and NAT.
		dialer := &net.Dialer{Timeout: cfg.ConnConfig.ConnectTimeout, KeepAlive: time.Duration(st.keepalive) * time.Second}
		cfg.ConnConfig.DialFunc = dialer.DialContext
	}
	if st.trust {
		// libpq's require still verifies when a root certificate is
		// present; Trust Server Certificate means never verify.
		for _, c := range tlsConfigs(cfg.ConnConfig) {
			c.InsecureSkipVerify = true
			c.VerifyPeerCertificate = nil
		}
	}
	return &PostgresOptions{Pool: cfg, CommandTimeout: time.Duration(st.commandTimeout) * time.Second,
		HasCommandTimeout: st.set["Command Timeout"]}, nil
}

func tlsConfigs(c *pgx.ConnConfig) []*tls.Config {
	var out []*tls.Config
	if c.TLSConfig != nil {
		out = append(out, c.TLSConfig)
	}
	for _, f := range c.Fallbacks {
		if f.TLSConfig != nil {
			out = append(out, f.TLSConfig)
		}
	}
	return out
}

// fromPgx turns a pgx parse error into a ParseError. The message pgx builds
// quotes the connection string, so only its reason is kept, and if even that
// contains a secret it is withheld entirely.
func fromPgx(format string, err error, secrets ...string) *ParseError {
	reason := err.Error()
	var pce *pgconn.ParseConfigError
	if errors.As(err, &pce) {
		inner := errors.Unwrap(pce)
		if inner != nil {
			reason = strings.TrimSuffix(reason, " ("+inner.Error()+")")
		}
		if i := strings.LastIndex(reason, "`: "); i >= 0 {
			reason = reason[i+len("`: "):]
		}
		if inner != nil {
			reason += ": " + inner.Error()
		}
	}
	reason = strings.Join(strings.Fields(reason), " ") // one line
	withheld := assignsSecret(reason)
	for _, s := range secrets {
		withheld = withheld || s != "" && strings.Contains(reason, s)
	}
	if withheld {
		return &ParseError{Format: format, Part: "settings", Reason: "rejected by pgx (details withheld because they contain a secret)"}
	}
	return &ParseError{Format: format, Part: pgxPart(reason), Reason: reason}
}

// pgxPart names the setting a pgx parse error is about.
func pgxPart(reason string) string {
	for _, k := range []string{
		"pool_max_conn_lifetime_jitter", "pool_max_conn_lifetime", "pool_max_conn_idle_time",
		"pool_max_conns", "pool_min_idle_conns", "pool_min_conns", "pool_health_check_period",
		"pool_ping_timeout", "statement_cache_capacity", "description_cache_capacity",
		"default_query_exec_mode", "connect_timeout", "target_session_attrs", "sslcertmode",
		"channel_binding", "require_auth", "min_protocol_version", "max_protocol_version",
		"service", "URL",
	} {
		if strings.Contains(reason, k) {
			return k
		}
	}
	switch {
	case strings.Contains(reason, "TLS"):
		return "TLS settings"
	case strings.Contains(reason, "port"):
		return "port"
	}
	return "settings"
}
