package redisconn

import (
	"strings"
	"testing"
)

const sampleInfo = "# Memory\r\nused_memory:1048576\r\nmaxmemory:268435456\r\nmaxmemory_policy:allkeys-lru\r\n\r\n# Persistence\r\naof_enabled:0\r\nrdb_last_bgsave_status:ok\r\n# Clients\r\nconnected_clients:7\r\n"

func TestReportAndWarnings(t *testing.T) {
	r := ReportFromInfo(ParseInfo(sampleInfo))
	if r.MaxmemoryPolicy != "allkeys-lru" || r.UsedMemory != 1<<20 || r.Maxmemory != 256<<20 || r.AOFEnabled || r.ConnectedClients != 7 {
		t.Fatalf("report %+v", r)
	}
	w := r.Warnings(true)
	if len(w) != 2 || !strings.Contains(w[0], "allkeys-lru") || !strings.Contains(w[1], "appendonly") {
		t.Fatalf("warnings %v", w)
	}
	if w := r.Warnings(false); len(w) != 1 {
		t.Fatalf("single server: %v", w)
	}
	safe := Report{MaxmemoryPolicy: "volatile-lru", AOFEnabled: true}
	if w := safe.Warnings(true); len(w) != 0 {
		t.Fatalf("safe settings warned: %v", w)
	}
	if w := (Report{MaxmemoryPolicy: "noeviction"}).Warnings(false); len(w) != 0 {
		t.Fatalf("noeviction warned: %v", w)
	}
}
