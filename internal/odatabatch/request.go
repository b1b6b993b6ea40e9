package odatabatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// target is a request line's target taken apart the way net/http's
// server takes apart what it receives.
type target struct {
	url        *url.URL // path and query only, as an origin-form request has
	host       string   // from an absolute URL; empty for a path
	requestURI string   // path and query as sent
}

// parseTarget reads an absolute http(s) URL or a server-relative path.
func parseTarget(raw string) (target, error) {
	if raw == "" {
		return target{}, errors.New("has no target")
	}
	if strings.ContainsAny(raw, "\x00\r\n") {
		return target{}, errors.New("has a control character in its target")
	}
	u, err := url.ParseRequestURI(raw)
	if err != nil {
		return target{}, errors.New("has an unreadable target")
	}
	var host string
	switch {
	case u.Scheme == "" && strings.HasPrefix(raw, "/"):
	case strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https"):
		if u.Host == "" {
			return target{}, errors.New("has an absolute URL without a host")
		}
		host = u.Host
	default:
		return target{}, errors.New("has a target that is neither an http(s) URL nor a path starting with /")
	}
	path := &url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery, ForceQuery: u.ForceQuery}
	if path.Path == "" {
		path.Path = "/"
	}
	uri := path.EscapedPath()
	if path.RawQuery != "" || path.ForceQuery {
		uri += "?" + path.RawQuery
	}
	return target{url: path, host: host, requestURI: uri}, nil
}

// HTTPRequest builds the server-side *http.Request for r, as net/http's
// server would have built it had r arrived on its own: URL holds the path
// and query only, with RawPath keeping the escaping as sent (%2F, %27…),
// so URL.EscapedPath() is what the client wrote; RequestURI is that path
// and query; Host comes from an absolute URL, or from an inner Host
// header for a path (empty otherwise: the caller then sets the outer
// request's). Header is a copy without Host and Content-Length, and
// ContentLength is len(Body). The caller adds what the connection
// carries: RemoteAddr, TLS and the verified identity.
func (r Request) HTTPRequest(ctx context.Context) (*http.Request, error) {
	if ctx == nil {
		return nil, errors.New("odatabatch: nil Context")
	}
	if !isToken(r.Method) {
		return nil, fmt.Errorf("odatabatch: invalid method %s", quote(r.Method))
	}
	t, err := parseTarget(r.URL)
	if err != nil {
		return nil, fmt.Errorf("odatabatch: request %s %s", quoteTarget(r.URL), err)
	}
	h := r.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	host := t.host
	if host == "" {
		host = h.Get("Host")
	}
	h.Del("Host")
	h.Del("Content-Length")
	req := &http.Request{
		Method:        r.Method,
		URL:           t.url,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          http.NoBody,
		ContentLength: int64(len(r.Body)),
		Host:          host,
		RequestURI:    t.requestURI,
	}
	if len(r.Body) > 0 {
		body := r.Body
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return req.WithContext(ctx), nil
}
