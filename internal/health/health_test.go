package health

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestFormatTimeSpanMatchesDotNet(t *testing.T) {
	cases := map[time.Duration]string{
		0:                                      "00:00:00.0000000",
		23456700 * time.Nanosecond:             "00:00:00.0234567",
		90*time.Minute + 1500*time.Millisecond: "01:30:01.5000000",
		-time.Second:                           "00:00:00.0000000",
	}
	for d, want := range cases {
		if got := FormatTimeSpan(d); got != want {
			t.Errorf("FormatTimeSpan(%v) = %q, want %q", d, got, want)
		}
	}
}

func check(name string, s Status) Check {
	return Check{Name: name, Run: func(context.Context) Entry {
		return Entry{Status: s, Description: name + " " + string(s), Data: map[string]any{"provider": name}}
	}}
}

func TestWorstEntryDecidesTheStatus(t *testing.T) {
	cases := []struct {
		name        string
		checks      []Check
		degradeOnly bool
		want        Status
		code        int
	}{
		{"all healthy is healthy", []Check{check("A", Healthy), check("B", Healthy)}, false, Healthy, 200},
		{"one degraded is degraded and still 200", []Check{check("A", Healthy), check("B", Degraded)}, false, Degraded, 200},
		{"one unhealthy is unhealthy and 503", []Check{check("A", Degraded), check("B", Unhealthy)}, false, Unhealthy, 503},
		{"unhealthy is softened to degraded when asked", []Check{check("A", Unhealthy)}, true, Degraded, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &Runner{Checks: c.checks}
			rep := r.Run(t.Context(), c.degradeOnly)
			if rep.Status != c.want {
				t.Fatalf("status %s, want %s", rep.Status, c.want)
			}
			rec := httptest.NewRecorder()
			Write(rec, rep)
			if rec.Code != c.code {
				t.Errorf("code %d, want %d", rec.Code, c.code)
			}
			var body map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"status", "totalDuration", "entries"} {
				if _, ok := body[k]; !ok {
					t.Errorf("body lacks %q: %s", k, rec.Body)
				}
			}
			entries := body["entries"].(map[string]any)
			a := entries["A"].(map[string]any)
			if a["description"] == "" || a["data"].(map[string]any)["provider"] != "A" {
				t.Errorf("entry A = %v", a)
			}
		})
	}
}

func TestAHangingOrPanickingCheckIsUnhealthyNotAHang(t *testing.T) {
	hang := Check{Name: "Hang", Run: func(context.Context) Entry { select {} }}
	boom := Check{Name: "Boom", Run: func(context.Context) Entry { panic("kaboom") }}
	r := &Runner{Checks: []Check{hang, boom}, Timeout: 50 * time.Millisecond}
	done := make(chan Report, 1)
	go func() { done <- r.Run(context.Background(), false) }()
	select {
	case rep := <-done:
		if rep.Entries["Hang"].Status != Unhealthy || rep.Entries["Boom"].Status != Unhealthy {
			t.Fatalf("entries %+v", rep.Entries)
		}
		if rep.Entries["Hang"].Description != "check timed out" {
			t.Errorf("Hang description %q", rep.Entries["Hang"].Description)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return: a hanging check blocked the endpoint")
	}
}

func TestCachedRunsCostTheDependenciesOneCheckPerPeriod(t *testing.T) {
	var runs atomic.Int32
	r := &Runner{CacheFor: time.Hour, Checks: []Check{{Name: "Redis", Run: func(context.Context) Entry {
		runs.Add(1)
		return Entry{Status: Healthy}
	}}}}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if rep := r.Run(context.Background(), false); rep.Status != Healthy {
				t.Errorf("status %s", rep.Status)
			}
		})
	}
	wg.Wait()
	if n := runs.Load(); n != 1 {
		t.Fatalf("50 concurrent calls ran the check %d times; want 1", n)
	}
	// A caller that goes away does not cut the shared run short.
	r2 := &Runner{CacheFor: time.Hour, Checks: []Check{{Name: "Slow", Run: func(ctx context.Context) Entry {
		select {
		case <-ctx.Done():
			return Entry{Status: Unhealthy, Description: "cancelled"}
		case <-time.After(20 * time.Millisecond):
			return Entry{Status: Healthy}
		}
	}}}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if rep := r2.Run(ctx, false); rep.Status != Healthy {
		t.Fatalf("a cancelled caller's run: %+v", rep)
	}
	// A local check (memory only) runs on every call all the same.
	var local atomic.Int32
	r3 := &Runner{CacheFor: time.Hour, Checks: []Check{{Name: "KeyRing", Local: true, Run: func(context.Context) Entry {
		local.Add(1)
		return Entry{Status: Healthy}
	}}}}
	r3.Run(context.Background(), false)
	r3.Run(context.Background(), false)
	if n := local.Load(); n != 2 {
		t.Fatalf("a local check ran %d times for 2 calls; want 2", n)
	}
	// Once the period is over, the checks run again.
	r.mu.Lock()
	r.last.at = time.Now().Add(-2 * time.Hour)
	r.mu.Unlock()
	r.Run(context.Background(), false)
	if n := runs.Load(); n != 2 {
		t.Fatalf("after the period the check ran %d times in all; want 2", n)
	}
}
