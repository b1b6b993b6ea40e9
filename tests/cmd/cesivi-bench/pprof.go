package main

// The bench's -only and -pprof flags: which configurations run, and a
// CPU profile of each edge taken from Caddy's admin endpoint while the
// first round's closed loops load them.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// profileTime is how long each edge's CPU profile lasts.
const profileTime = 20 * time.Second

func specKeys() string {
	keys := make([]string, len(specs))
	for i, s := range specs {
		keys[i] = s.key
	}
	return strings.Join(keys, ",")
}

// selectSpecs is the specs -only names (in the specs' order), the
// baseline always among them; nil for all.
func selectSpecs(only string) ([]spec, error) {
	if strings.TrimSpace(only) == "" {
		return nil, nil
	}
	want := map[string]bool{"baseline": true}
	for k := range strings.SplitSeq(only, ",") {
		k = strings.TrimSpace(k)
		if k == "" {
			continue
		}
		if !slices.ContainsFunc(specs, func(s spec) bool { return s.key == k }) {
			return nil, fmt.Errorf("-only: no configuration %q (there are %s)", k, specKeys())
		}
		want[k] = true
	}
	var out []spec
	for _, s := range specs {
		if want[s.key] {
			out = append(out, s)
		}
	}
	return out, nil
}

// runSpecs is what the run loads: -only's choice, else every spec.
func (o options) runSpecs() []spec {
	if o.only != nil {
		return o.only
	}
	return specs
}

// closedDur is each configuration's closed loop in round, of n
// configurations: in the first round, when profiles are taken, long enough
// for the round's closed loops to outlast a profile (which covers them
// all) by a second.
func (o options) closedDur(round, n int) time.Duration {
	if round == 0 && o.pprofDir != "" {
		return max(o.dur, (profileTime+time.Second)/time.Duration(n)+time.Second)
	}
	return o.dur
}

// profile saves the CPU profile of the edge whose admin endpoint is at
// admin (host:port) in DIR/<key>.pprof; it lasts profileTime.
func profile(ctx context.Context, admin, dir, key string) error {
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", admin, int(profileTime/time.Second))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: profileTime + 30*time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s profile: %w", key, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		return fmt.Errorf("%s profile: status %d: %s", key, resp.StatusCode, b)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s profile: %w", key, err)
	}
	return os.WriteFile(filepath.Join(dir, key+".pprof"), b, 0o644)
}
