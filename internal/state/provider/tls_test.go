package provider_test

import (
	"context"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/provider"
	"github.com/cesivi/cesivi/internal/testenv"
)

// The TLS keys travel from the configuration through Open to the client.
func TestOpenUsesTheConfiguredTLSFiles(t *testing.T) {
	r := testenv.RedisTLS(t)
	s, err := config.Load(t.TempDir(), []string{
		"Cesivi__DistributedState__Provider=Redis",
		"Cesivi__DistributedState__ConnectionString=" + r.Addr + ",ssl=true",
		"Cesivi__DistributedState__TlsCaFile=" + r.Files.CAFile,
		"Cesivi__DistributedState__TlsCertFile=" + r.Files.ClientCertFile,
		"Cesivi__DistributedState__TlsKeyFile=" + r.Files.ClientKeyFile,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := provider.Open(ctx, s.DistributedState, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	sess := &state.Session{UserID: "u"}
	if err := p.Sessions.Create(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if got, err := p.Sessions.Load(ctx, sess.ID); err != nil || got.UserID != "u" {
		t.Fatalf("Load = %+v, %v", got, err)
	}
}
