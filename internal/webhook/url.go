package webhook

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// MaxURLLength is the longest notification URL accepted, in bytes: SharePoint
// Online's limit on a subscription's notificationUrl.
const MaxURLLength = 2048

// URLError is a notification URL refused by CheckURL. Its message says what
// is wrong without repeating the URL (which may carry a secret in its query
// or, refused, its user info); it is meant for the 400 answered to the API
// client that sent the URL.
type URLError struct {
	Reason string
}

func (e *URLError) Error() string { return "notificationUrl " + e.Reason }

// Is makes errors.Is(err, ErrRefused) true for every refusal by policy.
func (e *URLError) Is(target error) bool { return target == ErrRefused }

func urlErr(format string, args ...any) error {
	return &URLError{Reason: fmt.Sprintf(format, args...)}
}

// CheckURL parses a notification URL and applies the URL policy: an absolute
// http or https URL of at most MaxURLLength bytes, with a host, without user
// info (credentials) and without a fragment. Query parameters are kept (a
// receiver may need them, e.g. a function key). It says nothing of the
// address the host resolves to: that is checked when the Client dials.
func CheckURL(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, urlErr("is empty")
	}
	if len(raw) > MaxURLLength {
		return nil, urlErr("is %d characters long; at most %d are allowed", len(raw), MaxURLLength)
	}
	if strings.TrimSpace(raw) != raw {
		return nil, urlErr("has leading or trailing spaces")
	}
	for _, r := range raw {
		if r < 0x20 || r == 0x7f {
			return nil, urlErr("contains a control character")
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's message repeats the URL; say what kind of error it is.
		reason := "cannot be parsed"
		var ue *url.Error
		if errors.As(err, &ue) {
			switch {
			case strings.Contains(ue.Err.Error(), "invalid port"):
				reason = "has an invalid port"
			case strings.Contains(ue.Err.Error(), "missing protocol scheme"):
				reason = "has no scheme; use an absolute http or https URL"
			case strings.Contains(ue.Err.Error(), "invalid URL escape"):
				reason = "has an invalid percent-escape"
			case strings.Contains(ue.Err.Error(), "invalid character"), strings.Contains(ue.Err.Error(), "IPv6"):
				reason = "has an invalid host"
			}
		}
		return nil, urlErr("%s", reason)
	}
	switch scheme := strings.ToLower(u.Scheme); scheme {
	case "http", "https":
		u.Scheme = scheme
	case "":
		return nil, urlErr("has no scheme; use an absolute http or https URL")
	default:
		return nil, urlErr("has scheme %q; only http and https are allowed", truncate(u.Scheme, 20))
	}
	if u.User != nil {
		return nil, urlErr("must not contain credentials (user info before the host)")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return nil, urlErr("must not contain a fragment (#…)")
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return nil, urlErr("has no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, urlErr("has an invalid port")
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return nil, urlErr("has an empty port")
	}
	return u, nil
}

// Redacted is the URL as errors and logs show it: scheme, host and path, no
// query (a receiver's query may carry a secret, e.g. an Azure Functions
// code) and never user info.
func Redacted(u *url.URL) string {
	if u == nil {
		return ""
	}
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	s := r.String()
	if u.RawQuery != "" {
		s += "?…"
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
