package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
)

var (
	errResponseTimeout = errors.New("webhook: response timeout")
	errTotalTimeout    = errors.New("webhook: validation timeout")
)

type exchange struct {
	status    int
	header    http.Header
	body      []byte
	truncated bool
	bodyErr   error
	elapsed   time.Duration
}

// post sends one POST. total bounds the whole exchange (0: none); respTimeout
// starts when the request has been written (0: none).
func (c *Client) post(ctx context.Context, op string, u *url.URL, body []byte, contentType string, total, respTimeout time.Duration) (exchange, *Error) {
	var ex exchange
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if total > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeoutCause(ctx, total, errTotalTimeout)
		defer stop()
	}
	var mu sync.Mutex
	var timer *time.Timer
	stopTimer := func() {
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
	}
	defer stopTimer()
	if respTimeout > 0 {
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) {
				mu.Lock()
				defer mu.Unlock()
				if timer != nil {
					timer.Stop()
				}
				timer = time.AfterFunc(respTimeout, func() { cancel(errResponseTimeout) })
			},
		})
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return ex, &Error{Op: op, URL: Redacted(u), Reason: "cannot build the request", Err: err}
	}
	if len(body) == 0 {
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", c.userAgent)
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		ex.elapsed = time.Since(start)
		return ex, c.transportError(parent, ctx, op, u, err, total, respTimeout)
	}
	defer resp.Body.Close()
	ex.status, ex.header = resp.StatusCode, resp.Header
	ex.body, ex.bodyErr = io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if int64(len(ex.body)) > c.maxBody {
		ex.body, ex.truncated = ex.body[:c.maxBody], true
	}
	if ex.bodyErr != nil {
		ex.bodyErr = c.transportError(parent, ctx, op, u, ex.bodyErr, total, respTimeout)
	}
	ex.elapsed = time.Since(start)
	return ex, nil
}

// transportError explains a failure to get an answer, without the URL's
// query (url.Error's text would repeat it).
func (c *Client) transportError(parent, ctx context.Context, op string, u *url.URL, err error, total, respTimeout time.Duration) *Error {
	e := &Error{Op: op, URL: Redacted(u), Retryable: true, Err: err}
	var ae *AddressError
	var ue *URLError
	var dns *net.DNSError
	var cert x509.UnknownAuthorityError
	var host x509.HostnameError
	var inv x509.CertificateInvalidError
	cause := context.Cause(ctx)
	switch {
	case errors.As(err, &ae):
		e.Retryable, e.Reason, e.Err = false, ae.Error(), ae
	case errors.As(err, &ue):
		e.Retryable, e.Reason, e.Err = false, ue.Error(), ue
	case parent.Err() != nil:
		e.Reason = "abandoned: " + context.Cause(parent).Error()
	case errors.Is(cause, errTotalTimeout):
		e.Timeout, e.Reason = true, "the receiver did not answer within "+total.String()
	case errors.Is(cause, errResponseTimeout):
		e.Timeout, e.Reason = true, "the receiver did not answer within "+respTimeout.String()+" of the request"
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Reason = "the receiver refused the connection"
	case errors.Is(err, syscall.ECONNRESET):
		e.Reason = "the receiver reset the connection"
	case errors.As(err, &dns):
		if dns.IsNotFound {
			e.Reason = fmt.Sprintf("host %q was not found", dns.Name)
		} else {
			e.Reason = fmt.Sprintf("host %q could not be resolved", dns.Name)
		}
	case errors.As(err, &cert), errors.As(err, &host), errors.As(err, &inv):
		e.Reason = "the receiver's TLS certificate was not accepted: " + innerText(err)
	case isTimeout(err):
		e.Timeout, e.Reason = true, "the receiver could not be reached within "+c.connectTimeout.String()
	default:
		e.Reason = "the receiver could not be reached: " + innerText(err)
	}
	return e
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// innerText is the text of err below its *url.Error (which names the URL).
func innerText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// Validate performs SharePoint's validation handshake with a new
// subscription's receiver: a POST with an empty body to notificationURL
// with validationtoken=<a random token> added to its query (its other
// parameters kept), which the receiver must answer, within
// Options.ValidationTimeout, with 200, Content-Type text/plain (any
// parameters) and the token as the body (surrounding white space ignored).
// A nil error means the subscription may be stored. Every error is an
// *Error; none is worth retrying within the subscription request.
func (c *Client) Validate(ctx context.Context, notificationURL string) error {
	const op = "validation"
	u, err := CheckURL(notificationURL)
	if err != nil {
		return &Error{Op: op, Reason: err.Error(), Err: err}
	}
	token := newToken()
	vu := *u
	vu.RawQuery = withToken(u.RawQuery, token)
	ex, e := c.post(ctx, op, &vu, nil, "", c.validationTimeout, 0)
	if e != nil {
		e.URL, e.Retryable = Redacted(u), false
		return e
	}
	fail := func(format string, args ...any) error {
		return &Error{Op: op, URL: Redacted(u), StatusCode: ex.status, Reason: fmt.Sprintf(format, args...)}
	}
	if ex.status != http.StatusOK {
		return fail("the receiver answered %s; it must answer 200 OK with the validation token as text/plain", statusText(ex.status))
	}
	ct := ex.header.Get("Content-Type")
	if ct == "" {
		return fail("the receiver answered without a Content-Type; the validation token must come back as text/plain")
	}
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "text/plain" {
		return fail("the receiver answered with Content-Type %q; the validation token must come back as text/plain", truncate(ct, 80))
	}
	if ex.bodyErr != nil {
		var be *Error
		if errors.As(ex.bodyErr, &be) {
			return fail("reading the receiver's answer failed: %s", be.Reason)
		}
		return fail("reading the receiver's answer failed")
	}
	if ex.truncated || strings.TrimSpace(string(ex.body)) != token {
		return fail("the receiver's answer is not the validation token (it must echo the validationtoken query parameter); got %s", describeBody(ex.body, ex.truncated))
	}
	return nil
}

// Result is a receiver's answer to a delivery.
type Result struct {
	StatusCode int
	Body       []byte // at most Options.MaxResponseBytes
	Truncated  bool   // the body was longer and was cut
	Duration   time.Duration
}

// Deliver POSTs a notification body (see Encode) as application/json.
// Any 2xx is a success (nil error), whatever its body. Otherwise the error
// is an *Error: Retryable for timeouts, connection failures, 408, 429 and
// 5xx (RetryAfter from a 429's or 503's Retry-After), permanent for a URL or
// address refused by policy, a redirect (never followed: the receiver's URL
// is wrong, retrying yields the same) and any other 4xx. The Result holds
// what the receiver answered, if it answered.
func (c *Client) Deliver(ctx context.Context, notificationURL string, body []byte) (Result, error) {
	const op = "delivery"
	u, err := CheckURL(notificationURL)
	if err != nil {
		return Result{}, &Error{Op: op, Reason: err.Error(), Err: err}
	}
	ex, e := c.post(ctx, op, u, body, "application/json", 0, c.responseTimeout)
	res := Result{StatusCode: ex.status, Body: ex.body, Truncated: ex.truncated, Duration: ex.elapsed}
	if e != nil {
		return res, e
	}
	s := ex.status
	if s >= 200 && s <= 299 {
		return res, nil // accepted; a cut or failed body read changes nothing
	}
	de := &Error{Op: op, URL: Redacted(u), StatusCode: s}
	switch {
	case s >= 300 && s <= 399:
		de.Reason = fmt.Sprintf("the receiver answered %s, a redirect; redirects are not followed", statusText(s))
	case s == http.StatusRequestTimeout, s == http.StatusTooManyRequests, s >= 500 && s <= 599:
		de.Retryable = true
		de.Reason = "the receiver answered " + statusText(s)
		if s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable {
			if d, ok := parseRetryAfter(ex.header.Get("Retry-After"), c.now()); ok {
				de.RetryAfter = d
				de.Reason += " with Retry-After " + d.String()
			}
		}
	case s >= 400 && s <= 499:
		de.Reason = "the receiver answered " + statusText(s) + "; not retried"
	default:
		de.Retryable = true
		de.Reason = "the receiver answered an unexpected status " + strconv.Itoa(s)
	}
	return res, de
}

// parseRetryAfter reads delay-seconds or an HTTP-date (RFC 9110 10.2.3).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		const maxSeconds = int64(1<<63-1) / int64(time.Second)
		if n > maxSeconds {
			n = maxSeconds
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

func statusText(s int) string {
	if t := http.StatusText(s); t != "" {
		return strconv.Itoa(s) + " " + t
	}
	return strconv.Itoa(s)
}

// describeBody shows a short printable body quoted, otherwise its length.
func describeBody(b []byte, truncated bool) string {
	if len(b) == 0 {
		return "an empty body"
	}
	if !truncated && len(b) <= 64 && utf8.Valid(b) {
		printable := true
		for _, r := range string(b) {
			if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
				printable = false
				break
			}
		}
		if printable {
			return strconv.Quote(string(b))
		}
	}
	if truncated {
		return fmt.Sprintf("a body of more than %d bytes", len(b))
	}
	return fmt.Sprintf("a body of %d bytes", len(b))
}

// newToken is a random validation token in GUID form (URL-safe as is).
func newToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// withToken adds validationtoken=token to a raw query, keeping the other
// parameters as they were written and dropping any validationtoken the URL
// already carried.
func withToken(rawQuery, token string) string {
	var parts []string
	for _, p := range strings.Split(rawQuery, "&") {
		if p == "" {
			continue
		}
		k, _, _ := strings.Cut(p, "=")
		if uk, err := url.QueryUnescape(k); err == nil && strings.EqualFold(uk, "validationtoken") {
			continue
		}
		parts = append(parts, p)
	}
	return strings.Join(append(parts, "validationtoken="+token), "&")
}
