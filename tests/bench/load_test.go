package bench

import (
	"context"
	"net"
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

// Slices of a Loader add up to one result, over the same connections: the
// server never sees more connections than the loader keeps (a slice that
// cancelled its last requests would close their connections, and the next
// slice would open new ones).
func TestLoaderSlicesAddUpOverTheSameConnections(t *testing.T) {
	var served, conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { served.Add(1) }))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	const keep = 3
	l := NewLoader(srv.URL, http.Header{}, keep)
	defer l.Close()
	if err := l.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := served.Load()
	var all Samples
	for range 3 {
		s := l.Run(context.Background(), 50*time.Millisecond)
		if len(s.Latencies) == 0 || s.Elapsed < 50*time.Millisecond {
			t.Fatalf("slice: %d answers in %v", len(s.Latencies), s.Elapsed)
		}
		all.Add(s)
	}
	r := all.Result()
	if got := served.Load() - before; int64(r.Requests) != got {
		t.Errorf("result counts %d requests, the server answered %d", r.Requests, got)
	}
	if r.Elapsed < 150*time.Millisecond || r.P99 < r.P50 {
		t.Errorf("elapsed %v p50 %v p99 %v", r.Elapsed, r.P50, r.P99)
	}
	if got := conns.Load(); got > keep {
		t.Errorf("the server saw %d connections; the loader keeps %d", got, keep)
	}
}
