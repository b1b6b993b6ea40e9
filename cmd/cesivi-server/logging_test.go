package main

import (
	"bytes"
	"context"
	"log/slog"
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

// waitFor polls cond until it holds or 15 s pass.
func waitFor(t *testing.T, what string, cond func() bool, dump func() string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s never happened:\n%s", what, dump())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func writeSettings(t *testing.T, dir, json string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "appsettings.json"), []byte(json), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestReloadLevelsAppliesNewLevelsAndKeepsOldOnError(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	logs, err := logging.New(&buf, "simple", map[string]string{"Default": "Warning"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cache := logs.Logger("Cesivi.Server.Authorization.DistributedUserContextCache")
	log := logs.Logger("Cesivi.Server")

	writeSettings(t, dir, `{"Serilog":{"MinimumLevel":{"Default":"Warning","Override":{"Cesivi.Server.Authorization":"Debug"}}}}`)
	reloadLevels(dir, nil, logs, log)
	if !cache.Enabled(ctx, slog.LevelDebug) || log.Enabled(ctx, slog.LevelInfo) {
		t.Fatalf("after reload: cache debug %v, server info %v; want true, false", cache.Enabled(ctx, slog.LevelDebug), log.Enabled(ctx, slog.LevelInfo))
	}

	writeSettings(t, dir, `{"Serilog":{"MinimumLevel":{"Default":"Chatty"}}}`)
	reloadLevels(dir, nil, logs, log)
	if !cache.Enabled(ctx, slog.LevelDebug) {
		t.Error("settings that do not load must leave the levels as they were")
	}
	if !strings.Contains(buf.String(), "log levels not reloaded") || !strings.Contains(buf.String(), "Serilog:MinimumLevel:Default") {
		t.Errorf("want a warning naming the key:\n%s", buf.String())
	}
}

// A real server: SIGHUP after editing appsettings.json changes its levels.
func TestSIGHUPReloadsLogLevels(t *testing.T) {
	bin := serverBinary(t)
	dir := t.TempDir()
	writeSettings(t, dir, `{"Serilog":{"MinimumLevel":{"Default":"Warning"}}}`)
	addr := freeAddr(t)
	var logs testenv.LogBuffer
	srv := exec.Command(bin, "serve", "-config-dir", dir)
	srv.Env = []string{"PATH=" + os.Getenv("PATH"), "Cesivi__Server__Address=" + addr, "Cesivi__DataProtection__KeysPath=" + t.TempDir()}
	srv.Dir, srv.Stderr = t.TempDir(), &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	t.Cleanup(func() { _ = srv.Process.Kill(); <-exited })

	waitFor(t, "the server listening", func() bool {
		cmd := exec.Command(bin, "healthcheck")
		cmd.Env, cmd.Dir = []string{"Cesivi__Server__Address=" + addr}, t.TempDir()
		return cmd.Run() == nil
	}, logs.String)
	if strings.Contains(logs.String(), "configuration loaded") {
		t.Fatalf("an Information line with Default=Warning:\n%s", logs.String())
	}

	writeSettings(t, dir, `{"Serilog":{"MinimumLevel":{"Default":"Information"}}}`)
	if err := srv.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reload logged at Information", func() bool { return strings.Contains(logs.String(), "log levels reloaded") }, logs.String)
	select {
	case err := <-exited:
		t.Fatalf("SIGHUP stopped the server: %v", err)
	default:
	}
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no exit within 15 s of SIGTERM")
	}
}
