package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cesivi/cesivi/internal/testenv"
)

// SignIn runs the whole sign-in flow as a browser would, against edge
// and the provider: /oauth2/login on the edge, the provider's login form,
// then the edge's /oauth2/callback. It returns the Cookie header value
// naming the new session. transport is shared between flows (nil: a
// new one), the cookie jar is not.
func SignIn(ctx context.Context, transport http.RoundTripper, edge string, idp *testenv.IdentityProvider, username, password string) (string, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return "", err
	}
	browser := &http.Client{Jar: jar, Transport: transport, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := idp.LoginAs(ctx, browser, edge+"/oauth2/login?rd=/health/live", username, password)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	callback := resp.Header.Get("Location")
	if !strings.HasPrefix(callback, edge+"/oauth2/callback?") {
		return "", fmt.Errorf("sign-in: the provider redirected to %q, not the edge's callback", callback)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, callback, nil)
	if err != nil {
		return "", err
	}
	resp, err = browser.Do(req)
	if err != nil {
		return "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "cesivi_session" {
			return c.Name + "=" + c.Value, nil
		}
	}
	return "", fmt.Errorf("sign-in: the callback answered %d without a session cookie", resp.StatusCode)
}

// loopbackSources is how many loopback addresses sign-in flows come
// from: the edge lets one address start 20 sign-ins, then one every 2 s,
// so 4000 of them sustain 2000 flows a second, far above what one
// machine does.
const loopbackSources = 4000

var nextSource atomic.Uint32

// Browser returns a transport for one new browser: its connections come
// from the next of loopbackSources addresses (127.1.0.1 onwards), as
// sign-ins come from many users, each with its own address and budget.
func Browser() *http.Transport {
	n := nextSource.Add(1) % loopbackSources
	src := &net.TCPAddr{IP: net.IPv4(127, 1, byte(n/250), byte(n%250+1))}
	return &http.Transport{
		DialContext:        (&net.Dialer{Timeout: 5 * time.Second, LocalAddr: src}).DialContext,
		DisableCompression: true,
	}
}

// SignInFresh is SignIn by a new browser (Browser), whose connections
// are closed at the end.
func SignInFresh(ctx context.Context, edge string, idp *testenv.IdentityProvider, username, password string) (string, error) {
	tr := Browser()
	defer tr.CloseIdleConnections()
	return SignIn(ctx, tr, edge, idp, username, password)
}

// SignInLoad runs sign-in flows over conns workers for d, each starting
// its next flow when the last one ends, each flow a new browser
// (SignInFresh). Requests in the result are completed flows.
func SignInLoad(ctx context.Context, edge string, idp *testenv.IdentityProvider, username, password string, conns int, d time.Duration) (Result, error) {
	if _, err := SignInFresh(ctx, edge, idp, username, password); err != nil {
		return Result{}, fmt.Errorf("warm-up against %s: %w", edge, err)
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      atomic.Int64
		wg        sync.WaitGroup
	)
	start := time.Now()
	for range conns {
		wg.Go(func() {
			for ctx.Err() == nil {
				t0 := time.Now()
				if _, err := SignInFresh(ctx, edge, idp, username, password); err != nil {
					if ctx.Err() == nil {
						errs.Add(1)
					}
					continue
				}
				mu.Lock()
				latencies = append(latencies, time.Since(t0))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.Sort(latencies)
	r := Result{Requests: len(latencies), Errors: int(errs.Load()), Elapsed: time.Since(start)}
	if n := len(latencies); n > 0 {
		r.P50, r.P99 = latencies[n/2], latencies[n*99/100]
	}
	return r, nil
}
