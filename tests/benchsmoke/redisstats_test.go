package benchsmoke

import "testing"

func TestCommandStatsDeltaLeavesOutBackground(t *testing.T) {
	before, err := ParseCommandStats("# Commandstats\r\ncmdstat_hgetall:calls=10,usec=50,usec_per_call=5.00,rejected_calls=0,failed_calls=0\r\ncmdstat_ping:calls=3,usec=1,usec_per_call=0.33\r\n")
	if err != nil {
		t.Fatal(err)
	}
	after, err := ParseCommandStats("# Commandstats\r\ncmdstat_hgetall:calls=12,usec=60\r\ncmdstat_ping:calls=9,usec=2\r\ncmdstat_client|setinfo:calls=2,usec=1\r\ncmdstat_get:calls=1,usec=1\r\ncmdstat_info:calls=4,usec=9\r\n")
	if err != nil {
		t.Fatal(err)
	}
	d := Delta(before, after)
	if d.Total() != 3 || d["hgetall"] != 2 || d["get"] != 1 || d.String() != "get=1 hgetall=2" {
		t.Fatalf("delta %v (total %d); want get=1 hgetall=2", d, d.Total())
	}
	if _, err := ParseCommandStats("cmdstat_get:usec=1\r\n"); err == nil {
		t.Fatal("a line without calls was accepted")
	}
}
