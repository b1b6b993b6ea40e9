package docker

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ecsTask reads a task definition strictly: valid JSON, one container.
func ecsTask(t *testing.T, path string) (task, ctr map[string]any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(read(t, path))))
	if err := dec.Decode(&task); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if str(task["networkMode"]) != "awsvpc" || !slices.Equal(strs(task["requiresCompatibilities"]), []string{"FARGATE"}) {
		t.Errorf("%s is not a Fargate task (awsvpc, FARGATE)", path)
	}
	// Fargate accepts these sizes only (CPU units -> memory MiB range).
	cpu, _ := strconv.Atoi(str(task["cpu"]))
	mem, _ := strconv.Atoi(str(task["memory"]))
	sizes := map[int][2]int{256: {512, 2048}, 512: {1024, 4096}, 1024: {2048, 8192}, 2048: {4096, 16384}, 4096: {8192, 30720}}
	if r, ok := sizes[cpu]; !ok || mem < r[0] || mem > r[1] || mem%1024 != 0 && mem != 512 {
		t.Errorf("%s: cpu %d with memory %d is no Fargate size", path, cpu, mem)
	}
	// Secrets Manager values are fetched with the execution role.
	if !strings.HasPrefix(str(task["executionRoleArn"]), "arn:aws:iam::") {
		t.Errorf("%s has no executionRoleArn, so its secrets cannot be fetched", path)
	}
	cs := asList(task["containerDefinitions"])
	if len(cs) != 1 {
		t.Fatalf("%s: %d containers, want 1", path, len(cs))
	}
	if strings.Contains(read(t, path), "curl") {
		t.Errorf("%s uses curl, which the distroless images do not have", path)
	}
	return task, cs[0].(map[string]any)
}

var secretsManagerARN = regexp.MustCompile(`^arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$`)

// ecsEnv checks a container's environment and secrets and returns them,
// the secrets as their samples.
func ecsEnv(t *testing.T, where string, ctr map[string]any, reads func(string) bool) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for _, e := range asList(ctr["environment"]) {
		name, value := str(at(e, "name")), str(at(e, "value"))
		if !reads(name) {
			t.Errorf("%s: %s is read by no one (misspelt?)", where, name)
		}
		checkNoPlainSecret(t, where, name, value)
		vars[name] = value
	}
	for _, e := range asList(ctr["secrets"]) {
		name, from := str(at(e, "name")), str(at(e, "valueFrom"))
		if !reads(name) {
			t.Errorf("%s: secret %s is read by no one (misspelt?)", where, name)
		}
		if !secretsManagerARN.MatchString(from) {
			t.Errorf("%s: %s comes from %q, not a Secrets Manager ARN", where, name, from)
		}
		if _, dup := vars[name]; dup {
			t.Errorf("%s: %s is both a variable and a secret", where, name)
		}
		vars[name] = sampleSecrets[name]
	}
	return vars
}

func containerPorts(ctr map[string]any) []string {
	var ports []string
	for _, p := range asList(ctr["portMappings"]) {
		ports = append(ports, str(at(p, "containerPort")))
	}
	return ports
}

func TestECSServerTask(t *testing.T) {
	const path = "ecs-task-definition.json"
	task, ctr := ecsTask(t, path)
	f := imageFacts(t)
	env := newEnvChecker(t)
	if str(task["family"]) != "spm-server" || str(ctr["name"]) != "spm-server" {
		t.Errorf("%s is not the seed's spm-server task", path)
	}
	if !strings.HasSuffix(str(ctr["image"]), "cesivi/server:latest") {
		t.Errorf("%s runs %v", path, ctr["image"])
	}
	if p := containerPorts(ctr); !slices.Equal(p, []string{f.serverPort}) {
		t.Errorf("%s maps %v, the server listens on %s", path, p, f.serverPort)
	}
	if hc := strs(at(ctr, "healthCheck", "command")); !slices.Equal(hc, append([]string{"CMD"}, f.healthcheckCommand()...)) {
		t.Errorf("%s health check %q, want the image's %q", path, hc, f.healthcheckCommand())
	}
	vars := ecsEnv(t, path, ctr, env.server)
	for _, name := range []string{"Cesivi__DistributedState__ConnectionString", "Cesivi__Storage__ConnectionString", "Cesivi__DataProtection__MasterKey"} {
		if _, ok := vars[name]; !ok {
			t.Errorf("%s does not set %s", path, name)
		}
	}
	settings := loadAsServer(t, path, vars)
	if !settings.Farm.Enabled || settings.Storage.Provider != "PostgreSQL" || settings.DistributedState.Provider != "Redis" {
		t.Errorf("%s is not a farm member on Redis and PostgreSQL", path)
	}
	if settings.Server.ShutdownDelay == 0 {
		t.Errorf("%s: no ShutdownDelay, so a rolling deployment cuts requests", path)
	}
	// Fargate allows at most 120 s between SIGTERM and SIGKILL.
	stop := time.Duration(atoi(ctr["stopTimeout"])) * time.Second
	if need := graceNeeded(settings); stop <= need || stop > 120*time.Second {
		t.Errorf("%s: stopTimeout %s, the shutdown takes up to %s (Fargate's limit: 120s)", path, stop, need)
	}
}

func TestECSEdgeTask(t *testing.T) {
	const path = "ecs-edge-task-definition.json"
	task, ctr := ecsTask(t, path)
	f := imageFacts(t)
	env := newEnvChecker(t)
	if str(task["family"]) != "spm-edge" || !strings.HasSuffix(str(ctr["image"]), "cesivi/edge:latest") {
		t.Errorf("%s is not the spm-edge task on the edge image", path)
	}
	// ECS mounts no Caddyfile: the image carries the orchestrated one.
	cmd := strs(ctr["command"])
	i := slices.Index(cmd, "--config")
	if i < 0 || i+1 >= len(cmd) {
		t.Fatalf("%s: command %q names no --config", path, cmd)
	}
	if !strings.Contains(read(t, "Dockerfile.edge"), "COPY docker/"+orchestratedCaddyfile+" "+cmd[i+1]+"\n") {
		t.Errorf("%s runs %s, which Dockerfile.edge does not copy from docker/%s", path, cmd[i+1], orchestratedCaddyfile)
	}
	if p := containerPorts(ctr); !slices.Equal(p, f.edgePorts) {
		t.Errorf("%s maps %v, the edge listens on %v", path, p, f.edgePorts)
	}
	vars := ecsEnv(t, path, ctr, env.edgeVar)
	if _, ok := vars["CESIVI_OIDC_CLIENT_SECRET"]; !ok {
		t.Errorf("%s has no client secret", path)
	}
	if _, both := vars["CESIVI_OIDC_CLIENT_SECRET_FILE"]; both {
		t.Errorf("%s sets the client secret both as a variable and a file", path)
	}
	if vars["CESIVI_UPSTREAM_PORT"] != f.serverPort || vars["CESIVI_UPSTREAM_NAME"] == "" {
		t.Errorf("%s does not send to the servers' port %s", path, f.serverPort)
	}
	for name, def := range caddyfileVars(t, orchestratedCaddyfile) {
		if _, set := vars[name]; def == "" && !set {
			t.Errorf("%s leaves %s unset, which the Caddyfile needs", path, name)
		}
	}
	if hc := strs(at(ctr, "healthCheck", "command")); !slices.Equal(hc, append([]string{"CMD"}, f.edgeHealthCommand()...)) {
		t.Errorf("%s health check %q, want the image's %q", path, hc, f.edgeHealthCommand())
	}
	if _, moved := vars["CESIVI_HTTP_PORT"]; moved {
		t.Errorf("%s moves the edge's HTTP port: its health check asks the image's", path)
	}
	if time.Duration(atoi(ctr["stopTimeout"]))*time.Second < 35*time.Second {
		t.Errorf("%s: stopTimeout %v is shorter than the servers' drain", path, ctr["stopTimeout"])
	}
}
