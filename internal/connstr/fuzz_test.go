package connstr

import (
	"net/url"
	"strings"
	"testing"
)

// mark replaces every ASCII letter and digit of a fuzzed password. No
// template and no message contains it, so finding it in any output means a
// piece of the password leaked, however the password was cut up.
const mark = "§"

func masked(pw string) string {
	var b strings.Builder
	for i := 0; i < len(pw); i++ {
		if c := pw[i]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteString(mark)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

var redisFuzzTemplates = []func(pw string) string{
	func(pw string) string { return "redis-a:6379,user=app,password=" + pw + ",ssl=true,abortConnect=false" },
	func(pw string) string { return "password=" + pw + ",redis-a,connectTimeout=5000" },
	func(pw string) string {
		return "s1:26379,s2,serviceName=main,sentinelPassword=" + pw + ",defaultDatabase=1"
	},
	func(pw string) string { return "redis://app:" + pw + "@redis-a:6380/2" },
	func(pw string) string {
		return "rediss://" + url.UserPassword("app", pw).String() + "@redis-a/0?addr=redis-b:6379"
	},
}

func FuzzParseRedis(f *testing.F) {
	f.Add("redis-a:6379,password=YourPassword,ssl=true,abortConnect=false,connectTimeout=5000,syncTimeout=5000", "p,w", uint8(0))
	f.Add("h1:26379,h2:26379,h3:26379,serviceName=mymaster,password=p,user=app,defaultDatabase=2", "a b", uint8(1))
	f.Add("[::1]:6379,name=x,keepAlive=60,connectRetry=2,sslProtocols=tls12|tls13", "x=y", uint8(2))
	f.Add("redis://u:p%40ss@h:6380/3?dial_timeout=2s&addr=h2:1", "p@ss/w?#", uint8(3))
	f.Add("rediss://:pw@n1:7000?addr=n2:7001&read_timeout=1s", "%zz", uint8(4))
	f.Add("n1,n2,defaultDatabase=1", "ab,cd=ef", uint8(0))
	f.Add("h,password=abc,def ghi", " q ", uint8(1))
	f.Fuzz(func(t *testing.T, raw, pw string, which uint8) {
		checkRedisStable(t, raw)

		pw = masked(pw)
		s := redisFuzzTemplates[int(which)%len(redisFuzzTemplates)](pw)
		o, err := ParseRedis(s)
		if err != nil {
			if strings.Contains(err.Error(), mark) || strings.ContainsAny(err.Error(), "\n") {
				t.Fatalf("ParseRedis(%q) error %q shows part of the password or spans lines", s, err)
			}
			if int(which)%len(redisFuzzTemplates) == 4 {
				t.Fatalf("ParseRedis(%q) failed for a correctly encoded password: %v", s, err)
			}
			return
		}
		if strings.Contains(o.Redacted(), mark) {
			t.Fatalf("ParseRedis(%q).Redacted() = %q shows part of the password", s, o.Redacted())
		}
		if int(which)%len(redisFuzzTemplates) == 4 && o.Universal().Password != pw {
			t.Fatalf("encoded password %q came back as %q", pw, o.Universal().Password)
		}
		checkRedisStable(t, s)
	})
}

// checkRedisStable parses s and, if that works, parses the redacted form,
// which must describe the same deployment with the password masked.
func checkRedisStable(t *testing.T, s string) {
	o, err := ParseRedis(s)
	if err != nil {
		return
	}
	r, err := ParseRedis(o.Redacted())
	if err != nil {
		t.Fatalf("ParseRedis(%q) works but its redacted form %q does not: %v", s, o.Redacted(), err)
	}
	a, b := summarize(o), summarize(r)
	if a.Password != "" {
		a.Password = "*****"
	}
	if a.SentinelPassword != "" {
		a.SentinelPassword = "*****"
	}
	if a != b {
		t.Fatalf("re-parsing the redacted form changed the result:\n%q\n %+v\n%q\n %+v", s, a, o.Redacted(), b)
	}
}

var postgresFuzzTemplates = []func(pw string) string{
	func(pw string) string {
		return `Host=db;Username=app;Password="` + strings.ReplaceAll(pw, `"`, `""`) + `";Database=cesivi`
	},
	func(pw string) string { return "Host=db;Username=app;Password=" + pw + ";Database=cesivi;Pooling=true" },
	func(pw string) string { return "Password=" + pw + ";Host=db" },
	func(pw string) string {
		return "host=db user=app password='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw) + "' dbname=cesivi"
	},
	func(pw string) string { return "host=db password=" + pw + " dbname=cesivi" },
	func(pw string) string { return "postgres://app:" + pgEscape(pw) + "@db:5432/cesivi?sslmode=disable" },
	func(pw string) string { return "postgres://app:" + pw + "@db:5432/cesivi" },
	func(pw string) string { return "postgresql://db/cesivi?password=" + pw + "&sslmode=disable" },
}

// quotedPostgresTemplates are the templates that write the password
// correctly, so parsing must succeed and give it back unchanged.
var quotedPostgresTemplates = map[int]bool{0: true, 3: true, 5: true}

func FuzzParsePostgres(f *testing.F) {
	f.Add("Host=pg-host;Port=5432;Database=Cesivi;Username=postgres;Password=YourPassword", `a"b`, uint8(0))
	f.Add("Host=a,b:5433;Password=\"x;y\";Pooling=false;Max Pool Size=7", "x;y", uint8(1))
	f.Add("host=h dbname=d password='a b'", "it's", uint8(3))
	f.Add("postgres://u:p%20x@h:5/db?sslmode=disable&password=zz", "p/w@x", uint8(6))
	f.Add("Host=h;SSL Mode=Require;Trust Server Certificate=true;Timeout=3", "a&b", uint8(7))
	f.Add("Server=h;User Id=u;Pwd=p;Initial Catalog=d", "a Password=b", uint8(2))
	f.Add("host=h password=a b", `\`, uint8(4))
	f.Fuzz(func(t *testing.T, raw, pw string, which uint8) {
		checkPostgresStable(t, raw)

		pw = masked(pw)
		n := int(which) % len(postgresFuzzTemplates)
		s := postgresFuzzTemplates[n](pw)
		c, err := ParsePostgres(s)
		red := RedactPostgres(s)
		if strings.Contains(red, mark) {
			t.Fatalf("RedactPostgres(%q) = %q shows part of the password", s, red)
		}
		if err != nil {
			if strings.Contains(err.Error(), mark) || strings.ContainsAny(err.Error(), "\n") {
				t.Fatalf("ParsePostgres(%q) error %q shows part of the password or spans lines", s, err)
			}
			if quotedPostgresTemplates[n] && strings.IndexByte(pw, 0) < 0 {
				t.Fatalf("ParsePostgres(%q) failed for a correctly written password: %v", s, err)
			}
			return
		}
		if strings.Contains(c.ConnString(), mark) {
			t.Fatalf("ConnString() of %q = %q holds part of the password", s, c.ConnString())
		}
		if quotedPostgresTemplates[n] && c.ConnConfig.Password != pw && pw != "" {
			t.Fatalf("correctly written password %q came back as %q", pw, c.ConnConfig.Password)
		}
		checkPostgresStable(t, s)
	})
}

// checkPostgresStable parses s and, if that works, parses its redacted form,
// which must describe the same server with the password masked.
func checkPostgresStable(t *testing.T, s string) {
	o, err := ParsePostgresOptions(s)
	red := RedactPostgres(s)
	if err != nil {
		if red != unparseable && strings.TrimSpace(s) != "" {
			t.Fatalf("RedactPostgres(%q) = %q for a string that does not parse", s, red)
		}
		return
	}
	r, err := ParsePostgresOptions(red)
	if err != nil {
		t.Fatalf("ParsePostgres(%q) works but its redacted form %q does not: %v", s, red, err)
	}
	a, b := o.Pool.ConnConfig, r.Pool.ConnConfig
	if pgHosts(o.Pool) != pgHosts(r.Pool) || a.Database != b.Database || a.User != b.User ||
		o.Pool.MaxConns != r.Pool.MaxConns || o.CommandTimeout != r.CommandTimeout || o.HasCommandTimeout != r.HasCommandTimeout {
		t.Fatalf("re-parsing the redacted form changed the result:\n%q\n%q", s, red)
	}
	if a.Password != "" && b.Password != "*****" {
		t.Fatalf("redacted form of %q gives password %q", s, b.Password)
	}
}
