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
	l := NewLoader(url, header, conns)
	defer l.Close()
	if err := l.Warm(ctx); err != nil {
		return Result{}, err
	}
	return l.Run(ctx, d).Result(), nil
}

// Loader is a closed-loop load on one target whose connections outlive a
// run: interleaved slices of load on several targets then measure the
// targets, not their connection set-up.
type Loader struct {
	url    string
	header http.Header
	conns  int
	tr     *http.Transport
	client *http.Client
}

// NewLoader prepares a load of GET url over conns keep-alive connections.
func NewLoader(url string, header http.Header, conns int) *Loader {
	tr := &http.Transport{
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		DisableCompression:  true,
	}
	return &Loader{url: url, header: header, conns: conns, tr: tr, client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// Close closes the connections.
func (l *Loader) Close() { l.tr.CloseIdleConnections() }

// Warm opens the connections (one request on each, conns at once), so a
// run measures steady state.
func (l *Loader) Warm(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, l.conns)
	for range l.conns {
		wg.Go(func() {
			if err := once(ctx, l.client, l.url, l.header); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fmt.Errorf("warm-up against %s: %w", l.url, err)
	}
	return nil
}

// Samples is what runs of a Loader answered: their latencies, errors and
// wall time, which add up over several runs.
type Samples struct {
	Latencies []time.Duration
	Errors    int
	Elapsed   time.Duration
}

// Add appends o's samples to s.
func (s *Samples) Add(o Samples) {
	s.Latencies = append(s.Latencies, o.Latencies...)
	s.Errors += o.Errors
	s.Elapsed += o.Elapsed
}

// Result sums the samples up (it sorts the latencies).
func (s Samples) Result() Result {
	slices.Sort(s.Latencies)
	r := Result{Requests: len(s.Latencies), Errors: s.Errors, Elapsed: s.Elapsed}
	if n := len(s.Latencies); n > 0 {
		r.P50 = s.Latencies[n/2]
		r.P99 = s.Latencies[n*99/100]
	}
	return r
}

// Run loads the target for d: each connection sends its next request as
// soon as the previous answer is read, and after d lets its last request
// finish rather than cancel it (a cancelled request would close its
// connection, and the next run would pay for a new one). Non-2xx answers
// count as errors.
func (l *Loader) Run(ctx context.Context, d time.Duration) Samples {
	var (
		mu  sync.Mutex
		out Samples
		wg  sync.WaitGroup
	)
	start := time.Now()
	end := start.Add(d)
	for range l.conns {
		wg.Go(func() {
			local := make([]time.Duration, 0, 1024)
			localErrs := 0
			for ctx.Err() == nil && time.Now().Before(end) {
				t0 := time.Now()
				if err := once(ctx, l.client, l.url, l.header); err != nil {
					if ctx.Err() == nil {
						localErrs++
					}
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			out.Latencies = append(out.Latencies, local...)
			out.Errors += localErrs
			mu.Unlock()
		})
	}
	wg.Wait()
	out.Elapsed = time.Since(start)
	return out
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
