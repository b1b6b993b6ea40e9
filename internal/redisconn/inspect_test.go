package redisconn

import (
	"strings"
	"testing"
)

const sampleInfo = "# Memory\r\nused_memory:1048576\r\nmaxmemory:268435456\r\nmaxmemory_policy:allkeys-lru\r\n\r\n# Persistence\r\nrdb_changes_since_last_save:42\r\nrdb_last_save_time:1796281619\r\nrdb_last_bgsave_status:ok\r\naof_enabled:0\r\naof_last_write_status:ok\r\n# Clients\r\nconnected_clients:7\r\n"

func TestReportAndWarnings(t *testing.T) {
	r := ReportFromInfo(ParseInfo(sampleInfo))
	if r.MaxmemoryPolicy != "allkeys-lru" || r.UsedMemory != 1<<20 || r.Maxmemory != 256<<20 || r.AOFEnabled || r.ConnectedClients != 7 ||
		r.RDBChangesSinceLastSave != 42 || r.RDBLastSave.Unix() != 1796281619 || r.RDBSaveFailed || r.AOFWriteFailed {
		t.Fatalf("report %+v", r)
	}
	if got, want := r.Summary(), "maxmemory-policy allkeys-lru, maxmemory 256.0 MiB, 1.0 MiB used, appendonly no, 42 changes since the last RDB snapshot, 7 clients"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	if d := r.Data(); d["maxmemoryPolicy"] != "allkeys-lru" || d["rdbLastSave"] != "2026-12-03T07:06:59Z" || d["rdbChangesSinceLastSave"] != int64(42) {
		t.Errorf("Data() = %v", d)
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
	for _, c := range []struct {
		info, want string
	}{
		{"maxmemory_policy:allkeys-random\r\naof_enabled:1\r\n", "allkeys-random"},
		{"maxmemory_policy:noeviction\r\naof_enabled:1\r\naof_last_write_status:err\r\n", "aof_last_write_status:err"},
		{"maxmemory_policy:volatile-lru\r\naof_enabled:1\r\nrdb_last_bgsave_status:err\r\n", "rdb_last_bgsave_status:err"},
	} {
		w := ReportFromInfo(ParseInfo(c.info)).Warnings(true)
		if len(w) != 1 || !strings.Contains(w[0], c.want) {
			t.Errorf("INFO %q: warnings %v, want one about %s", c.info, w, c.want)
		}
	}
	for _, policy := range []string{"noeviction", "volatile-lru", "volatile-lfu", "volatile-ttl", "volatile-random"} {
		if w := ReportFromInfo(ParseInfo("maxmemory_policy:" + policy + "\r\naof_enabled:1\r\n")).Warnings(true); len(w) != 0 {
			t.Errorf("%s with appendonly yes warned: %v", policy, w)
		}
	}
}
