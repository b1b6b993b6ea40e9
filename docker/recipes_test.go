package docker

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
	"go.yaml.in/yaml/v3"

	_ "github.com/cesivi/cesivi/caddymodule"
	"github.com/cesivi/cesivi/internal/config"
)

// What the recipes are checked against, read from the files that define it
// rather than repeated here.

// serverOther are the variables cesivi-server reads besides its settings,
// each with the file that reads it (checked, so the list cannot go stale).
var serverOther = map[string]string{
	"CESIVI_CONFIG_DIR":      "../cmd/cesivi-server/main.go",
	"CESIVI_SECRETS_DIR":     "../internal/config/secrets.go",
	"CESIVI_ENVIRONMENT":     "../internal/config/settings.go",
	"ASPNETCORE_ENVIRONMENT": "../internal/config/settings.go",
	"DOTNET_ENVIRONMENT":     "../internal/config/settings.go",
}

// orchestratedCaddyfile is the edge's Caddyfile under Swarm and Kubernetes.
const orchestratedCaddyfile = "k8s/Caddyfile"

// placeholder finds the variables a Caddyfile reads: {$NAME} and
// {$NAME:default} when it is adapted, {env.NAME} when it is loaded.
var placeholder = regexp.MustCompile(`\{\$([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}|\{env\.([A-Za-z_][A-Za-z0-9_]*)\}`)

// caddyfileVars maps each variable of a Caddyfile to its default ("" when
// it has none).
func caddyfileVars(t *testing.T, path string) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for _, m := range placeholder.FindAllStringSubmatch(read(t, path), -1) {
		if m[1] != "" {
			vars[m[1]] = m[2]
		} else if _, ok := vars[m[3]]; !ok {
			vars[m[3]] = ""
		}
	}
	return vars
}

// envChecker says whether a process reads a variable.
type envChecker struct {
	known []string
	edge  map[string]string // the edge's Caddyfile variables
}

func newEnvChecker(t *testing.T) *envChecker {
	t.Helper()
	for name, file := range serverOther {
		if !strings.Contains(read(t, file), `"`+name+`"`) {
			t.Fatalf("%s no longer reads %s: update serverOther", file, name)
		}
	}
	return &envChecker{known: config.KnownKeys(), edge: caddyfileVars(t, orchestratedCaddyfile)}
}

// server: a Cesivi setting (or its _FILE twin) or one of serverOther.
func (c *envChecker) server(name string) bool {
	_, other := serverOther[name]
	return other || config.IsKnownVariable(name, c.known)
}

// edge: the edge reads the servers' settings (config.Load) and its
// Caddyfile's variables, plus Caddy's XDG directories.
func (c *envChecker) edgeVar(name string) bool {
	_, ok := c.edge[name]
	return ok || c.server(name) || name == "XDG_DATA_HOME" || name == "XDG_CONFIG_HOME"
}

// Secret settings: their values must come from files or secret stores.
var secretSetting = regexp.MustCompile(`(?i)(ConnectionString|MasterKey|Password|SECRET)$`)

// plainSecret finds a password written in a value.
var plainSecret = regexp.MustCompile(`(?i)(password|pwd)=([^;,$]+)`)

// checkNoPlainSecret fails when a secret setting has a literal value, or
// any value carries a password.
func checkNoPlainSecret(t *testing.T, where, name, value string) {
	t.Helper()
	if secretSetting.MatchString(name) && value != "" && !strings.HasPrefix(value, "${") {
		t.Errorf("%s: %s is set in plain text; use %s_FILE or a secret reference", where, name, name)
	}
	if m := plainSecret.FindStringSubmatch(value); m != nil && !strings.HasPrefix(m[2], "${") && m[2] != "…" && m[2] != "..." {
		t.Errorf("%s: %s carries a password in plain text", where, name)
	}
}

// dockerfileFacts are what the images promise.
type dockerfileFacts struct {
	serverBinary string   // where Dockerfile.server installs cesivi-server
	edgeBinary   string   // where Dockerfile.edge installs cesivi-edge
	serverPort   string   // its EXPOSE, which must be the Address port
	edgeConfig   string   // the Caddyfile path the edge image runs
	edgePorts    []string // Dockerfile.edge's EXPOSE
}

func imageFacts(t *testing.T) dockerfileFacts {
	t.Helper()
	server, edge := read(t, "Dockerfile.server"), read(t, "Dockerfile.edge")
	var f dockerfileFacts
	if m := regexp.MustCompile(`COPY --from=build /out/cesivi-server (\S+)`).FindStringSubmatch(server); m != nil {
		f.serverBinary = m[1]
	}
	if m := regexp.MustCompile(`(?m)^EXPOSE (\d+)$`).FindStringSubmatch(server); m != nil {
		f.serverPort = m[1]
	}
	if !strings.Contains(server, "ENV Cesivi__Server__Address=:"+f.serverPort) {
		t.Fatalf("Dockerfile.server exposes %s but does not listen there", f.serverPort)
	}
	if m := regexp.MustCompile(`COPY --from=build /out/cesivi-edge (\S+)`).FindStringSubmatch(edge); m != nil {
		f.edgeBinary = m[1]
	}
	if m := regexp.MustCompile(`"--config", "([^"]+)"`).FindStringSubmatch(edge); m != nil {
		f.edgeConfig = m[1]
	}
	if m := regexp.MustCompile(`(?m)^EXPOSE (.+)$`).FindStringSubmatch(edge); m != nil {
		f.edgePorts = strings.Fields(m[1])
	}
	if f.serverBinary == "" || f.edgeBinary == "" || f.edgeConfig == "" || len(f.edgePorts) != 2 {
		t.Fatalf("cannot read the images' facts: %+v", f)
	}
	// The health check command exists.
	if !strings.Contains(read(t, "../cmd/cesivi-server/main.go"), `case "healthcheck":`) {
		t.Fatal("cesivi-server has no healthcheck command")
	}
	if !strings.Contains(read(t, "../caddymodule/healthcmd.go"), `Name:  "health",`) {
		t.Fatal("cesivi-edge has no health command")
	}
	// Its default URL is on the image's HTTP port (CESIVI_HTTP_PORT unset).
	if !strings.Contains(read(t, "../internal/edgehealth/edgehealth.go"), `port = "`+f.edgePorts[0]+`"`) {
		t.Fatalf("cesivi-edge health does not default to the edge image's HTTP port %s", f.edgePorts[0])
	}
	return f
}

// edgeHealthCommand is how a recipe runs the edge image's own check.
func (f dockerfileFacts) edgeHealthCommand() []string {
	return []string{f.edgeBinary, "health"}
}

// healthcheckCommand is how a recipe runs the image's own check (no curl in
// a distroless image).
func (f dockerfileFacts) healthcheckCommand() []string {
	return []string{f.serverBinary, "healthcheck"}
}

// sampleSecrets stand for the secret settings' values when a recipe is
// loaded: plausible, so the gates parse real-looking connection strings.
var sampleSecrets = map[string]string{
	"Cesivi__DistributedState__ConnectionString": "redis.example:6380,password=x,ssl=true,abortConnect=false",
	"Cesivi__Storage__ConnectionString":          "Host=pg.example;Database=cesivi;Username=cesivi;Password=x",
	"Cesivi__DataProtection__MasterKey":          "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
}

// loadAsServer runs the server's configuration loading and start-up gates
// on a recipe's environment, with every _FILE pointing at a file holding a
// plausible value (so the gates parse real-looking connection strings),
// and fails when the server would refuse to start.
func loadAsServer(t *testing.T, where string, env map[string]string) *config.Settings {
	t.Helper()
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets")
	if err := os.Mkdir(secrets, 0o700); err != nil {
		t.Fatal(err)
	}
	environ := []string{"CESIVI_SECRETS_DIR=" + secrets}
	for name, value := range env {
		if base, ok := strings.CutSuffix(name, "_FILE"); ok && strings.HasPrefix(name, "Cesivi__") {
			v, ok := sampleSecrets[base]
			if !ok {
				t.Errorf("%s: no sample value for %s", where, name)
				continue
			}
			file := filepath.Join(dir, strings.ReplaceAll(filepath.Base(value), "/", "_"))
			if err := os.WriteFile(file, []byte(v+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			value = file
		}
		environ = append(environ, name+"="+value)
	}
	s, err := config.Load(dir, environ)
	if err == nil {
		err = s.Validate()
	}
	if err != nil {
		t.Fatalf("%s: the server refuses this configuration: %v", where, err)
	}
	return s
}

func parseYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(read(t, path)), &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}

// at walks a decoded YAML/JSON document: at(doc, "services", "spm-edge").
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}

func strs(v any) []string {
	var out []string
	for _, x := range asList(v) {
		out = append(out, str(x))
	}
	return out
}

func asList(v any) []any { l, _ := v.([]any); return l }

func duration(t *testing.T, where, v string) time.Duration {
	t.Helper()
	d, err := config.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s: %q: %v", where, v, err)
	}
	return d
}

// graceNeeded is what a server needs between SIGTERM and SIGKILL.
func graceNeeded(s *config.Settings) time.Duration {
	return s.Server.ShutdownDelay + s.Server.ShutdownTimeout
}

// runIfPresent runs an orchestrator's client on a recipe when it is
// installed, or says it skipped.
func runIfPresent(t *testing.T, env []string, name string, args ...string) {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (Debian: apt-get install %s); only the static checks ran", name, name)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// adaptCaddyfile adapts a Caddyfile with the edge's own modules, as
// `cesivi-edge adapt` would, and returns the JSON config.
func adaptCaddyfile(t *testing.T, path string, env map[string]string) map[string]any {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	body, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(read(t, path)), map[string]any{"filename": path})
	if err != nil {
		t.Fatalf("%s does not adapt: %v", path, err)
	}
	for _, w := range warnings {
		t.Errorf("%s: %s", path, w.String())
	}
	var cfg map[string]any
	if err := json.Unmarshal(body, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func mustContain(t *testing.T, where string, list []string, want string) {
	t.Helper()
	if !slices.Contains(list, want) {
		t.Errorf("%s: %q not in %q", where, want, list)
	}
}
