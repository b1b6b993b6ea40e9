package docker

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// The orchestrated Caddyfile is Caddyfile.example but for the upstreams
// and the client secret: the blocks that must not drift apart are
// compared, and the file adapts with the edge's own modules.
func TestOrchestratedCaddyfile(t *testing.T) {
	example, ours := read(t, "../Caddyfile.example"), read(t, orchestratedCaddyfile)
	block := regexp.MustCompile(`(?s)\n\thandle_errors .*?\n\t}\n`)
	if a, b := block.FindString(example), block.FindString(ours); a == "" || a != b {
		t.Errorf("the handle_errors block of %s differs from Caddyfile.example's", orchestratedCaddyfile)
	}
	anon := regexp.MustCompile(`(?m)^\s*anonymous .*$`)
	if a, b := anon.FindString(example), anon.FindString(ours); a == "" || strings.TrimSpace(a) != strings.TrimSpace(b) {
		t.Errorf("anonymous paths differ from Caddyfile.example's: %q vs %q", b, a)
	}

	cfg := adaptCaddyfile(t, orchestratedCaddyfile, map[string]string{
		"CESIVI_UPSTREAM_NAME":           "tasks.spm-server",
		"CESIVI_OIDC_CLIENT_SECRET_FILE": "/run/secrets/spm_oidc_client_secret",
	})
	js, _ := json.Marshal(cfg)
	s := string(js)
	for _, want := range []string{
		`"client_secret":"{env.CESIVI_OIDC_CLIENT_SECRET}{file./run/secrets/spm_oidc_client_secret}"`,
		`"source":"a"`,
		`"name":"tasks.spm-server"`,
		`"port":"5000"`,
		`"refresh":2000000000`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("adapted config lacks %s", want)
		}
	}
	// The client secret comes from the file or the variable, whichever is
	// set, as the edge resolves it when it starts.
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ env, file, want string }{
		{"", file, "from-file"},
		{"from-env", "/dev/null", "from-env"},
		{"", filepath.Join(dir, "missing"), ""}, // logged by Caddy, not fatal
	} {
		t.Setenv("CESIVI_OIDC_CLIENT_SECRET", c.env)
		t.Setenv("CESIVI_OIDC_CLIENT_SECRET_FILE", c.file)
		js, _ := json.Marshal(adaptCaddyfile(t, orchestratedCaddyfile, nil))
		m := regexp.MustCompile(`"client_secret":"([^"]*)"`).FindStringSubmatch(string(js))
		if m == nil {
			t.Fatal("no client_secret in the adapted config")
		}
		if got := caddy.NewReplacer().ReplaceKnown(m[1], ""); got != c.want {
			t.Errorf("client secret %q, want %q", got, c.want)
		}
	}

	// Ports the image exposes are the ones the Caddyfile listens on.
	f := imageFacts(t)
	vars := caddyfileVars(t, orchestratedCaddyfile)
	if got := []string{vars["CESIVI_HTTP_PORT"], vars["CESIVI_HTTPS_PORT"]}; !slices.Equal(got, f.edgePorts) {
		t.Errorf("the Caddyfile listens on %v, the edge image exposes %v", got, f.edgePorts)
	}
}

func TestSwarmStack(t *testing.T) {
	const path = "spm-stack.yml"
	doc := parseYAML(t, path)
	env := newEnvChecker(t)
	f := imageFacts(t)

	server := at(doc, "services", "spm-server")
	edge := at(doc, "services", "spm-edge")
	if server == nil || edge == nil {
		t.Fatal("the stack lacks the spm-server or spm-edge service")
	}

	// The seed's shape.
	if r := str(at(server, "deploy", "replicas")); r != "3" {
		t.Errorf("spm-server replicas %s, the seed's stack has 3", r)
	}
	if p := str(at(server, "deploy", "update_config", "parallelism")); p != "1" {
		t.Errorf("spm-server rolls %s at a time, want 1", p)
	}
	if d := str(at(server, "deploy", "update_config", "delay")); d == "" {
		t.Error("spm-server update_config has no delay")
	}
	if c := str(at(server, "deploy", "restart_policy", "condition")); c != "on-failure" {
		t.Errorf("spm-server restart_policy %q", c)
	}
	if at(server, "deploy", "resources", "limits", "memory") == nil {
		t.Error("spm-server has no memory limit")
	}
	if str(at(server, "image")) != "cesivi/server:latest" || str(at(edge, "image")) != "cesivi/edge:latest" {
		t.Error("images are not cesivi/server:latest and cesivi/edge:latest (docker/Dockerfile.* comments)")
	}
	if hc := strs(at(server, "healthcheck", "test")); !slices.Equal(hc, append([]string{"CMD"}, f.healthcheckCommand()...)) {
		t.Errorf("spm-server health check %q, want the image's %q", hc, f.healthcheckCommand())
	}
	if hc := strs(at(edge, "healthcheck", "test")); !slices.Equal(hc, append([]string{"CMD"}, f.edgeHealthCommand()...)) {
		t.Errorf("spm-edge health check %q, want the image's %q", hc, f.edgeHealthCommand())
	}
	if at(edge, "environment", "CESIVI_HTTP_PORT") != nil {
		t.Error("spm-edge moves its HTTP port: its health check asks the image's")
	}
	if at(server, "ports") != nil {
		t.Error("spm-server publishes a port: only the edge should be reachable")
	}

	// Every secret is external, and the header says how to create it.
	created := regexp.MustCompile(`docker secret create ([a-z_]+) `).FindAllStringSubmatch(read(t, path), -1)
	declared := map[string]bool{}
	for name, s := range at(doc, "secrets").(map[string]any) {
		if at(s, "external") != true {
			t.Errorf("secret %s is not external: its content would sit next to the stack", name)
		}
		if !slices.ContainsFunc(created, func(m []string) bool { return m[1] == name }) {
			t.Errorf("%s does not say how to create the secret %s", path, name)
		}
		declared[name] = true
	}

	for _, svc := range []struct {
		name  string
		reads func(string) bool
	}{{"spm-server", env.server}, {"spm-edge", env.edgeVar}} {
		s := at(doc, "services", svc.name)
		where := path + " " + svc.name
		vars := map[string]string{}
		for name, v := range at(s, "environment").(map[string]any) {
			vars[name] = str(v)
			if !svc.reads(name) {
				t.Errorf("%s: %s is read by no one (misspelt?)", where, name)
			}
			checkNoPlainSecret(t, where, name, str(v))
		}
		mounted := strs(at(s, "secrets"))
		for name, v := range vars {
			if !strings.HasSuffix(name, "_FILE") {
				continue
			}
			secret, ok := strings.CutPrefix(v, "/run/secrets/")
			if !ok || !slices.Contains(mounted, secret) || !declared[secret] {
				t.Errorf("%s: %s=%s is not a declared secret mounted into the service", where, name, v)
			}
		}
		if svc.name != "spm-server" {
			continue
		}
		settings := loadAsServer(t, where, vars)
		if !settings.Farm.Enabled || settings.DistributedState.Provider != "Redis" || settings.Storage.Provider != "PostgreSQL" {
			t.Errorf("%s is not a farm member on Redis and PostgreSQL", where)
		}
		if settings.Server.ShutdownDelay == 0 {
			t.Errorf("%s: no ShutdownDelay, so a rolling update cuts requests", where)
		}
		grace := duration(t, where, str(at(s, "stop_grace_period")))
		if need := graceNeeded(settings); grace <= need {
			t.Errorf("%s: stop_grace_period %s, the shutdown takes up to %s", where, grace, need)
		}
		if !strings.HasSuffix(settings.Server.Address, ":"+f.serverPort) {
			t.Errorf("%s listens on %s, the image exposes %s", where, settings.Server.Address, f.serverPort)
		}
	}

	// The edge: its Caddyfile, where it finds the servers, its ports.
	cfgs := asList(at(edge, "configs"))
	if len(cfgs) != 1 || str(at(cfgs[0], "target")) != f.edgeConfig {
		t.Fatalf("spm-edge does not mount its Caddyfile at %s, where the image reads it", f.edgeConfig)
	}
	src := str(at(cfgs[0], "source"))
	if file := str(at(doc, "configs", src, "file")); file != "./"+orchestratedCaddyfile {
		t.Errorf("config %s is %q, want ./%s", src, file, orchestratedCaddyfile)
	}
	edgeEnv := at(edge, "environment").(map[string]any)
	if str(edgeEnv["CESIVI_UPSTREAM_NAME"]) != "tasks.spm-server" || str(edgeEnv["CESIVI_UPSTREAM_PORT"]) != f.serverPort {
		t.Errorf("spm-edge does not send to tasks.spm-server:%s", f.serverPort)
	}
	for name, def := range caddyfileVars(t, orchestratedCaddyfile) {
		if _, set := edgeEnv[name]; def == "" && !set && name != "CESIVI_OIDC_CLIENT_SECRET" {
			t.Errorf("spm-edge leaves %s unset, which the Caddyfile needs", name)
		}
	}
	var targets []string
	for _, p := range asList(at(edge, "ports")) {
		targets = append(targets, str(at(p, "target")))
	}
	if !slices.Equal(targets, f.edgePorts) {
		t.Errorf("spm-edge publishes %v, the image listens on %v", targets, f.edgePorts)
	}
	if d := duration(t, "spm-edge", str(at(edge, "stop_grace_period"))); d < duration(t, "spm-server", str(at(server, "stop_grace_period"))) {
		t.Error("spm-edge has less time to drain than the servers")
	}
	if str(at(doc, "networks", "spm-network", "driver")) != "overlay" {
		t.Error("spm-network is not an overlay network")
	}
}

// The Compose client parses the stack as Swarm would (no engine needed).
func TestSwarmStackCompose(t *testing.T) {
	runIfPresent(t, []string{
		"CESIVI_OIDC_ISSUER=https://idp.example.com/", "CESIVI_OIDC_CLIENT_ID=cesivi",
		"CESIVI_PUBLIC_ORIGINS=https://sp.example.com",
	}, "docker-compose", "-f", "spm-stack.yml", "config", "-q")
}

// The single-host Compose file: every variable is read by its process.
func TestComposeVariablesAreRead(t *testing.T) {
	const path = "docker-compose.multiserver.yml"
	doc := parseYAML(t, path)
	env := newEnvChecker(t)
	example := caddyfileVars(t, "../Caddyfile.example")
	for name, svc := range at(doc, "services").(map[string]any) {
		if !strings.HasPrefix(name, "spm-server-") && name != "spm-edge" {
			continue // Redis and PostgreSQL: their images' variables
		}
		for v := range at(svc, "environment").(map[string]any) {
			_, edgeVar := example[v]
			if !env.server(v) && !(name == "spm-edge" && (edgeVar || env.edgeVar(v))) {
				t.Errorf("%s %s: %s is read by no one (misspelt?)", path, name, v)
			}
		}
	}
}

func TestComposeConfig(t *testing.T) {
	// The file uses the Compose Specification (a top-level name), which
	// docker-compose 1.x, Debian's package, rejects; Compose v2 reads it.
	if out, err := exec.Command("docker-compose", "version", "--short").Output(); err == nil && strings.HasPrefix(string(out), "1.") {
		t.Skipf("docker-compose %s predates the Compose Specification this file uses; only the static checks ran", strings.TrimSpace(string(out)))
	}
	runIfPresent(t, []string{
		"POSTGRES_PASSWORD=p", "REDIS_PASSWORD=r", "CESIVI_MASTER_KEY=k",
	}, "docker-compose", "-f", "docker-compose.multiserver.yml", "config", "-q")
}
