// Package edgehealth is the edge's health command (cesivi-edge health):
// for orchestrators whose health checks run a command in the container
// (Docker Swarm's healthcheck, ECS's healthCheck) on an image without curl.
// It asks one URL and says whether it answered 200 within a timeout.
package edgehealth

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// DefaultTimeout bounds the whole check: connect, request and answer.
const DefaultTimeout = 5 * time.Second

// DefaultURL is the liveness URL through the edge's own HTTP listener on
// this host: port CESIVI_HTTP_PORT (the Caddyfiles' http_port), 8080 when
// unset. /health/live is anonymous at the edge and answered by an app
// server's liveness (never its dependencies), so it fails only when the
// edge does not answer or no server is there to take a request.
func DefaultURL(getenv func(string) string) string {
	port := getenv("CESIVI_HTTP_PORT")
	if port == "" {
		port = "8080"
	}
	return "http://" + net.JoinHostPort("127.0.0.1", port) + "/health/live"
}

// Check asks url once and returns the start of its body when it answers
// 200 within timeout; otherwise an error that says what it got.
func Check(ctx context.Context, url string, timeout time.Duration) ([]byte, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("unhealthy: %w", err)
	}
	// No proxy from the environment: the check is of this host.
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("unhealthy: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("unhealthy: %s answered %d", url, resp.StatusCode)
	}
	if err != nil {
		return body, fmt.Errorf("unhealthy: reading the answer of %s: %w", url, err)
	}
	return body, nil
}
