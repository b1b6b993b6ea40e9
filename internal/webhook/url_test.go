package webhook

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckURLRefusesWithAClearReason(t *testing.T) {
	long := "https://hooks.example.com/?" + strings.Repeat("a", MaxURLLength)
	for _, tc := range []struct{ url, want string }{
		{"", "notificationUrl is empty"},
		{"ftp://hooks.example.com/x", `notificationUrl has scheme "ftp"; only http and https are allowed`},
		{"javascript:alert(1)", `has scheme "javascript"`},
		{"//hooks.example.com/x", "has no scheme"},
		{"/relative/path", "has no scheme"},
		{"https://user:pass@hooks.example.com/x", "must not contain credentials"},
		{"https://user@hooks.example.com/x", "must not contain credentials"},
		{"https://hooks.example.com/x#frag", "must not contain a fragment"},
		{"https://hooks.example.com/x#", "must not contain a fragment"},
		{"https:///x", "has no host"},
		{"http:hooks.example.com", "has no host"},
		{"https://:443/x", "has no host"},
		{"https://hooks.example.com:0/x", "has an invalid port"},
		{"https://hooks.example.com:99999/x", "has an invalid port"},
		{"https://hooks.example.com:/x", "has an empty port"},
		{"https://hooks.example.com:http/x", "has an invalid port"},
		{" https://hooks.example.com/", "leading or trailing spaces"},
		{"https://hooks.example.com/\nx", "control character"},
		{long, "is 2075 characters long; at most 2048 are allowed"},
	} {
		u, err := CheckURL(tc.url)
		if err == nil {
			t.Errorf("CheckURL(%q) = %v, want an error containing %q", tc.url, u, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckURL(%.80q): %q, want it to contain %q", tc.url, err, tc.want)
		}
		if !errors.Is(err, ErrRefused) {
			t.Errorf("CheckURL(%q): %v is not ErrRefused", tc.url, err)
		}
		if strings.Contains(err.Error(), "pass") {
			t.Errorf("CheckURL(%q): %q repeats the credentials", tc.url, err)
		}
	}
}

func TestCheckURLAcceptsHTTPAndHTTPS(t *testing.T) {
	for _, raw := range []string{
		"https://hooks.example.com/api/webhook?code=abc%3D&x=1",
		"HTTP://hooks.example.com:8080",
		"http://[2001:db8::1]:7071/api",
		"http://127.0.0.1:1234/", // the address is the Client's business
		"https://hooks.example.com/" + strings.Repeat("a", MaxURLLength-len("https://hooks.example.com/")),
	} {
		u, err := CheckURL(raw)
		if err != nil {
			t.Errorf("CheckURL(%q): %v", raw, err)
			continue
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Errorf("CheckURL(%q).Scheme = %q", raw, u.Scheme)
		}
	}
}

func TestRedactedDropsTheQuery(t *testing.T) {
	u, err := CheckURL("https://fn.example.net/api/hook?code=s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if got := Redacted(u); got != "https://fn.example.net/api/hook?…" {
		t.Errorf("Redacted = %q", got)
	}
}
