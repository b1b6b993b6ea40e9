package main

// The edge benchmark (issue 16): one cesivi-edge process per
// configuration in front of the same app servers, interleaved rounds of
// closed- and open-loop load, then Redis commands and upstream bytes
// counted per request. Its figures go to bench.EdgeRun, which writes the
// report.

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/testenv"
	"github.com/cesivi/cesivi/tests/bench"
)

type options struct {
	rounds       int
	dur, openDur time.Duration
	conns        int
	signInConns  int
	counted      int
	note         string
	// began is when make bench began (Unix seconds, 0: unknown), goBench
	// how long its Go benchmarks took.
	began   int64
	goBench time.Duration
	// only: the specs to run (nil: all); pprofDir: where the edges'
	// CPU profiles go (empty: none, and no admin endpoint).
	only     []spec
	pprofDir string
	// pin: the edges get a CPU of their own (pin.go); slices: how many
	// turns the configurations take in a round's closed loop.
	pin    bool
	slices int
}

// spec is one edge configuration: its cesivi global option and the
// lines in front of reverse_proxy; how its load authenticates.
type spec struct {
	key, name string
	ttl       string // session_cache_ttl; empty: no cesivi global option
	oidc      bool   // the in-process provider configured
	handlers  string
	auth      string // "", "session", "bearer" or "signin"
}

var specs = []spec{
	{key: "baseline", name: "plain reverse_proxy (baseline)"},
	{key: "strip", name: "cesivi_strip_identity only", handlers: "cesivi_strip_identity"},
	{key: "cached", name: "cesivi_session, cached session", ttl: "10s", oidc: true, handlers: "cesivi_session", auth: "session"},
	{key: "strict", name: "cesivi_session, strict session (no cache)", ttl: "-1s", oidc: true, handlers: "cesivi_session", auth: "session"},
	{key: "bearer", name: "cesivi_session, bearer token (cached)", ttl: "10s", oidc: true, handlers: "cesivi_session", auth: "bearer"},
	{key: "signin", name: "sign-in flow", ttl: "10s", oidc: true, handlers: "cesivi_session", auth: "signin"},
}

// global is the spec's cesivi option; the provider's client secret is
// read from the environment, never written into the Caddyfile.
func (s spec) global() string {
	if s.ttl == "" {
		return ""
	}
	g := "cesivi {\n\t\tsession_cache_ttl " + s.ttl + "\n"
	if s.oidc {
		g += "\t\toidc {\n\t\t\tissuer {env.BENCH_OIDC_ISSUER}\n\t\t\tclient_id {env.BENCH_OIDC_CLIENT_ID}\n\t\t\tclient_secret {env.BENCH_OIDC_CLIENT_SECRET}\n\t\t}\n"
	}
	return g + "\t}"
}

// spoofed are identity headers a client must not get through; every
// Cesivi configuration removes them.
var spoofed = http.Header{"X-Cesivi-Assertion": {"forged"}, "X-Forwarded-User": {"admin"}}

// target is a running edge of one spec.
type target struct {
	spec
	origin string
	admin  string // Caddy's admin endpoint (host:port); empty: off
	pid    int
	header http.Header
	// loader keeps the closed loop's connections across slices and rounds
	// (nil for sign-in flows).
	loader *bench.Loader
	fig    bench.EdgeConfig
	open   map[float64][]bench.OpenResult
}

func (t *target) url() string { return t.origin + "/health/live" }

// harness is what the run started and shares.
type harness struct {
	dir      string
	edgeBin  string
	env      []string
	procs    []*testenv.Process
	idp      *testenv.IdentityProvider
	provider bench.Provider
	// admin: edges get Caddy's admin endpoint (for -pprof).
	admin bool
	// cpus places the processes (nil: anywhere).
	cpus *cpuPlan
}

// start runs bin with its output in log (empty: discarded), on the
// edges' CPU if onEdgeCPU, else on the others.
func (h *harness) start(log string, onEdgeCPU bool, bin string, env []string, args ...string) (*testenv.Process, error) {
	var cmd *exec.Cmd
	switch {
	case h.cpus == nil:
		cmd = exec.Command(bin, args...)
	case onEdgeCPU:
		cmd = h.cpus.command(h.cpus.edgeList, bin, args...)
	default:
		cmd = h.cpus.command(h.cpus.restList, bin, args...)
	}
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + h.dir}, env...)
	cmd.Dir = h.dir
	if log != "" {
		f, err := os.Create(log)
		if err != nil {
			return nil, err
		}
		defer f.Close() // the child has its own descriptor
		cmd.Stdout, cmd.Stderr = f, f
	}
	p, err := testenv.StartProcess(cmd, false)
	if err != nil {
		return nil, err
	}
	h.procs = append(h.procs, p)
	return p, nil
}

// startEdge starts an edge of s in front of upstreams and waits until it
// answers; the provider learns its callback. The port is free when
// chosen but another program may take it first, so an edge that exits
// at start is tried again on another port.
func (h *harness) startEdge(name string, s spec, upstreams []string, admin bool) (origin, adminAddr string, p *testenv.Process, err error) {
	for range 3 {
		if origin, adminAddr, p, err = h.tryEdge(name, s, upstreams, admin); err == nil || p == nil || p.Alive() {
			return origin, adminAddr, p, err
		}
	}
	return origin, adminAddr, p, err
}

func (h *harness) tryEdge(name string, s spec, upstreams []string, admin bool) (origin, adminAddr string, p *testenv.Process, err error) {
	port, err := testenv.FreePort()
	if err != nil {
		return "", "", nil, err
	}
	adminLine := "admin off"
	if admin {
		adminPort, err := testenv.FreePort()
		if err != nil {
			return "", "", nil, err
		}
		adminAddr = fmt.Sprintf("127.0.0.1:%d", adminPort)
		adminLine = "admin " + adminAddr
	}
	path := filepath.Join(h.dir, name+".Caddyfile")
	f, err := os.Create(path)
	if err != nil {
		return "", "", nil, err
	}
	err = caddyfile.Execute(f, map[string]any{"Port": port, "Admin": adminLine, "Global": s.global(), "Handlers": s.handlers,
		"Upstreams": strings.Join(upstreams, " "), "Storage": filepath.Join(h.dir, "caddy-"+name)})
	f.Close()
	if err != nil {
		return "", "", nil, err
	}
	origin = fmt.Sprintf("http://127.0.0.1:%d", port)
	h.idp.AddRedirectURIs(origin + "/oauth2/callback")
	log := filepath.Join(h.dir, name+".log")
	if p, err = h.start(log, true, h.edgeBin, h.env, "run", "--config", path, "--adapter", "caddyfile"); err != nil {
		return "", "", nil, err
	}
	// An edge that signs users in answers /health/live with a redirect
	// to sign-in: any answer means it is up.
	if err := waitUp(origin+"/health/live", p); err != nil {
		b, _ := os.ReadFile(log)
		return "", "", p, fmt.Errorf("edge %s: %w\n%s", name, err, tail(b, 2000))
	}
	return origin, adminAddr, p, nil
}

func (h *harness) stopAll() {
	for _, p := range slices.Backward(h.procs) {
		_ = p.Stop(syscall.SIGTERM, 10*time.Second)
	}
}

// authenticate gives t's load its credentials: a signed-in session's
// cookie, or a fresh access token (tokens live 5 minutes, so each round
// mints its own; the edge introspects it once, then serves it from the
// token cache).
func (h *harness) authenticate(ctx context.Context, t *target) error {
	t.header = spoofed.Clone()
	switch t.auth {
	case "":
		if t.key == "baseline" {
			// Plain Caddy would forward a forged assertion, which the
			// servers refuse; the baseline sends the rest.
			t.header.Del("X-Cesivi-Assertion")
		}
	case "session":
		cookie, err := bench.SignIn(ctx, nil, t.origin, h.idp, h.idp.Username, h.idp.Password)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		t.header.Set("Cookie", cookie)
	case "bearer":
		token, err := bench.MintTokenFrom(ctx, h.provider, t.origin, h.idp.Username, h.idp.Password)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		t.header.Set("Authorization", "Bearer "+token)
	}
	return nil
}

func runEdge(ctx context.Context, serverBin, edgeBin string, o options) (bench.EdgeRun, error) {
	run := bench.EdgeRun{Date: time.Now(), Note: o.note, Machine: bench.ReadMachine(), Rounds: o.rounds, Duration: o.dur, Conns: o.conns,
		OpenDuration: o.openDur, Workers: o.conns, Fractions: []float64{0.25, 0.5, 0.75}, SignInConc: o.signInConns, Slices: o.slices}
	dir, err := os.MkdirTemp("", "cesivi-bench-")
	if err != nil {
		return run, err
	}
	defer os.RemoveAll(dir)
	h := &harness{dir: dir, edgeBin: edgeBin, admin: o.pprofDir != ""}
	if h.admin {
		if err := os.MkdirAll(o.pprofDir, 0o755); err != nil {
			return run, err
		}
	}
	defer h.stopAll()
	if o.pin {
		if h.cpus, err = planCPUs(); err != nil {
			return run, err
		}
		// This program (the load generator and the provider) on the
		// others, until the edge benchmark ends.
		if err := pinProcess(os.Getpid(), &h.cpus.rest); err != nil {
			return run, err
		}
		defer func() { _ = pinProcess(os.Getpid(), &h.cpus.original) }()
		run.EdgeCPU, run.RestCPUs = h.cpus.edgeList, h.cpus.restList
	}

	// Sessions live in Redis (as in a farm); the key ring is the default
	// FileSystem one in the shared HOME, read by edges and servers alike.
	rs, err := testenv.StartRedis(ctx, testenv.RedisOptions{Dir: filepath.Join(dir, "redis")})
	if err != nil {
		return run, err
	}
	defer rs.Stop()
	if h.cpus != nil {
		// Redis' threads all run by the time it answers.
		if err := pinProcess(rs.PID, &h.cpus.rest); err != nil {
			return run, err
		}
	}
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	// The provider runs in this process: its CPU is the load generator's,
	// not the edge's.
	if h.idp, err = testenv.StartIdentityProvider(testenv.IdPOptions{
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}); err != nil {
		return run, err
	}
	defer h.idp.Close()
	h.provider = bench.Provider{Issuer: h.idp.Issuer, ClientID: h.idp.ClientID, ClientSecret: h.idp.ClientSecret}
	h.env = []string{"Cesivi__DistributedState__Provider=Redis", "Cesivi__DistributedState__ConnectionString=" + rs.Addr,
		"BENCH_OIDC_ISSUER=" + h.idp.Issuer, "BENCH_OIDC_CLIENT_ID=" + h.idp.ClientID, "BENCH_OIDC_CLIENT_SECRET=" + h.idp.ClientSecret}
	if run.Versions, err = versions(ctx, edgeBin, rdb); err != nil {
		return run, err
	}

	var upstreams []string
	for i := range 3 {
		port, err := testenv.FreePort()
		if err != nil {
			return run, err
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		upstreams = append(upstreams, addr)
		if _, err := h.start("", false, serverBin, []string{"Cesivi__Server__Address=" + addr, fmt.Sprintf("Cesivi__Farm__ServerId=bench-%d", i+1),
			"Logging__LogLevel__Default=Warning"}); err != nil {
			return run, err
		}
		if err := waitUp("http://"+addr+"/health/live", nil); err != nil {
			return run, err
		}
	}
	var targets []*target
	for _, s := range o.runSpecs() {
		origin, admin, p, err := h.startEdge(s.key, s, upstreams, h.admin)
		if err != nil {
			return run, fmt.Errorf("%s: %w", s.name, err)
		}
		t := &target{spec: s, origin: origin, admin: admin, pid: p.PID, open: map[float64][]bench.OpenResult{},
			fig: bench.EdgeConfig{Key: s.key, Name: s.name}}
		if err := h.authenticate(ctx, t); err != nil {
			return run, err
		}
		targets = append(targets, t)
	}

	for round := range o.rounds {
		if err := h.round(ctx, &run, targets, round, o); err != nil {
			return run, err
		}
	}
	for _, t := range targets {
		if t.loader != nil {
			t.loader.Close()
		}
	}
	// What the edges send Redis by themselves, every one idle: taken off
	// each configuration's counted window, command by command.
	idle0, err := commandStats(ctx, rdb)
	if err != nil {
		return run, err
	}
	began := time.Now()
	time.Sleep(idleWindow)
	idle1, err := commandStats(ctx, rdb)
	if err != nil {
		return run, err
	}
	run.IdleWindow = time.Since(began).Round(time.Millisecond)
	background := bench.CommandDelta(idle0, idle1)
	fmt.Printf("idle for %v: %v\n", run.IdleWindow, background)
	for _, t := range targets {
		if err := h.count(ctx, rdb, t, o, background, run.IdleWindow); err != nil {
			return run, err
		}
		m, err := bench.ReadMemory(t.pid)
		if err != nil {
			return run, err
		}
		t.fig.PeakRSS = m.HWM
		t.fig.Open, t.fig.OpenRounds = map[float64]bench.OpenResult{}, t.open
		for f, rs := range t.open {
			t.fig.Open[f] = bench.MergeOpen(rs)
		}
	}
	if err := h.upstreamBytes(ctx, targets); err != nil {
		return run, err
	}
	for _, t := range targets {
		switch t.key {
		case "baseline":
			run.Baseline = t.fig
		case "signin":
			run.SignIn = t.fig
		default:
			run.Candidates = append(run.Candidates, t.fig)
		}
	}
	return run, nil
}

// round runs every target once closed-loop, then at the round's rates
// open-loop, in an order rotated by the round number.
func (h *harness) round(ctx context.Context, run *bench.EdgeRun, targets []*target, round int, o options) error {
	order := slices.Concat(targets[round%len(targets):], targets[:round%len(targets)])
	for _, t := range order {
		if t.auth == "bearer" {
			if err := h.authenticate(ctx, t); err != nil {
				return err
			}
		}
	}
	if err := h.closedLoop(ctx, order, round, o); err != nil {
		return err
	}
	for _, t := range targets {
		if t.key == "baseline" && round == 0 {
			run.PeakRPS = t.fig.Rounds[0].RPS()
		}
	}
	fmt.Printf("round %d/%d closed loop:", round+1, o.rounds)
	for _, t := range targets {
		last := t.fig.Rounds[len(t.fig.Rounds)-1]
		fmt.Printf(" %s %.0f/s %v/req %.2f busy;", t.key, last.RPS(), last.CPUPerRequest, last.Busy)
	}
	fmt.Println()
	// Half load every round; a quarter and three quarters in turns.
	fractions := []float64{0.5, 0.25}
	if round%2 == 1 {
		fractions[1] = 0.75
	}
	for _, f := range fractions {
		for _, t := range order {
			if t.auth == "signin" {
				continue
			}
			res, err := bench.OpenLoad(ctx, t.url(), t.header, f*run.PeakRPS, o.openDur, o.conns, 2*time.Second)
			if err != nil {
				return fmt.Errorf("%s open loop: %w", t.name, err)
			}
			t.open[f] = append(t.open[f], res)
		}
	}
	return nil
}

// closedLoop runs the round's closed loop: the load comes in slices of
// every configuration in turn (rotated from slice to slice), so that drift
// in the machine's speed within the round falls on all alike rather than
// on whichever ran when it drifted; sign-in flows run afterwards, whole.
// CPU time is read around each slice, so it counts the slices' requests
// only.
func (h *harness) closedLoop(ctx context.Context, order []*target, round int, o options) error {
	var loaded []*target
	for _, t := range order {
		if t.auth != "signin" {
			loaded = append(loaded, t)
		}
	}
	dur := o.closedDur(round, len(order))
	var profiled chan error
	if round == 0 && h.admin {
		profiled = make(chan error, len(order))
		for _, t := range order {
			go func() { profiled <- profile(ctx, t.admin, o.pprofDir, t.key) }()
		}
	}
	type sums struct {
		samples   bench.Samples
		cpu, wall time.Duration
	}
	got := make([]sums, len(loaded))
	for _, t := range loaded {
		if t.loader == nil {
			t.loader = bench.NewLoader(t.url(), t.header, o.conns)
		}
		if err := t.loader.Warm(ctx); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	slice := dur / time.Duration(o.slices)
	for k := range o.slices {
		for j := range loaded {
			i := (j + k) % len(loaded)
			t := loaded[i]
			cpu0, err := bench.ReadCPUTime(t.pid)
			if err != nil {
				return err
			}
			wall0 := time.Now()
			s := t.loader.Run(ctx, slice)
			wall := time.Since(wall0)
			cpu1, err := bench.ReadCPUTime(t.pid)
			if err != nil {
				return err
			}
			got[i].samples.Add(s)
			got[i].cpu += cpu1 - cpu0
			got[i].wall += wall
		}
	}
	for i, t := range loaded {
		res := got[i].samples.Result()
		t.fig.Rounds = append(t.fig.Rounds, bench.EdgeRound{Result: res,
			CPUPerRequest: bench.CPUPerRequest(0, got[i].cpu, res.Requests+res.Errors), Busy: bench.Busy(0, got[i].cpu, got[i].wall)})
	}
	for _, t := range order {
		if t.auth != "signin" {
			continue
		}
		cpu0, err := bench.ReadCPUTime(t.pid)
		if err != nil {
			return err
		}
		wall0 := time.Now()
		res, err := bench.SignInLoad(ctx, t.origin, h.idp, h.idp.Username, h.idp.Password, o.signInConns, dur)
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		cpu1, err := bench.ReadCPUTime(t.pid)
		if err != nil {
			return err
		}
		t.fig.Rounds = append(t.fig.Rounds, bench.EdgeRound{Result: res,
			CPUPerRequest: bench.CPUPerRequest(cpu0, cpu1, res.Requests+res.Errors+1), Busy: bench.Busy(cpu0, cpu1, time.Since(wall0))})
	}
	if profiled != nil {
		// The profiles end within the round (which outlasts them by a second).
		for range order {
			if err := <-profiled; err != nil {
				return err
			}
		}
	}
	return nil
}

func commandStats(ctx context.Context, rdb *redis.Client) (map[string]int64, error) {
	info, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, err
	}
	return bench.ParseCommandStats(info)
}

// idleWindow is how long the edges' own Redis commands are counted: long
// enough for several of go-redis' pub/sub health pings (one per
// subscription every 3 s) to make a rate.
const idleWindow = 12 * time.Second

// count sends a counted number of t's requests (sign-in flows: a
// fiftieth) while Redis counts commands; the background (measured over
// idle) expected in as long is taken off.
func (h *harness) count(ctx context.Context, rdb *redis.Client, t *target, o options, background map[string]int64, idle time.Duration) error {
	n, workers := o.counted, 8
	if t.auth == "signin" {
		n, workers = max(o.counted/50, 1), 2
	}
	before, err := commandStats(ctx, rdb)
	if err != nil {
		return err
	}
	start := time.Now()
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	client := &http.Client{Timeout: 10 * time.Second}
	for range workers {
		wg.Go(func() {
			for range jobs {
				var err error
				if t.auth == "signin" {
					_, err = bench.SignInFresh(ctx, t.origin, h.idp, h.idp.Username, h.idp.Password)
				} else {
					err = get(ctx, client, t.url(), t.header)
				}
				if err != nil {
					mu.Lock()
					first = cmpOr(first, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return fmt.Errorf("%s: counted requests: %w", t.name, first)
	}
	took := time.Since(start)
	after, err := commandStats(ctx, rdb)
	if err != nil {
		return err
	}
	t.fig.Counted, t.fig.Commands = n, bench.CommandDelta(before, after)
	t.fig.Background = bench.Scale(background, idle, took)
	fmt.Printf("%s: %.4f Redis commands per request (%v)\n", t.key, t.fig.RedisPerRequest(), t.fig.Commands)
	return nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func get(ctx context.Context, client *http.Client, url string, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: status %d", url, resp.StatusCode)
	}
	return nil
}

// upstreamBytes sends one request of each target's load through a second
// edge of its spec whose upstream counts the bytes it reads, and the same
// request straight to that counter.
func (h *harness) upstreamBytes(ctx context.Context, targets []*target) error {
	counter, err := bench.StartByteCounter()
	if err != nil {
		return err
	}
	defer counter.Close()
	for _, t := range targets {
		if t.auth == "signin" {
			continue
		}
		origin, _, p, err := h.startEdge("bytes-"+t.key, t.spec, []string{counter.Addr}, false)
		if err != nil {
			return err
		}
		up, err := counter.Measure(ctx, origin+"/health/live", t.header)
		if err != nil {
			return fmt.Errorf("%s through the counting edge: %w", t.name, err)
		}
		direct, err := counter.Measure(ctx, "http://"+counter.Addr+"/health/live", t.header)
		if err != nil {
			return err
		}
		_ = p.Stop(syscall.SIGTERM, 10*time.Second)
		// The direct request names the counter in its Host header, the
		// load names the edge.
		t.fig.ClientBytes = direct - len(counter.Addr) + len(strings.TrimPrefix(origin, "http://"))
		t.fig.UpstreamBytes = up
	}
	return nil
}

// versions are the report's: the edge binary's Go and modules, Redis'.
func versions(ctx context.Context, edgeBin string, rdb *redis.Client) ([]bench.Version, error) {
	vs, err := bench.BinaryVersions(edgeBin, "github.com/caddyserver/caddy/v2", "github.com/redis/go-redis/v9")
	if err != nil {
		return nil, err
	}
	info, err := rdb.Info(ctx, "server").Result()
	if err != nil {
		return nil, err
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			vs = append(vs, bench.Version{Name: "Redis server", Value: v})
		}
	}
	if out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		status, _ := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output()
		vs = append(vs, bench.Version{Name: "Cesivi commit", Value: bench.CommitLabel(strings.TrimSpace(string(out)), string(status))})
	}
	return vs, nil
}

// waitUp waits until url answers anything but a 5xx (p, when given,
// must stay alive meanwhile).
func waitUp(url string, p *testenv.Process) error {
	client := &http.Client{Timeout: 5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
		}
		if p != nil && !p.Alive() {
			return fmt.Errorf("%s: the process exited", url)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer within 30 s", url)
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
