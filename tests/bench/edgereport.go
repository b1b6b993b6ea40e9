package bench

// The edge benchmark's figures and their report: what cesivi-bench
// measures per configuration, the ratios against the baseline taken
// round by round, the budget the project promises, the markdown of
// docs/benchmarks.md and its charts.

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// EdgeRound is one closed-loop round of one configuration: the load's
// figures and the CPU its edge process spent per request.
type EdgeRound struct {
	Result
	CPUPerRequest time.Duration
	// Busy is the edge's CPU time over the load's wall time (1: one CPU
	// kept busy throughout).
	Busy float64
}

// EdgeConfig is everything measured of one configuration.
type EdgeConfig struct {
	Key  string // short name, for charts
	Name string
	// Rounds in order; Rounds[i] of every configuration ran in round i.
	Rounds []EdgeRound
	// Open holds the open-loop runs at each fraction of the baseline's
	// peak, pooled over the rounds that ran it.
	Open map[float64]OpenResult
	// OpenRounds are the same runs one by one, in round order.
	OpenRounds map[float64][]OpenResult
	// PeakRSS is the edge process's VmHWM at the end, bytes.
	PeakRSS int64
	// Counted requests were sent while Redis counted Commands; the
	// edges' own commands expected over as long (Background, from a
	// longer idle measurement) are taken off, command by command.
	Counted    int
	Commands   map[string]int64
	Background map[string]float64
	// ClientBytes is the request the load sends, UpstreamBytes what the
	// app server receives for it (request line and headers).
	ClientBytes, UpstreamBytes int
}

// RedisPerRequest is the configuration's Redis commands per request.
func (c EdgeConfig) RedisPerRequest() float64 {
	if c.Counted == 0 {
		return 0
	}
	calls, _ := Foreground(c.Commands, c.Background)
	return calls / float64(c.Counted)
}

// EdgeRun is the whole edge benchmark.
type EdgeRun struct {
	Date time.Time
	// Note is said first (make bench BENCH_FLAGS='-note ...'): what the
	// figures cannot tell, such as a machine shared with other work.
	Note string
	// IdleWindow is how long the edges' background Redis commands were
	// counted with no load.
	IdleWindow time.Duration
	// Took is the edge benchmark's wall time, set-up included.
	Took time.Duration
	// Total is the whole make bench's wall time until the report was
	// written, Phases its parts in order (build, Go benchmarks, edge,
	// files); zero: not stated.
	Total    time.Duration
	Phases   []Phase
	Machine  Machine
	Versions []Version
	Rounds   int
	Duration time.Duration // closed-loop round
	Conns    int
	// OpenDuration is one open-loop run; PeakRPS the baseline's median
	// closed-loop throughput of the first round, whose fractions are the
	// open-loop rates.
	OpenDuration time.Duration
	Workers      int
	PeakRPS      float64
	Fractions    []float64
	// Slices is how many turns the configurations take in a round's
	// closed loop.
	Slices int
	// EdgeCPU and RestCPUs are the CPU lists the edges and everything
	// else ran on (empty: not pinned).
	EdgeCPU, RestCPUs string
	// Baseline first, then the candidates; SignIn apart (its "requests"
	// are whole sign-in flows).
	Baseline   EdgeConfig
	Candidates []EdgeConfig
	SignIn     EdgeConfig
	SignInConc int
}

// Phase is a part of make bench and its wall time.
type Phase struct {
	Name string
	Took time.Duration
}

// PhasesText is the phases as "name 1m2s, name 3s".
func PhasesText(phases []Phase) string {
	var parts []string
	for _, ph := range phases {
		parts = append(parts, fmt.Sprintf("%s %v", ph.Name, ph.Took.Round(time.Second)))
	}
	return strings.Join(parts, ", ")
}

// Ratios returns the per-round ratios of a candidate to the baseline:
// throughput (candidate ÷ baseline) and CPU per request.
func (r EdgeRun) Ratios(c EdgeConfig) (throughput, cpu []float64) {
	for i := range min(len(c.Rounds), len(r.Baseline.Rounds)) {
		b, k := r.Baseline.Rounds[i], c.Rounds[i]
		if b.RPS() > 0 {
			throughput = append(throughput, k.RPS()/b.RPS())
		}
		if b.CPUPerRequest > 0 {
			cpu = append(cpu, float64(k.CPUPerRequest)/float64(b.CPUPerRequest))
		}
	}
	return throughput, cpu
}

// AddedRounds is, round by round, a candidate's open-loop percentile
// minus the baseline's in the same round, at one rate fraction.
func (r EdgeRun) AddedRounds(c EdgeConfig, fraction, q float64) []float64 {
	cr, br := c.OpenRounds[fraction], r.Baseline.OpenRounds[fraction]
	var out []float64
	for i := range min(len(cr), len(br)) {
		out = append(out, float64(Percentile(cr[i].Latencies, q)-Percentile(br[i].Latencies, q)))
	}
	return out
}

// Added is the latency a candidate adds at a percentile: the median of
// AddedRounds, so one round in which the machine stalled either side
// does not decide it; without rounds, the pooled percentiles' difference.
func (r EdgeRun) Added(c EdgeConfig, fraction, q float64) time.Duration {
	if rs := r.AddedRounds(c, fraction, q); len(rs) > 0 {
		return time.Duration(Median(rs))
	}
	return Percentile(c.Open[fraction].Latencies, q) - Percentile(r.Baseline.Open[fraction].Latencies, q)
}

// baselineP99Spread is how far the baseline's own p99 at a fraction
// ranges between rounds: the noise a p99 difference must beat.
func (r EdgeRun) baselineP99Spread(fraction float64) (lo, hi time.Duration) {
	var xs []float64
	for _, o := range r.Baseline.OpenRounds[fraction] {
		xs = append(xs, float64(Percentile(o.Latencies, 0.99)))
	}
	l, h := Spread(xs)
	return time.Duration(l), time.Duration(h)
}

// Budget is one promise and whether this run kept it.
type Budget struct {
	Promise, Measured string
	Held              bool
	// Unresolved says why this run cannot tell (the machine's own noise
	// is larger than the promise).
	Unresolved string
}

// Budgets checks the promises of issue 16 against the run: Redis
// commands per authenticated request, CPU per request and the p99 added
// at half load.
func (r EdgeRun) Budgets() []Budget {
	var out []Budget
	for _, c := range r.Candidates {
		_, cpu := r.Ratios(c)
		cpuMed := Median(cpu)
		added := r.Added(c, 0.5, 0.99)
		latency := func(who string) Budget {
			b := Budget{Promise: "p99 added ≤ 1 ms at half load, " + who, Measured: fmtDur(added), Held: added <= time.Millisecond}
			if lo, hi := r.baselineP99Spread(0.5); hi-lo > time.Millisecond {
				b.Unresolved = fmt.Sprintf("the baseline's own p99 ranged %s–%s between rounds", fmtDur(lo), fmtDur(hi))
			}
			return b
		}
		switch c.Key {
		case "cached":
			out = append(out,
				Budget{"≤ 0.01 Redis commands per request, cached session", fmt.Sprintf("%.4f", c.RedisPerRequest()), c.RedisPerRequest() <= 0.01, ""},
				Budget{"CPU per request ≤ ×1.03 of plain reverse_proxy, cached session", fmt.Sprintf("×%.3f", cpuMed), cpuMed <= 1.03, ""},
				latency("cached session"))
		case "strict":
			out = append(out,
				Budget{"≤ 1 Redis command per request, strict session", fmt.Sprintf("%.4f", c.RedisPerRequest()), c.RedisPerRequest() <= 1, ""},
				Budget{"CPU per request ≤ ×1.10 of plain reverse_proxy, strict session", fmt.Sprintf("×%.3f", cpuMed), cpuMed <= 1.10, ""},
				latency("strict session"))
		case "bearer":
			out = append(out, Budget{"≤ 0.01 Redis commands per request, cached bearer token", fmt.Sprintf("%.4f", c.RedisPerRequest()), c.RedisPerRequest() <= 0.01, ""})
		}
	}
	return out
}

func fmtDur(d time.Duration) string {
	switch a := max(d, -d); {
	case a >= 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", d.Seconds()*1e3)
	case a >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", d.Seconds()*1e3)
	default:
		return fmt.Sprintf("%.0f µs", d.Seconds()*1e6)
	}
}

func fmtSpread(xs []float64) string {
	if len(xs) == 0 {
		return "–"
	}
	lo, hi := Spread(xs)
	return fmt.Sprintf("%.3f (%.3f–%.3f)", Median(xs), lo, hi)
}

func medianRPS(rs []EdgeRound) float64 {
	xs := make([]float64, len(rs))
	for i, r := range rs {
		xs[i] = r.RPS()
	}
	return Median(xs)
}

func medianDur(rs []EdgeRound, f func(EdgeRound) time.Duration) time.Duration {
	xs := make([]float64, len(rs))
	for i, r := range rs {
		xs[i] = float64(f(r))
	}
	return time.Duration(Median(xs))
}

func errorsIn(rs []EdgeRound) int {
	n := 0
	for _, r := range rs {
		n += r.Errors
	}
	return n
}

func commandList(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// Chart file names, relative to docs/.
const (
	ChartThroughput = "benchmarks-throughput.png"
	ChartCPU        = "benchmarks-cpu.png"
	ChartLatency    = "benchmarks-latency.png"
)

// Charts draws the report's pictures, by file name. Their text is ASCII:
// the fixed font has no other glyphs.
func (r EdgeRun) Charts() (map[string][]byte, error) {
	var tp, cpu []Bar
	for _, c := range r.Candidates {
		t, u := r.Ratios(c)
		tlo, thi := Spread(t)
		ulo, uhi := Spread(u)
		tp = append(tp, Bar{Label: c.Key, Value: Median(t), Lo: tlo, Hi: thi})
		cpu = append(cpu, Bar{Label: c.Key, Value: Median(u), Lo: ulo, Hi: uhi})
	}
	out := map[string][]byte{}
	var err error
	if out[ChartThroughput], err = (BarChart{Title: "Throughput / plain reverse_proxy (median, min-max of rounds)",
		Bars: tp, Lines: []RefLine{{1, "baseline"}}, Width: 720, Height: 400}).PNG(); err != nil {
		return nil, err
	}
	if out[ChartCPU], err = (BarChart{Title: "Edge CPU per request / plain reverse_proxy (median, min-max of rounds)",
		Bars: cpu, Lines: []RefLine{{1, "baseline"}, {1.03, "cached budget 1.03"}, {1.10, "strict budget 1.10"}}, Width: 720, Height: 400}).PNG(); err != nil {
		return nil, err
	}
	var series []Series
	for _, c := range r.Candidates {
		s := Series{Name: c.Key + " p99 added"}
		for _, f := range r.Fractions {
			if len(c.Open[f].Latencies) == 0 || len(r.Baseline.Open[f].Latencies) == 0 {
				continue
			}
			s.X = append(s.X, f*r.PeakRPS)
			s.Y = append(s.Y, r.Added(c, f, 0.99).Seconds()*1e3)
		}
		if len(s.X) > 0 {
			series = append(series, s)
		}
	}
	if len(series) > 0 {
		if out[ChartLatency], err = (LineChart{Title: "p99 latency added to plain reverse_proxy, ms (open loop)",
			XLabel: "constant request rate, req/s", Series: series, Lines: []RefLine{{1, "budget 1 ms at half load"}},
			Width: 720, Height: 400}).PNG(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// busySpread is how busy the edges kept their CPU in the closed loops:
// the median over every configuration's rounds and the min–max.
func (r EdgeRun) busySpread() string {
	var xs []float64
	for _, c := range append([]EdgeConfig{r.Baseline}, r.Candidates...) {
		for _, rd := range c.Rounds {
			xs = append(xs, rd.Busy)
		}
	}
	lo, hi := Spread(xs)
	return fmt.Sprintf("%.2f (%.2f–%.2f)", Median(xs), lo, hi)
}

// Markdown renders the edge part of docs/benchmarks.md; charts are the
// file names Charts produced (those missing are not linked).
func (r EdgeRun) Markdown(charts map[string][]byte) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# Edge benchmarks\n\n")
	p("Written by `make bench` (%s). Every figure below comes from one run of `tests/cmd/cesivi-bench`.\n\n", r.Date.UTC().Format("2006-01-02 15:04 UTC"))
	p("The storage's hot paths against raw pgx (item GET, a `$filter`+`$top` page, add, `$batch` of 20 adds, the 1,000,000-item list) are Go benchmarks of the same `make bench` run, reported with their SQL statements per request in [sharepoint-api.md](sharepoint-api.md#performance); the counts `make test` holds to are in [bench-smoke.md](bench-smoke.md).\n\n")
	if r.Note != "" {
		p("%s\n\n", r.Note)
	}
	p("## Machine and versions\n\n")
	cores := "load generator, provider, Redis, app servers and edges all share them"
	if r.EdgeCPU != "" {
		cores = fmt.Sprintf("the edges on CPU %s, the load generator, provider, Redis and app servers on CPU %s", r.EdgeCPU, r.RestCPUs)
	}
	p("| | |\n|---|---|\n| CPU | %s |\n| cores | %d (%s) |\n| kernel | %s |\n", r.Machine.CPU, r.Machine.Cores, cores, r.Machine.Kernel)
	if r.Machine.LoadAvg != "" {
		p("| load average when the run began (1, 5, 15 min) | %s |\n", r.Machine.LoadAvg)
	}
	for _, v := range r.Versions {
		p("| %s | %s |\n", v.Name, v.Value)
	}
	p("\n## Method\n\n")
	p("Each configuration is its own `cesivi-edge` process (the same binary) in front of the same three in-memory app servers, with Redis as the distributed state; the baseline is plain Caddy `reverse_proxy` with the same transport settings, and the Caddyfiles differ only in the Cesivi lines. ")
	p("Sessions are signed in through the in-process OpenID provider (the code flow through the edge), the bearer token is an access token of that provider, introspected once and then served from the token cache. ")
	p("Requests are `GET /health/live` carrying two forged identity headers (`X-Cesivi-Assertion`, `X-Forwarded-User`) that the edge must remove; the baseline sends them without the assertion (plain Caddy would forward it and the servers would refuse the request).\n\n")
	if r.EdgeCPU != "" {
		p("- **Cores.** The edges run on CPU %s and nothing else does; the load generator (this program, with the provider), Redis and the app servers share the rest (CPU %s). The edge under load is then the only busy process on its CPU, as an edge on its own machine is, so its throughput is what its code costs rather than what the other processes leave it: it kept its CPU %s busy (median of the configurations' rounds, min–max). With every process sharing every core, one run's rounds gave the cached session ratios from 0.77 to 1.21.\n", r.EdgeCPU, r.RestCPUs, r.busySpread())
	}
	p("- **Rounds.** %d interleaved rounds; in each, every configuration runs a closed-loop load of %v over %d keep-alive connections (each sends its next request when the previous answer is read), cut into %d slices taken in turn, in an order that rotates from slice to slice and round to round, so that the machine's drift within a round falls on all alike; the connections stay open across slices. A ratio is taken within a round (candidate ÷ the baseline of the same round) and the median of the rounds is reported with their min–max.\n", r.Rounds, r.Duration, r.Conns, max(r.Slices, 1))
	p("- **CPU per request** is the edge process's utime+stime (`/proc/<pid>/stat`) over the round's slices divided by the requests it answered in them; the ratio is to the baseline process's in the same round.\n")
	p("- **Added latency** comes from an open-loop generator: requests are due at a constant rate whatever the answers (%d connections at most; a request waiting for one is late), and each latency counts from when the request was due, not when it was sent, so a stall is charged for the queue behind it (the correction for coordinated omission). The rates are fractions of the baseline's closed-loop throughput in the first round (%.0f req/s); half of it runs every round for %v, the others in alternate rounds. *Added* is, round by round, the candidate's percentile minus the baseline's at the same rate, and the median of the rounds is reported (the absolute percentiles pool the rounds). A p99 promise counts as resolved only when the baseline's own p99 varies less than the promise between rounds.\n", r.Workers, r.PeakRPS, r.OpenDuration)
	p("- **Redis commands per request** are the calls of `INFO commandstats` over a counted number of requests sent after the rounds, less, command by command, what the edges send by themselves (pub/sub health pings and the like) in as long, from a rate measured with every edge idle for %v before. Commands a Lua script runs count besides the script's own call.\n", r.IdleWindow)
	p("- **Bytes upstream** are counted on a socket: one request of the load through a second edge of the same configuration to a server that counts what it reads (request line and headers), and the same request sent straight to it.\n")
	p("- **Peak RSS** is the edge process's `VmHWM` at the end of the run.\n")
	if r.Took > 0 {
		p("- The edge benchmark took %v, start-up of Redis, provider, servers and edges included.\n", r.Took.Round(time.Second))
	}
	if r.Total > 0 {
		p("- The whole `make bench` took %v until this report was written", r.Total.Round(time.Second))
		if len(r.Phases) > 0 {
			p(": %s", PhasesText(r.Phases))
		}
		p(".\n")
	}
	p("\n")

	p("## The budget\n\n| promise | measured | |\n|---|---|---|\n")
	for _, bu := range r.Budgets() {
		mark := "held"
		switch {
		case bu.Unresolved != "":
			mark = "not resolved on this machine: " + bu.Unresolved
		case !bu.Held:
			mark = "**missed**"
		}
		p("| %s | %s | %s |\n", bu.Promise, bu.Measured, mark)
	}

	p("\n## Full load (closed loop)\n\n")
	if charts[ChartThroughput] != nil {
		p("![throughput ratio](%s)\n", ChartThroughput)
	}
	if charts[ChartCPU] != nil {
		p("![CPU per request ratio](%s)\n", ChartCPU)
	}
	p("\n| configuration | throughput ÷ baseline | CPU/request ÷ baseline | req/s | CPU/request | p50 | p99 | peak RSS | errors |\n|---|---|---|---|---|---|---|---|---|\n")
	row := func(c EdgeConfig, tp, cpu string) {
		p("| %s | %s | %s | %.0f | %s | %s | %s | %.1f MiB | %d |\n", c.Name, tp, cpu, medianRPS(c.Rounds),
			fmtDur(medianDur(c.Rounds, func(e EdgeRound) time.Duration { return e.CPUPerRequest })),
			fmtDur(medianDur(c.Rounds, func(e EdgeRound) time.Duration { return e.P50 })),
			fmtDur(medianDur(c.Rounds, func(e EdgeRound) time.Duration { return e.P99 })),
			float64(c.PeakRSS)/(1<<20), errorsIn(c.Rounds))
	}
	row(r.Baseline, "1", "1")
	for _, c := range r.Candidates {
		t, u := r.Ratios(c)
		row(c, fmtSpread(t), fmtSpread(u))
	}

	p("\n## Latency added at a constant rate (open loop)\n\n")
	if charts[ChartLatency] != nil {
		p("![latency added against rate](%s)\n\n", ChartLatency)
	}
	p("| configuration | rate | requests | p50 | p99 | p99.9 | p50 added | p99 added | p99.9 added | late or failed |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, f := range r.Fractions {
		for _, c := range append([]EdgeConfig{r.Baseline}, r.Candidates...) {
			o := c.Open[f]
			if len(o.Latencies) == 0 {
				continue
			}
			added := func(q float64) string {
				if c.Key == r.Baseline.Key {
					return "–"
				}
				return fmtDur(r.Added(c, f, q))
			}
			p("| %s | %.0f req/s (%.2f of peak) | %d | %s | %s | %s | %s | %s | %s | %d |\n", c.Name, f*r.PeakRPS, f, len(o.Latencies),
				fmtDur(Percentile(o.Latencies, 0.5)), fmtDur(Percentile(o.Latencies, 0.99)), fmtDur(Percentile(o.Latencies, 0.999)),
				added(0.5), added(0.99), added(0.999), o.Errors+o.Dropped)
		}
	}

	p("\n## Redis and bytes per request\n\n| configuration | Redis commands/request | commands over the counted requests | bytes sent by the client | bytes received upstream | added by the edge |\n|---|---|---|---|---|---|\n")
	for _, c := range append(append([]EdgeConfig{r.Baseline}, r.Candidates...), r.SignIn) {
		if c.Counted == 0 {
			continue
		}
		bytesCols := "– | – | –"
		if c.ClientBytes > 0 {
			bytesCols = fmt.Sprintf("%d | %d | %+d", c.ClientBytes, c.UpstreamBytes, c.UpstreamBytes-c.ClientBytes)
		}
		_, taken := Foreground(c.Commands, c.Background)
		p("| %s | %.4f | %s over %d (%.1f background taken off) | %s |\n", c.Name, c.RedisPerRequest(), commandList(c.Commands), c.Counted, taken, bytesCols)
	}

	if len(r.SignIn.Rounds) > 0 {
		s := r.SignIn
		rps := make([]float64, len(s.Rounds))
		cpu := make([]float64, 0, len(s.Rounds))
		for i, x := range s.Rounds {
			rps[i] = x.RPS()
			if i < len(r.Baseline.Rounds) && r.Baseline.Rounds[i].CPUPerRequest > 0 {
				cpu = append(cpu, float64(x.CPUPerRequest)/float64(r.Baseline.Rounds[i].CPUPerRequest))
			}
		}
		lo, hi := Spread(rps)
		p("\n## Sign-in flow\n\n")
		p("A whole sign-in per flow, %d at a time: `/oauth2/login` on the edge, the provider's login form and its redirect, then the edge's `/oauth2/callback` (code exchange, ID token check, a session written to Redis, the cookie). The provider runs in the benchmark's own process, so its CPU is not in the edge's figure.\n\n", r.SignInConc)
		p("| flows/s | edge CPU per flow | ÷ baseline CPU per proxied request | flow p50 | flow p99 | Redis commands per flow | errors |\n|---|---|---|---|---|---|---|\n")
		p("| %.1f (%.1f–%.1f) | %s | %s | %s | %s | %.2f | %d |\n", Median(rps), lo, hi,
			fmtDur(medianDur(s.Rounds, func(e EdgeRound) time.Duration { return e.CPUPerRequest })), fmtSpread(cpu),
			fmtDur(medianDur(s.Rounds, func(e EdgeRound) time.Duration { return e.P50 })),
			fmtDur(medianDur(s.Rounds, func(e EdgeRound) time.Duration { return e.P99 })), s.RedisPerRequest(), errorsIn(s.Rounds))
	}
	return b.String()
}
