package bench

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseCommandStats reads the calls of each command from the text of
// INFO commandstats ("cmdstat_get:calls=12,usec=...").
func ParseCommandStats(info string) (map[string]int64, error) {
	out := map[string]int64{}
	for line := range strings.SplitSeq(info, "\n") {
		line = strings.TrimSpace(line)
		name, rest, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		for field := range strings.SplitSeq(rest, ",") {
			k, v, _ := strings.Cut(field, "=")
			if k != "calls" {
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("commandstats: %s: %w", name, err)
			}
			out[strings.TrimPrefix(name, "cmdstat_")] = n
		}
	}
	return out, nil
}

// CommandDelta is the calls per command between two readings, without
// the INFO commands that took them; commands with no calls are left out.
func CommandDelta(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for name, n := range after {
		if name == "info" {
			continue
		}
		if d := n - before[name]; d > 0 {
			out[name] = d
		}
	}
	return out
}

// Total sums the calls of a delta.
func Total(delta map[string]int64) int64 {
	var n int64
	for _, d := range delta {
		n += d
	}
	return n
}

// Scale returns the calls of delta, counted over from, expected over to:
// the edges' own background commands (pub/sub health pings, clock
// reads), measured idle, for the length of a counted window.
func Scale(delta map[string]int64, from, to time.Duration) map[string]float64 {
	out := map[string]float64{}
	if from <= 0 {
		return out
	}
	for name, n := range delta {
		out[name] = float64(n) * to.Seconds() / from.Seconds()
	}
	return out
}

// Foreground is the calls of delta beyond the background expected, per
// command (a command's excess is never offset by another's shortfall),
// and the background actually taken off.
func Foreground(delta map[string]int64, background map[string]float64) (calls, taken float64) {
	for name, n := range delta {
		off := min(float64(n), background[name])
		calls += float64(n) - off
		taken += off
	}
	return calls, taken
}
