package connstr

import (
	"net"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// endpoint is one host with its port; port is 0 until a default is applied.
type endpoint struct {
	host string
	port int
}

func (e endpoint) addr() string { return net.JoinHostPort(e.host, strconv.Itoa(e.port)) }

// splitEndpoint parses host, host:port, [IPv6], [IPv6]:port or a bare IPv6
// address. On failure it returns a reason that never quotes the text: an
// endpoint may be a mistyped option such as "password:secret", so callers
// show at most the host, and only once it is known to be a valid host.
func splitEndpoint(s string) (endpoint, string) {
	var host, port string
	hasPort := false
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return endpoint{}, "has '[' without a closing ']'"
		}
		host = s[1:end]
		if ip := net.ParseIP(host); ip == nil || !strings.Contains(host, ":") {
			return endpoint{}, "has brackets around something that is not an IPv6 address"
		}
		switch rest := s[end+1:]; {
		case rest == "":
		case rest[0] == ':':
			port, hasPort = rest[1:], true
		default:
			return endpoint{}, "has text after the closing ']'"
		}
	case strings.Count(s, ":") > 1:
		// Without brackets several colons can only be an IPv6 address
		// with no port: "fe80::1:6379" is an address, not a port.
		if net.ParseIP(s) == nil {
			return endpoint{}, "is neither host:port nor an IPv6 address (write an IPv6 address with a port as [address]:port)"
		}
		host = s
	default:
		host, port, hasPort = strings.Cut(s, ":")
	}
	if !validHost(host) {
		return endpoint{}, "does not start with a valid host name or IP address"
	}
	e := endpoint{host: host}
	if hasPort {
		p, ok := parsePort(port)
		if !ok {
			return endpoint{host: host}, "port is not a number from 1 to 65535"
		}
		e.port = p
	}
	return e, ""
}

// validHost accepts IP addresses and DNS-style names. Underscores are
// allowed because container and compose service names use them.
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if net.ParseIP(h) != nil {
		return true
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// parsePort accepts decimal digits only (no sign, no spaces) from 1 to 65535.
func parsePort(s string) (int, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	p, _ := strconv.Atoi(s)
	return p, p >= 1 && p <= 65535
}

// printable reports whether s can appear in a one-line message as is.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// parseBool accepts the spellings .NET configuration code accepts.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "on", "1":
		return true, true
	case "false", "no", "off", "0":
		return false, true
	}
	return false, false
}
