package testenv_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/testenv"
)

func TestRedisTLSRequiresTLSAndAClientCertificate(t *testing.T) {
	ctx := t.Context()
	r := testenv.RedisTLS(t)
	cfg, err := r.TLS.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}

	c := redis.NewClient(&redis.Options{Addr: r.Addr, TLSConfig: cfg, MaxRetries: -1})
	defer c.Close()
	if err := c.Set(ctx, "k", "over tls", 0).Err(); err != nil {
		t.Fatalf("SET with the client certificate: %v", err)
	}
	if got, err := c.Get(ctx, "k").Result(); err != nil || got != "over tls" {
		t.Fatalf("GET k = %q, %v", got, err)
	}

	noCert := cfg.Clone()
	noCert.Certificates = nil
	for name, opt := range map[string]*redis.Options{
		"without a client certificate": {Addr: r.Addr, TLSConfig: noCert, MaxRetries: -1},
		"in plain text":                {Addr: r.Addr, MaxRetries: -1},
	} {
		c := redis.NewClient(opt)
		if err := c.Ping(ctx).Err(); err == nil {
			t.Errorf("PING %s succeeded; want it refused", name)
		}
		c.Close()
	}

	wrongName := cfg.Clone()
	wrongName.ServerName = "redis.example"
	c2 := redis.NewClient(&redis.Options{Addr: r.Addr, TLSConfig: wrongName, MaxRetries: -1})
	defer c2.Close()
	if err := c2.Ping(ctx).Err(); err == nil {
		t.Error("PING with a server name the certificate does not hold succeeded")
	}

	pid := r.PID
	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, pid)
}
