package connstr

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// pgHosts lists host:port of the main config and its fallbacks, without
// the duplicates sslmode=prefer adds for its plain-text retry.
func pgHosts(c *pgxpool.Config) string {
	var out []string
	add := func(h string, p uint16) {
		s := h + ":" + itoa(int(p))
		for _, o := range out {
			if o == s {
				return
			}
		}
		out = append(out, s)
	}
	add(c.ConnConfig.Host, c.ConnConfig.Port)
	for _, f := range c.ConnConfig.Fallbacks {
		add(f.Host, f.Port)
	}
	return strings.Join(out, ",")
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func defaultMaxConns() int32 { return int32(max(4, runtime.NumCPU())) }

func TestParsePostgres(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, o *PostgresOptions)
	}{
		{"the documented Npgsql example parses completely",
			"Host=pg-host;Port=5432;Database=Cesivi;Username=postgres;Password=YourPassword",
			func(t *testing.T, o *PostgresOptions) {
				c := o.Pool.ConnConfig
				expect(t, "hosts", pgHosts(o.Pool), "pg-host:5432")
				expect(t, "database", c.Database, "Cesivi")
				expect(t, "user", c.User, "postgres")
				expect(t, "password", c.Password, "YourPassword")
				expect(t, "connect timeout", c.ConnectTimeout, 15*time.Second)
				expect(t, "max conns", o.Pool.MaxConns, defaultMaxConns())
				expect(t, "command timeout", o.CommandTimeout, time.Duration(0))
				expect(t, "command timeout not given", o.HasCommandTimeout, false)
				expect(t, "TLS attempted first (prefer)", c.TLSConfig != nil, true)
				expect(t, "plain fallback (prefer)", len(c.Fallbacks), 1)
			}},
		{"the password never reaches the connection string pgx keeps",
			"Host=h;Password=YourPassword",
			func(t *testing.T, o *PostgresOptions) {
				if strings.Contains(o.Pool.ConnString(), "YourPassword") {
					t.Errorf("ConnString() = %q holds the password", o.Pool.ConnString())
				}
			}},
		{"keys are case-insensitive and ignore spaces",
			"HOST=h;port=6000;DataBase=d;User Name=u;PassWord=p;sslmode=Disable",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "hosts", pgHosts(o.Pool), "h:6000")
				expect(t, "database", o.Pool.ConnConfig.Database, "d")
				expect(t, "user", o.Pool.ConnConfig.User, "u")
				expect(t, "password", o.Pool.ConnConfig.Password, "p")
				expect(t, "no TLS", o.Pool.ConnConfig.TLSConfig == nil, true)
			}},
		{"Server, User Id and Pwd are synonyms", "Server=h;User Id=u;Pwd=p;Initial Catalog=d",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "hosts", pgHosts(o.Pool), "h:5432")
				expect(t, "user", o.Pool.ConnConfig.User, "u")
				expect(t, "password", o.Pool.ConnConfig.Password, "p")
				expect(t, "database", o.Pool.ConnConfig.Database, "d")
			}},
		{"UID, PSW and DB are synonyms", "Host=h;UID=u;PSW=p;DB=d",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "user", o.Pool.ConnConfig.User, "u")
				expect(t, "password", o.Pool.ConnConfig.Password, "p")
				expect(t, "database", o.Pool.ConnConfig.Database, "d")
			}},
		{"UserName and User ID spellings work", "Host=h;UserName=a;User ID=b",
			func(t *testing.T, o *PostgresOptions) { expect(t, "user (last wins)", o.Pool.ConnConfig.User, "b") }},
		{"a double-quoted password may hold ';', '=' and doubled quotes",
			`Host=h;Password="a;b=c""d'e";Database=x`,
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "password", o.Pool.ConnConfig.Password, `a;b=c"d'e`)
				expect(t, "database", o.Pool.ConnConfig.Database, "x")
			}},
		{"a single-quoted password keeps its spaces and backslashes",
			`Host=h;Password=' p\ w '' ';Database=x`,
			func(t *testing.T, o *PostgresOptions) { expect(t, "password", o.Pool.ConnConfig.Password, ` p\ w ' `) }},
		{"unquoted values lose their outer spaces", "Host = h ; Password =  p w  ;",
			func(t *testing.T, o *PostgresOptions) { expect(t, "password", o.Pool.ConnConfig.Password, "p w") }},
		{"empty items between semicolons are skipped", ";;Host=h;;Database=d;;",
			func(t *testing.T, o *PostgresOptions) { expect(t, "database", o.Pool.ConnConfig.Database, "d") }},
		{"a comma-separated Host list becomes fallbacks with per-host ports",
			"Host=a,b:5433,[::1]:5434,[::2];Port=6000;SSL Mode=Disable",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "hosts", pgHosts(o.Pool), "a:6000,b:5433,::1:5434,::2:6000")
			}},
		{"a Host starting with '/' is a Unix socket directory", "Host=/var/run/postgresql;SSL Mode=Disable",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "host", o.Pool.ConnConfig.Host, "/var/run/postgresql")
			}},
		{"every SSL Mode maps to its libpq name", "Host=h;SSL Mode=VerifyFull",
			func(t *testing.T, o *PostgresOptions) {
				c := o.Pool.ConnConfig.TLSConfig
				expect(t, "verify-full checks the name", c != nil && c.ServerName == "h" && !c.InsecureSkipVerify, true)
				expect(t, "no fallback", len(o.Pool.ConnConfig.Fallbacks), 0)
			}},
		{"SSL Mode=Require encrypts without verifying", "Host=h;SSL Mode=Require",
			func(t *testing.T, o *PostgresOptions) {
				c := o.Pool.ConnConfig.TLSConfig
				expect(t, "require skips verification", c != nil && c.InsecureSkipVerify, true)
				expect(t, "no fallback", len(o.Pool.ConnConfig.Fallbacks), 0)
			}},
		{"SSL Mode=Allow tries plain text first", "Host=h;SSL Mode=allow",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "plain first", o.Pool.ConnConfig.TLSConfig == nil, true)
				expect(t, "TLS fallback", len(o.Pool.ConnConfig.Fallbacks), 1)
			}},
		{"SSL Mode accepts libpq spellings", "Host=h;SSL Mode=verify-ca",
			func(t *testing.T, o *PostgresOptions) {
				c := o.Pool.ConnConfig.TLSConfig
				expect(t, "verify-ca verifies the chain", c != nil && c.VerifyPeerCertificate != nil, true)
			}},
		{"Trust Server Certificate turns VerifyFull into Require without verification",
			"Host=h;SSL Mode=VerifyFull;Trust Server Certificate=true",
			func(t *testing.T, o *PostgresOptions) {
				c := o.Pool.ConnConfig.TLSConfig
				expect(t, "no verification", c != nil && c.InsecureSkipVerify && c.VerifyPeerCertificate == nil, true)
			}},
		{"Trust Server Certificate=false changes nothing", "Host=h;SSL Mode=VerifyFull;TrustServerCertificate=false",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "verification", !o.Pool.ConnConfig.TLSConfig.InsecureSkipVerify, true)
			}},
		{"Timeout sets the connect timeout in seconds", "Host=h;Timeout=3",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "timeout", o.Pool.ConnConfig.ConnectTimeout, 3*time.Second)
			}},
		{"Timeout=0 waits for ever", "Host=h;Timeout=0",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "timeout", o.Pool.ConnConfig.ConnectTimeout, time.Duration(0))
			}},
		{"Command Timeout is returned for the caller", "Host=h;Command Timeout=45",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "command timeout", o.CommandTimeout, 45*time.Second)
				expect(t, "given", o.HasCommandTimeout, true)
			}},
		{"Command Timeout=0 is given as no limit, unlike an absent one", "Host=h;CommandTimeout=0",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "command timeout", o.CommandTimeout, time.Duration(0))
				expect(t, "given", o.HasCommandTimeout, true)
			}},
		{"pool sizes map to MinConns and MaxConns", "Host=h;Minimum Pool Size=2;Maximum Pool Size=30",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "min", o.Pool.MinConns, int32(2))
				expect(t, "max", o.Pool.MaxConns, int32(30))
			}},
		{"Min Pool Size and Max Pool Size are synonyms", "Host=h;Min Pool Size=1;Max Pool Size=9",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "min", o.Pool.MinConns, int32(1))
				expect(t, "max", o.Pool.MaxConns, int32(9))
			}},
		{"a minimum above pgx's default maximum raises the maximum", "Host=h;MinPoolSize=500",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "min", o.Pool.MinConns, int32(500))
				expect(t, "max", o.Pool.MaxConns, int32(500))
			}},
		{"Pooling=false makes connections single-use", "Host=h;Pooling=false;Min Pool Size=3",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "AfterRelease set", o.Pool.AfterRelease != nil, true)
				expect(t, "connection not returned", o.Pool.AfterRelease(nil), false)
				expect(t, "min", o.Pool.MinConns, int32(0))
			}},
		{"Pooling=true keeps the pool", "Host=h;Pooling=true",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "AfterRelease unset", o.Pool.AfterRelease == nil, true)
			}},
		{"Connection Idle Lifetime and Connection Lifetime set pool lifetimes",
			"Host=h;Connection Idle Lifetime=60;Connection Lifetime=600",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "idle", o.Pool.MaxConnIdleTime, time.Minute)
				expect(t, "lifetime", o.Pool.MaxConnLifetime, 10*time.Minute)
			}},
		{"Connection Lifetime=0 means no limit", "Host=h;Load Balance Timeout=0",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "lifetime", o.Pool.MaxConnLifetime, time.Duration(0))
			}},
		{"unset pool settings keep pgx defaults", "Host=h",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "idle", o.Pool.MaxConnIdleTime, 30*time.Minute)
				expect(t, "lifetime", o.Pool.MaxConnLifetime, time.Hour)
				expect(t, "min", o.Pool.MinConns, int32(0))
			}},
		{"Keepalive installs a keep-alive dialer", "Host=h;Keepalive=30",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "dial func", o.Pool.ConnConfig.DialFunc != nil, true)
			}},
		{"Application Name, Search Path, Timezone and Options become runtime parameters",
			"Host=h;Application Name=Cesivi Web;Search Path=cesivi,public;Timezone=UTC;Options=-c work_mem=64MB",
			func(t *testing.T, o *PostgresOptions) {
				rp := o.Pool.ConnConfig.RuntimeParams
				expect(t, "application_name", rp["application_name"], "Cesivi Web")
				expect(t, "search_path", rp["search_path"], "cesivi,public")
				expect(t, "timezone", rp["timezone"], "UTC")
				expect(t, "options", rp["options"], "-c work_mem=64MB")
			}},
		{"Target Session Attributes selects a validator", "Host=a,b;Target Session Attributes=primary",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "validator", o.Pool.ConnConfig.ValidateConnect != nil, true)
			}},
		{"Channel Binding and Kerberos Service Name pass through", "Host=h;Channel Binding=Require;Kerberos Service Name=pg",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "channel binding", o.Pool.ConnConfig.ChannelBinding, "require")
				expect(t, "krbsrvname", o.Pool.ConnConfig.KerberosSrvName, "pg")
			}},
		{"ignored keys are accepted",
			"Host=h;Include Error Detail=true;Persist Security Info=false;Enlist=true;Load Balance Hosts=false",
			func(t *testing.T, o *PostgresOptions) {}},
		{"a missing user falls back to the environment like libpq", "Host=h",
			func(t *testing.T, o *PostgresOptions) { expect(t, "user", o.Pool.ConnConfig.User, "tester") }},

		{"a libpq keyword/value string is handed to pgx", "host=h port=6000 dbname=d user=u password='p w\\'x' sslmode=disable",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "hosts", pgHosts(o.Pool), "h:6000")
				expect(t, "database", o.Pool.ConnConfig.Database, "d")
				expect(t, "password", o.Pool.ConnConfig.Password, `p w'x`)
				expect(t, "connect timeout (pgx default)", o.Pool.ConnConfig.ConnectTimeout, time.Duration(0))
			}},
		{"libpq strings keep pgx pool parameters", "host=h pool_max_conns=12 password=p",
			func(t *testing.T, o *PostgresOptions) { expect(t, "max", o.Pool.MaxConns, int32(12)) }},
		{"libpq strings with a quoted ';' stay libpq", "host=h password='a;b'",
			func(t *testing.T, o *PostgresOptions) { expect(t, "password", o.Pool.ConnConfig.Password, "a;b") }},
		{"a postgres URL is handed to pgx", "postgres://app:p%40ss%2Fw@db1:5433,db2/cesivi?sslmode=disable&application_name=web",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "hosts", pgHosts(o.Pool), "db1:5433,db2:5432")
				expect(t, "user", o.Pool.ConnConfig.User, "app")
				expect(t, "password", o.Pool.ConnConfig.Password, "p@ss/w")
				expect(t, "database", o.Pool.ConnConfig.Database, "cesivi")
				expect(t, "application_name", o.Pool.ConnConfig.RuntimeParams["application_name"], "web")
				expect(t, "no password kept", strings.Contains(o.Pool.ConnString(), "p%40ss"), false)
			}},
		{"a postgresql URL with an upper-case scheme works", "POSTGRESQL://h/db?sslmode=disable",
			func(t *testing.T, o *PostgresOptions) { expect(t, "database", o.Pool.ConnConfig.Database, "db") }},
		{"a password query parameter overrides the userinfo one", "postgres://u:a@h/db?password=b%20c&sslmode=disable&",
			func(t *testing.T, o *PostgresOptions) { expect(t, "password", o.Pool.ConnConfig.Password, "b c") }},
		{"URL pool parameters reach pgxpool", "postgres://h/db?pool_max_conns=7&pool_min_conns=2",
			func(t *testing.T, o *PostgresOptions) {
				expect(t, "max", o.Pool.MaxConns, int32(7))
				expect(t, "min", o.Pool.MinConns, int32(2))
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParsePostgresOptions(tc.in)
			if err != nil {
				t.Fatalf("ParsePostgresOptions(%q): %v", tc.in, err)
			}
			tc.check(t, o)
			c, err := ParsePostgres(tc.in)
			if err != nil || c.ConnConfig.Password != o.Pool.ConnConfig.Password {
				t.Errorf("ParsePostgres disagrees with ParsePostgresOptions: %v", err)
			}
		})
	}
}

func expect[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// TestPostgresQuotingRoundTrip puts awkward text in every value that
// travels through the libpq string given to pgx.
func TestPostgresQuotingRoundTrip(t *testing.T) {
	for _, v := range []string{`plain`, `with space`, `it's`, `back\slash`, `a=b`, `semi;colon`, `"dq"`, `trailing\`, `\'`, `ünïcødé`, `tab	here`} {
		t.Run("the value "+quote(v)+" survives", func(t *testing.T) {
			npg := `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
			o, err := ParsePostgresOptions("Host=h;Database=" + npg + ";Username=" + npg + ";Application Name=" + npg + ";Password=" + npg)
			if err != nil {
				t.Fatal(err)
			}
			c := o.Pool.ConnConfig
			expect(t, "database", c.Database, v)
			expect(t, "user", c.User, v)
			expect(t, "application_name", c.RuntimeParams["application_name"], v)
			expect(t, "password", c.Password, v)

			lq := `'` + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + `'`
			o, err = ParsePostgresOptions("host=h dbname=" + lq + " user=" + lq + " password=" + lq)
			if err != nil {
				t.Fatal(err)
			}
			expect(t, "libpq database", o.Pool.ConnConfig.Database, v)
			expect(t, "libpq user", o.Pool.ConnConfig.User, v)
			expect(t, "libpq password", o.Pool.ConnConfig.Password, v)
		})
	}
}

func TestPostgresFormatDetection(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"a capitalised key means Npgsql", "Host=h", FormatNpgsql},
		{"a ';' between items means Npgsql", "host=h;port=5", FormatNpgsql},
		{"a key with a space means Npgsql", "user id=u", FormatNpgsql},
		{"lower-case keys separated by spaces mean libpq", "host=h port=5 dbname=d", FormatLibpq},
		{"a ';' inside a quoted libpq value is still libpq", "password='a;b' host=h", FormatLibpq},
		{"postgres:// is a URL", "postgres://h", FormatPostgresURL},
		{"postgresql:// is a URL", "postgresql://h", FormatPostgresURL},
		{"an unparseable libpq-looking string is read as libpq for its errors", "host='h", FormatLibpq},
		{"an unparseable string with a ';' is read as Npgsql", "host='h;x", FormatNpgsql},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { expect(t, "format", postgresFormat(tc.in), tc.want) })
	}
}

func TestParsePostgresErrors(t *testing.T) {
	tests := []struct {
		name, in, format, part, reasonHas string
	}{
		{"an empty string is refused", "", FormatPostgres, "", "is empty"},
		{"Host is required", "Port=5432", FormatNpgsql, "Host", "is missing"},
		{"an item without '=' is refused without being shown", "Host=h;Password secret", FormatNpgsql, "item 2", "has no '='"},
		{"an item without a key is refused", "Host=h;=x", FormatNpgsql, "item 2", "no keyword"},
		{"an unterminated quote names the key", `Host=h;Password="abc`, FormatNpgsql, "Password", "without its closing quote"},
		{"text after a closing quote is refused", `Host=h;Database="d"x`, FormatNpgsql, "Database", "text after the closing quote"},
		{"an unknown key is named", "Host=h;Colour=blue", FormatNpgsql, "Colour", "is not a known Npgsql keyword"},
		{"a doubled '=' builds a key that must still be known", "Host=h;Application==Name=x", FormatNpgsql, "item 2", "not a known"},
		{"a key after the password is not shown", "Host=h;Password=ab;cd=ef", FormatNpgsql, "item 3", "follows the password"},
		{"a value after the password is not shown", "Host=h;Password=ab;Port=x", FormatNpgsql, "Port", "value is not a number"},
		{"Port must be a number", "Host=h;Port=fivefour", FormatNpgsql, "Port", `"fivefour" is not a number from 1 to 65535`},
		{"Port must be in range", "Host=h;Port=0", FormatNpgsql, "Port", "is not a number from 1 to 65535"},
		{"a Host entry must be a valid host", "Host=a b", FormatNpgsql, "Host", `"a b" does not start with a valid host name`},
		{"a Host entry port must be valid", "Host=a:x", FormatNpgsql, "Host", "port is not a number"},
		{"an empty Host entry is refused", "Host=a,,b", FormatNpgsql, "Host", "valid host"},
		{"SSL Mode must be known", "Host=h;SSL Mode=Sometimes", FormatNpgsql, "SSL Mode", `"Sometimes" is not Disable`},
		{"Trust Server Certificate must be a boolean", "Host=h;Trust Server Certificate=perhaps", FormatNpgsql, "Trust Server Certificate", "is not true or false"},
		{"Timeout must be a number", "Host=h;Timeout=15s", FormatNpgsql, "Timeout", `"15s" is not a number of seconds`},
		{"Timeout cannot be negative", "Host=h;Timeout=-1", FormatNpgsql, "Timeout", "is less than 0"},
		{"Command Timeout must be a number", "Host=h;CommandTimeout=x", FormatNpgsql, "Command Timeout", "is not a number of seconds"},
		{"Pooling must be a boolean", "Host=h;Pooling=sometimes", FormatNpgsql, "Pooling", "is not true or false"},
		{"Maximum Pool Size must be positive", "Host=h;Max Pool Size=0", FormatNpgsql, "Maximum Pool Size", "is less than 1"},
		{"Minimum Pool Size cannot exceed the maximum", "Host=h;Min Pool Size=10;Max Pool Size=5", FormatNpgsql, "Minimum Pool Size", "larger than Maximum Pool Size 5"},
		{"Minimum Pool Size must be a number", "Host=h;Min Pool Size=few", FormatNpgsql, "Minimum Pool Size", "is not a number of connections"},
		{"Connection Idle Lifetime must be positive", "Host=h;Connection Idle Lifetime=0", FormatNpgsql, "Connection Idle Lifetime", "is less than 1"},
		{"Connection Lifetime must be a number", "Host=h;Connection Lifetime=long", FormatNpgsql, "Connection Lifetime", "is not a number of seconds"},
		{"Keepalive must be a number", "Host=h;Keepalive=on", FormatNpgsql, "Keepalive", "is not a number of seconds"},
		{"prefer-primary is not supported", "Host=h;Target Session Attributes=prefer-primary", FormatNpgsql, "Target Session Attributes", "not supported by pgx"},
		{"Target Session Attributes must be known", "Host=h;Target Session Attributes=fastest", FormatNpgsql, "Target Session Attributes", "is not any"},
		{"Channel Binding must be known", "Host=h;Channel Binding=always", FormatNpgsql, "Channel Binding", "is not Disable, Prefer or Require"},
		{"Load Balance Hosts=true is refused", "Host=h;Load Balance Hosts=true", FormatNpgsql, "Load Balance Hosts", "not supported"},
		{"a NUL in a value is refused", "Host=h;Database=a\x00b", FormatNpgsql, "Database", "NUL"},
		{"a missing Root Certificate file is reported by pgx", "Host=h;SSL Mode=VerifyCA;Root Certificate=does-not-exist.crt", FormatNpgsql, "TLS settings", "unable to read CA file"},

		{"a libpq item without '=' is refused without being shown", "host=h password", FormatLibpq, "item 2", "has no '='"},
		{"a libpq quote must be closed", "host=h password='abc", FormatLibpq, "password", "without its closing quote"},
		{"a libpq item after the password is not shown", "host=h password=a b", FormatLibpq, "item 3", "follows the password"},
		{"an Npgsql value holding a password assignment is not shown", "Host=h Password=abc", FormatNpgsql, "Host", "seems to contain a password"},
		{"pgx errors keep only the reason", "host=h port=99999", FormatLibpq, "port", "invalid port"},
		{"a bad libpq connect_timeout is named", "host=h connect_timeout=soon", FormatLibpq, "connect_timeout", "invalid connect_timeout"},
		{"a bad pool size is named", "host=h pool_max_conns=0", FormatLibpq, "pool_max_conns", "pool_max_conns too small"},
		{"a libpq value holding a password assignment is refused", "host=h application_name='x password=y'", FormatLibpq, "application_name", "separator missing"},
		{"an unknown libpq key after the password is refused unseen", "host=h password=a b=c", FormatLibpq, "item 3", "put runtime parameters before the password"},
		{"a known libpq key after the password is fine", "host=h password=Zx9kWv8j dbname=c port=x", FormatLibpq, "port", "invalid port"},
		{"a pgx reason that happens to contain the password is withheld", "host=h password=port port=x", FormatLibpq, "settings", "details withheld"},
		{"a libpq NUL is refused", "host=h dbname=a\x00", FormatLibpq, "dbname", "NUL"},

		{"an '@' after the host in a URL is refused", "postgres://u:a/b@h/db", FormatPostgresURL, "url", "'@' after the user information"},
		{"a second '@' in a URL is refused", "postgres://u:a@b@h/db", FormatPostgresURL, "url", "'@' after the user information"},
		{"a badly encoded URL password is refused without being shown", "postgres://u:a%zz@h/db", FormatPostgresURL, "password", "percent-encoding"},
		{"a badly encoded query password is refused without being shown", "postgres://h/db?password=a%2", FormatPostgresURL, "password", "percent-encoding"},
		{"a query item without '=' is refused without being shown", "postgres://h/db?password=a&b", FormatPostgresURL, "item 2", "follows the password"},
		{"an unknown query key after the password is refused unseen", "postgres://h/db?password=a&b=c", FormatPostgresURL, "item 2", "put runtime parameters before the password"},
		{"a query key with broken encoding is refused", "postgres://h/db?a%zz=1", FormatPostgresURL, "item 1", "percent-encoding"},
		{"a URL NUL is refused", "postgres://h/db\x00", FormatPostgresURL, "url", "NUL"},
		{"pgx URL errors keep only the reason", "postgres://h:port/db", FormatPostgresURL, "port", "invalid port"},
		{"an unknown target_session_attrs is named", "postgres://h/db?target_session_attrs=fast", FormatPostgresURL, "target_session_attrs", "unknown target_session_attrs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePostgres(tc.in)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParsePostgres(%q) = %v, want a *ParseError", tc.in, err)
			}
			if pe.Format != tc.format || pe.Part != tc.part || !strings.Contains(pe.Reason, tc.reasonHas) {
				t.Errorf("ParsePostgres(%q) = %q\nwant format %q, part %q, reason containing %q", tc.in, err, tc.format, tc.part, tc.reasonHas)
			}
			if strings.ContainsAny(err.Error(), "\n`") {
				t.Errorf("message is not one clean line: %q", err)
			}
		})
	}
}

func TestRedactPostgres(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"an Npgsql password is masked in place", "Host=h;Username=u;Password=secret;Database=d", "Host=h;Username=u;Password=*****;Database=d"},
		{"a quoted Npgsql password is masked with its quotes", `Host=h;Password="a;b";Database=d`, `Host=h;Password=*****;Database=d`},
		{"synonyms and SSL Password are masked", "Host=h;Pwd=a;SSL Password=b", "Host=h;Pwd=*****;SSL Password=*****"},
		{"an empty password stays empty", "Host=h;Password=", "Host=h;Password="},
		{"a libpq password is masked", "host=h password='x y' user=u", "host=h password=***** user=u"},
		{"a URL userinfo password is masked", "postgres://u:p%40ss@h:5432/db", "postgres://u:*****@h:5432/db"},
		{"URL query passwords are masked", "postgres://h/db?password=x&sslpassword=y&sslmode=require", "postgres://h/db?password=*****&sslpassword=*****&sslmode=require"},
		{"a string without a password is unchanged", "Host=h;Database=d", "Host=h;Database=d"},
		{"outer spaces are trimmed", "  Host=h  ", "Host=h"},
		{"an empty string stays empty", "", ""},
		{"an unparseable string is withheld", `Host=h;Password="open`, unparseable},
		{"an unknown key after the password withholds everything", "Host=h;Password=a;b=c", unparseable},
		{"a broken URL is withheld", "postgres://u:a/b@h", unparseable},
		{"a broken libpq string is withheld", "password=a b", unparseable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { expect(t, "RedactPostgres", RedactPostgres(tc.in), tc.want) })
	}
}
