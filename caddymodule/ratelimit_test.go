package caddymodule

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"
)

func TestTheLimiterForgetsTheStalestAddressNotEveryone(t *testing.T) {
	l := newClientLimiter(2, time.Hour)
	l.max = 3
	now := time.Now()
	for range 2 {
		l.take("greedy", now)
	}
	if ok, _ := l.take("greedy", now); ok {
		t.Fatal("a third start within the burst of 2 was allowed")
	}
	// Two other addresses fill the table; the greedy one is the most
	// recently seen of the three and stays limited.
	l.take("a", now)
	l.take("b", now)
	if ok, _ := l.take("greedy", now); ok {
		t.Fatal("the table's filling up restored the greedy address's allowance")
	}
	// A fourth address evicts the stalest ("a"), not everyone.
	l.take("c", now)
	if _, ok := l.buckets["a"]; ok || len(l.buckets) != 3 {
		t.Fatalf("table %d entries, a kept %v; want 3 and a forgotten", len(l.buckets), ok)
	}
	if ok, _ := l.take("greedy", now); ok {
		t.Fatal("the greedy address was forgotten instead of the stalest")
	}
}

func TestIPv6AddressesCountPerSlash64(t *testing.T) {
	l := newClientLimiter(3, time.Hour)
	allowed := 0
	for i := range 10 {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = fmt.Sprintf("[2001:db8:1:2::%x]:4000", i+1)
		if ok, _ := l.allow(r); ok {
			allowed++
		}
	}
	if allowed != 3 {
		t.Fatalf("10 addresses of one /64 got %d starts; want the burst of 3", allowed)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "[2001:db8:1:3::1]:4000"
	if ok, _ := l.allow(r); !ok {
		t.Fatal("another /64 was limited")
	}
	for _, c := range []struct{ addr, key string }{
		{"192.0.2.7:1", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:1", "192.0.2.7"},
		{"[2001:db8::1]:1", "2001:db8::/64"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.addr
		if got := clientKey(r); got != c.key {
			t.Errorf("clientKey(%s) = %q, want %q", c.addr, got, c.key)
		}
	}
}

func TestTheLogSamplerLetsOneLinePerPeriodAndCountsTheRest(t *testing.T) {
	s := &logSampler{every: 10 * time.Second}
	now := time.Now()
	if ok, n := s.allow(now); !ok || n != 0 {
		t.Fatalf("first line: %v %d", ok, n)
	}
	for i := range 99 {
		if ok, _ := s.allow(now.Add(time.Duration(i) * 10 * time.Millisecond)); ok {
			t.Fatalf("line %d within the period was let through", i)
		}
	}
	if ok, n := s.allow(now.Add(10 * time.Second)); !ok || n != 99 {
		t.Fatalf("after the period: %v, %d held back; want true, 99", ok, n)
	}
}

// A company behind one address: its people opening protected pages while
// signed out (or a crawler, or prefetches) spend no sign-in starts; the
// page loads are sent to LoginPath, which spends one when a browser
// follows.
func TestSignInPageLoadsDoNotExhaustSignIns(t *testing.T) {
	e := startEdge(t, edgeOptions{oidc: true})
	c := client(t)
	for i := range 3 * loginEvents {
		nav := get(t, c, fmt.Sprintf("%s/sites/team/page%d.aspx", e.URL, i), "Accept", "text/html")
		if nav.Status != 302 || nav.Header.Get("Location") != fmt.Sprintf("%s?rd=%%2Fsites%%2Fteam%%2Fpage%d.aspx", LoginPath, i) {
			t.Fatalf("page load %d: %d Location %q", i, nav.Status, nav.Header.Get("Location"))
		}
	}
	resp, err := e.IdP.Login(context.Background(), c, e.URL+LoginPath+"?rd=%2Fsites%2Fteam%2Fpage0.aspx")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if done := get(t, c, resp.Header.Get("Location")); done.Status != 302 || done.Header.Get("Location") != "/sites/team/page0.aspx" {
		t.Fatalf("the sign-in after %d page loads: %d %s", 3*loginEvents, done.Status, done.Body)
	}
}

// Two edges count one address's sign-in starts together (bound:
// loginEvents - 1 + 2 edges × a burst of 1).
func TestSignInStartsAreCountedByEveryEdge(t *testing.T) {
	e := startEdge(t, edgeOptions{oidc: true, secondSite: true})
	if until := time.Until(time.Now().Truncate(time.Minute).Add(time.Minute)); until < 15*time.Second {
		time.Sleep(until) // the minute's window ends before the test could
	}
	c := client(t)
	started := 0
	for i := range 3 * loginEvents {
		base := e.URL
		if i%2 == 1 {
			base = e.URL2
		}
		a := get(t, c, base+LoginPath+"?rd=/")
		switch {
		case a.Status == 302:
			started++
		case a.Status != 429 || a.Header.Get("Retry-After") == "":
			t.Fatalf("start %d: %d (Retry-After %q) %s", i, a.Status, a.Header.Get("Retry-After"), a.Body)
		}
	}
	t.Logf("%d sign-in starts from one address across two edges: %d started", 3*loginEvents, started)
	if started < loginEvents || started > loginEvents+1 {
		t.Fatalf("%d started across two edges, want %d..%d", started, loginEvents, loginEvents+1)
	}
}
