package websession

import (
	"fmt"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/fakeclock"
)

func refresherAt(clock *fakeclock.Clock) *Refresher {
	return NewRefresher(&Resolver{now: clock.Now}, nil, nil)
}

// TestHeldBackAttemptsAreForgottenAndTheRecordStaysSmall: attempts held
// back after a provider failure are pruned once older than refreshRetry,
// so the record holds about what is live, not every session ever seen.
func TestHeldBackAttemptsAreForgottenAndTheRecordStaysSmall(t *testing.T) {
	clock := fakeclock.New(time.Now())
	rf := refresherAt(clock)
	most := 0
	for i := range 50_000 {
		if !rf.begin(fmt.Sprintf("s%d", i)) {
			t.Fatal("a new session's attempt was held back")
		}
		clock.Advance(10 * time.Millisecond) // 3,000 sessions live in any refreshRetry
		most = max(most, len(rf.attempts))
	}
	if most > 4*int(refreshRetry/(10*time.Millisecond)) {
		t.Fatalf("the record held %d attempts; want about the 3,000 live ones (at most 4x)", most)
	}
	if rf.begin("s49999") {
		t.Fatal("an attempt under way was started again")
	}
}

// BenchmarkBeginWithFailingSessions: the cost of starting one more
// session's attempt while n others are held back by a provider outage; it
// must not grow with n (scanning the record on every call made it O(n):
// 20,000 failing sessions cost seconds of mutex-held CPU).
func BenchmarkBeginWithFailingSessions(b *testing.B) {
	for _, n := range []int{1_000, 20_000, 50_000} {
		b.Run(fmt.Sprintf("held=%d", n), func(b *testing.B) {
			clock := fakeclock.New(time.Now())
			rf := refresherAt(clock)
			for i := range n {
				rf.begin(fmt.Sprintf("held-%d", i))
			}
			b.ResetTimer()
			ids := make([]string, b.N)
			for i := range ids {
				ids[i] = fmt.Sprintf("new-%d", i)
			}
			b.ResetTimer()
			for _, id := range ids {
				rf.begin(id)
			}
		})
	}
}
