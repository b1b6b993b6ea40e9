package tests

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cesivi/cesivi/tests/farm"
)

// The logs of a farm run — every server's and every edge's, at the most
// verbose level the servers have — never show the test passwords, the
// session cookie, the bearer token, the OIDC client secret or a field
// value. (The provider, Redis and PostgreSQL are not Cesivi: their logs are
// not searched.)
func TestFarmLogsNeverShowSecrets(t *testing.T) {
	f := startFarm(t, farm.Options{Servers: 2, Edges: 1, HardenedRedis: true,
		ServerEnv: []string{"Serilog__MinimumLevel__Default=Verbose",
			"Serilog__WriteTo__0__Name=Console",
			"Serilog__WriteTo__0__Args__outputTemplate=[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext} {Message:lj}{NewLine}{Exception}",
			"Serilog__WriteTo__1__Name=Console",
			"Serilog__WriteTo__1__Args__formatter=Serilog.Formatting.Compact.CompactJsonFormatter, Serilog.Formatting.Compact"}})
	edge := f.Edges[0]
	const field = "field-Secret-6d2e91"

	cookie := signIn(t, f, edge)
	c := newAPIClient(t, f)
	token, err := c.bearer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	list := edge + createList(t, c, edge, "LogsNeverShowSecrets")
	c.must(t, http.StatusCreated, http.MethodPost, list+"/items", map[string]any{"Title": field})
	c.must(t, http.StatusOK, http.MethodGet, list+"/items?$filter="+url.QueryEscape("Title eq '"+field+"'"), nil)
	// The browser session, and a bearer token where it is not expected.
	for _, h := range []http.Header{{"Cookie": {cookie}}, {"Cookie": {cookie}, "Authorization": {"Bearer " + token + "x"}}} {
		req, _ := http.NewRequest(http.MethodGet, edge+"/_api/web/lists", nil)
		req.Header = h
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	secrets := map[string]string{
		"provider password":  f.IdP.Password,
		"OIDC client secret": f.ClientSecret,
		"session cookie":     strings.TrimPrefix(cookie, "cesivi_session="),
		"bearer token":       token,
		"field value":        field,
	}
	if token != "" {
		// A JWT's signature alone is secret enough.
		if parts := strings.Split(token, "."); len(parts) == 3 {
			secrets["bearer token signature"] = parts[2]
		}
	}
	for i, a := range f.RedisCLI {
		if a == "-a" && i+1 < len(f.RedisCLI) {
			secrets["Redis password"] = f.RedisCLI[i+1]
		}
	}
	if _, ok := secrets["Redis password"]; !ok {
		t.Fatal("the hardened Redis has no password in farm.json's redisCli")
	}

	logs, _ := filepath.Glob(filepath.Join(f.Dir(), "logs", "*.log"))
	searched, total := 0, 0
	for _, path := range logs {
		name := filepath.Base(path)
		if !strings.HasPrefix(name, "server-") && !strings.HasPrefix(name, "edge-") {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		searched++
		total += len(b)
		for what, s := range secrets {
			if len(s) < 8 {
				t.Fatalf("the %s %q is too short to search for", what, s)
			}
			if strings.Contains(string(b), s) {
				t.Errorf("%s shows the %s", name, what)
			}
		}
	}
	if searched < 3 || total == 0 {
		t.Fatalf("searched %d logs (%d bytes); want the 2 servers' and the edge's", searched, total)
	}
	t.Logf("searched %d logs, %d bytes, for %d secrets", searched, total, len(secrets))
}
