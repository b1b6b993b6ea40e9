// Package farm starts the seed's multi-server topology as local processes,
// no Docker: Redis (AOF on) and PostgreSQL in a state directory, N app
// servers, M edges load-balancing across all of them, and a local OpenID
// provider. `make farm` runs it detached and writes farm.json; end-to-end
// tests start the same farm in one call with Start.
//
// Every process is started by this package and stopped by the PID it
// recorded, never by name, so the machine's own services are never touched.
package farm

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/internal/testenv"
)

// Options shape a farm. The zero value is the seed's topology on its
// fixed ports, kept in a temporary directory.
type Options struct {
	// BinDir holds cesivi-server, cesivi-edge and cesivi-devidp; empty means
	// build them (see Binaries).
	BinDir string
	// StateDir keeps data, logs and farm.json; empty means a new temporary
	// directory, removed by Stop.
	StateDir string
	// Servers and Edges count the processes (default 3 and 2).
	Servers, Edges int
	// FreePorts picks free loopback ports instead of the seed's 5001-5003
	// and 8080-8081, so several farms (parallel tests) can coexist.
	FreePorts bool
	// Detached starts every process in its own session so the farm outlives
	// the launcher (make farm); Down stops it later from farm.json.
	Detached bool
	// CaddyfilePath is the edge configuration; default Caddyfile.example at
	// the module root.
	CaddyfilePath string
	// ServerEnv is added to every server's environment.
	ServerEnv []string
	// ServerSettings names an appsettings.json given to every server (make
	// farm FARM_SETTINGS=…), in a settings directory of its own
	// (servers/<name>/). A File sink's path under /var/log/spm/, the
	// seed's, becomes logs/<name>/ of the farm: in the seed's deployment
	// each server's container has its own /var/log/spm, and servers
	// sharing one file would each prune the others' days.
	ServerSettings string
	// Storage is the servers' Cesivi:Storage:Provider: PostgreSQL (the
	// default, the seed's farm) or InMemory. InMemory content lives in one
	// server's process, so it needs Servers: 1; the farm then starts no
	// PostgreSQL and keeps the key ring in Redis.
	Storage string
	// HardenedRedis runs Redis as the seed's "Redis Security" section
	// configures it (testenv.HardenedRedisOptions): a password,
	// FLUSHDB/FLUSHALL/CONFIG/SHUTDOWN renamed away, TLS only with client
	// certificates, and an ACL user for Cesivi. Every process reaches it
	// with the seed's connection string (user=, password=, ssl=true) and
	// Cesivi:DistributedState's TLS files. The environment variable
	// CESIVI_FARM_REDIS=hardened turns it on for every farm the end-to-end
	// tests start.
	HardenedRedis bool
}

// HardenedRedisFromEnv reports whether CESIVI_FARM_REDIS asks for the
// hardened Redis (see Options.HardenedRedis).
func HardenedRedisFromEnv() (bool, error) {
	switch v := os.Getenv("CESIVI_FARM_REDIS"); v {
	case "", "plain":
		return false, nil
	case "hardened":
		return true, nil
	default:
		return false, fmt.Errorf("farm: CESIVI_FARM_REDIS=%q: want plain or hardened", v)
	}
}

// Storage providers a farm can run on.
const (
	StoragePostgreSQL = "PostgreSQL"
	StorageInMemory   = "InMemory"
)

// IdP is the identity provider entry of farm.json: username and password
// are the development administrator's; Users lists every user the
// provider knows, the administrator first.
type IdP struct {
	Issuer   string    `json:"issuer"`
	Username string    `json:"username"`
	Password string    `json:"password"`
	Users    []IdPUser `json:"users"`
}

// IdPUser is one user of farm.json's provider; Admin marks a site
// collection administrator (Cesivi:Sites:Administrators).
type IdPUser struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Admin    bool   `json:"admin"`
}

// Manifest is farm.json, the farm's contract with tools and tests.
type Manifest struct {
	Edges   []string `json:"edges"`
	Servers []string `json:"servers"`
	Redis   string   `json:"redis"`
	// RedisCLI are redis-cli's arguments for the farm's Redis as its
	// operator (TLS files and password included on a hardened Redis).
	RedisCLI []string       `json:"redisCli"`
	Postgres string         `json:"postgres"`
	IdP      IdP            `json:"idp"`
	PIDs     map[string]int `json:"pids"`
}

// Farm is a running farm.
type Farm struct {
	Manifest
	// ClientID and ClientSecret are the OpenID client registered for the edges.
	ClientID, ClientSecret string
	// EdgesTLS are the edges' HTTPS sites (tls internal), in Edges' order.
	EdgesTLS []string

	opt       Options
	dir       string
	ownsDir   bool
	bins      binaries
	redis     *testenv.RedisServer
	postgres  *testenv.PostgresServer
	servers   []*process
	edges     []*process
	idp       *process
	serverEnv [][]string
}

// Start brings a farm up and waits until every edge answers /health through
// the servers. On error everything already started is stopped.
func Start(ctx context.Context, opt Options) (*Farm, error) {
	if opt.Servers <= 0 {
		opt.Servers = 3
	}
	if opt.Edges <= 0 {
		opt.Edges = 2
	}
	switch opt.Storage {
	case "":
		opt.Storage = StoragePostgreSQL
	case StoragePostgreSQL:
	case StorageInMemory:
		if opt.Servers != 1 {
			return nil, fmt.Errorf("farm: InMemory storage is not shared by servers; it needs Servers: 1, not %d", opt.Servers)
		}
	default:
		return nil, fmt.Errorf("farm: Storage %q: want %s or %s", opt.Storage, StoragePostgreSQL, StorageInMemory)
	}
	f := &Farm{opt: opt, Manifest: Manifest{PIDs: map[string]int{}}}
	if err := f.start(ctx); err != nil {
		_ = f.Stop()
		return nil, err
	}
	return f, nil
}

func (f *Farm) start(ctx context.Context) (err error) {
	opt := f.opt
	if f.dir = opt.StateDir; f.dir == "" {
		if f.dir, err = os.MkdirTemp("", "cesivi-farm-"); err != nil {
			return err
		}
		f.ownsDir = true
	}
	// PostgreSQL refuses to run as root, so as root the harness runs it as
	// the postgres user, who must be able to traverse to its data directory.
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return err
	}
	if err := os.Chmod(f.dir, 0o755); err != nil {
		return err
	}
	for _, sub := range []string{"logs", "redis", "postgres", "edges"} {
		if err := os.MkdirAll(filepath.Join(f.dir, sub), 0o755); err != nil {
			return err
		}
	}
	if f.bins, err = findBinaries(ctx, opt.BinDir, f.dir); err != nil {
		return err
	}
	if err := f.startStores(ctx); err != nil {
		return err
	}
	serverPorts, edgePorts, httpsPorts, err := f.ports()
	if err != nil {
		return err
	}
	if err := f.startIdP(ctx, edgePorts); err != nil {
		return err
	}
	for i, port := range serverPorts {
		if err := f.startServer(ctx, i, port); err != nil {
			return err
		}
	}
	for i, port := range edgePorts {
		if err := f.startEdge(ctx, i, port, httpsPorts[i], serverPorts); err != nil {
			return err
		}
	}
	return nil
}

func (f *Farm) startStores(ctx context.Context) error {
	ro := testenv.RedisOptions{
		Dir: filepath.Join(f.dir, "redis"), AppendOnly: true, Detached: f.opt.Detached,
		LogFile: filepath.Join(f.dir, "logs", "redis.log"),
	}
	var r *testenv.RedisServer
	var err error
	if f.opt.HardenedRedis {
		// A detached farm may run for days: certificates for a month.
		r, err = testenv.StartRedisHardened(ctx, ro, 30*24*time.Hour)
	} else {
		r, err = testenv.StartRedis(ctx, ro)
	}
	if err != nil {
		return fmt.Errorf("starting Redis: %w", err)
	}
	f.redis, f.Redis, f.PIDs["redis"] = r, r.Addr, r.PID
	f.RedisCLI = r.CLIArgs()
	if f.opt.Storage == StorageInMemory {
		return nil
	}
	p, err := testenv.StartPostgres(ctx, testenv.PostgresOptions{
		Dir: filepath.Join(f.dir, "postgres"), Detached: f.opt.Detached, Durable: true,
		LogFile: filepath.Join(f.dir, "logs", "postgres.log"),
	})
	if err != nil {
		return fmt.Errorf("starting PostgreSQL: %w", err)
	}
	f.postgres, f.Postgres, f.PIDs["postgres"] = p, p.URL(), p.PID
	return nil
}

// ports returns the seed's fixed ports, or free ones.
func (f *Farm) ports() (servers, edges, https []int, err error) {
	pick := func(n, base int) ([]int, error) {
		out := make([]int, n)
		for i := range out {
			if !f.opt.FreePorts {
				out[i] = base + i
				continue
			}
			p, err := testenv.FreePort()
			if err != nil {
				return nil, err
			}
			out[i] = p
		}
		return out, nil
	}
	if servers, err = pick(f.opt.Servers, 5001); err != nil {
		return
	}
	if edges, err = pick(f.opt.Edges, 8080); err != nil {
		return
	}
	https, err = pick(f.opt.Edges, 8443)
	return
}

func (f *Farm) startIdP(ctx context.Context, edgePorts []int) error {
	port := 9998
	if f.opt.FreePorts {
		var err error
		if port, err = testenv.FreePort(); err != nil {
			return err
		}
	}
	var redirects, logouts []string
	for _, p := range edgePorts {
		for _, host := range []string{"localhost", "127.0.0.1"} {
			redirects = append(redirects, fmt.Sprintf("http://%s:%d/oauth2/callback", host, p))
			logouts = append(logouts, fmt.Sprintf("http://%s:%d/", host, p))
		}
	}
	p, err := f.spawn("idp", f.bins.devidp, []string{
		"-addr", fmt.Sprintf("127.0.0.1:%d", port),
		"-redirect-uris", strings.Join(redirects, ","),
		"-post-logout-uris", strings.Join(logouts, ","),
	}, nil, true)
	if err != nil {
		return err
	}
	f.idp = p
	// The provider prints one JSON line with its issuer and credentials
	// once it listens.
	line, err := p.firstLine(ctx, 20*time.Second)
	if err != nil {
		return fmt.Errorf("identity provider: %w (log: %s)", err, p.logPath)
	}
	var info struct {
		Issuer       string    `json:"issuer"`
		ClientID     string    `json:"client_id"`
		ClientSecret string    `json:"client_secret"`
		Username     string    `json:"username"`
		Password     string    `json:"password"`
		Users        []IdPUser `json:"users"`
	}
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		return fmt.Errorf("identity provider announced %q: %w", line, err)
	}
	f.IdP = IdP{Issuer: info.Issuer, Username: info.Username, Password: info.Password, Users: info.Users}
	f.ClientID, f.ClientSecret = info.ClientID, info.ClientSecret
	return nil
}

func (f *Farm) startServer(ctx context.Context, i, port int) error {
	name := fmt.Sprintf("server-%d", i+1)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	env := append([]string{
		"Cesivi__Server__Address=" + addr,
		"Cesivi__Server__ShutdownDelay=1s",
		"Cesivi__Farm__Enabled=true",
		"Cesivi__Farm__ServerId=" + name,
		// The development provider's administrator (farm.json's
		// idp.username); its other user starts with no rights.
		"Cesivi__Sites__Administrators=" + testenv.DevUsers()[0].Subject,
		// A development farm on one machine: webhook receivers run on it.
		"Cesivi__Webhooks__AllowedHosts=127.0.0.0/8,localhost",
		"Cesivi__DistributedState__Provider=Redis",
	}, f.redis.CesiviEnv("abortConnect=false")...)
	env = append(env, f.storageEnv()...)
	if f.opt.ServerSettings != "" {
		dir, err := f.serverSettingsDir(name)
		if err != nil {
			return err
		}
		env = append(env, "CESIVI_CONFIG_DIR="+dir)
	}
	env = append(env, f.opt.ServerEnv...)
	if len(f.serverEnv) <= i {
		f.serverEnv = append(f.serverEnv, env)
	}
	p, err := f.spawn(name, f.bins.server, nil, env, false)
	if err != nil {
		return err
	}
	if len(f.servers) <= i {
		f.servers = append(f.servers, p)
		f.Servers = append(f.Servers, "http://"+addr)
	} else {
		f.servers[i] = p
	}
	return waitHTTP(ctx, "http://"+addr+"/health/ready", 30*time.Second, p)
}

func (f *Farm) startEdge(ctx context.Context, i, port, httpsPort int, serverPorts []int) error {
	name := fmt.Sprintf("edge-%d", i+1)
	var ups []string
	for _, p := range serverPorts {
		ups = append(ups, fmt.Sprintf("127.0.0.1:%d", p))
	}
	home := filepath.Join(f.dir, "edges", name)
	if err := os.MkdirAll(home, 0o755); err != nil {
		return err
	}
	env := []string{
		"CESIVI_UPSTREAMS=" + strings.Join(ups, " "),
		"CESIVI_HTTP_PORT=" + strconv.Itoa(port),
		"CESIVI_HTTPS_PORT=" + strconv.Itoa(httpsPort),
		"CESIVI_EDGE_ADMIN=off",
		// Caddy keeps its local CA and certificates here, per edge.
		"HOME=" + home,
		"XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		// The edges sign in with the farm's provider.
		"CESIVI_OIDC_ISSUER=" + f.IdP.Issuer,
		"CESIVI_OIDC_CLIENT_ID=" + f.ClientID,
		"CESIVI_OIDC_CLIENT_SECRET=" + f.ClientSecret,
	}
	// The key ring and the distributed state: the servers' own settings.
	env = append(env, f.sharedEnv()...)
	caddyfile := f.opt.CaddyfilePath
	if caddyfile == "" {
		root, err := moduleRoot(ctx)
		if err != nil {
			return err
		}
		caddyfile = filepath.Join(root, "Caddyfile.example")
	}
	p, err := f.spawn(name, f.bins.edge, []string{"run", "--config", caddyfile, "--adapter", "caddyfile"}, env, false)
	if err != nil {
		return err
	}
	f.edges = append(f.edges, p)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	f.Edges = append(f.Edges, url)
	f.EdgesTLS = append(f.EdgesTLS, fmt.Sprintf("https://localhost:%d", httpsPort))
	if err := waitHTTP(ctx, url+"/health", 60*time.Second, p); err != nil {
		return err
	}
	// The HTTP listener answering says nothing about the HTTPS one: Caddy
	// issues the tls internal certificate in the background, and until it
	// has, handshakes fail with "tls: internal error". Ready means a
	// client can complete a handshake for the site's name.
	return waitTLS(ctx, fmt.Sprintf("127.0.0.1:%d", httpsPort), "localhost", 60*time.Second, p)
}

// serverSettingsDir writes Options.ServerSettings into the settings
// directory of server name, its seed log directory moved into the farm's.
func (f *Farm) serverSettingsDir(name string) (string, error) {
	b, err := os.ReadFile(f.opt.ServerSettings)
	if err != nil {
		return "", fmt.Errorf("farm: server settings: %w", err)
	}
	dir := filepath.Join(f.dir, "servers", name)
	logs := filepath.Join(f.dir, "logs", name)
	for _, d := range []string{dir, logs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
	}
	quoted, err := json.Marshal(logs + "/")
	if err != nil {
		return "", err
	}
	// Inside a JSON string: the directory without its quotes.
	b = bytes.ReplaceAll(b, []byte("/var/log/spm/"), quoted[1:len(quoted)-1])
	return dir, os.WriteFile(filepath.Join(dir, "appsettings.json"), b, 0o600)
}

// storageEnv configures the storage provider and, with InMemory, a key
// ring every server and edge can share (the default for InMemory, the
// FileSystem ring, is refused in a farm).
func (f *Farm) storageEnv() []string {
	if f.opt.Storage == StorageInMemory {
		return []string{
			"Cesivi__Storage__Provider=InMemory",
			"Cesivi__DataProtection__Provider=Redis",
		}
	}
	// The store's own 5 s statement timeout answers a slow query with
	// SharePoint's throttling error; on a test machine loaded to many
	// times its cores, indexed queries of the scenarios have crossed it.
	// The farm's servers get PostgreSQL's statement_timeout of 60 s
	// instead (the store then sets none of its own); the 5 s default and
	// its error are tested in pgstorage and internal/backends.
	return []string{
		"Cesivi__Storage__Provider=PostgreSQL",
		"Cesivi__Storage__ConnectionString=" + f.Postgres + "&statement_timeout=60000",
	}
}

// StopServer stops server i (0-based) with SIGTERM, as an orchestrator would.
func (f *Farm) StopServer(i int) error { return f.servers[i].stop(15 * time.Second) }

// KillServer kills server i with SIGKILL, as a crash would.
func (f *Farm) KillServer(i int) error { return f.servers[i].Kill() }

// KillEdge kills edge i with SIGKILL, as a crash would.
func (f *Farm) KillEdge(i int) error { return f.edges[i].Kill() }

// RestartServer starts server i again on its port.
func (f *Farm) RestartServer(ctx context.Context, i int) error {
	port, err := portOf(f.Servers[i])
	if err != nil {
		return err
	}
	return f.startServer(ctx, i, port)
}

// AdminEnv is the environment under which `cesivi-server keyring …` and
// `cesivi-server sessions …` reach this farm's stores, as an operator on
// one of its machines would run them.
func (f *Farm) AdminEnv() []string { return append(baseEnv(), f.sharedEnv()...) }

// sharedEnv is the servers' configuration without what belongs to one
// server (its address and id): what edges and operators share.
func (f *Farm) sharedEnv() []string {
	var env []string
	for _, kv := range f.serverEnv[0] {
		if !strings.HasPrefix(kv, "Cesivi__Server__") && !strings.HasPrefix(kv, "Cesivi__Farm__ServerId=") {
			env = append(env, kv)
		}
	}
	return env
}

// ServerBinary is the cesivi-server program the farm runs.
func (f *Farm) ServerBinary() string { return f.bins.server }

// RedisServer returns the farm's Redis server, for tests that stop or
// restart it.
func (f *Farm) RedisServer() *testenv.RedisServer { return f.redis }

// RedisClient opens a client of the farm's Redis as its operator (the
// default user: the seed's `redis-cli -a …`), over TLS on a hardened
// Redis; the caller closes it.
func (f *Farm) RedisClient() (*redis.Client, error) {
	cfg, err := f.redis.ClientTLSConfig()
	if err != nil {
		return nil, err
	}
	return redis.NewClient(&redis.Options{Addr: f.redis.Addr, Password: f.redis.Password, TLSConfig: cfg}), nil
}

// StopPostgres stops the farm's PostgreSQL (its data stays), as an outage
// does; StartPostgres brings it back on the same port.
func (f *Farm) StopPostgres() error {
	if f.postgres == nil {
		return errors.New("farm: this farm has no PostgreSQL")
	}
	return f.postgres.Stop()
}

// StartPostgres starts the farm's PostgreSQL again after StopPostgres,
// on its port and data directory, and waits until it accepts
// connections.
func (f *Farm) StartPostgres(ctx context.Context) error {
	if f.postgres == nil {
		return errors.New("farm: this farm has no PostgreSQL")
	}
	p, err := testenv.StartPostgres(ctx, testenv.PostgresOptions{
		Dir: filepath.Join(f.dir, "postgres"), Detached: f.opt.Detached, Durable: true, Port: f.postgres.Port,
		LogFile: filepath.Join(f.dir, "logs", "postgres.log"),
	})
	if err != nil {
		return fmt.Errorf("starting PostgreSQL again: %w", err)
	}
	f.postgres, f.PIDs["postgres"] = p, p.PID
	return nil
}

// Stop stops every process the farm started, newest first, and removes the
// state directory if the farm created it.
func (f *Farm) Stop() error {
	var errs []error
	for i := len(f.edges) - 1; i >= 0; i-- {
		errs = append(errs, f.edges[i].stop(10*time.Second))
	}
	for i := len(f.servers) - 1; i >= 0; i-- {
		errs = append(errs, f.servers[i].stop(15*time.Second))
	}
	if f.idp != nil {
		errs = append(errs, f.idp.stop(5*time.Second))
	}
	if f.postgres != nil {
		errs = append(errs, f.postgres.Stop())
	}
	if f.redis != nil {
		errs = append(errs, f.redis.Stop())
	}
	if f.ownsDir {
		errs = append(errs, os.RemoveAll(f.dir))
	}
	return errors.Join(errs...)
}

// Dir is the farm's state directory (logs are in Dir/logs).
func (f *Farm) Dir() string { return f.dir }

// WriteManifest writes farm.json into dir (the state directory when dir
// is empty). When dir is not the state directory it also links dir/state to
// it, so Down finds the processes' directory from dir alone: `make farm`
// keeps only farm.json in .farm/ and the data in a temporary directory,
// which the PostgreSQL user can reach wherever the repository lives.
func (f *Farm) WriteManifest(dir string) (string, error) {
	if dir == "" {
		dir = f.dir
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if filepath.Clean(dir) != filepath.Clean(f.dir) {
		link := filepath.Join(dir, "state")
		_ = os.Remove(link)
		if err := os.Symlink(f.dir, link); err != nil {
			return "", err
		}
	}
	path := filepath.Join(dir, "farm.json")
	data, err := json.MarshalIndent(f.Manifest, "", "  ")
	if err != nil {
		return "", err
	}
	return path, os.WriteFile(path, append(data, '\n'), 0o600)
}

// spawn starts bin with args and env added to a minimal environment,
// logging to logs/<name>.log. Processes inherit nothing of the caller's
// Cesivi__ settings, so a developer's shell cannot change the farm.
func (f *Farm) spawn(name, bin string, args, env []string, separateStdout bool) (*process, error) {
	logPath := filepath.Join(f.dir, "logs", name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child keeps its own descriptors
	cmd := exec.Command(bin, args...)
	cmd.Env = append(baseEnv(), env...)
	cmd.Dir = f.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	p := &process{name: name, logPath: logPath}
	if separateStdout {
		// A file, not a pipe: a detached child must not die of SIGPIPE when
		// the launcher exits.
		p.stdoutPath = filepath.Join(f.dir, "logs", name+".out")
		out, err := os.Create(p.stdoutPath)
		if err != nil {
			return nil, err
		}
		defer out.Close()
		cmd.Stdout = out
	}
	if p.Process, err = testenv.StartProcess(cmd, f.opt.Detached); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	f.PIDs[name] = p.PID
	return p, nil
}

// baseEnv keeps what a process needs to run (PATH, locale, temp dir) and
// drops everything else.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH", "LANG", "LC_ALL", "TMPDIR", "USER", "HOME", "GOCOVERDIR":
			env = append(env, kv)
		}
	}
	return env
}

func waitHTTP(ctx context.Context, url string, timeout time.Duration, p *process) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if !p.Alive() {
			return fmt.Errorf("%s exited during start-up; log: %s\n%s", p.name, p.logPath, tail(p.logPath, 20))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s: %s did not answer 200 within %v; log: %s\n%s", p.name, url, timeout, p.logPath, tail(p.logPath, 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitTLS waits until addr completes a TLS handshake for serverName (the
// certificate itself is not verified: the edges' CAs are their own).
func waitTLS(ctx context.Context, addr, serverName string, timeout time.Duration, p *process) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		dialer := &tls.Dialer{
			NetDialer: &net.Dialer{Timeout: 2 * time.Second},
			Config:    &tls.Config{ServerName: serverName, InsecureSkipVerify: true},
		}
		hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		conn, err := dialer.DialContext(hctx, "tcp", addr)
		cancel()
		if err == nil {
			conn.Close()
			return nil
		}
		last = err
		if !p.Alive() {
			return fmt.Errorf("%s exited during start-up; log: %s\n%s", p.name, p.logPath, tail(p.logPath, 20))
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s: no TLS handshake for %s on %s within %v (last: %v); log: %s\n%s", p.name, serverName, addr, timeout, last, p.logPath, tail(p.logPath, 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(path string, n int) string {
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func portOf(url string) (int, error) {
	i := strings.LastIndexByte(url, ':')
	if i < 0 {
		return 0, fmt.Errorf("no port in %q", url)
	}
	return strconv.Atoi(url[i+1:])
}
