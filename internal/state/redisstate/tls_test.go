package redisstate_test

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/redisstate"
	"github.com/cesivi/cesivi/internal/testenv"
)

// openTLS opens a provider on a TLS-only Redis. The wait for the first
// subscription is short: a refused connection would otherwise hold it for
// the whole context.
func openTLS(t *testing.T, connStr string, files redisstate.TLSFiles) *state.Provider {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	p, err := redisstate.OpenTLS(ctx, connStr, files, "", state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestTLSWithCAAndClientCertificate(t *testing.T) {
	r := testenv.RedisTLS(t)
	f := r.Files
	p := openTLS(t, r.Addr+",ssl=true", redisstate.TLSFiles{CAFile: f.CAFile, CertFile: f.ClientCertFile, KeyFile: f.ClientKeyFile})
	ctx := context.Background()
	if err := p.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	s := &state.Session{UserID: "u", Data: map[string]string{"k": "v"}}
	if err := p.Sessions.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := p.Sessions.Load(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != "u" || got.Data["k"] != "v" {
		t.Fatalf("loaded %+v, want user u with k=v", got)
	}
}

func TestTLSRefusedWithoutClientCertificateOrWithTheWrongCA(t *testing.T) {
	r := testenv.RedisTLS(t)
	f := r.Files
	for _, c := range []struct {
		name  string
		files redisstate.TLSFiles
		why   string // what the TLS layer says
	}{
		{"no client certificate", redisstate.TLSFiles{CAFile: f.CAFile}, "certificate required"},
		{"wrong CA", redisstate.TLSFiles{CAFile: f.OtherCAFile, CertFile: f.ClientCertFile, KeyFile: f.ClientKeyFile}, "unknown authority"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := openTLS(t, r.Addr+",ssl=true", c.files)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := p.Ping(ctx)
			if !errors.Is(err, state.ErrStoreUnavailable) || !strings.Contains(err.Error(), c.why) {
				t.Fatalf("Ping = %v; want ErrStoreUnavailable because of %q", err, c.why)
			}
			if _, err := p.Sessions.Load(ctx, "missing"); !errors.Is(err, state.ErrStoreUnavailable) {
				t.Fatalf("Load = %v; want ErrStoreUnavailable (never not found)", err)
			}
		})
	}
}

func TestTLSFilesNeedTLSAndReadableFiles(t *testing.T) {
	f, err := testenv.NewRedisTLSFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, connStr string
		files         redisstate.TLSFiles
		want          string
	}{
		{"no ssl=true", "127.0.0.1:1", redisstate.TLSFiles{CAFile: f.CAFile}, "does not turn TLS on"},
		{"cert without key", "127.0.0.1:1,ssl=true", redisstate.TLSFiles{CertFile: f.ClientCertFile}, "both"},
		{"missing CA", "127.0.0.1:1,ssl=true", redisstate.TLSFiles{CAFile: f.CAFile + ".missing"}, "no such file"},
		{"key is not a CA", "127.0.0.1:1,ssl=true", redisstate.TLSFiles{CAFile: f.ClientKeyFile}, "no PEM certificate"},
		{"mismatched key", "127.0.0.1:1,ssl=true", redisstate.TLSFiles{CertFile: f.ClientCertFile, KeyFile: f.ServerKeyFile}, "does not match"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl, _, err := redisstate.NewClientTLS(c.connStr, c.files)
			if err == nil {
				cl.Close()
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not say %q", err, c.want)
			}
		})
	}
}

func TestNewClientTLSKeepsTheConnectionStringsTLSSettings(t *testing.T) {
	f, err := testenv.NewRedisTLSFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c, ro, err := redisstate.NewClientTLS("127.0.0.1:6380,ssl=true,sslHost=redis.internal,sslProtocols=tls13",
		redisstate.TLSFiles{CAFile: f.CAFile, CertFile: f.ClientCertFile, KeyFile: f.ClientKeyFile})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg := c.(*redis.Client).Options().TLSConfig
	if cfg == nil || cfg.ServerName != "redis.internal" || cfg.MinVersion != tls.VersionTLS13 {
		t.Fatalf("TLS config %+v: want the connection string's server name and minimum version", cfg)
	}
	if cfg.RootCAs == nil || len(cfg.Certificates) != 1 {
		t.Fatalf("RootCAs=%v, %d client certificates; want the CA and one certificate", cfg.RootCAs, len(cfg.Certificates))
	}
	if parsed := ro.Universal().TLSConfig; parsed.RootCAs != nil || parsed.Certificates != nil {
		t.Fatal("the parsed options' TLS config was changed in place; want a clone")
	}
}
