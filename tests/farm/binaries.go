package farm

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

type binaries struct {
	server, edge, devidp string
}

// programs maps each binary to the package it is built from.
var programs = map[string]string{
	"cesivi-server": "./cmd/cesivi-server",
	"cesivi-edge":   "./cmd/cesivi-edge",
	"cesivi-devidp": "./internal/testenv/cmd/devidp",
}

// findBinaries uses dir when it holds every program; otherwise it builds the
// missing ones into dir (or into stateDir/bin). go build is incremental, so
// rebuilding an unchanged program costs a second or two.
func findBinaries(ctx context.Context, dir, stateDir string) (binaries, error) {
	if dir == "" {
		dir = os.Getenv("CESIVI_BIN")
	}
	if dir == "" {
		dir = filepath.Join(stateDir, "bin")
	}
	for name, pkg := range programs {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err == nil {
			continue
		}
		if err := Build(ctx, pkg, path); err != nil {
			return binaries{}, err
		}
	}
	return binaries{
		server: filepath.Join(dir, "cesivi-server"),
		edge:   filepath.Join(dir, "cesivi-edge"),
		devidp: filepath.Join(dir, "cesivi-devidp"),
	}, nil
}

// BuildAll builds every program of the farm into dir.
func BuildAll(ctx context.Context, dir string) error {
	for name, pkg := range programs {
		if err := Build(ctx, pkg, filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

var buildMu sync.Mutex

// Build compiles the module's package pkg ("./cmd/cesivi-server") to out.
func Build(ctx context.Context, pkg, out string) error {
	buildMu.Lock()
	defer buildMu.Unlock()
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// moduleRoot is the directory of the module's go.mod.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the cesivi module (run from the repository)")
	}
	return filepath.Dir(gomod), nil
}
