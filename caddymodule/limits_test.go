package caddymodule

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/cesivi/cesivi/internal/ratelimit"
)

// limitSite is a site's cesivi_rate_limit: 100 requests an hour per user
// on /_api/* (an hour, so the test never straddles two windows but at the
// top of the hour, which it waits out).
const limitSite = `cesivi_rate_limit {
		sync_interval 250ms
		zone api {
			match {
				path /_api/*
			}
			key user
			events 100
			window 1h
		}
	}`

// Two edges (two sites of one Caddy, each with its own limiter and sync,
// one Redis) with a limit of 100 per user let through at most
// 100 - 1 + 2×5 of the user's requests in all; the refusals are 429 with
// Retry-After and a JSON body that says which limit.
func TestRateLimitPerUserIsSharedByTwoEdges(t *testing.T) {
	if until := time.Until(time.Now().Truncate(time.Hour).Add(time.Hour)); until < time.Minute {
		time.Sleep(until) // the window ends before the test could
	}
	e := startEdge(t, edgeOptions{oidc: true, echo: true, secondSite: true, site: limitSite})
	c, _ := completeSignIn(t, e) // (the echo upstream has no /api/session/get)
	// Keep the 8 clients' connections open: hundreds of closed ones would
	// leave ports in TIME_WAIT that the next test's listener may draw.
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	c.Transport = tr
	var mu sync.Mutex
	status := map[int]int{}
	var bad []string
	var wg sync.WaitGroup
	for i := range 8 {
		base := e.URL
		if i%2 == 1 {
			base = e.URL2
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 40 {
				req, _ := http.NewRequest("GET", base+"/_api/web", nil)
				req.Header.Set("Accept", "application/json")
				resp, err := c.Do(req)
				if err != nil {
					mu.Lock()
					bad = append(bad, err.Error())
					mu.Unlock()
					return
				}
				var body struct {
					Error struct{ Code, Message string }
				}
				_ = json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				mu.Lock()
				status[resp.StatusCode]++
				if resp.StatusCode == 429 {
					ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
					if ra < 1 || ra > 3600 || body.Error.Code != "TooManyRequests" || !strings.Contains(body.Error.Message, `"api" allows 100 per 1h0m0s per user`) {
						bad = append(bad, fmt.Sprintf("429 with Retry-After %q, body %+v", resp.Header.Get("Retry-After"), body))
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(bad) > 0 {
		t.Fatalf("%d bad answers, first: %s", len(bad), bad[0])
	}
	t.Logf("320 requests of one user across two edges: %v", status)
	if status[200] < 100 || status[200] > 109 || status[200]+status[429] != 320 {
		t.Fatalf("statuses %v: want 100..109 × 200 and the rest 429", status)
	}
	if n := metricValue(t, get(t, http.DefaultClient, e.MetricsURL).Body, `cesivi_edge_rate_limited_total{zone="api"}`); int(n) != status[429] {
		t.Errorf("rate_limited_total{zone=\"api\"} = %v, want the %d refusals", n, status[429])
	}
	// Paths outside the zone are not limited.
	if a := get(t, c, e.URL+"/other", "Accept", "application/json"); a.Status != 200 {
		t.Fatalf("a path outside the zone: %d %s", a.Status, a.Body)
	}
}

func TestRateLimitCaddyfile(t *testing.T) {
	adapt := func(site string) (string, error) {
		cfg, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte("{\n\tcesivi\n}\n:80 {\n\t"+site+"\n\tcesivi_session\n}"), nil)
		return string(cfg), err
	}
	cfg, err := adapt(`cesivi_rate_limit {
		sync_interval 1s
		zone writes {
			match {
				method POST PUT PATCH DELETE MERGE
				path /_api/*
			}
			key user
			events 600
			window 1m
			burst 10
			max_keys 5000
		}
		zone signin {
			match {
				path /oauth2/login
			}
			events 30
			window 1m
		}
	}`)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"handler":"cesivi_rate_limit"`, `"name":"writes"`, `"method":["POST","PUT","PATCH","DELETE","MERGE"]`,
		`"key":"user"`, `"events":600`, `"burst":10`, `"max_keys":5000`, `"sync_interval":1000000000`, `"name":"signin"`} {
		if !strings.Contains(cfg, want) {
			t.Errorf("adapted config lacks %s:\n%s", want, cfg)
		}
	}
	if i, j := strings.Index(cfg, "cesivi_rate_limit"), strings.Index(cfg, `"handler":"cesivi_session"`); i < 0 || j < i {
		t.Errorf("cesivi_rate_limit is not before cesivi_session:\n%s", cfg)
	}
	for _, bad := range []string{
		"cesivi_rate_limit {\n zone a {\n events x\n }\n}",
		"cesivi_rate_limit {\n zone {\n }\n}",
		"cesivi_rate_limit {\n zone a {\n speed 3\n }\n}",
		"cesivi_rate_limit {\n rate 3\n}",
	} {
		if _, err := adapt(bad); err == nil {
			t.Errorf("%q adapted without error", bad)
		}
	}
	// What only provisioning can tell.
	for _, c := range []struct{ zones, want string }{
		{`{"name":"a","events":0,"window":60000000000}`, "events must be at least 1"},
		{`{"name":"a","events":5,"window":1000}`, "window must be at least 1s"},
		{`{"name":"a","events":5,"window":60000000000,"key":"ip"}`, `key "ip"`},
		{`{"name":"a","events":5,"window":60000000000,"burst":9}`, "burst must be between 1 and events"},
		{`{"name":"a","events":5,"window":60000000000},{"name":"a","events":5,"window":60000000000}`, "defined twice"},
	} {
		cfg := `{"admin":{"disabled":true},"apps":{"cesivi":{},"http":{"servers":{"s":{"listen":["127.0.0.1:0"],"routes":[{"handle":[{"handler":"cesivi_rate_limit","zones":[` + c.zones + `]}]}]}}}}}`
		err := caddy.Load([]byte(cfg), true)
		if err == nil {
			_ = caddy.Stop()
			t.Errorf("%s: loaded", c.zones)
		} else if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want it to say %q", c.zones, err, c.want)
		}
	}
}

// Many distinct addresses cost at most max_keys entries; the limited
// address, seen recently, stays limited while strangers come and go.
func TestRateLimitMemoryIsBoundedUnderManyAddresses(t *testing.T) {
	z := &rateZone{RateZone: RateZone{Name: "c", Key: RateKeyClient, Events: 2, Window: caddy.Duration(time.Hour), Burst: 1}}
	z.limiter = ratelimit.New(ratelimit.Config{Events: 2, Window: time.Hour, MaxKeys: 1000})
	h := &RateLimit{zones: []*rateZone{z}}
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error { return nil })
	serve := func(addr string) int {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = addr
		if err := h.ServeHTTP(w, r, next); err != nil {
			t.Fatal(err)
		}
		return w.Code
	}
	serve("192.0.2.1:1")
	serve("192.0.2.1:2")
	if code := serve("192.0.2.1:3"); code != 429 {
		t.Fatalf("third request of a limited address: %d", code)
	}
	for i := range 50000 {
		serve(fmt.Sprintf("10.%d.%d.%d:1", i>>16, (i>>8)&255, i&255))
		if i%500 == 0 && serve("192.0.2.1:4") != 429 {
			t.Fatalf("after %d strangers the limited address got through", i)
		}
	}
	if n := z.limiter.Len(); n != 1000 {
		t.Fatalf("the zone holds %d keys after 50000 addresses, want max_keys 1000", n)
	}
}

// A user zone on the edge's own endpoints (no identity read there) counts
// by client address.
func TestRateLimitUserZoneOnSignInCountsTheAddress(t *testing.T) {
	e := startEdge(t, edgeOptions{oidc: true, site: `cesivi_rate_limit {
		zone signin {
			match {
				path /oauth2/login
			}
			key user
			events 2
			window 1h
		}
	}`})
	c := client(t)
	for i := range 2 {
		if a := get(t, c, e.URL+LoginPath+"?rd=/"); a.Status != 302 {
			t.Fatalf("start %d: %d %s", i, a.Status, a.Body)
		}
	}
	if a := get(t, c, e.URL+LoginPath+"?rd=/"); a.Status != 429 || a.Error.Code != "TooManyRequests" || a.Header.Get("Retry-After") == "" {
		t.Fatalf("third start: %d %s (Retry-After %q)", a.Status, a.Body, a.Header.Get("Retry-After"))
	}
}
