package caddymodule

import (
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
