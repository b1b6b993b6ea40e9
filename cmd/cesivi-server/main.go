// Command cesivi-server is the Cesivi app server.
//
//	cesivi-server [serve]        run the server (default)
//	cesivi-server healthcheck    exit 0 when the local server answers healthy
//	cesivi-server version        print the build version
//
// Configuration: built-in defaults, appsettings.json, then
// appsettings.{Environment}.json from the configuration directory (-config-dir,
// CESIVI_CONFIG_DIR, default the working directory), then Cesivi__* and
// Logging__* environment variables. See docs/configuration.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cesivi/cesivi/appserver"
	"github.com/cesivi/cesivi/internal/config"
	"github.com/cesivi/cesivi/internal/logging"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	if sub, ok := subcommands[cmd]; ok {
		return sub.run(args, stdout, stderr)
	}
	switch cmd {
	case "serve":
		return serve(args, stderr)
	case "healthcheck":
		return healthcheck(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, version())
		return 0
	case "help":
		fmt.Fprintf(stdout, "usage: cesivi-server [%s] [-config-dir DIR]\n", strings.Join(commandNames(), "|"))
		return 0
	}
	fmt.Fprintf(stderr, "cesivi-server: unknown command %q (%s)\n", cmd, strings.Join(commandNames(), ", "))
	return 2
}

// subcommand is an administration command living in a file of its own
// (keyring.go, sessions.go) that registers itself from init.
type subcommand struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

var subcommands = map[string]subcommand{}

func commandNames() []string {
	names := []string{"serve", "healthcheck", "version"}
	for name := range subcommands {
		names = append(names, name)
	}
	sort.Strings(names[3:])
	return names
}

// loadSettings reads the layered configuration. Problems are returned as
// one line each; they never contain a secret (config.Error guarantees it).
func loadSettings(fs *flag.FlagSet, args []string) (*config.Settings, error) {
	s, _, err := loadSettingsDir(fs, args)
	return s, err
}

// loadSettingsDir is loadSettings that also returns the configuration
// directory, for re-reading it on SIGHUP.
func loadSettingsDir(fs *flag.FlagSet, args []string) (*config.Settings, string, error) {
	def := os.Getenv("CESIVI_CONFIG_DIR")
	if def == "" {
		def = "."
	}
	dir := fs.String("config-dir", def, "directory holding appsettings.json")
	if err := fs.Parse(args); err != nil {
		return nil, "", err
	}
	s, err := config.Load(*dir, os.Environ())
	return s, *dir, err
}

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	settings, dir, err := loadSettingsDir(fs, args)
	if err == nil {
		err = settings.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server: configuration: %v\n", err)
		return 1
	}
	logs, err := newLogs(settings, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server: configuration: %v\n", err)
		return 1
	}
	defer logs.Close()
	log := logs.Logger("Cesivi.Server")
	for _, w := range settings.Logging.Warnings {
		log.Warn(w)
	}
	// SIGHUP re-reads the settings and applies their log levels; the
	// default action of SIGHUP (exit) would otherwise stop the server.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer func() { signal.Stop(hup); close(hup) }()
	go func() {
		for range hup {
			reloadLevels(dir, os.Environ(), logs, log)
		}
	}()
	// go-redis reports dial failures through a process-wide logger; send them
	// to a category of ours so they share the format and can be silenced.
	redis.SetLogger(logging.PrintfLogger{Logger: logs.Logger("Cesivi.Server.Redis"), Level: slog.LevelWarn})
	log.Info("configuration loaded", "environment", settings.Environment, "files", settings.Files)

	srv, err := appserver.New(settings, logs)
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server: %v\n", err)
		return 1
	}
	defer srv.Close()

	ln, err := net.Listen("tcp", settings.Server.Address)
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server: Cesivi:Server:Address: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := srv.Serve(ctx, ln); err != nil {
		log.Error("server stopped with an error", "error", err)
		return 1
	}
	return 0
}

// newLogs makes the log factory: Serilog:WriteTo's sinks when there are
// any (the Console sink writes to stderr, like the default), else the
// console in Logging:Console:FormatterName.
func newLogs(s *config.Settings, stderr io.Writer) (*logging.Factory, error) {
	if len(s.Logging.Sinks) > 0 {
		return logging.NewSinks(s.Logging.Sinks, logging.Options{Console: stderr}, s.Logging.LogLevel)
	}
	return logging.New(stderr, s.Logging.Format, s.Logging.LogLevel)
}

// reloadLevels re-reads the settings in dir and environ and gives their
// log levels (Logging:LogLevel and Serilog:MinimumLevel) to every logger.
// Only the levels change: sinks, formats and every other setting need a
// restart. Settings that no longer load leave the levels as they were; the
// error names the key, never a value (config.Error).
func reloadLevels(dir string, environ []string, logs *logging.Factory, log *slog.Logger) {
	s, err := config.Load(dir, environ)
	if err == nil {
		err = logs.SetLevels(s.Logging.LogLevel)
	}
	if err != nil {
		log.Warn("log levels not reloaded", "error", err)
		return
	}
	log.Info("log levels reloaded", "files", s.Files)
}

// healthcheck is for container HEALTHCHECKs on images without curl. It asks
// /health/live by default, not /health: /health fails on every server at
// once while Redis or PostgreSQL is down, and an orchestrator that restarts
// unhealthy containers would then restart the whole farm for an outage a
// restart cannot fix. Readiness (/health/ready) is for load balancers.
func healthcheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "health URL (default http://127.0.0.1:<port of Cesivi:Server:Address>/health/live)")
	settings, err := loadSettings(fs, args)
	if err != nil {
		fmt.Fprintf(stderr, "cesivi-server: configuration: %v\n", err)
		return 1
	}
	target := *url
	if target == "" {
		target, err = localHealthURL(settings.Server.Address)
		if err != nil {
			fmt.Fprintf(stderr, "cesivi-server: Cesivi:Server:Address: %v\n", err)
			return 1
		}
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(target)
	if err != nil {
		fmt.Fprintf(stderr, "unhealthy: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "unhealthy: %s answered %d\n%s", target, resp.StatusCode, body)
		return 1
	}
	fmt.Fprintf(stdout, "%s", body)
	return 0
}

// localHealthURL turns a listen address into the liveness URL on this host:
// a wildcard or empty host is reached through the loopback address.
func localHealthURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/health/live", nil
}

func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "cesivi-server (unknown version)"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return "cesivi-server " + v + " " + info.GoVersion
}
