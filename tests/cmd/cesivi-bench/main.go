// Command cesivi-bench measures the Cesivi edge against plain Caddy
// reverse_proxy in the same binary and the same run (`make bench`):
// three in-memory app servers, one edge process per configuration, and
// interleaved load rounds (edge.go); then document library transfers
// through a PostgreSQL farm against copies straight into its blob store
// (tests/bench/files.go); and writes docs/benchmarks.md with its charts.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"text/template"
	"time"

	"github.com/cesivi/cesivi/tests/bench"
	"github.com/cesivi/cesivi/tests/farm"
)

// The edge configuration differs between baseline and candidates only in
// the handlers line, so the ratio is the cost of those handlers.
var caddyfile = template.Must(template.New("edge").Parse(`{
	{{.Admin}}
	auto_https off
	persist_config off
	storage file_system {{.Storage}}
	log default {
		level ERROR
	}
	{{.Global}}
}
http://:{{.Port}} {
	{{.Handlers}}
	reverse_proxy {{.Upstreams}} {
		lb_policy round_robin
		lb_try_duration 5s
		transport http {
			keepalive 120s
			keepalive_idle_conns_per_host 64
		}
	}
}
`))

func main() {
	var o options
	flag.IntVar(&o.rounds, "rounds", 10, "interleaved rounds")
	flag.DurationVar(&o.dur, "duration", 2*time.Second, "closed-loop load per configuration and round")
	flag.DurationVar(&o.openDur, "open-duration", time.Second, "open-loop run per configuration, rate and round")
	flag.IntVar(&o.conns, "conns", 64, "concurrent keep-alive connections of the closed loop (and most of the open loop)")
	flag.IntVar(&o.signInConns, "signin-conns", 4, "sign-in flows at once")
	flag.IntVar(&o.counted, "counted", 2000, "requests per configuration while Redis commands are counted")
	bin := flag.String("bin", "bin", "directory with cesivi-server and cesivi-edge (missing ones are built)")
	out := flag.String("out", "docs/benchmarks.md", "report file; the charts go next to it (empty: none)")
	flag.StringVar(&o.note, "note", "", "a sentence the report starts with (say the machine was shared)")
	files := flag.Bool("files", true, "also run the document library benchmark")
	flag.Int64Var(&o.began, "began", 0, "when make bench began, in Unix seconds: the report states the whole run's wall time (0: this program's start)")
	flag.DurationVar(&o.goBench, "go-bench", 0, "how long make bench's Go benchmarks took (0: not stated)")
	only := flag.String("only", "", "comma-separated configurations to run ("+specKeys()+"); the baseline is always run (empty: all)")
	flag.StringVar(&o.pprofDir, "pprof", "", "directory for a CPU profile of each edge (<configuration>.pprof), taken over "+
		profileTime.String()+" of the first round's closed loop (which lasts that long); the edges then get Caddy's admin endpoint on a loopback port")
	flag.IntVar(&o.slices, "slices", 8, "turns the configurations take in each round's closed loop (each turn lasts -duration ÷ -slices)")
	flag.BoolVar(&o.pin, "pin", true, "run the edges on a CPU of their own and everything else on the others (needs two CPUs and taskset; see pin.go)")
	flag.Parse()
	if o.slices < 1 {
		fmt.Fprintln(os.Stderr, "cesivi-bench: -slices must be at least 1")
		os.Exit(2)
	}
	var err error
	if o.only, err = selectSpecs(*only); err != nil {
		fmt.Fprintln(os.Stderr, "cesivi-bench:", err)
		os.Exit(2)
	}
	if err := run(*bin, o, *out, *files); err != nil {
		fmt.Fprintln(os.Stderr, "cesivi-bench:", err)
		os.Exit(1)
	}
}

func run(binDir string, o options, out string, withFiles bool) error {
	ctx := context.Background()
	start := time.Now()
	runBegan := start
	if o.began > 0 {
		runBegan = time.Unix(o.began, 0)
	}
	server, edge, err := binaries(ctx, binDir)
	if err != nil {
		return err
	}
	began := time.Now()
	edgeRun, err := runEdge(ctx, server, edge, o)
	if err != nil {
		return err
	}
	edgeRun.Took = time.Since(began)
	fmt.Printf("edge benchmark: %v\n", edgeRun.Took.Round(time.Second))
	var filesPart string
	var filesTook time.Duration
	if withFiles {
		// Document library content through a farm of its own (tests/bench/files.go).
		filesOpt := bench.FilesOptions{BinDir: binDir, Progress: os.Stdout}
		began := time.Now()
		files, err := bench.RunFiles(ctx, filesOpt)
		if err != nil {
			return err
		}
		filesTook = time.Since(began)
		fmt.Printf("file benchmark: %v\n", filesTook.Round(time.Second))
		filesPart = "\n" + bench.FilesMarkdown(files, filesOpt, time.Now())
	}
	// The parts of make bench: what ran before this program (the build
	// and the Go benchmarks, timed by make), then this program's.
	if o.goBench > 0 {
		edgeRun.Phases = append(edgeRun.Phases, bench.Phase{Name: "build", Took: max(start.Sub(runBegan)-o.goBench, 0)},
			bench.Phase{Name: "Go benchmarks", Took: o.goBench})
	} else if o.began > 0 {
		edgeRun.Phases = append(edgeRun.Phases, bench.Phase{Name: "build and Go benchmarks", Took: start.Sub(runBegan)})
	}
	edgeRun.Phases = append(edgeRun.Phases, bench.Phase{Name: "edge benchmark", Took: edgeRun.Took})
	if withFiles {
		edgeRun.Phases = append(edgeRun.Phases, bench.Phase{Name: "file benchmark", Took: filesTook})
	}
	edgeRun.Total = time.Since(runBegan)
	fmt.Printf("until the report: %v (%s)\n", edgeRun.Total.Round(time.Second), bench.PhasesText(edgeRun.Phases))
	charts, err := edgeRun.Charts()
	if err != nil {
		return err
	}
	report := edgeRun.Markdown(charts) + filesPart
	if out == "" {
		fmt.Print(report)
		return nil
	}
	for name, png := range charts {
		if err := os.WriteFile(filepath.Join(filepath.Dir(out), name), png, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(out, []byte(report), 0o644)
}

func binaries(ctx context.Context, binDir string) (server, edge string, err error) {
	if binDir, err = filepath.Abs(binDir); err != nil {
		return
	}
	server, edge = filepath.Join(binDir, "cesivi-server"), filepath.Join(binDir, "cesivi-edge")
	for bin, pkg := range map[string]string{server: "./cmd/cesivi-server", edge: "./cmd/cesivi-edge"} {
		if _, statErr := os.Stat(bin); statErr == nil {
			continue
		}
		if err = farm.Build(ctx, pkg, bin); err != nil {
			return
		}
	}
	return
}
