// Package docker holds the container files. No Docker engine runs where the
// tests run, so these tests check the files statically against the code they
// package: the programs they build exist, the ports and names are the
// seed's, no secret is written in them, and every server is configured as a
// farm member.
package docker

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDockerfilesBuildPackagesThatExist(t *testing.T) {
	goMod := read(t, "../go.mod")
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(goMod)
	if goVersion == nil {
		t.Fatal("go.mod has no go directive")
	}
	build := regexp.MustCompile(`go build .* (\./cmd/[a-z-]+)`)
	for _, name := range []string{"Dockerfile.server", "Dockerfile.edge"} {
		df := read(t, name)
		m := build.FindStringSubmatch(df)
		if m == nil {
			t.Fatalf("%s: no go build of a ./cmd package", name)
		}
		main := filepath.Join("..", m[1], "main.go")
		if !strings.Contains(read(t, main), "package main") {
			t.Errorf("%s builds %s, which is not a main package", name, m[1])
		}
		if !strings.Contains(df, "FROM golang:"+goVersion[1]) {
			t.Errorf("%s does not build with Go %s as go.mod requires", name, goVersion[1])
		}
		if !strings.Contains(df, "USER nonroot") {
			t.Errorf("%s runs as root", name)
		}
	}
	server := read(t, "Dockerfile.server")
	if !strings.Contains(server, `HEALTHCHECK`) || !strings.Contains(server, `"cesivi-server", "healthcheck"`) && !strings.Contains(server, `cesivi-server", "healthcheck"`) {
		t.Error("Dockerfile.server has no HEALTHCHECK using cesivi-server healthcheck")
	}
	edge := read(t, "Dockerfile.edge")
	if !strings.Contains(edge, `HEALTHCHECK`) || !strings.Contains(edge, `/cesivi-edge", "health"]`) {
		t.Error("Dockerfile.edge has no HEALTHCHECK using cesivi-edge health")
	}
	if !strings.Contains(edge, "COPY Caddyfile.example ") {
		t.Error("Dockerfile.edge does not ship Caddyfile.example")
	}
}

func TestComposeIsTheSeedsTopology(t *testing.T) {
	c := read(t, "docker-compose.multiserver.yml")
	for i, port := range []string{"5001", "5002", "5003"} {
		name := "spm-server-" + string(rune('1'+i))
		if !strings.Contains(c, "\n  "+name+":\n") {
			t.Errorf("no service %s", name)
		}
		if !strings.Contains(c, `"`+port+`:5000"`) {
			t.Errorf("%s is not published on %s", name, port)
		}
		if !strings.Contains(c, "Cesivi__Farm__ServerId: "+name) {
			t.Errorf("%s has no ServerId of its own", name)
		}
		if !strings.Contains(c, "spm-server-"+string(rune('1'+i))+":5000") {
			t.Errorf("the edge does not balance to %s", name)
		}
	}
	for _, want := range []string{
		`"8080:8080"`,
		"Cesivi__DistributedState__Provider: Redis",
		"Cesivi__Storage__Provider: PostgreSQL",
		`Cesivi__Farm__Enabled: "true"`,
		`"--appendonly", "yes"`,
	} {
		if !strings.Contains(c, want) {
			t.Errorf("compose file lacks %s", want)
		}
	}
	// Every password comes from the environment, never from the file.
	secret := regexp.MustCompile(`(?i)password(?:=|:\s+)(\S+)`)
	for _, line := range strings.Split(c, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, m := range secret.FindAllStringSubmatch(line, -1) {
			if !strings.HasPrefix(m[1], "${") {
				t.Errorf("a password is written in the compose file: %s", m[0])
			}
		}
	}
	// Seed names used by its troubleshooting commands.
	for _, name := range []string{"spm-redis", "spm-network"} {
		if !strings.Contains(c, name) {
			t.Errorf("compose file lacks the seed's name %s", name)
		}
	}
}

// Every long-running service gets time to drain after SIGTERM: the
// server's ShutdownDelay plus ShutdownTimeout (30s by default). Compose's
// default of 10s would kill it mid-request.
func TestComposeGracePeriodCoversTheShutdown(t *testing.T) {
	if err := checkGracePeriods(read(t, "docker-compose.multiserver.yml")); err != nil {
		t.Error(err)
	}
	// The check fails on the mistakes it is there for.
	for name, bad := range map[string]string{
		"missing":   "x-server: &server\n  image: a\nservices:\n  spm-edge:\n    image: b\n",
		"too short": "x-server: &server\n  stop_grace_period: 10s\n  image: a\nservices:\n  spm-edge:\n    stop_grace_period: 10s\n",
	} {
		if checkGracePeriods(bad) == nil {
			t.Errorf("%s grace period passed the check", name)
		}
	}
}

func checkGracePeriods(c string) error {
	const need = 35 * time.Second // ShutdownDelay 5s + ShutdownTimeout 30s
	m := regexp.MustCompile(`(?m)^  (?:  )?stop_grace_period: (\S+)$`).FindAllStringSubmatch(c, -1)
	if len(m) < 2 {
		return fmt.Errorf("%d stop_grace_period entries, want one for the servers and one for the edge", len(m))
	}
	for _, g := range m {
		d, err := time.ParseDuration(g[1])
		if err != nil || d < need {
			return fmt.Errorf("stop_grace_period %s, want at least %s", g[1], need)
		}
	}
	return nil
}
