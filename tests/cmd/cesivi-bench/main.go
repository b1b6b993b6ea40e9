// Command cesivi-bench measures the Cesivi edge against plain Caddy
// reverse_proxy in the same binary and the same run (`make bench`):
// three in-memory app servers, one edge process per configuration, and
// interleaved load rounds. It prints each configuration's throughput as a
// ratio of the baseline's; then document library transfers through a
// PostgreSQL farm against copies straight into its blob store
// (tests/bench/files.go); and writes docs/benchmarks.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"text/template"
	"time"

	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/tests/bench"
	"github.com/cesivi/cesivi/tests/farm"
)

// candidate is an edge configuration measured against the baseline: the
// global cesivi options and the lines it adds in front of reverse_proxy.
type candidate struct {
	name     string
	global   string
	handlers string
	header   http.Header
	// session: the load carries a session cookie created on the edge
	// first, so every request verifies it, resolves the session and
	// carries a signed assertion to the server.
	session bool
}

var spoofed = http.Header{"X-Cesivi-Assertion": {"forged"}, "X-Forwarded-User": {"admin"}}

var candidates = []candidate{
	{name: "cesivi_strip_identity (header hygiene)", handlers: "cesivi_strip_identity", header: spoofed},
	{name: "cesivi_session, session cache (farm-invalidated)", session: true,
		global: "cesivi {\n\t\tsession_cache_ttl 10s\n\t}", handlers: "cesivi_session", header: spoofed},
	{name: "cesivi_session, one Redis round trip per request", session: true,
		global: "cesivi {\n\t\tsession_cache_ttl -1s\n\t}", handlers: "cesivi_session", header: spoofed},
}

// The edge configuration differs between baseline and candidates only in
// the handlers line, so the ratio is the cost of those handlers.
var caddyfile = template.Must(template.New("edge").Parse(`{
	admin off
	auto_https off
	persist_config off
	storage file_system {{.Storage}}
	log default {
		level ERROR
	}
	{{.Global}}
}
http://:{{.Port}} {
	{{.Handlers}}
	reverse_proxy {{.Upstreams}} {
		lb_policy round_robin
		lb_try_duration 5s
		transport http {
			keepalive 120s
			keepalive_idle_conns_per_host 64
		}
	}
}
`))

func main() {
	rounds := flag.Int("rounds", 5, "interleaved rounds per configuration")
	dur := flag.Duration("duration", 5*time.Second, "length of one round")
	conns := flag.Int("conns", 64, "concurrent keep-alive connections")
	bin := flag.String("bin", "bin", "directory with cesivi-server and cesivi-edge (missing ones are built)")
	out := flag.String("out", "docs/benchmarks.md", "report file (empty: none)")
	flag.Parse()
	if err := run(*bin, *rounds, *dur, *conns, *out); err != nil {
		fmt.Fprintln(os.Stderr, "cesivi-bench:", err)
		os.Exit(1)
	}
}

func run(binDir string, rounds int, dur time.Duration, conns int, out string) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "cesivi-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	server, edge, err := binaries(ctx, binDir)
	if err != nil {
		return err
	}
	var procs []*testenv.Process
	defer func() {
		for _, p := range procs {
			_ = p.Stop(syscall.SIGTERM, 10*time.Second)
		}
	}()
	start := func(bin string, env []string, args ...string) error {
		cmd := exec.Command(bin, args...)
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
		cmd.Dir = dir
		p, err := testenv.StartProcess(cmd, false)
		if err != nil {
			return err
		}
		procs = append(procs, p)
		return nil
	}

	// Sessions live in Redis (as in a farm); the key ring is the default
	// FileSystem one in the shared HOME, read by edges and servers alike.
	redis, err := testenv.StartRedis(ctx, testenv.RedisOptions{Dir: filepath.Join(dir, "redis")})
	if err != nil {
		return err
	}
	defer redis.Stop()
	edgeEnv := []string{"Cesivi__DistributedState__Provider=Redis",
		"Cesivi__DistributedState__ConnectionString=" + redis.Addr}

	var upstreams []string
	for i := range 3 {
		port, err := testenv.FreePort()
		if err != nil {
			return err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		upstreams = append(upstreams, addr)
		if err := start(server, []string{"Cesivi__Server__Address=" + addr, fmt.Sprintf("Cesivi__Farm__ServerId=bench-%d", i+1),
			"Logging__LogLevel__Default=Warning"}); err != nil {
			return err
		}
	}
	startEdge := func(name, global, handlers string) (string, error) {
		port, err := testenv.FreePort()
		if err != nil {
			return "", err
		}
		path := filepath.Join(dir, name+".Caddyfile")
		f, err := os.Create(path)
		if err != nil {
			return "", err
		}
		err = caddyfile.Execute(f, map[string]any{"Port": port, "Global": global, "Handlers": handlers,
			"Upstreams": strings.Join(upstreams, " "), "Storage": filepath.Join(dir, "caddy-"+name)})
		f.Close()
		if err != nil {
			return "", err
		}
		if err := start(edge, edgeEnv, "run", "--config", path, "--adapter", "caddyfile"); err != nil {
			return "", err
		}
		url := fmt.Sprintf("http://127.0.0.1:%d/health/live", port)
		return url, waitOK(url)
	}
	baseURL, err := startEdge("baseline", "", "")
	if err != nil {
		return err
	}

	var report strings.Builder
	fmt.Fprintf(&report, "# Edge benchmarks\n\nWritten by `make bench` (%s). Plain Caddy `reverse_proxy` (the baseline) and each Cesivi configuration run in the same `cesivi-edge` binary, against the same three in-memory app servers, in %d interleaved rounds of %v with %d keep-alive connections each, on this machine (%d CPUs), load generator included. Throughput is the candidate's divided by the baseline's in the same round pair; the median of the rounds is reported. Rounds vary by a few per cent, so differences under 0.03 are not resolved.\n\n", time.Now().UTC().Format("2006-01-02"), rounds, dur, conns, runtime.NumCPU())
	fmt.Fprintf(&report, "What a candidate does per request: `cesivi_strip_identity` removes identity headers (the load sends two forged ones). `cesivi_session` also verifies the 71-character session cookie with the key ring, resolves the session (from the edge's farm-invalidated memory cache, or with one Redis read per request when the cache is off — go-redis' auto-pipeliner batches concurrent reads), removes its cookie from the request, and adds a signed identity assertion that the app server verifies with the same key ring. Redis runs on the same machine. The baseline sends the same request minus the forged assertion (plain Caddy would forward it and the servers would refuse it).\n\n")
	fmt.Fprintf(&report, "| configuration | throughput ÷ baseline | baseline req/s | candidate req/s | baseline p99 | candidate p99 | errors |\n|---|---|---|---|---|---|---|\n")
	for i, c := range candidates {
		url, err := startEdge(fmt.Sprintf("candidate-%d", i), c.global, c.handlers)
		if err != nil {
			return err
		}
		if c.session {
			cookie, err := createSession(strings.TrimSuffix(url, "/health/live"))
			if err != nil {
				return err
			}
			c.header = c.header.Clone()
			c.header.Set("Cookie", cookie)
		}
		// Plain Caddy would forward a forged assertion, which the servers
		// refuse (401); the baseline sends the same request without it.
		baselineHeader := c.header.Clone()
		baselineHeader.Del("X-Cesivi-Assertion")
		cmp, err := bench.Interleave(ctx, rounds, func(ctx context.Context, isCandidate bool) (bench.Result, error) {
			if isCandidate {
				return bench.Load(ctx, url, c.header, conns, dur)
			}
			return bench.Load(ctx, baseURL, baselineHeader, conns, dur)
		})
		if err != nil {
			return err
		}
		ratio := bench.Median(cmp.Ratios())
		b, k := median(cmp.Baseline), median(cmp.Candidate)
		line := fmt.Sprintf("| %s | %.3f | %.0f | %.0f | %v | %v | %d |", c.name, ratio, b.RPS(), k.RPS(),
			b.P99.Round(10*time.Microsecond), k.P99.Round(10*time.Microsecond), errorsOf(cmp))
		fmt.Println(line)
		report.WriteString(line + "\n")
	}
	// Document library content through a farm of its own (tests/bench/files.go).
	filesOpt := bench.FilesOptions{BinDir: binDir, Progress: os.Stdout}
	files, err := bench.RunFiles(ctx, filesOpt)
	if err != nil {
		return err
	}
	report.WriteString("\n" + bench.FilesMarkdown(files, filesOpt, time.Now()))
	if out != "" {
		return os.WriteFile(out, []byte(report.String()), 0o644)
	}
	return nil
}

// median returns the round with the median throughput.
func median(rs []bench.Result) bench.Result {
	best := rs[0]
	rps := make([]float64, len(rs))
	for i, r := range rs {
		rps[i] = r.RPS()
	}
	m := bench.Median(rps)
	for _, r := range rs {
		if abs(r.RPS()-m) < abs(best.RPS()-m) {
			best = r
		}
	}
	return best
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func errorsOf(c bench.Comparison) int {
	n := 0
	for _, r := range append(c.Baseline, c.Candidate...) {
		n += r.Errors
	}
	return n
}

func binaries(ctx context.Context, binDir string) (server, edge string, err error) {
	if binDir, err = filepath.Abs(binDir); err != nil {
		return
	}
	server, edge = filepath.Join(binDir, "cesivi-server"), filepath.Join(binDir, "cesivi-edge")
	for bin, pkg := range map[string]string{server: "./cmd/cesivi-server", edge: "./cmd/cesivi-edge"} {
		if _, statErr := os.Stat(bin); statErr == nil {
			continue
		}
		if err = farm.Build(ctx, pkg, bin); err != nil {
			return
		}
	}
	return
}

// createSession runs the seed's /api/session/create on an edge and
// returns the Cookie header value that names the session.
func createSession(edge string) (string, error) {
	resp, err := http.Get(edge + "/api/session/create")
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "cesivi_session" {
			return c.Name + "=" + c.Value, nil
		}
	}
	return "", fmt.Errorf("%s/api/session/create: %d without a session cookie", edge, resp.StatusCode)
}

func waitOK(url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer 200 within 30 s", url)
}
