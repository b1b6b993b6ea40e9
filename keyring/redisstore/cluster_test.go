package redisstore_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/keyring"
	"github.com/cesivi/cesivi/keyring/keyringtest"
	"github.com/cesivi/cesivi/keyring/redisstore"
)

// The store on Redis Cluster: the three hashes share the {keyring} hash
// tag, so the MULTI of Load and the Lua insert run on one node. Each store
// of the suite gets its own prefix on one cluster.
func TestExerciseRedisCluster(t *testing.T) {
	cluster := testenv.RedisCluster(t)
	c := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: cluster.Addrs()})
	t.Cleanup(func() { c.Close() })
	if _, ok := c.(*redis.ClusterClient); !ok {
		t.Fatalf("not a cluster client: %T", c)
	}
	var n atomic.Int64
	keyringtest.Exercise(t, func(t *testing.T) keyring.Store {
		return redisstore.New(c, redisstore.Options{Prefix: fmt.Sprintf("t%d:", n.Add(1))})
	})
}
