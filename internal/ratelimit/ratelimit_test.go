package ratelimit

import (
	"fmt"
	"math/rand"
	"net/netip"
	"testing"
	"time"

	"github.com/cesivi/cesivi/internal/fakeclock"
)

func TestLimitAndRetryAfter(t *testing.T) {
	clk := fakeclock.New(time.Unix(600, 0))
	l := New(Config{Events: 3, Window: time.Minute, Now: clk.Now})
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("u"); !ok {
			t.Fatalf("event %d refused", i)
		}
	}
	clk.Advance(20 * time.Second)
	// 3 in this window: the next is admitted once the sliding window's
	// estimate is below 3, just after the window ends (3×(1-ε) + 0).
	ok, ra := l.Allow("u")
	if want := 40*time.Second + time.Millisecond; ok || ra != want {
		t.Fatalf("4th: ok=%v retryAfter=%v, want refused with %v", ok, ra, want)
	}
	if ok, _ := l.Allow("other"); !ok {
		t.Fatal("another key refused")
	}
	clk.Advance(ra)
	if ok, _ := l.Allow("u"); !ok {
		t.Fatal("refused after Retry-After")
	}
}

// Fixed windows let a client send the limit just before a window ends
// and again just after (20 of a limit of 10 in two seconds); the sliding
// window, which takes the last window's events as spread evenly over it,
// admits one more here, and its Retry-After is when the next event is
// admitted.
func TestNoDoubleBurstAroundAWindowsEnd(t *testing.T) {
	clk := fakeclock.New(time.Unix(600, 0)) // a window starts
	l := New(Config{Events: 10, Window: time.Minute, Now: clk.Now})
	clk.Advance(59 * time.Second)
	admitted := 0
	for range 10 {
		if ok, _ := l.Allow("u"); ok {
			admitted++
		}
	}
	clk.Advance(2 * time.Second) // one second into the next window
	var ra time.Duration
	for range 10 {
		ok, r := l.Allow("u")
		if ok {
			admitted++
		} else if ra == 0 {
			ra = r
		}
	}
	// 10 of the last window count 10×59/60 = 9.8 a second into this one:
	// one more is admitted, then none until 6 s into it (10×54/60 + 1 < 10).
	if admitted != 11 {
		t.Fatalf("admitted %d in two seconds around a window's end; want 11 (the limit, and one)", admitted)
	}
	if want := 5*time.Second + time.Millisecond; ra != want {
		t.Fatalf("Retry-After %v, want %v", ra, want)
	}
	clk.Advance(ra - 2*time.Millisecond)
	if ok, _ := l.Allow("u"); ok {
		t.Fatal("admitted before Retry-After")
	}
	clk.Advance(2 * time.Millisecond)
	if ok, _ := l.Allow("u"); !ok {
		t.Fatal("refused at Retry-After")
	}
	// A window later than the next, the old counts are gone.
	clk.Advance(2 * time.Minute)
	for i := range 10 {
		if ok, _ := l.Allow("u"); !ok {
			t.Fatalf("event %d refused two windows later", i)
		}
	}
}

// Two limiters stand for two edges; a map stands for the shared store.
func TestSharedAcrossEdges(t *testing.T) {
	clk := fakeclock.New(time.Unix(600, 0))
	store := map[string]int64{}
	sync := func(l *Limiter) {
		for _, d := range l.Pending() {
			k := fmt.Sprintf("%s/%d", d.Key, d.Window)
			store[k] += d.Count
			l.Merge(d, store[k])
		}
	}
	a := New(Config{Events: 100, Window: time.Minute, Now: clk.Now})
	b := New(Config{Events: 100, Window: time.Minute, Now: clk.Now})
	allowed := 0
	// Each edge takes 5 requests between syncs: slack at most 2 × 5.
	for round := 0; round < 100; round++ {
		for i := 0; i < 5; i++ {
			if ok, _ := a.Allow("u"); ok {
				allowed++
			}
			if ok, _ := b.Allow("u"); ok {
				allowed++
			}
		}
		sync(a)
		sync(b)
	}
	if allowed < 100 || allowed > 110 {
		t.Fatalf("two edges allowed %d, want 100..110", allowed)
	}
}

func TestRestoreKeepsCounts(t *testing.T) {
	clk := fakeclock.New(time.Unix(600, 0))
	l := New(Config{Events: 2, Window: time.Minute, Now: clk.Now})
	l.Allow("u")
	ds := l.Pending()
	l.Restore(ds) // store down
	// The window before comes along with a count of 0 (to read its total).
	if got := l.Pending(); len(got) != 2 || got[0] != (Delta{"u", 9, 0}) || got[1] != (Delta{"u", 10, 1}) {
		t.Fatalf("pending after restore: %+v", got)
	}
	l.Allow("u")
	if ok, _ := l.Allow("u"); ok {
		t.Fatal("local limit not kept while the store is down")
	}
}

func TestBoundedTable(t *testing.T) {
	clk := fakeclock.New(time.Unix(600, 0))
	l := New(Config{Events: 1, Window: time.Minute, MaxKeys: 10000, Now: clk.Now})
	l.Allow("first")
	for i := 0; i < 200000; i++ {
		l.Allow(fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255))
	}
	if n := l.Len(); n != 10000 {
		t.Fatalf("table holds %d keys, want the cap 10000", n)
	}
	if ok, _ := l.Allow("first"); !ok {
		t.Fatal("oldest key was not evicted")
	}
}

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":               "192.0.2.7",
		"::ffff:192.0.2.7":        "192.0.2.7",
		"2001:db8:1:2:aaaa::1":    "2001:db8:1:2::/64",
		"2001:db8:1:2:bbbb::9999": "2001:db8:1:2::/64",
	} {
		if got := ClientKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("ClientKey(%s) = %s, want %s", in, got, want)
		}
	}
}

// The farm's bound with Burst: whatever the order of requests and syncs
// (each edge syncing one round at a time), N edges admit at most
// Events - 1 + N×Burst per key and window.
func TestBurstBoundsTheFarmsOvershoot(t *testing.T) {
	for _, n := range []int{2, 3, 5} {
		for seed := int64(0); seed < 50; seed++ {
			rnd := rand.New(rand.NewSource(seed))
			clk := fakeclock.New(time.Unix(600, 0))
			store := map[int64]int64{} // per window
			edges := make([]*Limiter, n)
			inflight := make([][]Delta, n) // pushed, not yet merged
			totals := make([][]int64, n)   // INCRBY's answer for each

			for i := range edges {
				edges[i] = New(Config{Events: 100, Window: time.Minute, Burst: 5, Now: clk.Now})
			}
			allowed := 0
			for step := 0; step < 5000; step++ {
				i := rnd.Intn(n)
				switch rnd.Intn(4) {
				case 0, 1: // requests
					if ok, _ := edges[i].Allow("u"); ok {
						allowed++
					}
				case 2: // push: INCRBY, the answer not yet applied
					if inflight[i] == nil {
						inflight[i] = edges[i].Pending()
						totals[i] = nil
						for _, d := range inflight[i] {
							store[d.Window] += d.Count
							totals[i] = append(totals[i], store[d.Window])
						}
						if inflight[i] == nil {
							inflight[i] = []Delta{}
						}
					}
				case 3: // the push's answer arrives
					for k, d := range inflight[i] {
						edges[i].Merge(d, totals[i][k])
					}
					inflight[i] = nil
				}
			}
			if bound := 100 - 1 + n*5; allowed > bound || allowed < 100 {
				t.Fatalf("%d edges (seed %d) admitted %d, want 100..%d", n, seed, allowed, bound)
			}
		}
	}
}

// An edge that has not seen a key for a while knows nothing of what the
// others counted: it admits at most Burst before its sync tells it.
func TestAStaleEdgeAdmitsAtMostBurst(t *testing.T) {
	clk := fakeclock.New(time.Unix(600, 0))
	store := map[string]int64{}
	sync := func(l *Limiter) {
		for _, d := range l.Pending() {
			k := fmt.Sprintf("%s/%d", d.Key, d.Window)
			store[k] += d.Count
			l.Merge(d, store[k])
		}
	}
	a := New(Config{Events: 100, Window: time.Minute, Burst: 5, Now: clk.Now})
	b := New(Config{Events: 100, Window: time.Minute, Burst: 5, Now: clk.Now})
	for range 100 {
		if ok, _ := a.Allow("u"); !ok {
			sync(a)
			a.Allow("u")
		}
	}
	sync(a)
	got := 0
	for range 50 {
		ok, ra := b.Allow("u")
		if ok {
			got++
		} else if ra != 0 {
			t.Fatalf("refused with retry-after %v before any sync; want 0 (wait for the sync)", ra)
		}
	}
	if got != 5 {
		t.Fatalf("the stale edge admitted %d before syncing, want the burst of 5", got)
	}
	sync(b)
	if ok, ra := b.Allow("u"); ok || ra == 0 {
		t.Fatalf("after its sync: ok=%v retryAfter=%v; want refused until the window ends", ok, ra)
	}
	// The store unreachable: the edge limits on its own counts.
	c := New(Config{Events: 10, Window: time.Minute, Burst: 2, Now: clk.Now})
	c.SetShared(false)
	got = 0
	for range 20 {
		if ok, _ := c.Allow("u"); ok {
			got++
		}
	}
	if got != 10 {
		t.Fatalf("without the store an edge admitted %d, want its own limit of 10", got)
	}
}

// Counts taken just before a window ends, and not pushed yet when the
// next request starts the new window, still reach the store, and an edge
// learns the ended window's farm total with its next push: the sliding
// window weighs that window in for as long again. Before, A's 10 were
// dropped at the roll and B never read the ended window, so B admitted
// 10 more right after A's 10 of 10 (its estimate said 0).
func TestCountsOfAnEndedWindowAreStillPushed(t *testing.T) {
	clk := fakeclock.New(time.Unix(600, 0))
	store := map[string]int64{}
	sync := func(l *Limiter) {
		for _, d := range l.Pending() {
			k := fmt.Sprintf("%s/%d", d.Key, d.Window)
			store[k] += d.Count
			l.Merge(d, store[k])
		}
	}
	a := New(Config{Events: 10, Window: time.Minute, Now: clk.Now})
	b := New(Config{Events: 10, Window: time.Minute, Now: clk.Now})
	clk.Advance(59 * time.Second)
	for i := range 10 {
		if ok, _ := a.Allow("u"); !ok {
			t.Fatalf("event %d refused", i)
		}
	}
	clk.Advance(time.Second) // the next window starts; no sync meanwhile
	if ok, _ := a.Allow("u"); ok {
		t.Fatal("A admitted an 11th event a second after its 10")
	}
	sync(a)
	if got := store["u/10"]; got != 10 {
		t.Fatalf("the store holds %d of the ended window's events, want 10", got)
	}
	// B saw none of the ended window; its first push in the new one
	// reads that window's farm total along.
	if ok, _ := b.Allow("u"); !ok {
		t.Fatal("B refused its first event")
	}
	sync(b)
	admitted := 1
	for range 10 {
		if ok, _ := b.Allow("u"); ok {
			admitted++
		}
	}
	if admitted > 1 {
		t.Fatalf("B admitted %d events a second after A's 10 of 10; want 1 at most", admitted)
	}
}

func TestRestoreAfterTheWindowEndedKeepsTheCountsForItsWindow(t *testing.T) {
	clk := fakeclock.New(time.Unix(600, 0))
	l := New(Config{Events: 5, Window: time.Minute, Now: clk.Now})
	clk.Advance(59 * time.Second)
	l.Allow("u")
	l.Allow("u")
	ds := l.Pending()
	clk.Advance(2 * time.Second)
	l.Allow("u")  // the window rolls while the push is in flight
	l.Restore(ds) // and the push failed
	got := map[int64]int64{}
	for _, d := range l.Pending() {
		got[d.Window] += d.Count
	}
	if got[10] != 2 || got[11] != 1 {
		t.Fatalf("pending after the restore: %v; want 2 for window 10, 1 for 11", got)
	}
}
