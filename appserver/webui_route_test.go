package appserver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// "/" answers a browser with the web pages and API clients with the
// server's JSON name, as before the pages existed.
func TestRootServesPagesToBrowsersAndJSONToClients(t *testing.T) {
	ts := httptest.NewServer(newServer(t, "Cesivi__Farm__ServerId=server-ui").Handler())
	defer ts.Close()
	get := func(accept string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", ts.URL+"/", nil)
		req.Header.Set("Accept", accept)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	res, body := get("text/html,application/xhtml+xml,*/*;q=0.8")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "/_layouts/cesivi/assets/") || res.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("browser: %d %v %.200s", res.StatusCode, res.Header, body)
	}
	res, body = get("application/json")
	if res.StatusCode != 200 || !strings.Contains(body, `"name":"Cesivi Server"`) {
		t.Fatalf("client: %d %s", res.StatusCode, body)
	}
}
