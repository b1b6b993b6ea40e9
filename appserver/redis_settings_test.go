package appserver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/testenv"
)

// seedRedisConf is the seed's "Redis Configuration" (redis.conf
// optimizations), line for line.
var seedRedisConf = []string{
	"maxmemory 2gb",
	"maxmemory-policy allkeys-lru",
	"save 900 1", "save 300 10", "save 60 10000",
	"appendonly yes",
	"appendfsync everysec",
	"tcp-backlog 511",
	"timeout 0",
	"tcp-keepalive 300",
	"maxclients 10000",
}

// A farm server on a Redis set up as the seed's "Redis Configuration"
// shows (allkeys-lru) stays ready: /health/ready answers 200 Degraded,
// the DistributedState entry says why and carries the settings; the
// start-up log reports them and warns; /metrics has the Redis figures.
func TestTheSeedsAllkeysLRUDegradesTheHealthWithoutFailingReadiness(t *testing.T) {
	r := testenv.RedisPrivate(t, testenv.RedisOptions{ExtraConfig: seedRedisConf})
	log := &testenv.LogBuffer{}
	ts := httptest.NewServer(newServerLogging(t, log,
		"Cesivi__Farm__Enabled=true",
		"Cesivi__Farm__ServerId=server-1",
		"Cesivi__DistributedState__Provider=Redis",
		"Cesivi__DistributedState__ConnectionString="+r.Addr,
		"Cesivi__DataProtection__Provider=Redis",
		"Cesivi__DataProtection__MasterKey=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
	).Handler())
	defer ts.Close()

	code, b := getHealth(t, ts.URL, "/health/ready")
	e := b.Entries["DistributedState"]
	if code != 200 || b.Status != "Degraded" || e.Status != "Degraded" || !strings.Contains(e.Description, "allkeys-lru") {
		t.Fatalf("/health/ready = %d %s, DistributedState %s %q; want 200 Degraded because of allkeys-lru", code, b.Status, e.Status, e.Description)
	}
	if e.Data["maxmemoryPolicy"] != "allkeys-lru" || e.Data["maxmemory"] != float64(2<<30) || e.Data["aofEnabled"] != true ||
		e.Data["usedMemory"].(float64) <= 0 || e.Data["rdbLastSave"] == nil {
		t.Errorf("DistributedState data %+v", e.Data)
	}
	if w, _ := e.Data["warnings"].([]any); len(w) != 1 {
		t.Errorf("warnings %v; want the eviction policy's alone (appendonly is yes)", e.Data["warnings"])
	}

	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(log.String(), "can lose data: maxmemory-policy allkeys-lru"); {
		if time.Now().After(deadline) {
			t.Fatalf("no start-up warning in the log:\n%s", log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(log.String(), "Redis server: maxmemory-policy allkeys-lru, maxmemory 2048.0 MiB, ") {
		t.Errorf("no start-up report of the settings:\n%s", log.String())
	}

	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"cesivi_redis_used_memory_bytes ", "cesivi_redis_maxmemory_bytes 2.147483648e+09", "cesivi_redis_connected_clients ", "cesivi_redis_aof_enabled 1"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
