package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// OpenResult is one open-loop run: requests were due at a constant rate
// whatever the answers, and each latency counts from when its request was
// due (OpenLoopLatency), so a server that stalls is charged for the
// queue it causes instead of slowing the generator down with it.
type OpenResult struct {
	Rate float64 // requests per second asked for
	// Latencies of the answered requests, sorted.
	Latencies []time.Duration
	// Errors: non-2xx answers and failed requests. Dropped: requests
	// still unsent or unanswered when the run's grace period ended.
	Errors, Dropped int
}

// Percentile returns the q-quantile (0 < q < 1) of sorted latencies,
// nearest rank (0 for none).
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Merge pools the answers of several runs at one rate, so that a high
// percentile rests on enough requests.
func MergeOpen(rs []OpenResult) OpenResult {
	var out OpenResult
	for _, r := range rs {
		out.Rate = r.Rate
		out.Latencies = append(out.Latencies, r.Latencies...)
		out.Errors += r.Errors
		out.Dropped += r.Dropped
	}
	slices.Sort(out.Latencies)
	return out
}

// dueBy returns how many of the sends of a run that began at start, one
// every interval, are due at now (the first is due at start).
func dueBy(start time.Time, interval time.Duration, now time.Time) int {
	if now.Before(start) {
		return 0
	}
	return int(now.Sub(start)/interval) + 1
}

// OpenLoad sends GET url at rate requests per second for d, over up to
// workers keep-alive connections, with header on every request. A
// request waits for a free connection if none is (that wait is part of
// its latency); whatever is not answered within grace after d is
// dropped.
func OpenLoad(ctx context.Context, url string, header http.Header, rate float64, d time.Duration, workers int, grace time.Duration) (OpenResult, error) {
	if rate <= 0 {
		return OpenResult{}, fmt.Errorf("open-loop rate %v: want > 0", rate)
	}
	transport := &http.Transport{
		MaxIdleConnsPerHost: workers,
		MaxConnsPerHost:     workers,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	for range workers {
		if err := once(ctx, client, url, header); err != nil {
			return OpenResult{}, fmt.Errorf("warm-up against %s: %w", url, err)
		}
	}

	interval := time.Duration(float64(time.Second) / rate)
	total := int(d / interval)
	ctx, cancel := context.WithTimeout(ctx, d+grace)
	defer cancel()
	due := make(chan int, total)
	var (
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, total)
		errs      int
		wg        sync.WaitGroup
	)
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for i := range due {
				err := once(ctx, client, url, header)
				done := time.Now()
				if ctx.Err() != nil {
					return // the rest count as dropped
				}
				mu.Lock()
				if err != nil {
					errs++
				} else {
					latencies = append(latencies, OpenLoopLatency(start, interval, i, done))
				}
				mu.Unlock()
			}
		})
	}
	// The dispatcher releases every send that is due, then sleeps to the
	// next: a late wake-up releases several at once, each still timed
	// from its own due time.
	for sent := 0; sent < total && ctx.Err() == nil; {
		for n := min(dueBy(start, interval, time.Now()), total); sent < n; sent++ {
			due <- sent
		}
		time.Sleep(time.Until(start.Add(time.Duration(sent) * interval)))
	}
	close(due)
	wg.Wait()
	slices.Sort(latencies)
	return OpenResult{Rate: rate, Latencies: latencies, Errors: errs, Dropped: total - len(latencies) - errs}, nil
}
