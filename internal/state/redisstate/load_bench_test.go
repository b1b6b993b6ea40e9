package redisstate_test

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/state"
	"github.com/cesivi/cesivi/internal/state/redisstate"
	"github.com/cesivi/cesivi/internal/testenv"
)

// cpuTime is this process's user+system CPU time so far (Redis, a process
// of its own, is not in it).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStrictLoad is an edge's strict path (no session cache): many
// concurrent requests, each loading its session from Redis under a
// deadline of its own, as websession does. Besides ns/op (wall time, so
// throughput) it reports cpu-ns/op, the client process's CPU per load,
// the figure the edge benchmark's CPU per request budget is about.
func BenchmarkStrictLoad(b *testing.B) {
	addr, db := testenv.RedisDB(b)
	p, err := redisstate.Open(context.Background(), fmt.Sprintf("%s,defaultDatabase=%d", addr, db), "", state.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	// Like a signed-in session: sealed tokens (4 KB, about what a
	// provider such as Entra ID issues; the in-process provider's are 1.2 KB),
	// which Load leaves out, and the identity data.
	ids := make([]string, 64)
	for i := range ids {
		s := &state.Session{UserID: fmt.Sprint("user-", i), SID: fmt.Sprint("sid-", i), Tokens: make([]byte, 4000),
			Data: map[string]string{"name": "A User", "email": "user@example.com", "groups": `["staff","admins"]`}}
		if err := p.Sessions.Create(context.Background(), s); err != nil {
			b.Fatal(err)
		}
		ids[i] = s.ID
	}
	for _, conc := range []int{1, 64} {
		b.Run(fmt.Sprint("concurrency=", conc), func(b *testing.B) {
			b.ReportAllocs()
			// RunParallel runs parallelism×GOMAXPROCS goroutines.
			b.SetParallelism(max(1, conc/runtime.GOMAXPROCS(0)))
			cpu0 := cpuTime(b)
			turns0, loads0 := redisstate.LoadTurns()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
					_, err := p.Sessions.Load(ctx, ids[i%len(ids)])
					cancel()
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
			if turns, loads := redisstate.LoadTurns(); turns > turns0 {
				b.ReportMetric(float64(loads-loads0)/float64(turns-turns0), "loads/turn")
			}
		})
	}
}
