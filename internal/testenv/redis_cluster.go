package testenv

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RedisClusterSet is a Redis Cluster of three masters (no replicas) on
// loopback, each with a temporary directory of its own.
type RedisClusterSet struct {
	Nodes []*RedisServer
}

// Addrs returns the nodes' addresses.
func (c *RedisClusterSet) Addrs() []string {
	var out []string
	for _, n := range c.Nodes {
		out = append(out, n.Addr)
	}
	return out
}

// ConnectionString lists every node, which internal/connstr reads as
// Cluster mode.
func (c *RedisClusterSet) ConnectionString() string { return strings.Join(c.Addrs(), ",") }

// StartRedisCluster starts three cluster-enabled servers, joins them with
// redis-cli --cluster create and returns once every node reports
// cluster_state:ok. The cluster bus ports are chosen free too
// (cluster-port) rather than port+10000, which may be out of range.
func StartRedisCluster(ctx context.Context) (*RedisClusterSet, error) {
	c := &RedisClusterSet{}
	fail := func(err error) (*RedisClusterSet, error) {
		c.Stop()
		return nil, err
	}
	for range 3 {
		bus, err := FreePort()
		if err != nil {
			return fail(err)
		}
		n, err := StartRedis(ctx, RedisOptions{ExtraConfig: []string{
			"cluster-enabled yes",
			"cluster-config-file nodes.conf",
			"cluster-node-timeout 2000",
			"cluster-port " + strconv.Itoa(bus),
		}})
		if err != nil {
			return fail(err)
		}
		c.Nodes = append(c.Nodes, n)
	}
	bin, err := FindBinary("redis-cli")
	if err != nil {
		return fail(err)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput(); err != nil {
		return fail(fmt.Errorf("testenv: redis-cli --cluster create: %v\n%s", err, tail(out, 2000)))
	}
	for _, n := range c.Nodes {
		if err := waitFor(ctx, "cluster_state:ok on "+n.Addr, func() (bool, error) {
			out, err := redisCLI(ctx, n.Addr, "CLUSTER", "INFO")
			return strings.Contains(out, "cluster_state:ok"), err
		}); err != nil {
			return fail(err)
		}
	}
	return c, nil
}

// Stop stops every node by its PID and removes their directories.
func (c *RedisClusterSet) Stop() error {
	var errs []error
	for _, n := range c.Nodes {
		errs = append(errs, n.Stop())
	}
	return errors.Join(errs...)
}

// RedisCluster starts a cluster for this test, stopped at cleanup.
func RedisCluster(t testing.TB) *RedisClusterSet {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := StartRedisCluster(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("testenv: stop redis cluster: %v", err)
		}
	})
	return c
}
