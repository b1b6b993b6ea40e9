package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	cases := []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}}
	for _, c := range cases {
		if got := Median(c.in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestInterleaveAlternatesWhoGoesFirst(t *testing.T) {
	var order []bool
	c, err := Interleave(context.Background(), 3, func(_ context.Context, candidate bool) (Result, error) {
		order = append(order, candidate)
		rps := 100
		if candidate {
			rps = 90
		}
		return Result{Requests: rps, Elapsed: time.Second}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{false, true, true, false, false, true}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
	for _, r := range c.Ratios() {
		if r != 0.9 {
			t.Errorf("ratio %v, want 0.9", r)
		}
	}
}

func TestLoadCountsAnswersAndErrors(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Probe") != "yes" {
			http.Error(w, "header missing", 400)
			return
		}
		if n.Add(1)%10 == 0 {
			http.Error(w, "every tenth fails", 500)
		}
	}))
	defer srv.Close()
	r, err := Load(context.Background(), srv.URL, http.Header{"X-Probe": {"yes"}}, 4, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests == 0 || r.Errors == 0 {
		t.Fatalf("requests %d errors %d; want both counted", r.Requests, r.Errors)
	}
	if r.P99 < r.P50 || r.RPS() <= 0 {
		t.Errorf("p50 %v p99 %v rps %v", r.P50, r.P99, r.RPS())
	}
}

// A server that stalls once holds up every request due meanwhile: the
// open loop charges each of them the wait from its due time, where a
// closed loop would report one slow request.
func TestOpenLoadChargesTheStall(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 2 { // the first after the warm-up
			time.Sleep(100 * time.Millisecond)
		}
	}))
	defer srv.Close()
	// One connection, 50 requests due over 50 ms: all wait behind the
	// stall, the i-th (due at i ms) at least 100-i ms.
	res, err := OpenLoad(context.Background(), srv.URL, nil, 1000, 50*time.Millisecond, 1, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Latencies) != 50 || res.Errors != 0 || res.Dropped != 0 {
		t.Fatalf("%d answered, %d errors, %d dropped; want 50 answered", len(res.Latencies), res.Errors, res.Dropped)
	}
	if p50 := Percentile(res.Latencies, 0.5); p50 < 50*time.Millisecond {
		t.Fatalf("median %v: the stall's queue is not counted", p50)
	}
	if _, err := OpenLoad(context.Background(), srv.URL, nil, 0, time.Second, 1, time.Second); err == nil {
		t.Fatal("rate 0 accepted")
	}
}
