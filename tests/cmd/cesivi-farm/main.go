// Command cesivi-farm runs the seed's multi-server topology as local
// processes (`make farm` / `make farm-down`):
//
//	cesivi-farm up   [-bin DIR] [-state DIR] [-redis plain|hardened]
//	                                           start detached, write DIR/farm.json
//	cesivi-farm down [-state DIR]              stop what farm.json lists, remove DIR
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/cesivi/cesivi/tests/farm"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: cesivi-farm up|down [-bin DIR] [-state DIR]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	bin := fs.String("bin", "bin", "directory with cesivi-server, cesivi-edge and cesivi-devidp (missing ones are built)")
	state := fs.String("state", ".farm", "state directory: data, logs, farm.json")
	redisMode := fs.String("redis", "plain", "plain, or hardened: Redis as the seed's \"Redis Security\" section configures it")
	settings := fs.String("settings", "", "an appsettings.json for every server (the seed's Serilog section, say); a File sink under /var/log/spm/ writes to <state>/logs/server-N/")
	_ = fs.Parse(os.Args[2:])
	dir, err := filepath.Abs(*state)
	if err != nil {
		fail(err)
	}
	switch os.Args[1] {
	case "up":
		if *redisMode != "plain" && *redisMode != "hardened" {
			fail(fmt.Errorf("-redis %q: want plain or hardened", *redisMode))
		}
		up(*bin, dir, *redisMode == "hardened", *settings)
	case "down":
		stopped, err := farm.Down(dir)
		if err != nil {
			fail(err)
		}
		if len(stopped) == 0 {
			fmt.Println("no farm was running")
			return
		}
		fmt.Printf("stopped %s; removed %s\n", strings.Join(stopped, ", "), *state)
	default:
		fail(fmt.Errorf("unknown command %q (up, down)", os.Args[1]))
	}
}

func up(bin, dir string, hardenedRedis bool, settings string) {
	if settings != "" {
		abs, err := filepath.Abs(settings)
		if err != nil {
			fail(err)
		}
		settings = abs
	}
	if farm.Running(dir) {
		fail(fmt.Errorf("a farm is already running from %s; run `make farm-down` first", dir))
	}
	if _, err := farm.Down(dir); err != nil { // leftovers of a farm whose processes are gone
		fail(err)
	}
	if abs, err := filepath.Abs(bin); err == nil {
		bin = abs
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Data and logs live in a temporary directory (PostgreSQL runs as its
	// own user when we are root and must be able to reach its data); dir
	// holds farm.json and a link to it.
	stateDir, err := os.MkdirTemp("", "cesivi-farm-")
	if err != nil {
		fail(err)
	}
	f, err := farm.Start(ctx, farm.Options{BinDir: bin, StateDir: stateDir, Detached: true, HardenedRedis: hardenedRedis, ServerSettings: settings})
	if err != nil {
		_ = os.RemoveAll(stateDir)
		fail(err)
	}
	path, err := f.WriteManifest(dir)
	if err != nil {
		_ = f.Stop()
		_ = os.RemoveAll(stateDir)
		fail(err)
	}
	fmt.Println("Cesivi farm is up:")
	for i, e := range f.Edges {
		fmt.Printf("  edge %d      %s\n", i+1, e)
	}
	for i, s := range f.Servers {
		fmt.Printf("  server %d    %s\n", i+1, s)
	}
	fmt.Printf("  redis       %s\n  postgres    %s\n  idp         %s (%s / %s)\n", f.Redis, f.Postgres, f.IdP.Issuer, f.IdP.Username, f.IdP.Password)
	fmt.Printf("  redis-cli   redis-cli %s\n", strings.Join(f.RedisCLI, " "))
	fmt.Printf("  logs        %s\n  manifest    %s\n", filepath.Join(stateDir, "logs"), path)
	if len(f.Edges) > 0 {
		fmt.Printf("Sign in at %s/oauth2/login?rd=/api/session/get as %s; the session works on every edge.\n", f.Edges[0], f.IdP.Username)
	}
	fmt.Println("Stop it with `make farm-down`.")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "cesivi-farm:", err)
	os.Exit(1)
}
