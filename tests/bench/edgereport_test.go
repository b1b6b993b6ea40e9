package bench

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"
)

func TestParseCommandStatsAndDelta(t *testing.T) {
	before, err := ParseCommandStats("# Commandstats\r\ncmdstat_get:calls=10,usec=50,usec_per_call=5.00,rejected_calls=0,failed_calls=0\r\ncmdstat_info:calls=3,usec=9\r\n")
	if err != nil {
		t.Fatal(err)
	}
	after, err := ParseCommandStats("cmdstat_get:calls=12,usec=60\ncmdstat_info:calls=5,usec=9\ncmdstat_client|setname:calls=1,usec=1\n")
	if err != nil {
		t.Fatal(err)
	}
	d := CommandDelta(before, after)
	if len(d) != 2 || d["get"] != 2 || d["client|setname"] != 1 {
		t.Fatalf("delta %v", d)
	}
	if Total(d) != 3 {
		t.Fatalf("total %d", Total(d))
	}
	if _, err := ParseCommandStats("cmdstat_get:calls=x"); err == nil {
		t.Fatal("bad count accepted")
	}
}

func TestBackgroundIsTakenOffPerCommand(t *testing.T) {
	bg := Scale(map[string]int64{"ping": 20}, 10*time.Second, 2500*time.Millisecond)
	if bg["ping"] != 5 {
		t.Fatalf("background %v", bg)
	}
	// 7 pings, 5 expected: 2 left; 3 GETs stay whole, the ping rate
	// does not pay for them.
	calls, taken := Foreground(map[string]int64{"ping": 7, "get": 3}, bg)
	if calls != 5 || taken != 5 {
		t.Fatalf("calls %v, taken %v", calls, taken)
	}
	calls, taken = Foreground(map[string]int64{"ping": 2}, bg)
	if calls != 0 || taken != 2 {
		t.Fatalf("fewer pings than expected: calls %v, taken %v", calls, taken)
	}
	if len(Scale(map[string]int64{"ping": 1}, 0, time.Second)) != 0 {
		t.Fatal("rate over no time")
	}
}

func TestPercentileAndDue(t *testing.T) {
	var xs []time.Duration
	for i := 1; i <= 1000; i++ {
		xs = append(xs, time.Duration(i)*time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 500 * time.Millisecond, 0.99: 990 * time.Millisecond, 0.999: 999 * time.Millisecond} {
		if got := Percentile(xs, q); got != want {
			t.Errorf("p%v = %v, want %v", q, got, want)
		}
	}
	if Percentile(nil, 0.5) != 0 {
		t.Error("empty")
	}
	start := time.Unix(100, 0)
	if n := dueBy(start, time.Millisecond, start.Add(-time.Second)); n != 0 {
		t.Errorf("before start: %d", n)
	}
	if n := dueBy(start, time.Millisecond, start.Add(2500*time.Microsecond)); n != 3 {
		t.Errorf("at 2.5 ms: %d due, want 3 (0, 1, 2 ms)", n)
	}
	m := MergeOpen([]OpenResult{{Rate: 5, Latencies: []time.Duration{3, 1}, Errors: 1}, {Rate: 5, Latencies: []time.Duration{2}, Dropped: 2}})
	if len(m.Latencies) != 3 || m.Latencies[0] != 1 || m.Latencies[2] != 3 || m.Errors != 1 || m.Dropped != 2 {
		t.Fatalf("merged %+v", m)
	}
}

func TestCPUModel(t *testing.T) {
	if got := CPUModel("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n"); got != "Intel(R) Xeon(R) CPU @ 2.20GHz" {
		t.Fatalf("got %q", got)
	}
	if got := LoadAverage("3.10 2.50 2.00 4/321 12345\n"); got != "3.10 2.50 2.00" {
		t.Fatalf("load average %q", got)
	}
	if LoadAverage("") != "" {
		t.Fatal("load average from nothing")
	}
	if CPUModel("processor : 0\n") != "" {
		t.Fatal("model from nothing")
	}
}

func round(rps float64, cpu time.Duration) EdgeRound {
	return EdgeRound{Result: Result{Requests: int(rps), Elapsed: time.Second, P50: time.Millisecond, P99: 3 * time.Millisecond}, CPUPerRequest: cpu}
}

func lat(base time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = base + time.Duration(i)*time.Microsecond
	}
	return out
}

func sampleRun() EdgeRun {
	r := EdgeRun{Date: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC), Machine: Machine{CPU: "Test CPU", Cores: 2, Kernel: "6.1.0", LoadAvg: "3.10 2.50 2.00"}, Note: "Measured on a shared machine.", Took: 400 * time.Second, IdleWindow: 10 * time.Second,
		Total: 790 * time.Second, Phases: []Phase{{"build", 60 * time.Second}, {"Go benchmarks", 300 * time.Second}, {"edge benchmark", 400 * time.Second}, {"file benchmark", 30 * time.Second}},
		Versions: []Version{{"Go", "go1.26"}}, Rounds: 3, Duration: 3 * time.Second, Conns: 64,
		OpenDuration: 2 * time.Second, Workers: 64, PeakRPS: 4000, Fractions: []float64{0.5}, SignInConc: 4}
	r.Baseline = EdgeConfig{Key: "baseline", Name: "plain reverse_proxy",
		Rounds: []EdgeRound{round(1000, 100*time.Microsecond), round(1000, 100*time.Microsecond), round(2000, 100*time.Microsecond)},
		Open:   map[float64]OpenResult{0.5: {Latencies: lat(time.Millisecond, 1000)}}, Counted: 100, Commands: map[string]int64{}}
	r.Candidates = []EdgeConfig{
		{Key: "cached", Name: "cached session",
			Rounds:  []EdgeRound{round(900, 102*time.Microsecond), round(1000, 104*time.Microsecond), round(1000, 110*time.Microsecond)},
			Open:    map[float64]OpenResult{0.5: {Latencies: lat(1200*time.Microsecond, 1000)}},
			Counted: 1000, Commands: map[string]int64{"get": 3, "ping": 2}, Background: map[string]float64{"ping": 2.5, "get": 0}, ClientBytes: 200, UpstreamBytes: 500},
		{Key: "strict", Name: "strict session",
			Rounds:  []EdgeRound{round(800, 120*time.Microsecond), round(800, 120*time.Microsecond), round(1600, 120*time.Microsecond)},
			Open:    map[float64]OpenResult{0.5: {Latencies: lat(3*time.Millisecond, 1000)}},
			Counted: 1000, Commands: map[string]int64{"get": 1000}},
	}
	// Per-round open loops for the strict session: 3 ms added in two
	// rounds, a baseline stall in the third makes it -50 ms there.
	r.Baseline.OpenRounds = map[float64][]OpenResult{0.5: {{Latencies: lat(time.Millisecond, 100)}, {Latencies: lat(time.Millisecond, 100)}, {Latencies: lat(60*time.Millisecond, 100)}}}
	r.Candidates[1].OpenRounds = map[float64][]OpenResult{0.5: {{Latencies: lat(4*time.Millisecond, 100)}, {Latencies: lat(4*time.Millisecond, 100)}, {Latencies: lat(10*time.Millisecond, 100)}}}
	r.SignIn = EdgeConfig{Key: "signin", Name: "sign-in flow", Rounds: []EdgeRound{round(20, 5*time.Millisecond)}, Counted: 10, Commands: map[string]int64{"evalsha": 30}}
	return r
}

func TestEdgeRunRatiosAndBudgets(t *testing.T) {
	r := sampleRun()
	tp, cpu := r.Ratios(r.Candidates[0])
	if len(tp) != 3 || tp[0] != 0.9 || tp[1] != 1 || tp[2] != 0.5 {
		t.Fatalf("throughput ratios %v", tp)
	}
	if m := Median(cpu); m < 1.0399 || m > 1.0401 {
		t.Fatalf("CPU ratio median %v", m)
	}
	if got := r.Added(r.Candidates[0], 0.5, 0.99); got != 200*time.Microsecond {
		t.Fatalf("added p99 %v", got)
	}
	if got := r.Added(r.Candidates[1], 0.5, 0.99); got != 3*time.Millisecond {
		t.Fatalf("strict added p99 %v, want the rounds' median 3 ms", got)
	}
	for _, b := range r.Budgets() {
		if b.Promise == "p99 added ≤ 1 ms at half load, strict session" && !strings.Contains(b.Unresolved, "ranged 1.10 ms–60.1 ms") {
			t.Errorf("a baseline p99 ranging 1–60 ms resolves the 1 ms promise: %+v", b)
		}
	}
	if got := r.Candidates[0].RedisPerRequest(); got != 0.003 {
		t.Fatalf("redis per request %v", got)
	}
	held := map[string]bool{}
	for _, b := range r.Budgets() {
		held[b.Promise] = b.Held
	}
	for promise, want := range map[string]bool{
		"≤ 0.01 Redis commands per request, cached session":              true,
		"CPU per request ≤ ×1.03 of plain reverse_proxy, cached session": false, // ×1.04
		"p99 added ≤ 1 ms at half load, cached session":                  true,
		"≤ 1 Redis command per request, strict session":                  true,
		"CPU per request ≤ ×1.10 of plain reverse_proxy, strict session": false, // ×1.20
		"p99 added ≤ 1 ms at half load, strict session":                  false, // 3 ms, the median of the rounds
	} {
		if got, ok := held[promise]; !ok || got != want {
			t.Errorf("%s: held %v (present %v), want %v", promise, got, ok, want)
		}
	}
}

func TestEdgeMarkdownAndCharts(t *testing.T) {
	r := sampleRun()
	charts, err := r.Charts()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{ChartThroughput, ChartCPU, ChartLatency} {
		img, err := png.Decode(bytes.NewReader(charts[name]))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b := img.Bounds(); b.Dx() != 720 || b.Dy() != 400 {
			t.Fatalf("%s is %v", name, b)
		}
	}
	md := r.Markdown(charts)
	for _, want := range []string{
		"| CPU | Test CPU |", "| load average when the run began (1, 5, 15 min) | 3.10 2.50 2.00 |", "Measured on a shared machine.\n", "| kernel | 6.1.0 |", "| Go | go1.26 |",
		"![throughput ratio](benchmarks-throughput.png)", "![latency added against rate](benchmarks-latency.png)",
		"| cached session | 0.900 (0.500–1.000) | 1.040 (1.020–1.100) |",
		"| CPU per request ≤ ×1.03 of plain reverse_proxy, cached session | ×1.040 | **missed** |",
		"| cached session | 2000 req/s (0.50 of peak) | 1000 |", "200 µs",
		"| cached session | 0.0030 | get 3, ping 2 over 1000 (2.0 background taken off) | 200 | 500 | +300 |", "idle for 10s before",
		"## Sign-in flow", "The edge benchmark took 6m40s",
		"The whole `make bench` took 13m10s until this report was written: build 1m0s, Go benchmarks 5m0s, edge benchmark 6m40s, file benchmark 30s.\n", "| sign-in flow | 3.0000 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}
	// Without charts, none is linked.
	if strings.Contains(r.Markdown(nil), "![") {
		t.Error("chart linked that was not drawn")
	}
}

func TestChartsRefuseNothing(t *testing.T) {
	if _, err := (BarChart{Width: 720, Height: 400}).PNG(); err == nil {
		t.Error("bar chart without bars")
	}
	if _, err := (LineChart{Width: 720, Height: 400, Series: []Series{{Name: "x", X: []float64{1}}}}).PNG(); err == nil {
		t.Error("series with mismatched x and y")
	}
	if _, err := (BarChart{Width: 10, Height: 10, Bars: []Bar{{Value: 1}}}).PNG(); err == nil {
		t.Error("tiny chart")
	}
	b, err := (BarChart{Title: "one", Width: 300, Height: 200, Bars: []Bar{{Label: "a", Value: 1, Lo: 1, Hi: 1}}}).PNG()
	if err != nil {
		t.Fatal(err)
	}
	if img, err := png.Decode(bytes.NewReader(b)); err != nil || img.Bounds().Dx() != 300 || img.Bounds().Dy() != 200 {
		t.Fatalf("flat bar chart: %v %v", err, img)
	}
}

func TestNiceRange(t *testing.T) {
	lo, hi, step := niceRange(0.93, 1.12)
	if step != 0.05 || lo > 0.93 || hi < 1.12 {
		t.Fatalf("%v..%v step %v", lo, hi, step)
	}
}

func TestByteCounterCountsTheRequest(t *testing.T) {
	b, err := StartByteCounter()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	plain, err := b.Measure(t.Context(), "http://"+b.Addr+"/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	more, err := b.Measure(t.Context(), "http://"+b.Addr+"/x", map[string][]string{"X-A": {"bbbb"}})
	if err != nil {
		t.Fatal(err)
	}
	if more-plain != len("X-A: bbbb\r\n") || plain < len("GET /x HTTP/1.1\r\n\r\n") {
		t.Fatalf("plain %d bytes, with a header %d", plain, more)
	}
}

// A pinned run says where the processes ran and how busy the edges kept
// their CPU; an unpinned one says they shared every core.
func TestEdgeMarkdownStatesThePinning(t *testing.T) {
	r := sampleRun()
	if md := r.Markdown(nil); !strings.Contains(md, "all share them") || strings.Contains(md, "**Cores.**") {
		t.Errorf("unpinned report:\n%s", md)
	}
	r.EdgeCPU, r.RestCPUs, r.Slices = "1", "0", 8
	for i := range r.Baseline.Rounds {
		r.Baseline.Rounds[i].Busy = 0.9 + float64(i)*0.01
	}
	for _, c := range r.Candidates {
		for i := range c.Rounds {
			c.Rounds[i].Busy = 0.95
		}
	}
	md := r.Markdown(nil)
	for _, want := range []string{"| cores | 2 (the edges on CPU 1, the load generator, provider, Redis and app servers on CPU 0) |",
		"The edges run on CPU 1 and nothing else does", "it kept its CPU 0.95 (0.90–0.95) busy", "cut into 8 slices taken in turn"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}
}

func TestCommitLabelFlagsUncommittedChanges(t *testing.T) {
	for _, c := range []struct{ status, want string }{
		{"", "abc1234"},
		{" M docs/benchmarks.md\n?? docs/benchmarks-cpu.png\n", "abc1234"},
		{" M internal/state/redisstate/sessions.go\n", "abc1234 with uncommitted changes"},
		{" M docs/benchmarks.md\nM  caddymodule/gate.go\n", "abc1234 with uncommitted changes"},
	} {
		if got := CommitLabel("abc1234", c.status); got != c.want {
			t.Errorf("CommitLabel(%q) = %q, want %q", c.status, got, c.want)
		}
	}
}
