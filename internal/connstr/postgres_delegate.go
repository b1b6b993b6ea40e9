package connstr

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// knownSettings are the keys pgx, pgxpool and common server runtime
// parameters use. Only these may follow a password: anything else there is
// more likely the tail of a password that contained the separator, which pgx
// would otherwise send to the server as a runtime parameter.
var knownSettings = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "database": true, "user": true,
	"password": true, "passfile": true, "connect_timeout": true, "sslmode": true, "ssl": true,
	"sslkey": true, "sslcert": true, "sslcertmode": true, "sslrootcert": true, "sslnegotiation": true,
	"sslpassword": true, "sslsni": true, "krbspn": true, "krbsrvname": true, "target_session_attrs": true,
	"service": true, "servicefile": true, "min_protocol_version": true, "max_protocol_version": true,
	"channel_binding": true, "require_auth": true, "statement_cache_capacity": true,
	"description_cache_capacity": true, "default_query_exec_mode": true, "pool_max_conns": true,
	"pool_min_conns": true, "pool_min_idle_conns": true, "pool_max_conn_lifetime": true,
	"pool_max_conn_lifetime_jitter": true, "pool_max_conn_idle_time": true,
	"pool_health_check_period": true, "pool_ping_timeout": true, "application_name": true,
	"fallback_application_name": true, "search_path": true, "timezone": true, "options": true,
	"client_encoding": true, "datestyle": true, "intervalstyle": true, "statement_timeout": true,
	"lock_timeout": true, "idle_in_transaction_session_timeout": true,
}

const unknownAfterPassword = "is not a known setting; put runtime parameters before the password"

// parseLibpq hands a libpq keyword/value string to pgx with the password
// taken out, and puts the password back into the result, so that no pgx
// error can quote it.
func parseLibpq(s string) (*PostgresOptions, error) {
	pairs, serr := splitLibpq(s, isLibpqSecret)
	if serr != nil {
		return nil, serr.parseError(FormatLibpq)
	}
	var d dsn
	var password, sslPassword string
	for _, p := range pairs {
		if strings.IndexByte(p.val, 0) >= 0 {
			return nil, &ParseError{Format: FormatLibpq, Part: p.part(), Reason: "contains a NUL character"}
		}
		if p.hidden && !knownSettings[p.key] {
			return nil, &ParseError{Format: FormatLibpq, Part: p.part(), Reason: unknownAfterPassword + hiddenNote}
		}
		if !isLibpqSecret(p.key) && assignsSecret(p.val) {
			return nil, &ParseError{Format: FormatLibpq, Part: p.part(), Reason: missingSeparator}
		}
		switch p.key {
		case "password":
			password = p.val // the last one wins, as in libpq
			continue
		case "sslpassword":
			sslPassword = p.val
		}
		d.add(p.key, p.val)
	}
	cfg, err := pgxpool.ParseConfig(d.String())
	if err != nil {
		return nil, fromPgx(FormatLibpq, err, password, sslPassword)
	}
	if password != "" {
		cfg.ConnConfig.Password = password
	}
	return &PostgresOptions{Pool: cfg}, nil
}

// pgURL is a postgres:// URL with its secrets located and the password
// taken out.
type pgURL struct {
	withoutPassword string
	password        string
	sslPassword     string
	secrets         []span
}

// scanPostgresURL finds the password the way pgx (and libpq) do: the
// userinfo ends at the first '@' before any '/', the password at the
// first ':' in it; a query parameter password= overrides it.
func scanPostgresURL(s string) (*pgURL, error) {
	fail := func(part, reason string) (*pgURL, error) {
		return nil, &ParseError{Format: FormatPostgresURL, Part: part, Reason: reason}
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fail("url", "contains a NUL character")
	}
	i := strings.Index(s, "://")
	base := i + len("://")
	rest := s[base:]
	out := &pgURL{}
	var b strings.Builder
	b.WriteString(strings.ToLower(s[:i]) + "://") // pgx wants the scheme in lower case

	if j := strings.IndexAny(rest, "@/"); j >= 0 && rest[j] == '@' {
		user, pw, _ := strings.Cut(rest[:j], ":")
		if pw != "" {
			dec, ok := uriDecode(pw)
			if !ok {
				return fail("password", "is not valid percent-encoding, or has a space inside")
			}
			out.password = dec
			out.secrets = append(out.secrets, span{base + len(user) + 1, base + j})
		}
		b.WriteString(user + "@")
		base += j + 1
		rest = rest[j+1:]
	}
	// A second '@', or one after a '/', means the password holds an
	// unencoded '@' or '/' and part of it sits in the host, path or query,
	// where a message could quote it.
	if strings.Contains(rest, "@") {
		return fail("url", "has an '@' after the user information; percent-encode '@' as %40 and '/' as %2F in the user name and password")
	}
	q := strings.IndexByte(rest, '?')
	if q < 0 {
		b.WriteString(rest)
		out.withoutPassword = b.String()
		return out, nil
	}
	b.WriteString(rest[:q])
	var kept []string
	hidden := false
	off := base + q + 1
	pairs := strings.Split(rest[q+1:], "&")
	if pairs[len(pairs)-1] == "" {
		pairs = pairs[:len(pairs)-1] // pgx accepts a trailing '&' and an empty query
	}
	for n, pair := range pairs {
		rawKey, rawVal, found := strings.Cut(pair, "=")
		key, keyOK := uriDecode(rawKey)
		// Malformed items are named by position only: the text may be a
		// mistyped password=… or, after a password, its tail.
		item := fmt.Sprintf("item %d", n+1)
		switch {
		case !keyOK:
			return fail(item, "query key is not valid percent-encoding"+hiddenIf(hidden))
		case !found || strings.Contains(rawVal, "="):
			return fail(item, "query item is not key=value"+hiddenIf(hidden))
		case hidden && !knownSettings[key]:
			return fail(item, unknownAfterPassword+hiddenNote)
		case key == "password" || key == "sslpassword":
			dec, ok := uriDecode(rawVal)
			if !ok {
				return fail(key, "is not valid percent-encoding, or has a space inside")
			}
			if dec != "" {
				start := off + len(rawKey) + 1
				out.secrets = append(out.secrets, span{start, start + len(rawVal)})
			}
			hidden = true
			if key == "password" {
				out.password = dec
				off += len(pair) + 1
				continue // left out of what pgx sees
			}
			out.sslPassword = dec
		}
		kept = append(kept, pair)
		off += len(pair) + 1
	}
	if len(kept) > 0 {
		b.WriteString("?" + strings.Join(kept, "&"))
	}
	out.withoutPassword = b.String()
	return out, nil
}

func parsePostgresURL(s string) (*PostgresOptions, error) {
	u, err := scanPostgresURL(s)
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(u.withoutPassword)
	if err != nil {
		return nil, fromPgx(FormatPostgresURL, err, u.password, u.sslPassword)
	}
	if u.password != "" {
		cfg.ConnConfig.Password = u.password
	}
	return &PostgresOptions{Pool: cfg}, nil
}

// unparseable is what RedactPostgres returns for a string it cannot read:
// without knowing where the password is, no part of it is safe to show.
const unparseable = "[unparseable connection string withheld]"

// RedactPostgres returns s with every password (and SSL key password)
// replaced by "*****", keeping everything else as written, for logs. A
// string that ParsePostgres rejects is replaced as a whole: in a malformed
// string the password cannot be located with certainty, and what surrounds
// it may be its tail.
func RedactPostgres(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if _, err := ParsePostgresOptions(s); err != nil {
		return unparseable
	}
	var spans []span
	switch postgresFormat(s) {
	case FormatPostgresURL:
		u, err := scanPostgresURL(s)
		if err != nil {
			return unparseable
		}
		spans = u.secrets
	case FormatLibpq:
		pairs, err := splitLibpq(s, isLibpqSecret)
		if err != nil {
			return unparseable
		}
		spans = secretSpans(pairs, isLibpqSecret)
	default:
		pairs, err := readNpgsql(s)
		if err != nil {
			return unparseable
		}
		spans = secretSpans(pairs, isNpgsqlSecret)
	}
	return redact(s, spans)
}
