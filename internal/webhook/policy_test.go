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

// IPv6 addresses that carry an IPv4 address a translator or relay delivers
// to are classified as that IPv4 address.
func TestClassifyEmbeddedIPv4(t *testing.T) {
	for _, tc := range []struct {
		ip   string
		want Category
	}{
		// NAT64, well-known prefix (RFC 6052)
		{"64:ff9b::7f00:1", Loopback},
		{"64:ff9b::127.0.0.1", Loopback},
		{"64:ff9b::a00:1", Private},
		{"64:ff9b::a9fe:a9fe", Metadata},
		{"64:ff9b::a9fe:101", LinkLocal},
		{"64:ff9b::6440:1", SharedCGNAT},
		{"64:ff9b::", Unspecified},
		{"64:ff9b::808:808", Public},
		// NAT64, local-use prefix (RFC 8215): private, the metadata
		// address at the /96 position stays metadata
		{"64:ff9b:1:7f00:0:100::", Private},
		{"64:ff9b:1:808:0:808::", Private},
		{"64:ff9b:1::c0a8:101", Private},
		{"64:ff9b:1::a9fe:a9fe", Metadata},
		// 6to4 (RFC 3056)
		{"2002:7f00:1::", Loopback},
		{"2002:7f00:1::1", Loopback},
		{"2002:c0a8:101::1", Private},
		{"2002:a9fe:a9fe::", Metadata},
		{"2002:808:808::1", Public},
		// Teredo (RFC 4380): server at bits 32-63, client XOR 0xffffffff
		{"2001:0:808:808::80ff:fffe", Loopback}, // client 127.0.0.1
		{"2001:0:808:808::f5ff:fffe", Private},  // client 10.0.0.1
		{"2001:0:7f00:1::f7f7:f7f7", Loopback},  // server 127.0.0.1
		{"2001:0:808:808::f7f7:f7f7", Public},   // client and server 8.8.8.8
		// IPv4-mapped and IPv4-compatible
		{"::ffff:7f00:1", Loopback},
		{"::ffff:a9fe:a9fe", Metadata},
		{"::127.0.0.1", Loopback},
		{"::10.0.0.1", Private},
		{"::8.8.8.8", Public},
		{"::1", Loopback},
		{"::", Unspecified},
		// not embedding: other IPv6
		{"2001:db9::1", Public},
		{"2003::7f00:1", Public},
	} {
		if got := Classify(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("Classify(%s) = %q, want %q (embedded %v)", tc.ip, got, tc.want, EmbeddedIPv4(netip.MustParseAddr(tc.ip)))
		}
	}
}

func TestCheckAddrRefusesEmbeddedIPv4(t *testing.T) {
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ip := range []string{"64:ff9b::7f00:1", "2002:7f00:1::", "64:ff9b::a9fe:a9fe", "2001:0:808:808::80ff:fffe", "64:ff9b:1::a9fe:a9fe"} {
		err := c.checkAddr("hooks.example.com", false, netip.MustParseAddr(ip), 443)
		if !errors.Is(err, ErrRefused) {
			t.Errorf("%s: %v, want refused", ip, err)
			continue
		}
		if !strings.Contains(err.Error(), "which carries the IPv4 address") {
			t.Errorf("%s: %q does not name the embedded IPv4 address", ip, err)
		}
	}
	// Allowing private networks lets a NAT64 loopback through like
	// 127.0.0.1, never the metadata address.
	c, err = New(Options{AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.checkAddr("x", false, netip.MustParseAddr("64:ff9b::7f00:1"), 80); err != nil {
		t.Errorf("AllowPrivate, NAT64 loopback: %v", err)
	}
	for _, ip := range []string{"2002:a9fe:a9fe::", "64:ff9b:1::a9fe:a9fe"} {
		if err := c.checkAddr("x", false, netip.MustParseAddr(ip), 80); !errors.Is(err, ErrRefused) {
			t.Errorf("AllowPrivate, metadata in %s: %v, want refused", ip, err)
		}
	}
}
