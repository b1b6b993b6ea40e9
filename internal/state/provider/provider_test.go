package provider_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/logging"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/provider"
	"github.com/cesivi/cesivi/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestOpenChoosesTheConfiguredProvider(t *testing.T) {
	addr, db := testenv.RedisDB(t)
	logs, err := logging.New(io.Discard, "json", nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		settings config.DistributedStateSettings
		want     string
	}{
		{config.DistributedStateSettings{Provider: config.ProviderInMemory}, "InMemory"},
		{config.DistributedStateSettings{Provider: config.ProviderRedis,
			ConnectionString: fmt.Sprintf("%s,defaultDatabase=%d", addr, db), KeyPrefix: "p:"}, "Redis"},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			p, err := provider.Open(ctx, c.settings, logs, prometheus.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if p.Name != c.want {
				t.Fatalf("Name = %q", p.Name)
			}
			if err := p.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			if err := p.Sessions.Create(ctx, &state.Session{UserID: "u"}); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := provider.Open(context.Background(), config.DistributedStateSettings{Provider: "Memcached"}, nil, nil); err == nil {
		t.Fatal("an unknown provider was accepted")
	}
}
