package testenv

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestRedisSentinelFailsOverToTheReplica(t *testing.T) {
	s := RedisSentinel(t)
	if len(s.Servers) != 2 || len(s.Sentinels) != 3 {
		t.Fatalf("%d servers, %d sentinels", len(s.Servers), len(s.Sentinels))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := s.MasterAddr(ctx)
	if err != nil || m != s.Servers[0].Addr {
		t.Fatalf("master %q, %v; want %s", m, err, s.Servers[0].Addr)
	}
	nm, err := s.Failover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if nm != s.Servers[1].Addr {
		t.Fatalf("new master %s, want the replica %s", nm, s.Servers[1].Addr)
	}
	if !strings.Contains(s.ConnectionString(), "serviceName="+RedisSentinelMaster) {
		t.Fatal(s.ConnectionString())
	}
}
