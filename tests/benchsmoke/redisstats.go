package benchsmoke

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// CommandStats are Redis' per-command call counts (INFO commandstats),
// by command name as Redis reports it ("hgetall", "client|setinfo").
type CommandStats map[string]int

// ParseCommandStats reads the text of INFO commandstats.
func ParseCommandStats(info string) (CommandStats, error) {
	out := CommandStats{}
	for line := range strings.SplitSeq(info, "\n") {
		line = strings.TrimSpace(line)
		rest, ok := strings.CutPrefix(line, "cmdstat_")
		if !ok {
			continue
		}
		name, fields, ok := strings.Cut(rest, ":")
		if !ok {
			return nil, fmt.Errorf("commandstats: %q has no fields", line)
		}
		calls := -1
		for f := range strings.SplitSeq(fields, ",") {
			if v, ok := strings.CutPrefix(f, "calls="); ok {
				n, err := strconv.Atoi(v)
				if err != nil {
					return nil, fmt.Errorf("commandstats: %q: %w", line, err)
				}
				calls = n
			}
		}
		if calls < 0 {
			return nil, fmt.Errorf("commandstats: %q has no calls", line)
		}
		out[name] = calls
	}
	return out, nil
}

// Background are the commands the guard does not charge to requests:
// connection set-up (a pool may open a connection during the window),
// keep-alives, the revocation subscription, the session store's clock
// check every 30 s, and the guard's own INFO and CLIENT PAUSE. No request path issues
// them; everything else a request may do (HGETALL, EVALSHA, GET, SET…)
// is counted. INCRBY and PEXPIRE are the rate limiters' sync
// (internal/ratesync; a session write also sends PEXPIRE, beside a ZADD
// that is counted): one pipeline per
// interval for the counts of every request since, never one per
// request (the sign-ins the guard makes first leave such a push).
var Background = map[string]bool{
	"hello": true, "auth": true, "select": true, "client|setinfo": true, "client|setname": true,
	"client|id": true, "readonly": true,
	"ping":      true,
	"subscribe": true, "unsubscribe": true, "psubscribe": true, "punsubscribe": true,
	"ssubscribe": true, "sunsubscribe": true,
	"time":   true,
	"incrby": true, "pexpire": true,
	"info": true, "client|pause": true,
}

// Delta is what ran between two snapshots, without the Background
// commands.
func Delta(before, after CommandStats) CommandStats {
	out := CommandStats{}
	for name, n := range after {
		if Background[name] {
			continue
		}
		if d := n - before[name]; d != 0 {
			out[name] = d
		}
	}
	return out
}

// Total is the sum of the counts.
func (s CommandStats) Total() int {
	n := 0
	for _, v := range s {
		n += v
	}
	return n
}

// String lists the counts by name ("hgetall=3 get=1"), for logs.
func (s CommandStats) String() string {
	if len(s) == 0 {
		return "none"
	}
	var b strings.Builder
	for i, name := range slices.Sorted(maps.Keys(s)) {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%d", name, s[name])
	}
	return b.String()
}
