package redisstate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/redisconn"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/redisstate"
	"github.com/cesivi/cesivi/internal/testenv"
)

// openTLS opens a provider on a TLS-only Redis. The wait for the first
// subscription is short: a refused connection would otherwise hold it for
// the whole context.
func openTLS(t *testing.T, ds config.DistributedStateSettings) *state.Provider {
	t.Helper()
	ds.Provider = config.ProviderRedis
	c, err := redisconn.New(ds)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	p, err := redisstate.New(ctx, c, "", state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestTLSWithCAAndClientCertificate(t *testing.T) {
	r := testenv.RedisTLS(t)
	f := r.TLS
	p := openTLS(t, config.DistributedStateSettings{ConnectionString: r.Addr + ",ssl=true", TlsCaFile: f.CAFile, TlsCertFile: f.ClientCertFile, TlsKeyFile: f.ClientKeyFile})
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
	f := r.TLS
	for _, c := range []struct {
		name  string
		files config.DistributedStateSettings
		why   string // what the TLS layer says
	}{
		{"no client certificate", config.DistributedStateSettings{TlsCaFile: f.CAFile}, "certificate required"},
		{"wrong CA", config.DistributedStateSettings{TlsCaFile: f.OtherCAFile, TlsCertFile: f.ClientCertFile, TlsKeyFile: f.ClientKeyFile}, "unknown authority"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ds := c.files
			ds.ConnectionString = r.Addr + ",ssl=true"
			p := openTLS(t, ds)
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
