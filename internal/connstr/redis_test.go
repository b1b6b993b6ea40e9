package connstr

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"
)

// redisSummary is the part of a RedisOptions the tests compare.
type redisSummary struct {
	Mode             RedisMode
	Addrs            string
	User, Password   string
	DB               int
	TLS              bool
	ServerName       string
	MinTLS, MaxTLS   uint16
	Dial, Read       time.Duration
	Write            time.Duration
	ContextTimeouts  bool
	Abort            bool
	KeepAlive        time.Duration
	Name, Master     string
	SentinelUser     string
	SentinelPassword string
	DialerRetries    int
	MaxRetries       int
	Protocol         int
	NoIdentity       bool
	PoolSize         int
}

func summarize(o *RedisOptions) redisSummary {
	u := o.Universal()
	s := redisSummary{
		Mode: o.Mode, Addrs: strings.Join(u.Addrs, ","), User: u.Username, Password: u.Password,
		DB: u.DB, TLS: o.TLS, Dial: u.DialTimeout, Read: u.ReadTimeout, Write: u.WriteTimeout,
		ContextTimeouts: u.ContextTimeoutEnabled, Abort: o.AbortConnect, KeepAlive: o.KeepAlive,
		Name: u.ClientName, Master: u.MasterName, SentinelUser: u.SentinelUsername,
		SentinelPassword: u.SentinelPassword, DialerRetries: u.DialerRetries, MaxRetries: u.MaxRetries,
		Protocol: u.Protocol, NoIdentity: u.DisableIdentity, PoolSize: u.PoolSize,
	}
	if c := u.TLSConfig; c != nil {
		s.ServerName, s.MinTLS, s.MaxTLS = c.ServerName, c.MinVersion, c.MaxVersion
	}
	return s
}

// seDefaults is what "redis-a" alone parses to.
func seDefaults() redisSummary {
	return redisSummary{
		Mode: RedisStandalone, Addrs: "redis-a:6379", Dial: 5 * time.Second, Read: 5 * time.Second,
		Write: 5 * time.Second, ContextTimeouts: true, Abort: true, DialerRetries: 4,
	}
}

func TestParseRedis(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want func(*redisSummary)
	}{
		{"a bare host gets the default port and StackExchange defaults", "redis-a", func(w *redisSummary) {}},
		{"surrounding spaces and empty items are ignored", "  redis-a , ,", func(w *redisSummary) {}},
		{"an explicit port is kept", "redis-a:7000", func(w *redisSummary) { w.Addrs = "redis-a:7000" }},
		{"the example from the Azure portal parses completely",
			"redis-a:6379,password=YourPassword,ssl=true,abortConnect=false,connectTimeout=5000,syncTimeout=5000",
			func(w *redisSummary) {
				w.Password, w.TLS, w.ServerName, w.MinTLS, w.Abort = "YourPassword", true, "redis-a", tls.VersionTLS12, false
			}},
		{"keys are case-insensitive", "redis-a,PASSWORD=p,Ssl=TRUE,AbortConnect=False", func(w *redisSummary) {
			w.Password, w.TLS, w.ServerName, w.MinTLS, w.Abort, w.Addrs = "p", true, "redis-a", tls.VersionTLS12, false, "redis-a:6380"
		}},
		{"values are trimmed but may contain '='", "redis-a, password = a=b ", func(w *redisSummary) { w.Password = "a=b" }},
		{"an empty password means none", "redis-a,password=", func(w *redisSummary) {}},
		{"user sets the ACL user name", "redis-a,user=app,password=p", func(w *redisSummary) { w.User, w.Password = "app", "p" }},
		{"ssl=true makes 6380 the default port as in StackExchange.Redis", "redis-a,ssl=true", func(w *redisSummary) {
			w.Addrs, w.TLS, w.ServerName, w.MinTLS = "redis-a:6380", true, "redis-a", tls.VersionTLS12
		}},
		{"ssl=false is plain TCP", "redis-a,ssl=false", func(w *redisSummary) {}},
		{"sslHost overrides the TLS server name", "10.0.0.5:6380,ssl=true,sslHost=cache.example.com", func(w *redisSummary) {
			w.Addrs, w.TLS, w.ServerName, w.MinTLS = "10.0.0.5:6380", true, "cache.example.com", tls.VersionTLS12
		}},
		{"sslProtocols=Tls13 pins TLS 1.3", "redis-a:6380,ssl=true,sslProtocols=Tls13", func(w *redisSummary) {
			w.Addrs, w.TLS, w.ServerName, w.MinTLS, w.MaxTLS = "redis-a:6380", true, "redis-a", tls.VersionTLS13, tls.VersionTLS13
		}},
		{"sslProtocols joined with a bar allow a range", "redis-a:6380,ssl=true,sslProtocols=tls12|tls13", func(w *redisSummary) {
			w.Addrs, w.TLS, w.ServerName, w.MinTLS, w.MaxTLS = "redis-a:6380", true, "redis-a", tls.VersionTLS12, tls.VersionTLS13
		}},
		{"sslProtocols=None keeps the TLS 1.2 floor", "redis-a:6380,ssl=true,sslProtocols=None", func(w *redisSummary) {
			w.Addrs, w.TLS, w.ServerName, w.MinTLS = "redis-a:6380", true, "redis-a", tls.VersionTLS12
		}},
		{"connectTimeout sets the dial timeout in milliseconds", "redis-a,connectTimeout=1500", func(w *redisSummary) { w.Dial = 1500 * time.Millisecond }},
		{"syncTimeout sets read and write timeouts", "redis-a,syncTimeout=250", func(w *redisSummary) {
			w.Read, w.Write = 250*time.Millisecond, 250*time.Millisecond
		}},
		{"asyncTimeout is accepted and changes nothing", "redis-a,asyncTimeout=10000", func(w *redisSummary) {}},
		{"defaultDatabase selects the database", "redis-a,defaultDatabase=3", func(w *redisSummary) { w.DB = 3 }},
		{"name sets the client name", "redis-a,name=cesivi-web-1", func(w *redisSummary) { w.Name = "cesivi-web-1" }},
		{"keepAlive is recorded in seconds", "redis-a,keepAlive=180", func(w *redisSummary) { w.KeepAlive = 180 * time.Second }},
		{"keepAlive=-1 means the default", "redis-a,keepAlive=-1", func(w *redisSummary) {}},
		{"connectRetry counts repeats so attempts are one more", "redis-a,connectRetry=0", func(w *redisSummary) { w.DialerRetries = 1 }},
		{"setlib=false disables CLIENT SETINFO", "redis-a,setlib=false", func(w *redisSummary) { w.NoIdentity = true }},
		{"protocol=resp3 selects RESP3", "redis-a,protocol=resp3", func(w *redisSummary) { w.Protocol = 3 }},
		{"protocol=2 selects RESP2", "redis-a,protocol=2", func(w *redisSummary) { w.Protocol = 2 }},
		{"no-op options are accepted",
			"redis-a,allowAdmin=true,resolveDns=false,checkCertificateRevocation=false,tcpKeepAlive=true,configCheckSeconds=60," +
				"topologyRefreshSeconds=0,tiebreaker=,configChannel=chan,version=7.2.4,proxy=None,highIntegrity=false," +
				"highPriorityThreads=true,preserveAsyncOrder=false,responseTimeout=1,writeBuffer=4096,channelPrefix=",
			func(w *redisSummary) {}},
		{"a later key overrides an earlier one", "redis-a,connectTimeout=1,connectTimeout=2", func(w *redisSummary) { w.Dial = 2 * time.Millisecond }},
		{"options may come before the endpoint", "ssl=true,redis-a", func(w *redisSummary) {
			w.Addrs, w.TLS, w.ServerName, w.MinTLS = "redis-a:6380", true, "redis-a", tls.VersionTLS12
		}},
		{"an IPv4 address is an endpoint", "10.1.2.3", func(w *redisSummary) { w.Addrs = "10.1.2.3:6379" }},
		{"a bracketed IPv6 address takes a port", "[::1]:7000", func(w *redisSummary) { w.Addrs = "[::1]:7000" }},
		{"a bracketed IPv6 address without a port gets the default", "[2001:db8::1]", func(w *redisSummary) { w.Addrs = "[2001:db8::1]:6379" }},
		{"a bare IPv6 address is a host without a port", "fe80::1:6379", func(w *redisSummary) { w.Addrs = "[fe80::1:6379]:6379" }},
		{"a compose service name with an underscore is a host", "cesivi_redis:6379", func(w *redisSummary) { w.Addrs = "cesivi_redis:6379" }},
		{"an endpoint listed twice counts once", "redis-a,redis-a:6379", func(w *redisSummary) {}},
		{"several endpoints select Cluster", "n1:7000,n2:7001,n3:7002,password=p", func(w *redisSummary) {
			w.Mode, w.Addrs, w.Password = RedisCluster, "n1:7000,n2:7001,n3:7002", "p"
		}},
		{"Cluster with TLS leaves the server name to each dial", "n1,n2,ssl=true", func(w *redisSummary) {
			w.Mode, w.Addrs, w.TLS, w.MinTLS = RedisCluster, "n1:6380,n2:6380", true, tls.VersionTLS12
		}},
		{"serviceName selects Sentinel and the endpoints are sentinels",
			"h1:26379,h2:26379,h3:26379,serviceName=mymaster,password=p,user=app,defaultDatabase=2",
			func(w *redisSummary) {
				w.Mode, w.Addrs, w.Master, w.User, w.Password, w.DB = RedisSentinel, "h1:26379,h2:26379,h3:26379", "mymaster", "app", "p", 2
				w.SentinelUser, w.SentinelPassword = "app", "p"
			}},
		{"Sentinel endpoints default to port 26379", "s1,s2,serviceName=m", func(w *redisSummary) {
			w.Mode, w.Addrs, w.Master = RedisSentinel, "s1:26379,s2:26379", "m"
		}},
		{"one sentinel is still Sentinel", "s1,serviceName=m", func(w *redisSummary) {
			w.Mode, w.Addrs, w.Master = RedisSentinel, "s1:26379", "m"
		}},
		{"sentinelUser and sentinelPassword override the server credentials for sentinels",
			"s1,serviceName=m,user=app,password=p,sentinelUser=sen,sentinelPassword=sp",
			func(w *redisSummary) {
				w.Mode, w.Addrs, w.Master, w.User, w.Password = RedisSentinel, "s1:26379", "m", "app", "p"
				w.SentinelUser, w.SentinelPassword = "sen", "sp"
			}},
		{"an empty sentinelPassword turns off sentinel authentication", "s1,serviceName=m,password=p,sentinelPassword=",
			func(w *redisSummary) {
				w.Mode, w.Addrs, w.Master, w.Password = RedisSentinel, "s1:26379", "m", "p"
			}},
		{"Sentinel with TLS does not pin the sentinel's name", "s1,serviceName=m,ssl=true", func(w *redisSummary) {
			w.Mode, w.Addrs, w.Master, w.TLS, w.MinTLS = RedisSentinel, "s1:26379", "m", true, tls.VersionTLS12
		}},
		{"an empty serviceName is standalone", "redis-a,serviceName=", func(w *redisSummary) {}},

		{"a redis URL carries user, password, port and database", "redis://app:s%3Ac%40r@redis-a:6380/4", func(w *redisSummary) {
			w.Addrs, w.User, w.Password, w.DB, w.DialerRetries = "redis-a:6380", "app", "s:c@r", 4, 0
		}},
		{"a redis URL without a port uses 6379", "redis://redis-a", func(w *redisSummary) { w.DialerRetries = 0 }},
		{"a redis URL without a host means localhost", "redis://", func(w *redisSummary) {
			w.Addrs, w.DialerRetries = "localhost:6379", 0
		}},
		{"the URL scheme is case-insensitive", "REDIS://redis-a/", func(w *redisSummary) { w.DialerRetries = 0 }},
		{"a password-only URL has no user", "redis://:pw@redis-a", func(w *redisSummary) { w.Password, w.DialerRetries = "pw", 0 }},
		{"a rediss URL turns on TLS", "rediss://redis-a:6380", func(w *redisSummary) {
			w.Addrs, w.TLS, w.ServerName, w.MinTLS, w.DialerRetries = "redis-a:6380", true, "redis-a", tls.VersionTLS12, 0
		}},
		{"an IPv6 URL host keeps its brackets in the address", "redis://[::1]:7000", func(w *redisSummary) {
			w.Addrs, w.DialerRetries = "[::1]:7000", 0
		}},
		{"URL query parameters use go-redis names",
			"redis://redis-a/0?db=5&protocol=2&client_name=web&max_retries=-1&pool_size=20&dial_timeout=2&read_timeout=1500ms",
			func(w *redisSummary) {
				w.DB, w.Protocol, w.Name, w.MaxRetries, w.PoolSize = 5, 2, "web", -1, 20
				w.Dial, w.Read, w.Write, w.DialerRetries = 2*time.Second, 1500*time.Millisecond, 1500*time.Millisecond, 0
			}},
		{"write_timeout is separate from read_timeout when given", "redis://redis-a?read_timeout=1s&write_timeout=3s", func(w *redisSummary) {
			w.Read, w.Write, w.DialerRetries = time.Second, 3*time.Second, 0
		}},
		{"addr parameters add cluster nodes", "rediss://:pw@n1:7000?addr=n2:7001&addr=n3", func(w *redisSummary) {
			w.Mode, w.Addrs, w.Password, w.TLS, w.MinTLS, w.DialerRetries = RedisCluster, "n1:7000,n2:7001,n3:6379", "pw", true, tls.VersionTLS12, 0
		}},
		{"the other go-redis pool parameters are accepted",
			"redis://redis-a?min_idle_conns=1&max_idle_conns=2&max_active_conns=3&pool_timeout=4s&conn_max_idle_time=5m&conn_max_lifetime=1h",
			func(w *redisSummary) { w.DialerRetries = 0 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseRedis(tc.in)
			if err != nil {
				t.Fatalf("ParseRedis(%q): %v", tc.in, err)
			}
			want := seDefaults()
			tc.want(&want)
			if got := summarize(o); got != want {
				t.Errorf("ParseRedis(%q)\n got %+v\nwant %+v", tc.in, got, want)
			}
		})
	}
}

func TestParseRedisURLOptionsReachGoRedis(t *testing.T) {
	o, err := ParseRedis("redis://redis-a?min_idle_conns=1&max_idle_conns=2&max_active_conns=3&pool_timeout=4s&conn_max_idle_time=5m&conn_max_lifetime=1h")
	if err != nil {
		t.Fatal(err)
	}
	u := o.Universal()
	if u.MinIdleConns != 1 || u.MaxIdleConns != 2 || u.MaxActiveConns != 3 || u.PoolTimeout != 4*time.Second ||
		u.ConnMaxIdleTime != 5*time.Minute || u.ConnMaxLifetime != time.Hour {
		t.Errorf("pool parameters not applied: %+v", u)
	}
}

func TestParseRedisErrors(t *testing.T) {
	tests := []struct {
		name, in   string
		part       string
		reasonHas  string
		formatWant string
	}{
		{"an empty string is refused", "  ", "", "is empty", FormatRedis},
		{"a string without endpoints is refused", "password=p,ssl=true", "endpoints", "none given", FormatStackExchange},
		{"connectTimeout must be a number", "h,connectTimeout=abc", "connectTimeout", `"abc" is not a number of milliseconds`, FormatStackExchange},
		{"connectTimeout must be positive", "h,connectTimeout=0", "connectTimeout", `"0" is less than 1`, FormatStackExchange},
		{"syncTimeout must be a number", "h,syncTimeout=5s", "syncTimeout", `"5s" is not a number of milliseconds`, FormatStackExchange},
		{"asyncTimeout must be a number", "h,asyncTimeout=", "asyncTimeout", "is not a number of milliseconds", FormatStackExchange},
		{"ssl must be a boolean", "h,ssl=maybe", "ssl", `"maybe" is not true or false`, FormatStackExchange},
		{"abortConnect must be a boolean", "h,abortConnect=", "abortConnect", "is not true or false", FormatStackExchange},
		{"allowAdmin must be a boolean even though it is ignored", "h,allowAdmin=2", "allowAdmin", "is not true or false", FormatStackExchange},
		{"defaultDatabase cannot be negative", "h,defaultDatabase=-1", "defaultDatabase", "is less than 0", FormatStackExchange},
		{"defaultDatabase must fit in 32 bits", "h,defaultDatabase=99999999999", "defaultDatabase", "is not a database number", FormatStackExchange},
		{"connectRetry cannot be negative", "h,connectRetry=-2", "connectRetry", "is less than 0", FormatStackExchange},
		{"keepAlive must be a number", "h,keepAlive=1m", "keepAlive", "is not a number of seconds", FormatStackExchange},
		{"configCheckSeconds must be a number", "h,configCheckSeconds=x", "configCheckSeconds", "is not a number of seconds", FormatStackExchange},
		{"version must look like a version", "h,version=latest", "version", "is not a version", FormatStackExchange},
		{"protocol must be resp2 or resp3", "h,protocol=resp4", "protocol", "is not resp2 or resp3", FormatStackExchange},
		{"sslHost must be a host name", "h,sslHost=a b", "sslHost", "is not a valid host name", FormatStackExchange},
		{"sslProtocols below TLS 1.2 are refused", "h,sslProtocols=Tls11|Tls12", "sslProtocols", "older than TLS 1.2", FormatStackExchange},
		{"unknown sslProtocols are refused", "h,sslProtocols=quic", "sslProtocols", "is not Tls12, Tls13 or None", FormatStackExchange},
		{"a channel prefix is refused rather than dropped", "h,channelPrefix=app1", "channelPrefix", "cannot prefix", FormatStackExchange},
		{"twemproxy is refused", "h,proxy=Twemproxy", "proxy", "not supported", FormatStackExchange},
		{"an unknown proxy is refused", "h,proxy=haproxy", "proxy", "is not None", FormatStackExchange},
		{"tunnels are refused without showing the value", "h,tunnel=http:user:pw@proxy:8080", "tunnel", "not supported", FormatStackExchange},
		{"highIntegrity=true is refused", "h,highIntegrity=true", "highIntegrity", "not supported", FormatStackExchange},
		{"command renames are refused", "h,$INFO=", "$INFO", "renaming or disabling commands", FormatStackExchange},
		{"an unknown option is named", "h,database=2", "database", "is not a known option", FormatStackExchange},
		{"a value holding a password assignment is refused", "h,name=web password=secret", "name", "separator missing", FormatStackExchange},
		{"an unknown key after the password is not named", "h,password=p,colour=red", "item 3", "follows the password", FormatStackExchange},
		{"a bad value after the password is not shown", "h,password=p,ssl=yes please", "ssl", "value is not true or false", FormatStackExchange},
		{"an option without a name is refused", "h,=x", "item 2", "no option name", FormatStackExchange},
		{"a port must be numeric", "h:abc", `endpoint "h"`, "port is not a number", FormatStackExchange},
		{"a port must be in range", "h:70000", `endpoint "h"`, "port is not a number", FormatStackExchange},
		{"a host with a space is refused without being shown", "my host", "item 1", "valid host", FormatStackExchange},
		{"an unclosed IPv6 bracket is refused", "[::1", "item 1", "without a closing", FormatStackExchange},
		{"brackets must hold IPv6", "[redis]:1", "item 1", "not an IPv6 address", FormatStackExchange},
		{"text after an IPv6 bracket is refused", "[::1]x", "item 1", "text after", FormatStackExchange},
		{"an ambiguous colon list is refused", "a:b:c", "item 1", "neither host:port nor an IPv6 address", FormatStackExchange},
		{"an endpoint after the password is refused", "h,password=p,h2", "item 3", "must come before password=", FormatStackExchange},
		{"a non-zero database with several endpoints is refused", "n1,n2,defaultDatabase=1", "defaultDatabase", "only has database 0", FormatStackExchange},
		{"a foreign URL scheme is refused", "http://h", "scheme", `"http" is not redis:// or rediss://`, FormatRedis},
		{"a URL port must be in range", "redis://h:0", "port", "is not a number from 1 to 65535", FormatRedisURL},
		{"a URL path must be a database number", "redis://h/cache", "db", "is not a database number", FormatRedisURL},
		{"a URL with an unknown parameter is refused", "redis://h?sentinel=1", "sentinel", "is not a known query parameter", FormatRedisURL},
		{"a URL parameter may not repeat", "redis://h?db=1&db=2", "db", "more than once", FormatRedisURL},
		{"a URL duration must parse", "redis://h?dial_timeout=soon", "dial_timeout", "is not a duration", FormatRedisURL},
		{"a URL duration must be positive", "redis://h?read_timeout=0", "read_timeout", "is not a positive duration", FormatRedisURL},
		{"a URL count must be a number", "redis://h?pool_size=x", "pool_size", "is not a whole number", FormatRedisURL},
		{"a URL count has a minimum", "redis://h?pool_size=0", "pool_size", "is less than 1", FormatRedisURL},
		{"URL protocol must be 2 or 3", "redis://h?protocol=4", "protocol", "is not 2 or 3", FormatRedisURL},
		{"a URL addr must be host:port", "redis://h?addr=%5B", "addr", "without a closing", FormatRedisURL},
		{"a cluster URL must use database 0", "redis://h/2?addr=h2:1", "db", "must be 0", FormatRedisURL},
		{"a URL with broken query syntax is refused", "redis://h?a=%zz", "query", "not valid", FormatRedisURL},
		{"a URL fragment is refused", "redis://h#x", "url", "fragment", FormatRedisURL},
		{"a URL that does not parse is refused", "redis://h:port", "url", "is not a valid URL", FormatRedisURL},
		{"an '@' after the host is refused", "redis://u:a/b@h", "url", "'@' after the host", FormatRedisURL},
		{"a URL host must be valid", "redis://ex!ample", "host", `"ex!ample" is not a valid host name`, FormatRedisURL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRedis(tc.in)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseRedis(%q) = %v, want a *ParseError", tc.in, err)
			}
			if pe.Part != tc.part || !strings.Contains(pe.Reason, tc.reasonHas) || pe.Format != tc.formatWant {
				t.Errorf("ParseRedis(%q) = %q\nwant format %q, part %q, reason containing %q", tc.in, err, tc.formatWant, tc.part, tc.reasonHas)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("message spans lines: %q", err)
			}
		})
	}
}

func TestRedisRedacted(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"the password is masked in place", "redis-a:6379,password=YourPassword,ssl=true", "redis-a:6379,password=*****,ssl=true"},
		{"spaces around the password stay outside the mask", "redis-a, password =  p w ,ssl=true", "redis-a, password =  ***** ,ssl=true"},
		{"every password is masked", "s1,serviceName=m,password=a,sentinelPassword=b", "s1,serviceName=m,password=*****,sentinelPassword=*****"},
		{"an empty password shows as empty", "redis-a,password=", "redis-a,password="},
		{"a string without a password is unchanged", "redis-a,ssl=true", "redis-a,ssl=true"},
		{"a URL password is masked", "redis://app:p%40ss@redis-a:6379/1", "redis://app:*****@redis-a:6379/1"},
		{"a URL user without password is unchanged", "redis://app@redis-a", "redis://app@redis-a"},
		{"a URL password containing '@' is masked to the last '@'", "redis://app:p@ss@redis-a", "redis://app:*****@redis-a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseRedis(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := o.Redacted(); got != tc.want {
				t.Errorf("Redacted() = %q, want %q", got, tc.want)
			}
			if got := o.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRedisUniversalIsShared(t *testing.T) {
	o, err := ParseRedis("redis-a")
	if err != nil {
		t.Fatal(err)
	}
	o.Universal().IsClusterMode = true
	if !o.Universal().IsClusterMode {
		t.Error("Universal() should return the options held by RedisOptions")
	}
}
