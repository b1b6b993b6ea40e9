package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat;
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// ParseCPUTime returns utime+stime from the text of /proc/<pid>/stat.
// The command name (field 2) may hold spaces and parentheses, so the
// fields are counted from the last ')'.
func ParseCPUTime(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat: no command name")
	}
	// After ')' come state (field 3) ... utime (14), stime (15).
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("stat: %d fields after the command name, want at least 13", len(f))
	}
	u, err := strconv.ParseInt(f[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stat: utime: %w", err)
	}
	s, err := strconv.ParseInt(f[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stat: stime: %w", err)
	}
	return time.Duration(u+s) * time.Second / clockTicks, nil
}

// ReadCPUTime reads pid's utime+stime.
func ReadCPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return ParseCPUTime(string(b))
}

// CPUPerRequest is a CPU-time delta divided by the requests completed in it.
func CPUPerRequest(before, after time.Duration, requests int) time.Duration {
	if requests <= 0 {
		return 0
	}
	return (after - before) / time.Duration(requests)
}

// Busy is a CPU-time delta over the wall time it took: 1 is one CPU
// kept busy the whole time.
func Busy(before, after, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return float64(after-before) / float64(wall)
}

// Spread returns the minimum and maximum of xs (0, 0 for none).
func Spread(xs []float64) (lo, hi float64) {
	for i, x := range xs {
		if i == 0 || x < lo {
			lo = x
		}
		if i == 0 || x > hi {
			hi = x
		}
	}
	return lo, hi
}

// OpenLoopLatency is the latency of the i-th request of an open-loop run
// that began at start with one send every interval: measured from when it
// was meant to be sent, not from when it was, so a stalled server's queue
// counts against it (the correction for coordinated omission).
func OpenLoopLatency(start time.Time, interval time.Duration, i int, done time.Time) time.Duration {
	return done.Sub(start.Add(time.Duration(i) * interval))
}
