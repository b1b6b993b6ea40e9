package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func newClient(t *testing.T, o Options) *Client {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// receiver is a real HTTP server on loopback counting the requests it got.
type receiver struct {
	*httptest.Server
	hits atomic.Int32
}

func newReceiver(t *testing.T, h http.HandlerFunc) *receiver {
	t.Helper()
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		h(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) hostPort() string { return strings.TrimPrefix(r.URL, "http://") }

func (r *receiver) port() string {
	_, p, _ := net.SplitHostPort(r.hostPort())
	return p
}

func ok(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }

// block answers nothing until the client goes away. It reads the request
// body first: the server notices a closed connection (and cancels the
// request's context) only once the body has been read.
func block(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
			t.Error("the client never went away")
		}
	}
}

func asError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%T %v is not a *webhook.Error", err, err)
	}
	return e
}

func wantRefused(t *testing.T, err error, cat Category) {
	t.Helper()
	if err == nil {
		t.Fatal("no error, want the address refused")
	}
	var ae *AddressError
	if !errors.As(err, &ae) || ae.Category != cat {
		t.Fatalf("%v: want an *AddressError of category %q", err, cat)
	}
	if !errors.Is(err, ErrRefused) || Retryable(err) {
		t.Errorf("%v: want a permanent refusal (ErrRefused, not retryable)", err)
	}
}

func TestLoopbackReceiverRefusedWithoutAllowList(t *testing.T) {
	rcv := newReceiver(t, ok)
	c := newClient(t, Options{})
	_, err := c.Deliver(context.Background(), rcv.URL+"/hook", []byte(`{}`))
	wantRefused(t, err, Loopback)
	wantRefused(t, c.Validate(context.Background(), rcv.URL+"/hook"), Loopback)
	if n := rcv.hits.Load(); n != 0 {
		t.Errorf("the receiver got %d requests, want none", n)
	}
}

// The rebinding case: the URL names a host, not an address; what it resolves
// to is what is checked.
func TestHostNameResolvingToLoopbackRefused(t *testing.T) {
	rcv := newReceiver(t, ok)
	c := newClient(t, Options{AllowList: []string{"hooks.example.com", "127.0.0.2"}})
	_, err := c.Deliver(context.Background(), "http://localhost:"+rcv.port()+"/hook", []byte(`{}`))
	wantRefused(t, err, Loopback)
	if !strings.Contains(err.Error(), `"localhost"`) {
		t.Errorf("%v does not name the host", err)
	}
	if n := rcv.hits.Load(); n != 0 {
		t.Errorf("the receiver got %d requests, want none", n)
	}
}

func TestLoopbackReceiverAllowed(t *testing.T) {
	rcv := newReceiver(t, ok)
	for _, tc := range []struct {
		name string
		opts Options
		url  string
	}{
		{"its address and port allow-listed", Options{AllowList: []string{rcv.hostPort()}}, rcv.URL},
		{"its address allow-listed", Options{AllowList: []string{"127.0.0.1"}}, rcv.URL},
		{"loopback CIDR allow-listed", Options{AllowList: []string{"127.0.0.0/8"}}, rcv.URL},
		{"its host name allow-listed", Options{AllowList: []string{"localhost:" + rcv.port()}}, "http://localhost:" + rcv.port() + "/"},
		{"AllowPrivate", Options{AllowPrivate: true}, rcv.URL},
	} {
		c := newClient(t, tc.opts)
		before := rcv.hits.Load()
		if _, err := c.Deliver(context.Background(), tc.url, []byte(`{}`)); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if rcv.hits.Load() != before+1 {
			t.Errorf("%s: the receiver got no request", tc.name)
		}
	}
	// Allow-listed on another port only: refused.
	c := newClient(t, Options{AllowList: []string{"127.0.0.1:1", "localhost:1"}})
	_, err := c.Deliver(context.Background(), rcv.URL, nil)
	wantRefused(t, err, Loopback)
}

// The metadata address is refused even with AllowPrivate, before any packet
// is sent: with a broken policy this test would try to connect and fail with
// a timeout instead.
func TestMetadataAddressRefusedEvenWithAllowPrivate(t *testing.T) {
	c := newClient(t, Options{AllowPrivate: true, AllowList: []string{"169.254.0.0/16"}, ConnectTimeout: 300 * time.Millisecond})
	for _, u := range []string{"http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/latest/meta-data/"} {
		_, err := c.Deliver(context.Background(), u, nil)
		wantRefused(t, err, Metadata)
		wantRefused(t, c.Validate(context.Background(), u), Metadata)
	}
}

func TestNoProxyFromTheEnvironment(t *testing.T) {
	c := newClient(t, Options{})
	if tr := c.hc.Transport.(*http.Transport); tr.Proxy != nil {
		t.Error("the transport has a proxy function")
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	var target atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/target?validationtoken="+r.URL.Query().Get("validationtoken"), http.StatusFound)
	})
	mux.HandleFunc("/target", func(w http.ResponseWriter, r *http.Request) {
		target.Add(1)
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, r.URL.Query().Get("validationtoken"))
	})
	rcv := newReceiver(t, mux.ServeHTTP)
	c := newClient(t, Options{AllowPrivate: true})
	res, err := c.Deliver(context.Background(), rcv.URL+"/hook", []byte(`{}`))
	e := asError(t, err)
	if e.StatusCode != http.StatusFound || res.StatusCode != http.StatusFound || e.Retryable {
		t.Errorf("%v: status %d, retryable %v; want a permanent 302", err, e.StatusCode, e.Retryable)
	}
	if !strings.Contains(err.Error(), "redirects are not followed") {
		t.Errorf("%v does not say redirects are not followed", err)
	}
	if err := c.Validate(context.Background(), rcv.URL+"/hook"); err == nil || !strings.Contains(err.Error(), "302") {
		t.Errorf("Validate through a redirect: %v, want a failure naming 302", err)
	}
	if n := target.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
}

func TestOversizedResponseCutAtTheBound(t *testing.T) {
	const total = 64 << 20
	type outcome struct {
		written int
		err     error
	}
	done := make(chan outcome, 4)
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 32<<10)
		var o outcome
		for o.written < total && o.err == nil {
			var n int
			n, o.err = w.Write(chunk)
			o.written += n
		}
		done <- o
	})
	for _, max := range []int64{0, 1000} {
		c := newClient(t, Options{AllowPrivate: true, MaxResponseBytes: max})
		res, err := c.Deliver(context.Background(), rcv.URL, []byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		want := max
		if want == 0 {
			want = DefaultMaxResponseBytes
		}
		if int64(len(res.Body)) != want || !res.Truncated {
			t.Errorf("MaxResponseBytes %d: read %d bytes, truncated %v; want %d, true", max, len(res.Body), res.Truncated, want)
		}
		select {
		case o := <-done:
			if o.err == nil || o.written >= total {
				t.Errorf("the receiver wrote %d bytes (error %v): the client read it all", o.written, o.err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the receiver is still writing: the client did not drop the connection")
		}
	}
}

func TestSlowReceiverHitsTheResponseTimeout(t *testing.T) {
	rcv := newReceiver(t, block(t))
	c := newClient(t, Options{AllowPrivate: true, ResponseTimeout: 100 * time.Millisecond})
	start := time.Now()
	_, err := c.Deliver(context.Background(), rcv.URL, []byte(`{}`))
	e := asError(t, err)
	if !e.Timeout || !e.Retryable || !strings.Contains(err.Error(), "did not answer within 100ms") {
		t.Errorf("%v: timeout %v, retryable %v; want a retryable timeout", err, e.Timeout, e.Retryable)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the timeout took %v", d)
	}
}

func TestCallerCancellationIsRetryable(t *testing.T) {
	rcv := newReceiver(t, block(t))
	c := newClient(t, Options{AllowPrivate: true})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for rcv.hits.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := c.Deliver(ctx, rcv.URL, nil)
	if e := asError(t, err); !e.Retryable || !errors.Is(err, context.Canceled) {
		t.Errorf("%v: want a retryable error wrapping context.Canceled", err)
	}
}

func TestHTTPSReceiver(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(ok))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c := newClient(t, Options{AllowList: []string{"127.0.0.1"}, TLSConfig: &tls.Config{RootCAs: pool}})
	if _, err := c.Deliver(context.Background(), srv.URL, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	c = newClient(t, Options{AllowList: []string{"127.0.0.1"}})
	_, err := c.Deliver(context.Background(), srv.URL, []byte(`{}`))
	if err == nil || !strings.Contains(err.Error(), "TLS certificate") {
		t.Errorf("unknown CA: %v, want a certificate error", err)
	}
}

// Validation handshake.

func echo(contentType string, mangle func(string) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if contentType == "" {
			w.Header()["Content-Type"] = nil // no sniffing either
		} else {
			w.Header().Set("Content-Type", contentType)
		}
		io.WriteString(w, mangle(r.URL.Query().Get("validationtoken")))
	}
}

func TestValidateEchoingReceiver(t *testing.T) {
	type seen struct {
		method, body, contentLength string
		query                       url.Values
	}
	got := make(chan seen, 1)
	rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, string(b), r.Header.Get("Content-Length"), r.URL.Query()}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "  "+r.URL.Query().Get("validationtoken")+"\r\n")
	})
	c := newClient(t, Options{AllowPrivate: true})
	if err := c.Validate(context.Background(), rcv.URL+"/api/hook?code=a%2Bb&validationtoken=old&x=1"); err != nil {
		t.Fatal(err)
	}
	s := <-got
	if s.method != http.MethodPost || s.body != "" || s.contentLength != "0" {
		t.Errorf("method %s, body %q, Content-Length %q; want POST with an empty body", s.method, s.body, s.contentLength)
	}
	if s.query.Get("code") != "a+b" || s.query.Get("x") != "1" {
		t.Errorf("query %v: the URL's parameters are not kept", s.query)
	}
	if tok := s.query["validationtoken"]; len(tok) != 1 || len(tok[0]) != 36 || tok[0] == "old" {
		t.Errorf("validationtoken %q: want one fresh token", tok)
	}
	// Two handshakes, two tokens.
	if err := c.Validate(context.Background(), rcv.URL); err != nil {
		t.Fatal(err)
	}
	if first, second := s.query.Get("validationtoken"), (<-got).query.Get("validationtoken"); first == second {
		t.Errorf("the token %q was used twice", first)
	}
}

func TestValidateFailures(t *testing.T) {
	big := strings.Repeat("x", 100<<10)
	for _, tc := range []struct {
		name    string
		h       http.HandlerFunc
		timeout time.Duration
		want    []string
	}{
		{"wrong token", echo("text/plain", func(string) string { return "nope" }), 0,
			[]string{"not the validation token", `"nope"`}},
		{"empty body", echo("text/plain", func(string) string { return "" }), 0,
			[]string{"not the validation token", "an empty body"}},
		{"large body", echo("text/plain", func(string) string { return big }), 0,
			[]string{"not the validation token", "more than 65536 bytes"}},
		{"wrong content type", echo("application/json", func(s string) string { return s }), 0,
			[]string{`Content-Type "application/json"`, "text/plain"}},
		{"no content type", echo("", func(s string) string { return s }), 0,
			[]string{"without a Content-Type"}},
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, big, http.StatusInternalServerError) }, 0,
			[]string{"answered 500 Internal Server Error", "must answer 200 OK"}},
		{"slow", block(t), 150 * time.Millisecond,
			[]string{"did not answer within 150ms"}},
	} {
		rcv := newReceiver(t, tc.h)
		c := newClient(t, Options{AllowPrivate: true, ValidationTimeout: tc.timeout})
		err := c.Validate(context.Background(), rcv.URL+"/hook?code=secret")
		if err == nil {
			t.Errorf("%s: the handshake passed", tc.name)
			continue
		}
		msg := err.Error()
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q does not contain %q", tc.name, msg, w)
			}
		}
		if len(msg) > 400 || strings.Contains(msg, "secret") || strings.Contains(msg, "xxxxxxxx") {
			t.Errorf("%s: %q repeats the query or the body", tc.name, msg)
		}
		if Retryable(err) {
			t.Errorf("%s: a failed handshake is retryable", tc.name)
		}
	}
}

// Delivery.

func TestDeliverSuccess(t *testing.T) {
	type seen struct{ contentType, body string }
	got := make(chan seen, 1)
	for _, status := range []int{200, 202, 204} {
		rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got <- seen{r.Header.Get("Content-Type"), string(b)}
			w.WriteHeader(status)
		})
		c := newClient(t, Options{AllowPrivate: true})
		res, err := c.Deliver(context.Background(), rcv.URL, []byte(`{"value":[]}`))
		if err != nil || res.StatusCode != status {
			t.Errorf("%d: %v, status %d", status, err, res.StatusCode)
		}
		if s := <-got; s.contentType != "application/json" || s.body != `{"value":[]}` {
			t.Errorf("%d: the receiver got %q %q", status, s.contentType, s.body)
		}
	}
}

func TestDeliverFailuresRetryableOrPermanent(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		status     int
		retryAfter string
		retryable  bool
		wantAfter  time.Duration
	}{
		{500, "", true, 0},
		{502, "", true, 0},
		{503, now.Add(90 * time.Second).Format(http.TimeFormat), true, 90 * time.Second},
		{429, "120", true, 120 * time.Second},
		{429, "soon", true, 0},
		{408, "", true, 0},
		{404, "", false, 0},
		{400, "", false, 0},
		{410, "", false, 0},
		{301, "", false, 0},
	} {
		rcv := newReceiver(t, func(w http.ResponseWriter, r *http.Request) {
			if tc.retryAfter != "" {
				w.Header().Set("Retry-After", tc.retryAfter)
			}
			if tc.status == 301 {
				w.Header().Set("Location", "/elsewhere")
			}
			w.WriteHeader(tc.status)
		})
		c := newClient(t, Options{AllowPrivate: true, Now: func() time.Time { return now }})
		res, err := c.Deliver(context.Background(), rcv.URL, []byte(`{}`))
		if err == nil {
			t.Errorf("%d: no error", tc.status)
			continue
		}
		e := asError(t, err)
		if e.StatusCode != tc.status || res.StatusCode != tc.status {
			t.Errorf("%d: error status %d, result status %d", tc.status, e.StatusCode, res.StatusCode)
		}
		if Retryable(err) != tc.retryable {
			t.Errorf("%d: %v retryable %v, want %v", tc.status, err, Retryable(err), tc.retryable)
		}
		if d, _ := RetryAfter(err); d != tc.wantAfter {
			t.Errorf("%d Retry-After %q: %v, want %v", tc.status, tc.retryAfter, d, tc.wantAfter)
		}
	}
}

func TestDeliverConnectionRefusedIsRetryable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := newClient(t, Options{AllowPrivate: true})
	_, err = c.Deliver(context.Background(), "http://"+addr+"/hook", []byte(`{}`))
	e := asError(t, err)
	if !Retryable(err) || errors.Is(err, ErrRefused) || e.StatusCode != 0 {
		t.Errorf("%v: want a retryable failure without status, not a policy refusal", err)
	}
	if !strings.Contains(err.Error(), "refused the connection") {
		t.Errorf("%v does not say the connection was refused", err)
	}
}

func TestDeliverRefusesABadURLPermanently(t *testing.T) {
	c := newClient(t, Options{AllowPrivate: true})
	_, err := c.Deliver(context.Background(), "ftp://hooks.example.com/", nil)
	var ue *URLError
	if !errors.As(err, &ue) || Retryable(err) {
		t.Errorf("%v: want a permanent *URLError", err)
	}
}
