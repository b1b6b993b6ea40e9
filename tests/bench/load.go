// Package bench measures the edge against plain Caddy: a closed-loop HTTP
// load generator (keep-alive connections, each sending its next request as
// soon as the previous answer is read, like wrk) and the interleaved rounds
// that turn its figures into ratios measured in the same run; an open-loop
// generator for latency at a constant rate (openloop.go); the edge
// process's CPU, memory, Redis commands and upstream bytes per request
// (edgestat.go, rss.go, redisstats.go, upstream.go); and the report with
// its charts (edgereport.go, chart.go). The files benchmark is files.go.
package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Result is one load round against one target.
type Result struct {
	Requests int
	Errors   int
	Elapsed  time.Duration
	P50, P99 time.Duration
}

// RPS is answered requests per second.
func (r Result) RPS() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// Load sends GET url over conns keep-alive connections for d, with header
// set on every request, and returns what came back. Non-2xx answers count
// as errors.
func Load(ctx context.Context, url string, header http.Header, conns int, d time.Duration) (Result, error) {
	transport := &http.Transport{
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}

	// Warm the connections so the round measures steady state.
	for range conns {
		if err := once(ctx, client, url, header); err != nil {
			return Result{}, fmt.Errorf("warm-up against %s: %w", url, err)
		}
	}

	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int
		wg        sync.WaitGroup
	)
	start := time.Now()
	for range conns {
		wg.Go(func() {
			local := make([]time.Duration, 0, 4096)
			localErrs := 0
			for ctx.Err() == nil {
				t0 := time.Now()
				if err := once(ctx, client, url, header); err != nil {
					if ctx.Err() == nil {
						localErrs++
					}
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, local...)
			errs += localErrs
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(latencies)
	r := Result{Requests: len(latencies), Errors: errs, Elapsed: elapsed}
	if n := len(latencies); n > 0 {
		r.P50 = latencies[n/2]
		r.P99 = latencies[n*99/100]
	}
	return r, nil
}

func once(ctx context.Context, client *http.Client, url string, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// Comparison is the outcome of interleaved rounds against a baseline and
// a candidate.
type Comparison struct {
	Baseline, Candidate []Result
}

// Ratios returns the candidate's throughput divided by the baseline's for
// each round pair.
func (c Comparison) Ratios() []float64 {
	out := make([]float64, 0, len(c.Baseline))
	for i := range min(len(c.Baseline), len(c.Candidate)) {
		out = append(out, c.Candidate[i].RPS()/c.Baseline[i].RPS())
	}
	return out
}

// Median returns the median of xs (0 for none).
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Interleave runs rounds of baseline then candidate (alternating which goes
// first, so drift in the machine's state falls on both equally).
func Interleave(ctx context.Context, rounds int, run func(ctx context.Context, candidate bool) (Result, error)) (Comparison, error) {
	var c Comparison
	for i := range rounds {
		order := []bool{false, true}
		if i%2 == 1 {
			order = []bool{true, false}
		}
		for _, candidate := range order {
			r, err := run(ctx, candidate)
			if err != nil {
				return c, err
			}
			if candidate {
				c.Candidate = append(c.Candidate, r)
			} else {
				c.Baseline = append(c.Baseline, r)
			}
		}
	}
	return c, nil
}
