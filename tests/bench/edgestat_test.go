package bench

import (
	"testing"
	"time"
)

func TestParseCPUTime(t *testing.T) {
	stat := "1234 (cesivi edge) (x)) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 75 0 0 20 0 8 0 100 0 0"
	got, err := ParseCPUTime(stat)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3250 * time.Millisecond; got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
	if _, err := ParseCPUTime("1234 (x) S 1 2"); err == nil {
		t.Fatal("short stat accepted")
	}
	if _, err := ParseCPUTime("garbage"); err == nil {
		t.Fatal("stat without a command name accepted")
	}
}

func TestCPUPerRequestAndSpread(t *testing.T) {
	if got := CPUPerRequest(time.Second, 3*time.Second, 1000); got != 2*time.Millisecond {
		t.Fatalf("got %v", got)
	}
	if got := CPUPerRequest(0, time.Second, 0); got != 0 {
		t.Fatalf("zero requests: got %v", got)
	}
	if got := Busy(time.Second, 2500*time.Millisecond, 2*time.Second); got != 0.75 {
		t.Fatalf("busy %v; want 0.75", got)
	}
	if got := Busy(0, time.Second, 0); got != 0 {
		t.Fatalf("busy over no time: %v", got)
	}
	lo, hi := Spread([]float64{1.02, 0.97, 1.10, 1.0})
	if lo != 0.97 || hi != 1.10 {
		t.Fatalf("spread %v–%v", lo, hi)
	}
	if m := Median([]float64{1.02, 0.97, 1.10, 1.0}); m != 1.01 {
		t.Fatalf("median %v", m)
	}
}

func TestOpenLoopLatencyCountsTheQueue(t *testing.T) {
	start := time.Unix(0, 0)
	// The 10th send was due at 10 ms; a server stalled until 50 ms answers
	// it at 51 ms: its latency is 41 ms, not the 1 ms a closed loop sees.
	if got := OpenLoopLatency(start, time.Millisecond, 10, start.Add(51*time.Millisecond)); got != 41*time.Millisecond {
		t.Fatalf("got %v", got)
	}
}
