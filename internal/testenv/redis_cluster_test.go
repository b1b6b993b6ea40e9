package testenv

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestRedisClusterServesEverySlot(t *testing.T) {
	c := RedisCluster(t)
	if len(c.Nodes) != 3 {
		t.Fatalf("%d nodes", len(c.Nodes))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := redisCLI(ctx, c.Nodes[0].Addr, "CLUSTER", "INFO")
	if err != nil || !strings.Contains(out, "cluster_slots_assigned:16384") || !strings.Contains(out, "cluster_known_nodes:3") {
		t.Fatalf("CLUSTER INFO: %v\n%s", err, out)
	}
	for _, n := range c.Nodes {
		if n.Port == 6379 {
			t.Fatal("a node took the machine's Redis port")
		}
	}
}
