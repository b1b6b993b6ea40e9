package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/logging"
	"github.com/cesivi/cesivi/internal/testenv"
)

// A server configured with every secret it can hold, at the most verbose
// level, written to by clients sending credentials, never writes any of
// them to its console or its log file.
func TestServerLogsNeverShowSecrets(t *testing.T) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{
		"PostgreSQL password": "pg-Secret-4f1c9a",
		"Redis password":      "redis-Secret-77ad02",
		"master key":          base64.StdEncoding.EncodeToString(raw),
		"bearer token":        "eyJhbGciOiJSUzI1NiJ9.bearer-Secret-91b3.c2ln",
		"cookie":              "cookie-Secret-5e0d",
		"assertion":           "eyJhbGciOiJFZERTQSJ9.assertion-Secret-c4a2.c2ln",
		"field value":         "field-Secret-0b6e",
		"query token":         "query-Secret-a81f",
	}
	bin := serverBinary(t)
	rd := testenv.RedisPrivate(t, testenv.RedisOptions{Password: secrets["Redis password"]})
	pg, err := url.Parse(testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	// The test cluster trusts 127.0.0.1, so any password is accepted and
	// the server runs normally with this one in its settings.
	npgsql := fmt.Sprintf("Host=%s;Port=%s;Database=%s;Username=%s;Password=%s;SSL Mode=Disable",
		pg.Hostname(), pg.Port(), strings.TrimPrefix(pg.Path, "/"), pg.User.Username(), secrets["PostgreSQL password"])

	dir, logDir := t.TempDir(), t.TempDir()
	// The seed's Serilog section, at Verbose, plus a JSON console.
	writeSettings(t, dir, fmt.Sprintf(`{"Serilog": {
		"MinimumLevel": {"Default": "Verbose"},
		"WriteTo": [
			{"Name": "Console", "Args": {"outputTemplate": "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext} {Message:lj}{NewLine}{Exception}"}},
			{"Name": "Console", "Args": {"formatter": "Serilog.Formatting.Compact.CompactJsonFormatter, Serilog.Formatting.Compact"}},
			{"Name": "File", "Args": {"path": %q, "rollingInterval": "Day", "retainedFileCountLimit": 7}}
		]}}`, filepath.Join(logDir, "log-.txt")))
	addr := freeAddr(t)
	env := append([]string{"PATH=" + os.Getenv("PATH"),
		"Cesivi__Server__Address=" + addr,
		"Cesivi__Farm__Enabled=true",
		"Cesivi__Farm__ServerId=spm-server-1",
		"Cesivi__DistributedState__Provider=Redis",
		"Cesivi__Storage__Provider=PostgreSQL",
		"Cesivi__Storage__ConnectionString=" + npgsql,
		"Cesivi__DataProtection__MasterKey=" + secrets["master key"],
	}, rd.CesiviEnv("abortConnect=false")...)

	var console testenv.LogBuffer
	srv := exec.Command(bin, "serve", "-config-dir", dir)
	srv.Env, srv.Dir, srv.Stderr, srv.Stdout = env, t.TempDir(), &console, &console
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	t.Cleanup(func() { _ = srv.Process.Kill(); <-exited })

	base := "http://" + addr
	waitFor(t, "the server healthy", func() bool {
		resp, err := http.Get(base + "/health/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, console.String)

	send := func(method, path, body string, h map[string]string) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	creds := map[string]string{
		"Authorization": "Bearer " + secrets["bearer token"],
		"Cookie":        ".AspNetCore.Cookies=" + secrets["cookie"] + "; FedAuth=" + secrets["cookie"],
	}
	forged := map[string]string{"X-Cesivi-Assertion": secrets["assertion"], "Content-Type": "application/json;odata=verbose",
		"Authorization": creds["Authorization"], "Cookie": creds["Cookie"]}
	send("GET", "/_api/web?access_token="+secrets["query token"], "", creds)
	send("GET", "/_api/web/lists", "", forged)
	send("POST", "/_api/web/lists/getbytitle('Docs')/items", `{"Title":"`+secrets["field value"]+`"}`, forged)
	send("GET", "/health?access_token="+secrets["query token"], "", creds)
	send("GET", "/metrics", "", creds)

	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, console.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit within 30 s of SIGTERM")
	}

	file := logging.DailyFilePath(filepath.Join(logDir, "log-.txt"), time.Now())
	fileLog, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("the File sink's daily file: %v (directory: %v)", err, listNames(logDir))
	}
	out := console.String()
	// The logs must be there to be searched: start-up, the refusals and
	// the shutdown, in both sinks.
	for _, want := range []string{"configuration loaded", "stopped"} {
		if !strings.Contains(out, want) || !strings.Contains(string(fileLog), want) {
			t.Errorf("%q missing from the console or the file", want)
		}
	}
	if !strings.Contains(out, `"@m":"configuration loaded"`) || !strings.Contains(out, "INF] Cesivi.Server configuration loaded") {
		t.Errorf("want both console formats:\n%s", out)
	}
	for what, s := range secrets {
		for where, text := range map[string]string{"console": out, "file": string(fileLog)} {
			// Also the distinctive middle of each, in case a log shows it cut or escaped.
			for _, needle := range []string{s, strings.SplitN(s+".", ".", 3)[1]} {
				if len(needle) >= 8 && strings.Contains(text, needle) {
					t.Errorf("the %s log shows the %s (%q)", where, what, needle)
				}
			}
		}
	}
	t.Logf("searched %d console and %d file bytes", len(out), len(fileLog))
	if t.Failed() {
		t.Logf("console:\n%s", out)
	}
}

func listNames(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// A server whose Redis and PostgreSQL refuse it logs (or prints) why,
// never the passwords of its connection strings.
func TestConnectionFailuresNeverShowPasswords(t *testing.T) {
	const redisWrong, pgSecret = "wrong-Redis-Secret-3c9e", "pg-Secret-d07b55"
	bin := serverBinary(t)
	rd := testenv.RedisPrivate(t, testenv.RedisOptions{Password: "the-right-one-1234"})
	closed := freeAddr(t) // nothing listens there
	host, port, _ := strings.Cut(closed, ":")
	dir := t.TempDir()
	writeSettings(t, dir, `{"Serilog": {"MinimumLevel": "Verbose", "WriteTo": [{"Name": "Console"}]}}`)
	addr := freeAddr(t)
	srv := exec.Command(bin, "serve", "-config-dir", dir)
	srv.Env = []string{"PATH=" + os.Getenv("PATH"),
		"Cesivi__Server__Address=" + addr,
		"Cesivi__DistributedState__Provider=Redis",
		"Cesivi__DistributedState__ConnectionString=" + rd.Addr + ",password=" + redisWrong + ",connectTimeout=2000",
		"Cesivi__Storage__Provider=PostgreSQL",
		"Cesivi__Storage__ConnectionString=Host=" + host + ";Port=" + port + ";Database=cesivi;Username=postgres;Password=" + pgSecret + ";Timeout=2",
		"Cesivi__DataProtection__Provider=Redis",
		"Cesivi__Storage__Files__Provider=InMemory",
	}
	var console testenv.LogBuffer
	srv.Dir, srv.Stderr, srv.Stdout = t.TempDir(), &console, &console
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	t.Cleanup(func() { _ = srv.Process.Kill() })
	// It either gives up at start-up or serves an unhealthy /health; wait
	// for one of the two, then stop it.
	var stopped bool
	waitFor(t, "the server to give up or answer", func() bool {
		select {
		case <-exited:
			stopped = true
			return true
		default:
		}
		resp, err := http.Get("http://" + addr + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	}, console.String)
	if !stopped {
		_ = srv.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			t.Fatal("no exit within 30 s of SIGTERM")
		}
	}
	out := console.String()
	if !strings.Contains(strings.ToLower(out), "redis") && !strings.Contains(strings.ToLower(out), "postgres") {
		t.Errorf("the failure is not explained:\n%s", out)
	}
	for _, secret := range []string{redisWrong, pgSecret, "the-right-one-1234"} {
		if strings.Contains(out, secret) {
			t.Errorf("the output shows %q:\n%s", secret, out)
		}
	}
	t.Logf("%d bytes of output searched", len(out))
}
