package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// Defaults of Options.
const (
	DefaultConnectTimeout    = 5 * time.Second
	DefaultResponseTimeout   = 10 * time.Second
	DefaultValidationTimeout = 5 * time.Second // SharePoint's
	DefaultMaxResponseBytes  = 64 << 10
)

// Options configure a Client. The zero value is the farm's safe default:
// public receivers only, SharePoint's timeouts.
type Options struct {
	// AllowList lets receivers on non-public addresses through. Each entry
	// is a host name ("hooks.internal", any port), a host name and port
	// ("localhost:7071"), an address ("10.1.2.3", "[::1]:8080") or a CIDR
	// prefix ("10.20.0.0/16"). A host name entry is matched against the
	// notification URL's host, so it allows whatever that name resolves to
	// (the administrator trusts that name's DNS) — except the cloud metadata
	// address, which only an entry of that very address allows. Address and
	// CIDR entries are matched against the address dialled.
	AllowList []string
	// AllowPrivate lets receivers on loopback, link-local, private (RFC
	// 1918, fc00::/7) and shared (100.64.0.0/10) addresses through: for a
	// single development server. It does not allow the metadata address,
	// unspecified, multicast or reserved addresses.
	AllowPrivate bool
	// ConnectTimeout bounds the TCP connect (each address tried) and the TLS
	// handshake. Default 5 s.
	ConnectTimeout time.Duration
	// ResponseTimeout bounds a delivery from the moment its request has
	// been written until the (bounded) response has been read. Default 10 s.
	ResponseTimeout time.Duration
	// ValidationTimeout bounds the whole validation handshake, connect
	// included. Default 5 s, SharePoint's.
	ValidationTimeout time.Duration
	// MaxResponseBytes is the most of a response body ever read; the rest is
	// not read and the connection is dropped. Default 64 KiB.
	MaxResponseBytes int64
	// Resolver resolves receivers' host names; nil is net.DefaultResolver.
	// Whatever it answers, the address policy is applied to each address
	// actually dialled.
	Resolver *net.Resolver
	// TLSConfig is cloned for https receivers (nil: the system roots).
	TLSConfig *tls.Config
	// Now is the clock an HTTP-date Retry-After is read against; nil is
	// time.Now.
	Now func() time.Time
	// UserAgent of the requests; default "Cesivi-Webhooks/1".
	UserAgent string
}

// Client calls webhook receivers under the URL and address policy. It is
// safe for concurrent use.
type Client struct {
	allow             allowList
	allowPrivate      bool
	connectTimeout    time.Duration
	responseTimeout   time.Duration
	validationTimeout time.Duration
	maxBody           int64
	resolver          *net.Resolver
	now               func() time.Time
	userAgent         string
	hc                *http.Client
}

// New returns a Client; it fails only on an allow-list entry it cannot
// parse, naming it.
func New(o Options) (*Client, error) {
	allow, err := parseAllowList(o.AllowList)
	if err != nil {
		return nil, err
	}
	c := &Client{
		allow:             allow,
		allowPrivate:      o.AllowPrivate,
		connectTimeout:    orDefault(o.ConnectTimeout, DefaultConnectTimeout),
		responseTimeout:   orDefault(o.ResponseTimeout, DefaultResponseTimeout),
		validationTimeout: orDefault(o.ValidationTimeout, DefaultValidationTimeout),
		maxBody:           o.MaxResponseBytes,
		resolver:          o.Resolver,
		now:               o.Now,
		userAgent:         o.UserAgent,
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxResponseBytes
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.userAgent == "" {
		c.userAgent = "Cesivi-Webhooks/1"
	}
	tr := &http.Transport{
		Proxy:                  nil, // never a proxy from the environment
		DialContext:            c.dialContext,
		TLSClientConfig:        o.TLSConfig.Clone(),
		TLSHandshakeTimeout:    c.connectTimeout,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		DisableCompression:     true, // the bound is on the bytes received
	}
	c.hc = &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a 3xx is the answer, never followed
		},
	}
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// CloseIdleConnections closes the connections kept for reuse.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// dialContext dials addr (the URL's host:port: there is no proxy) and
// applies the address policy in the dialer's Control hook, on each address
// the dialer connects to after resolving: what is checked is what is
// connected to, so a name that resolves (or rebinds) to a private address is
// refused even though the URL looked public.
func (c *Client) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, _ := strconv.Atoi(p)
	hostOK := c.allow.hostAllowed(host, port)
	d := net.Dialer{
		Timeout:   c.connectTimeout,
		KeepAlive: 30 * time.Second,
		Resolver:  c.resolver,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("webhook: unexpected dial address %q", address)
			}
			return c.checkAddr(host, hostOK, ap.Addr(), int(ap.Port()))
		},
	}
	return d.DialContext(ctx, network, addr)
}

// Error is a failed validation or delivery. Retryable says whether the job
// worker should try again (timeouts, connection failures, 408, 429, 5xx) or
// give up (refused by policy, a redirect, another 4xx, a failed handshake).
type Error struct {
	Op         string // "validation" or "delivery"
	URL        string // the notification URL without its query (Redacted)
	StatusCode int    // the receiver's status, 0 when there was no answer
	Retryable  bool
	Timeout    bool
	// RetryAfter is the receiver's Retry-After (429, 503), 0 without one.
	// It is not capped: the job worker bounds it by its retry window.
	RetryAfter time.Duration
	Reason     string
	Err        error // the cause (a *URLError, *AddressError, net error…)
}

func (e *Error) Error() string {
	if e.URL == "" {
		return "webhook " + e.Op + ": " + e.Reason
	}
	return "webhook " + e.Op + " to " + e.URL + ": " + e.Reason
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether err is a failure worth retrying. A nil error is
// not; an error that is not an *Error (it does not come from this package)
// is.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Retryable
	}
	return !errors.Is(err, ErrRefused)
}

// RetryAfter is the receiver's Retry-After carried by err, if any.
func RetryAfter(err error) (time.Duration, bool) {
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter, true
	}
	return 0, false
}
