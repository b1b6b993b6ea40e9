package webhook

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		want Category
	}{
		{"8.8.8.8", Public},
		{"2001:4860:4860::8888", Public},
		{"100.63.255.255", Public},
		{"172.32.0.1", Public},
		{"127.0.0.1", Loopback},
		{"127.255.0.9", Loopback},
		{"::1", Loopback},
		{"::ffff:127.0.0.1", Loopback},
		{"169.254.1.1", LinkLocal},
		{"fe80::1", LinkLocal},
		{"fe80::1%eth0", LinkLocal},
		{"10.1.2.3", Private},
		{"172.16.0.1", Private},
		{"172.31.255.255", Private},
		{"192.168.1.1", Private},
		{"::ffff:192.168.1.1", Private},
		{"fc00::1", Private},
		{"fd12:3456::1", Private},
		{"100.64.0.1", SharedCGNAT},
		{"100.127.255.255", SharedCGNAT},
		{"0.0.0.0", Unspecified},
		{"0.1.2.3", Unspecified},
		{"::", Unspecified},
		{"224.0.0.1", Multicast},
		{"ff02::1", Multicast},
		{"255.255.255.255", Reserved},
		{"169.254.169.254", Metadata},
		{"::ffff:169.254.169.254", Metadata},
		{"fd00:ec2::254", Metadata},
	} {
		if got := Classify(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("Classify(%s) = %q, want %q", tc.ip, got, tc.want)
		}
	}
}

func TestAllowListParsing(t *testing.T) {
	for _, bad := range []string{"https://x.example/", "10.0.0.0/33", "host:0", "host:abc", "a b", "*.example.com"} {
		if _, err := New(Options{AllowList: []string{bad}}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("New(AllowList %q): %v, want an error naming it", bad, err)
		}
	}
	if _, err := New(Options{AllowList: []string{"localhost", "LocalHost:7071", "10.0.0.0/8", "fd00::/8", "127.0.0.1", "[::1]:8080", "192.168.1.5:443", " ", "hooks.example.com."}}); err != nil {
		t.Fatal(err)
	}
}

// The policy itself, on addresses no test can listen on.
func TestCheckAddr(t *testing.T) {
	mk := func(o Options) *Client {
		t.Helper()
		c, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	type check struct {
		host string
		ip   string
		port int
		ok   bool
	}
	for _, tc := range []struct {
		name   string
		opts   Options
		checks []check
	}{
		{"default", Options{}, []check{
			{"hooks.example.com", "93.184.216.34", 443, true},
			{"hooks.example.com", "127.0.0.1", 443, false}, // rebinding: the name looked public
			{"10.0.0.1", "10.0.0.1", 80, false},
			{"x", "169.254.169.254", 80, false},
			{"x", "fd00:ec2::254", 80, false},
			{"x", "::ffff:10.0.0.1", 80, false},
		}},
		{"private allowed", Options{AllowPrivate: true}, []check{
			{"localhost", "127.0.0.1", 80, true},
			{"x", "192.168.0.10", 80, true},
			{"x", "fe80::1", 80, true},
			{"x", "100.64.1.1", 80, true},
			{"x", "169.254.169.254", 80, false}, // metadata stays refused
			{"x", "fd00:ec2::254", 80, false},
			{"x", "0.0.0.0", 80, false},
			{"x", "224.0.0.1", 80, false},
		}},
		{"host names", Options{AllowList: []string{"receiver.internal", "localhost:7071"}}, []check{
			{"receiver.internal", "10.1.1.1", 443, true},
			{"RECEIVER.internal.", "10.1.1.1", 443, true},
			{"other.internal", "10.1.1.1", 443, false},
			{"localhost", "127.0.0.1", 7071, true},
			{"localhost", "127.0.0.1", 7072, false},
			{"receiver.internal", "169.254.169.254", 80, false}, // not by a name
		}},
		{"addresses", Options{AllowList: []string{"10.20.0.0/16", "127.0.0.1:8080", "169.254.0.0/16"}}, []check{
			{"a.internal", "10.20.3.4", 443, true},
			{"a.internal", "10.21.3.4", 443, false},
			{"localhost", "127.0.0.1", 8080, true},
			{"localhost", "::ffff:127.0.0.1", 8080, true},
			{"localhost", "127.0.0.1", 8081, false},
			{"x", "169.254.10.10", 80, true},
			{"x", "169.254.169.254", 80, false}, // not by a wider CIDR
		}},
		{"metadata by its address", Options{AllowList: []string{"169.254.169.254", "fd00:ec2::254/128"}}, []check{
			{"169.254.169.254", "169.254.169.254", 80, true},
			{"x", "fd00:ec2::254", 80, true},
		}},
	} {
		c := mk(tc.opts)
		for _, ch := range tc.checks {
			c2 := c.allow.hostAllowed(ch.host, ch.port)
			err := c.checkAddr(ch.host, c2, netip.MustParseAddr(ch.ip), ch.port)
			if (err == nil) != ch.ok {
				t.Errorf("%s: %s %s:%d: err %v, want allowed=%v", tc.name, ch.host, ch.ip, ch.port, err, ch.ok)
			}
			if err != nil {
				var ae *AddressError
				if !errors.As(err, &ae) || !errors.Is(err, ErrRefused) {
					t.Errorf("%s: %T %v is not an *AddressError refused by policy", tc.name, err, err)
				}
			}
		}
	}
}

func TestAddressErrorNamesTheAddressAndTheSetting(t *testing.T) {
	err := (&AddressError{Host: "evil.example", Addr: netip.MustParseAddr("127.0.0.1"), Category: Loopback}).Error()
	for _, want := range []string{"127.0.0.1", `"evil.example"`, "loopback", "Cesivi:Webhooks:AllowedHosts"} {
		if !strings.Contains(err, want) {
			t.Errorf("%q does not contain %q", err, want)
		}
	}
}
