package webhook

import (
	"testing"
	"time"
)

func schedule(b Backoff) []time.Duration {
	var out []time.Duration
	for attempt := 1; ; attempt++ {
		d, ok := b.Next(attempt)
		if !ok {
			return out
		}
		out = append(out, d)
		if attempt > 100 {
			return out
		}
	}
}

func TestBackoffDefaultIsSharePoints(t *testing.T) {
	got := schedule(Backoff{})
	if len(got) != 5 {
		t.Fatalf("%d retries, want 5: %v", len(got), got)
	}
	for i, d := range got {
		if d != 5*time.Minute {
			t.Errorf("retry %d after %v, want 5m", i+1, d)
		}
	}
	if _, ok := (Backoff{}).Next(0); ok {
		t.Error("Next(0) schedules a retry")
	}
}

func TestBackoffConfigurable(t *testing.T) {
	for _, tc := range []struct {
		b    Backoff
		want []time.Duration
	}{
		{Backoff{Attempts: 3, Delay: 10 * time.Millisecond}, []time.Duration{10 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond}},
		{Backoff{Attempts: 4, Delay: time.Second, Factor: 2}, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}},
		{Backoff{Attempts: 3, Delay: time.Second, Factor: 10, MaxDelay: 30 * time.Second}, []time.Duration{time.Second, 10 * time.Second, 30 * time.Second}},
		{Backoff{Attempts: 2, Delay: time.Second, Factor: 0.5}, []time.Duration{time.Second, time.Second}},
		{Backoff{Attempts: -1}, nil},
	} {
		got := schedule(tc.b)
		if len(got) != len(tc.want) {
			t.Errorf("%+v: %v, want %v", tc.b, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%+v: %v, want %v", tc.b, got, tc.want)
				break
			}
		}
	}
	// No overflow with a large factor.
	if d, ok := (Backoff{Attempts: 100, Delay: time.Hour, Factor: 1e6}).Next(100); !ok || d <= 0 {
		t.Errorf("Next(100) = %v, %v", d, ok)
	}
}
