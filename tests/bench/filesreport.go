package bench

import (
	"fmt"
	"runtime"
	"strings"
	"time"
)

// The bars of issue 9: through the edge, at least half the throughput of
// copying straight into the blob store; and no app server growing by more
// than 32 MiB while the clients move their large files.
const (
	FilesRatioBar  = 0.5
	FilesGrowthBar = 32 << 20
)

// FilesMarkdown is the files section of docs/benchmarks.md.
func FilesMarkdown(results []FilesResult, opt FilesOptions, day time.Time) string {
	opt = opt.withDefaults()
	var b strings.Builder
	fmt.Fprintf(&b, "# File benchmarks\n\nWritten by `make bench` (%s). Document library content through an edge (`Caddyfile.example`: round robin over %d app servers) of a PostgreSQL farm, once per blob provider, on this machine (%d CPUs), client included. An upload is one `files/addUsingPath` with the whole body, a download one `$value`, one at a time, with a bearer token. The baseline, in the same round, is this process copying the same number of bytes straight into the same blob store (`Put`; `Open` and `io.Copy` for downloads): Database into the farm's PostgreSQL, SharedDirectory into the farm's directory. The plain hop, also in the same round, is that store behind the smallest HTTP server (`Put` of the body; `Open` and `http.ServeContent`) behind plain Caddy `reverse_proxy` in the same `cesivi-edge` binary: what two loopback HTTP hops cost on this machine whoever serves, so that edge ÷ plain hop is what Cesivi itself costs (sign-in, assertion, the SharePoint call, the metadata transaction). Ratios are taken round by round (the three take turns going first) and the median of %d rounds is reported; a %s round moves %d files one after another. Every file's content is random and unique, so nothing is compressed or stored once for two files. The bar (issue 9) is edge ÷ baseline ≥ %.1f.\n\n",
		day.UTC().Format("2006-01-02"), opt.Servers, runtime.NumCPU(), opt.Rounds, sizeName(opt.SmallSize), opt.SmallRepeats, FilesRatioBar)
	fmt.Fprintf(&b, "| provider | transfer | edge ÷ baseline | edge ÷ plain hop | edge MiB/s | plain hop MiB/s | baseline MiB/s | rounds (edge ÷ baseline) |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		for _, t := range r.Transfers {
			what := "download"
			if t.Upload {
				what = "upload"
			}
			rounds := make([]string, 0, len(t.Ratios()))
			for _, x := range t.Ratios() {
				rounds = append(rounds, fmt.Sprintf("%.2f", x))
			}
			ratio := Median(t.Ratios())
			fmt.Fprintf(&b, "| %s | %s %s | %.2f%s | %.2f | %.0f | %.0f | %.0f | %s |\n", r.Provider, what, sizeName(t.Size),
				ratio, belowBar(ratio < FilesRatioBar), Median(t.HopRatios()),
				Median(t.Edge)/(1<<20), Median(t.Hop)/(1<<20), Median(t.Raw)/(1<<20), strings.Join(rounds, ", "))
		}
	}
	if len(results) == 0 {
		return b.String()
	}
	fmt.Fprintf(&b, "\nMemory: %d clients at once each upload a %s file through the edge and then download it, on servers that have moved nothing larger than %s before; each server's resident set (VmRSS) is sampled every 10 ms, and VmHWM read at the end catches a peak between samples. Growth is the peak above the RSS the load started with; the bar is %d MiB per server. Transfers counts the load's requests the server answered.\n\n",
		results[0].Clients, sizeName(results[0].LargeSize), sizeName(opt.SmallSize), FilesGrowthBar>>20)
	fmt.Fprintf(&b, "| provider | server | transfers | RSS before MiB | peak MiB | growth MiB | load took |\n|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		for _, s := range r.Servers {
			fmt.Fprintf(&b, "| %s | %s | %d | %.1f | %.1f | %.1f%s | %v |\n", r.Provider, s.Name, s.Requests,
				mibs(s.Before), mibs(s.Peak), mibs(s.Growth()), belowBar(s.Growth() > FilesGrowthBar), r.LoadElapsed.Round(100*time.Millisecond))
		}
	}
	return b.String()
}

// belowBar marks a figure that misses its bar.
func belowBar(missed bool) string {
	if missed {
		return " (misses the bar)"
	}
	return ""
}

func mibs(n int64) float64 { return float64(n) / (1 << 20) }
