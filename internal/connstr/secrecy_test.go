package connstr

import (
	"net/url"
	"strings"
	"testing"
)

// Every tricky password below is built from the marker words Zx9k, Wv8j and
// Pq7m, which appear in no template and no message, so finding any of them
// in output means some piece of a password leaked.
var markers = []string{"Zx9k", "Wv8j", "Pq7m"}

var trickyPasswords = []string{
	"Zx9kWv8j",
	"Zx9k,Wv8j", "Zx9k;Wv8j", "Zx9k Wv8j", "Zx9k\tWv8j", "Zx9k\nWv8j", " Zx9kWv8j ",
	`Zx9k"Wv8j`, `Zx9k'Wv8j`, `Zx9k\Wv8j`, `Zx9k\'Wv8j`, `Zx9k""Wv8j`, `Zx9k'';Wv8j`, `Zx9k"";Wv8j`,
	"Zx9k=Wv8j", "Zx9k==Wv8j", "Zx9k@Wv8j", "Zx9k/Wv8j", "Zx9k:Wv8j", "Zx9k%Wv8j", "Zx9k%zzWv8j", "Zx9k%41Wv8j",
	"Zx9k?Wv8j&Pq7m", "Zx9k#Wv8j", "Zx9k&password=Wv8j", "Zx9k/Wv8j@Pq7m",
	"Zx9k,Wv8j=Pq7m", "Zx9k;Wv8j=Pq7m", "Zx9k;Port=Wv8j", "Zx9k,connectTimeout=Wv8j", "Zx9k,ssl=Wv8j",
	"Zx9k,Wv8j:6379", "Zx9k,[Wv8j", "Zx9k,Wv8j:Pq7m", "Zx9k;Host=Wv8j b", "Zx9k Password=Wv8j",
	"ünï©ødé-Zx9k", "Zx9k\x00Wv8j", "Zx9k\x7fWv8j", "Zx9k*****Wv8j",
}

// passwordTemplates embeds a password in each supported format, correctly
// written and carelessly written.
var passwordTemplates = []struct {
	name  string
	redis bool
	build func(pw string) string
}{
	{"StackExchange with the password in the middle", true, func(pw string) string {
		return "redis-a:6379,user=app,password=" + pw + ",ssl=true,abortConnect=false"
	}},
	{"StackExchange with the password first", true, func(pw string) string { return "password=" + pw + ",redis-a" }},
	{"StackExchange with an error after the password", true, func(pw string) string {
		return "redis-a,password=" + pw + ",connectTimeout=abc"
	}},
	{"StackExchange with an error before the password", true, func(pw string) string {
		return "redis-a,connectTimeout=abc,password=" + pw
	}},
	{"StackExchange sentinel password", true, func(pw string) string {
		return "s1,serviceName=m,sentinelPassword=" + pw + ",defaultDatabase=x"
	}},
	{"redis URL, encoded", true, func(pw string) string {
		return "redis://" + url.UserPassword("app", pw).String() + "@redis-a:6379/0"
	}},
	{"redis URL, not encoded", true, func(pw string) string { return "redis://app:" + pw + "@redis-a:6379/0" }},
	{"redis URL, not encoded, bad port", true, func(pw string) string { return "redis://app:" + pw + "@redis-a:port/0" }},
	{"Npgsql, quoted", false, func(pw string) string {
		return `Host=db;Username=app;Password="` + strings.ReplaceAll(pw, `"`, `""`) + `";Database=cesivi`
	}},
	{"Npgsql, not quoted", false, func(pw string) string { return "Host=db;Username=app;Password=" + pw + ";Database=cesivi" }},
	{"Npgsql, error after the password", false, func(pw string) string { return "Host=db;Password=" + pw + ";Port=abc" }},
	{"Npgsql, password first", false, func(pw string) string { return "Password=" + pw + ";Host=db" }},
	{"Npgsql, separator forgotten", false, func(pw string) string { return "Host=db Password=" + pw }},
	{"libpq, quoted", false, func(pw string) string {
		return "host=db user=app password='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw) + "' dbname=cesivi"
	}},
	{"libpq, not quoted", false, func(pw string) string { return "host=db password=" + pw + " dbname=cesivi" }},
	{"postgres URL, encoded", false, func(pw string) string {
		return "postgres://app:" + pgEscape(pw) + "@db:5432/cesivi"
	}},
	{"postgres URL, not encoded", false, func(pw string) string { return "postgres://app:" + pw + "@db:5432/cesivi" }},
	{"postgres URL, not encoded, bad port", false, func(pw string) string { return "postgres://app:" + pw + "@db:port/cesivi" }},
	{"postgres URL query password, not encoded", false, func(pw string) string {
		return "postgres://db/cesivi?password=" + pw + "&sslmode=disable"
	}},
}

// pgEscape percent-encodes every byte that is not unreserved.
func pgEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
		}
	}
	return b.String()
}

// leaks returns the marker found in out, if any.
func leaks(out string) string {
	for _, m := range markers {
		if strings.Contains(out, m) {
			return m
		}
	}
	return ""
}

// parseAndShow parses s and returns what a caller could print: the error
// message, or the redacted string and anything else meant for logs.
func parseAndShow(s string, isRedis bool) (shown []string, err error) {
	if isRedis {
		o, err := ParseRedis(s)
		if err != nil {
			return []string{err.Error()}, err
		}
		return []string{o.Redacted(), o.String()}, nil
	}
	c, err := ParsePostgres(s)
	if err != nil {
		return []string{err.Error(), RedactPostgres(s)}, err
	}
	return []string{RedactPostgres(s), c.ConnString()}, nil
}

func TestNoPasswordLeaks(t *testing.T) {
	for _, tmpl := range passwordTemplates {
		for _, pw := range trickyPasswords {
			s := tmpl.build(pw)
			t.Run(tmpl.name+" keeps "+quote(pw)+" secret", func(t *testing.T) {
				shown, err := parseAndShow(s, tmpl.redis)
				for _, out := range shown {
					if m := leaks(out); m != "" {
						t.Errorf("input %q (err=%v): output %q contains %q", s, err, out, m)
					}
				}
			})
		}
	}
}

// TestCorrectlyWrittenPasswordsRoundTrip checks that quoting and encoding
// done right give back exactly the password.
func TestCorrectlyWrittenPasswordsRoundTrip(t *testing.T) {
	for _, pw := range trickyPasswords {
		if strings.IndexByte(pw, 0) >= 0 {
			continue // PostgreSQL cannot carry NUL
		}
		t.Run("the password "+quote(pw)+" survives quoting and encoding", func(t *testing.T) {
			for _, s := range []string{
				`Host=db;Password="` + strings.ReplaceAll(pw, `"`, `""`) + `"`,
				`Host=db;Password='` + strings.ReplaceAll(pw, `'`, `''`) + `'`,
				"host=db password='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw) + "'",
				"postgres://app:" + pgEscape(pw) + "@db/cesivi",
				"postgres://db/cesivi?password=" + pgEscape(pw),
			} {
				c, err := ParsePostgres(s)
				if err != nil {
					t.Fatalf("ParsePostgres(%q): %v", s, err)
				}
				if c.ConnConfig.Password != pw {
					t.Errorf("ParsePostgres(%q) password = %q, want %q", s, c.ConnConfig.Password, pw)
				}
			}
			o, err := ParseRedis("redis://" + url.UserPassword("app", pw).String() + "@redis-a")
			if err != nil {
				t.Fatal(err)
			}
			if o.Universal().Password != pw {
				t.Errorf("redis URL password = %q, want %q", o.Universal().Password, pw)
			}
		})
	}
}
