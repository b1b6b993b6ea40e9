// Package health runs named dependency checks and writes the report in the
// shape Cesivi's users parse (ASP.NET Core health checks as the seed shows):
//
//	{"status":"Healthy","totalDuration":"00:00:00.0234567",
//	 "entries":{"DistributedState":{"status":"Healthy","description":"...",
//	            "data":{"provider":"Redis","connected":true}}}}
//
// Healthy and Degraded answer 200, Unhealthy answers 503, as ASP.NET Core
// maps them, so a probe that only reads the status code behaves the same.
package health

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Status is the outcome of a check or of a whole report.
type Status string

// The three statuses, ordered from best to worst.
const (
	Healthy   Status = "Healthy"
	Degraded  Status = "Degraded"
	Unhealthy Status = "Unhealthy"
)

func (s Status) worse(than Status) bool { return rank(s) > rank(than) }

func rank(s Status) int {
	switch s {
	case Healthy:
		return 0
	case Degraded:
		return 1
	}
	return 2
}

// Entry is one check's result.
type Entry struct {
	Status      Status         `json:"status"`
	Description string         `json:"description"`
	Data        map[string]any `json:"data"`
}

// Report is the whole answer of a health endpoint.
type Report struct {
	Status        Status           `json:"status"`
	TotalDuration string           `json:"totalDuration"`
	Entries       map[string]Entry `json:"entries"`
}

// Check is a named probe of one dependency. Run must honour ctx's deadline
// and report failures in the Entry (Unhealthy), not by blocking.
type Check struct {
	Name string
	Run  func(ctx context.Context) Entry
	// Local marks a check that reads only the process's own memory: it
	// runs on every call, never from the Runner's cache (it costs no
	// dependency anything, and its news — a rotated key — is at once).
	Local bool
}

// Runner runs checks concurrently, each bounded by Timeout.
type Runner struct {
	Checks  []Check
	Timeout time.Duration // per check; default 2s
	// CacheFor, when positive, serves the results of a run to every call
	// for this long instead of running the checks again, and lets one run
	// at a time: many probes (several load balancers, anonymous clients
	// through the edges) then cost the dependencies one check per period.
	CacheFor time.Duration

	mu   sync.Mutex
	last runResult
}

// runResult is one run of every check.
type runResult struct {
	at       time.Time
	entries  []Entry
	duration time.Duration
}

// Run executes every check and folds the statuses. When degradeOnly is
// set, an Unhealthy dependency makes the report Degraded instead: the
// process itself is fine, only what it depends on is not.
func (r *Runner) Run(ctx context.Context, degradeOnly bool) Report {
	res := r.results(ctx)
	if r.CacheFor > 0 {
		res.entries = slices.Clone(res.entries)
		for i, c := range r.Checks {
			if c.Local {
				res.entries[i] = runOne(ctx, c)
			}
		}
	}
	rep := Report{Status: Healthy, Entries: make(map[string]Entry, len(res.entries))}
	for i, e := range res.entries {
		if degradeOnly && e.Status == Unhealthy {
			e.Status = Degraded
		}
		rep.Entries[r.Checks[i].Name] = e
		if e.Status.worse(rep.Status) {
			rep.Status = e.Status
		}
	}
	rep.TotalDuration = FormatTimeSpan(res.duration)
	return rep
}

// results runs the checks, or returns the last run while it is fresh.
func (r *Runner) results(ctx context.Context) runResult {
	if r.CacheFor <= 0 {
		return r.runChecks(ctx, false)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last.at.IsZero() || time.Since(r.last.at) >= r.CacheFor {
		// Shared with other callers: the caller that happens to run it
		// must not cut it short by going away.
		r.last = r.runChecks(context.WithoutCancel(ctx), true)
	}
	return r.last
}

// runChecks runs every check, but for local ones when skipLocal is set
// (Run runs those on each call).
func (r *Runner) runChecks(ctx context.Context, skipLocal bool) runResult {
	start := time.Now()
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	entries := make([]Entry, len(r.Checks))
	var wg sync.WaitGroup
	for i, c := range r.Checks {
		if skipLocal && c.Local {
			continue
		}
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			entries[i] = runOne(cctx, c)
		})
	}
	wg.Wait()
	return runResult{at: time.Now(), entries: entries, duration: time.Since(start)}
}

// runOne turns a panic or a check that ignores its deadline into an
// Unhealthy entry rather than a hung or crashed endpoint.
func runOne(ctx context.Context, c Check) (e Entry) {
	done := make(chan Entry, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- Entry{Status: Unhealthy, Description: fmt.Sprintf("check failed: %v", p)}
			}
		}()
		done <- c.Run(ctx)
	}()
	select {
	case e = <-done:
	case <-ctx.Done():
		e = Entry{Status: Unhealthy, Description: "check timed out"}
	}
	if e.Status == "" {
		e.Status = Unhealthy
	}
	if e.Data == nil {
		e.Data = map[string]any{}
	}
	return e
}

// Write sends rep as JSON with the status code its status maps to.
func Write(w http.ResponseWriter, rep Report) {
	if rep.Entries == nil {
		rep.Entries = map[string]Entry{}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	code := http.StatusOK
	if rep.Status == Unhealthy {
		code = http.StatusServiceUnavailable
	}
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(rep)
}

// FormatTimeSpan renders d as a .NET TimeSpan ("00:00:00.0234567", seven
// fractional digits), the format of the seed's totalDuration.
func FormatTimeSpan(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	ticks := int64(d / 100) // a .NET tick is 100 ns
	h := ticks / (36_000_000_000)
	ticks -= h * 36_000_000_000
	m := ticks / 600_000_000
	ticks -= m * 600_000_000
	s := ticks / 10_000_000
	ticks -= s * 10_000_000
	return fmt.Sprintf("%02d:%02d:%02d.%07d", h, m, s, ticks)
}
