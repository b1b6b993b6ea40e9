package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RedisSentinelMaster is the master name the sentinels of StartRedisSentinel
// monitor (the connection string's serviceName).
const RedisSentinelMaster = "cesivi"

// RedisSentinelSet is a Sentinel deployment of loopback processes: one
// master, one replica and three sentinels (quorum 2), each with a temporary
// directory of its own.
type RedisSentinelSet struct {
	// Servers are the master and the replica, in start order; which one is
	// master changes with failovers (see MasterAddr).
	Servers   []*RedisServer
	Sentinels []*RedisServer
}

// SentinelAddrs returns the sentinels' addresses.
func (s *RedisSentinelSet) SentinelAddrs() []string {
	var out []string
	for _, r := range s.Sentinels {
		out = append(out, r.Addr)
	}
	return out
}

// ConnectionString is a StackExchange.Redis string for the set:
// the sentinels plus serviceName.
func (s *RedisSentinelSet) ConnectionString() string {
	return strings.Join(s.SentinelAddrs(), ",") + ",serviceName=" + RedisSentinelMaster
}

// StartRedisSentinel starts the set and returns once the replica is in
// sync and every sentinel knows the master, the replica and its two peers.
// Failures are detected after 1 s (down-after-milliseconds) so that a test
// failover is quick.
func StartRedisSentinel(ctx context.Context) (*RedisSentinelSet, error) {
	s := &RedisSentinelSet{}
	fail := func(err error) (*RedisSentinelSet, error) {
		s.Stop()
		return nil, err
	}
	master, err := StartRedis(ctx, RedisOptions{AppendOnly: true})
	if err != nil {
		return fail(err)
	}
	s.Servers = append(s.Servers, master)
	replica, err := StartRedis(ctx, RedisOptions{AppendOnly: true,
		ExtraConfig: []string{"replicaof 127.0.0.1 " + strconv.Itoa(master.Port)}})
	if err != nil {
		return fail(err)
	}
	s.Servers = append(s.Servers, replica)
	if err := waitFor(ctx, "replica in sync", func() (bool, error) {
		out, err := redisCLI(ctx, replica.Addr, "INFO", "replication")
		return strings.Contains(out, "master_link_status:up"), err
	}); err != nil {
		return fail(err)
	}
	for range 3 {
		sn, err := StartRedis(ctx, RedisOptions{Sentinel: true, ExtraConfig: []string{
			fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2", RedisSentinelMaster, master.Port),
			"sentinel down-after-milliseconds " + RedisSentinelMaster + " 1000",
			"sentinel failover-timeout " + RedisSentinelMaster + " 10000",
			"sentinel parallel-syncs " + RedisSentinelMaster + " 1",
		}})
		if err != nil {
			return fail(err)
		}
		s.Sentinels = append(s.Sentinels, sn)
	}
	for _, sn := range s.Sentinels {
		if err := waitFor(ctx, "sentinel "+sn.Addr+" ready", func() (bool, error) {
			q, err := redisCLI(ctx, sn.Addr, "SENTINEL", "CKQUORUM", RedisSentinelMaster)
			if err != nil || !strings.HasPrefix(q, "OK 3 ") {
				return false, nil
			}
			r, err := redisCLI(ctx, sn.Addr, "SENTINEL", "REPLICAS", RedisSentinelMaster)
			return strings.Contains(r, strconv.Itoa(replica.Port)), err
		}); err != nil {
			return fail(err)
		}
	}
	return s, nil
}

// MasterAddr asks the first sentinel that answers for the current master.
func (s *RedisSentinelSet) MasterAddr(ctx context.Context) (string, error) {
	var last error
	for _, sn := range s.Sentinels {
		out, err := redisCLI(ctx, sn.Addr, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", RedisSentinelMaster)
		if f := strings.Fields(out); err == nil && len(f) == 2 {
			return net.JoinHostPort(f[0], f[1]), nil
		}
		last = fmt.Errorf("sentinel %s: %q %v", sn.Addr, out, err)
	}
	return "", last
}

// Failover forces a failover (SENTINEL FAILOVER) and returns once a
// sentinel names the new master, it answers as master, and the old master
// has rejoined as its replica in sync.
func (s *RedisSentinelSet) Failover(ctx context.Context) (newMaster string, err error) {
	old, err := s.MasterAddr(ctx)
	if err != nil {
		return "", err
	}
	if out, err := redisCLI(ctx, s.Sentinels[0].Addr, "SENTINEL", "FAILOVER", RedisSentinelMaster); err != nil || out != "OK" {
		return "", fmt.Errorf("testenv: SENTINEL FAILOVER: %q %v", out, err)
	}
	err = waitFor(ctx, "failover from "+old, func() (bool, error) {
		for _, sn := range s.Sentinels {
			out, _ := redisCLI(ctx, sn.Addr, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", RedisSentinelMaster)
			f := strings.Fields(out)
			if len(f) != 2 || net.JoinHostPort(f[0], f[1]) == old {
				return false, nil
			}
			newMaster = net.JoinHostPort(f[0], f[1])
		}
		role, _ := redisCLI(ctx, newMaster, "ROLE")
		if !strings.HasPrefix(role, "master") {
			return false, nil
		}
		info, _ := redisCLI(ctx, old, "INFO", "replication")
		return strings.Contains(info, "master_link_status:up"), nil
	})
	return newMaster, err
}

// Stop stops every process by its PID and removes their directories.
func (s *RedisSentinelSet) Stop() error {
	var errs []error
	for _, r := range append(append([]*RedisServer(nil), s.Sentinels...), s.Servers...) {
		errs = append(errs, r.Stop())
	}
	return errors.Join(errs...)
}

// RedisSentinel starts a Sentinel set for this test, stopped at cleanup.
func RedisSentinel(t testing.TB) *RedisSentinelSet {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := StartRedisSentinel(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("testenv: stop redis sentinel set: %v", err)
		}
	})
	return s
}

// redisCLI runs one command with redis-cli and returns its trimmed output
// (for the array replies redisDo does not parse).
func redisCLI(ctx context.Context, addr string, args ...string) (string, error) {
	bin, err := FindBinary("redis-cli")
	if err != nil {
		return "", err
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, bin, append([]string{"-h", host, "-p", port}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// waitFor polls cond every 50 ms until it holds or ctx ends.
func waitFor(ctx context.Context, what string, cond func() (bool, error)) error {
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testenv: waiting for %s: %w (last error: %v)", what, ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
