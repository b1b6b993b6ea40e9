package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// ErrRefused is matched (errors.Is) by every refusal of the URL or address
// policy: the notification URL is refused for good, retrying cannot help.
var ErrRefused = errors.New("webhook: refused by policy")

// Category names why an address is not public.
type Category string

const (
	Public      Category = ""
	Loopback    Category = "loopback"
	LinkLocal   Category = "link-local"
	Private     Category = "private"
	SharedCGNAT Category = "shared (carrier-grade NAT)"
	Unspecified Category = "unspecified"
	Multicast   Category = "multicast"
	Reserved    Category = "reserved"
	Metadata    Category = "the cloud metadata address"
)

var (
	metadataV4 = netip.MustParseAddr("169.254.169.254")
	metadataV6 = netip.MustParseAddr("fd00:ec2::254")

	rangesV4 = []struct {
		p netip.Prefix
		c Category
	}{
		{netip.MustParsePrefix("0.0.0.0/8"), Unspecified}, // "this network"; Linux connects 0.0.0.0 to loopback
		{netip.MustParsePrefix("127.0.0.0/8"), Loopback},
		{netip.MustParsePrefix("169.254.0.0/16"), LinkLocal},
		{netip.MustParsePrefix("10.0.0.0/8"), Private},
		{netip.MustParsePrefix("172.16.0.0/12"), Private},
		{netip.MustParsePrefix("192.168.0.0/16"), Private},
		{netip.MustParsePrefix("100.64.0.0/10"), SharedCGNAT},
		{netip.MustParsePrefix("224.0.0.0/4"), Multicast},
		{netip.MustParsePrefix("240.0.0.0/4"), Reserved}, // 255.255.255.255 included
	}
	rangesV6 = []struct {
		p netip.Prefix
		c Category
	}{
		{netip.MustParsePrefix("::1/128"), Loopback},
		{netip.MustParsePrefix("::/128"), Unspecified},
		{netip.MustParsePrefix("fe80::/10"), LinkLocal},
		{netip.MustParsePrefix("fec0::/10"), Private}, // deprecated site-local
		{netip.MustParsePrefix("fc00::/7"), Private},  // unique local
		{netip.MustParsePrefix("ff00::/8"), Multicast},
		// NAT64 local use (RFC 8215): never routed globally, and the
		// operator picks where the IPv4 address sits.
		{netip.MustParsePrefix("64:ff9b:1::/48"), Private},
	}
)

// Classify says whether an address is public, and if not what it is. An
// IPv6 address that carries an IPv4 address a router or relay will deliver
// to (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64
// 64:ff9b::a.b.c.d, 6to4 2002:aabb:ccdd::, Teredo 2001:0::) is classified as
// that IPv4 address when it is not public: 64:ff9b::7f00:1 is loopback.
func Classify(ip netip.Addr) Category {
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() {
		return Unspecified
	}
	if ip.Is6() {
		embedded := EmbeddedIPv4(ip)
		for _, v4 := range embedded {
			if classify(v4) == Metadata {
				return Metadata
			}
		}
		if c := classifyV6(ip); c != Public {
			return c
		}
		for _, v4 := range embedded {
			if c := classify(v4); c != Public {
				return c
			}
		}
		return Public
	}
	return classify(ip)
}

func classifyV6(ip netip.Addr) Category {
	if ip == metadataV6 {
		return Metadata
	}
	for _, r := range rangesV6 {
		if r.p.Contains(ip) {
			return r.c
		}
	}
	return Public
}

func classify(ip netip.Addr) Category {
	if ip == metadataV4 {
		return Metadata
	}
	for _, r := range rangesV4 {
		if r.p.Contains(ip) {
			return r.c
		}
	}
	return Public
}

var (
	compatV6   = netip.MustParsePrefix("::/96")          // IPv4-compatible (RFC 4291, deprecated)
	nat64V6    = netip.MustParsePrefix("64:ff9b::/96")   // NAT64 well-known prefix (RFC 6052)
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/48") // NAT64 local use (RFC 8215)
	sixTo4V6   = netip.MustParsePrefix("2002::/16")      // 6to4 (RFC 3056)
	teredoV6   = netip.MustParsePrefix("2001::/32")      // Teredo (RFC 4380)
)

// EmbeddedIPv4 returns the IPv4 addresses an IPv6 address embeds and that a
// translator or relay would deliver packets to: the IPv4-mapped and
// IPv4-compatible address, the NAT64 (RFC 6052) address (for the local-use
// prefix 64:ff9b:1::/48 at the /96 position), the 6to4 gateway, Teredo's
// client (de-obfuscated) and server.
func EmbeddedIPv4(ip netip.Addr) []netip.Addr {
	ip = ip.WithZone("")
	if ip.Is4In6() {
		return []netip.Addr{ip.Unmap()}
	}
	if !ip.Is6() {
		return nil
	}
	b := ip.As16()
	v4 := func(x []byte) netip.Addr { return netip.AddrFrom4([4]byte{x[0], x[1], x[2], x[3]}) }
	switch {
	case compatV6.Contains(ip):
		if ip == netip.IPv6Unspecified() || ip == netip.IPv6Loopback() {
			return nil
		}
		return []netip.Addr{v4(b[12:])}
	case nat64V6.Contains(ip):
		return []netip.Addr{v4(b[12:])}
	case nat64Local.Contains(ip):
		// The operator picks where the IPv4 address sits; the whole prefix
		// is private (rangesV6), and the usual /96 position is decoded so
		// that a metadata address stays refused with AllowPrivate.
		return []netip.Addr{v4(b[12:])}
	case sixTo4V6.Contains(ip):
		return []netip.Addr{v4(b[2:6])}
	case teredoV6.Contains(ip):
		client := [4]byte{b[12] ^ 0xff, b[13] ^ 0xff, b[14] ^ 0xff, b[15] ^ 0xff}
		return []netip.Addr{netip.AddrFrom4(client), v4(b[4:8])}
	}
	return nil
}

// AddressError is a dial refused by the address policy: the address the
// notification URL's host resolved to (or is) is not one Cesivi may call.
type AddressError struct {
	Host     string // the URL's host, as dialled
	Addr     netip.Addr
	Category Category
}

func (e *AddressError) Error() string {
	host := ""
	if e.Host != "" && e.Host != e.Addr.String() {
		host = fmt.Sprintf(" (the address of %q)", e.Host)
	}
	if e.Addr.Is6() && classifyV6(e.Addr) != e.Category {
		for _, v4 := range EmbeddedIPv4(e.Addr) {
			if classify(v4) == e.Category {
				host += fmt.Sprintf(" (which carries the IPv4 address %s)", v4)
				break
			}
		}
	}
	what := "is " + string(e.Category)
	if e.Category == Metadata {
		what = "is " + string(Metadata) + "; it is refused unless that single address is on the allow-list"
	} else if e.Category == Unspecified || e.Category == Multicast || e.Category == Reserved {
		what += "; it cannot be a receiver unless allow-listed"
	} else {
		what += "; receivers on loopback, link-local, private and shared addresses are refused unless their host is on the allow-list (Cesivi:Webhooks:AllowedHosts)"
	}
	return fmt.Sprintf("notificationUrl address %s%s %s", e.Addr, host, what)
}

func (e *AddressError) Is(target error) bool { return target == ErrRefused }

// allowList is the parsed Options.AllowList.
type allowList struct {
	hosts map[string]bool // "name" (any port) or "name:port"
	addrs []allowAddr
}

type allowAddr struct {
	p    netip.Prefix
	port int // 0: any
}

func parseAllowList(entries []string) (allowList, error) {
	a := allowList{hosts: map[string]bool{}}
	for _, raw := range entries {
		e := strings.ToLower(strings.TrimSpace(raw))
		if e == "" {
			continue
		}
		bad := func(why string) error { return fmt.Errorf("webhook: allow-list entry %q: %s", raw, why) }
		if strings.Contains(e, "/") {
			if strings.Contains(e, "://") {
				return a, bad("give a host, host:port or CIDR, not a URL")
			}
			p, err := netip.ParsePrefix(e)
			if err != nil {
				return a, bad("not a CIDR prefix")
			}
			a.addrs = append(a.addrs, allowAddr{p: p.Masked()})
			continue
		}
		if ip, err := netip.ParseAddr(strings.Trim(e, "[]")); err == nil {
			a.addrs = append(a.addrs, allowAddr{p: netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen())})
			continue
		}
		host, port := e, 0
		if h, p, err := net.SplitHostPort(e); err == nil {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return a, bad("invalid port")
			}
			host, port = h, n
		}
		if ip, err := netip.ParseAddr(host); err == nil {
			a.addrs = append(a.addrs, allowAddr{p: netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()), port: port})
			continue
		}
		host = strings.TrimSuffix(host, ".")
		if host == "" || strings.ContainsAny(host, " :/@?#*") {
			return a, bad("not a host name")
		}
		if port == 0 {
			a.hosts[host] = true
		} else {
			a.hosts[net.JoinHostPort(host, strconv.Itoa(port))] = true
		}
	}
	return a, nil
}

// hostAllowed: the URL's host (as the transport dials it, host:port) is on
// the allow-list by name.
func (a allowList) hostAllowed(host string, port int) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	return a.hosts[h] || a.hosts[net.JoinHostPort(h, strconv.Itoa(port))]
}

// addrAllowed: the dialled address is on the allow-list as an address or in
// a CIDR. exact requires an entry of that single address (for the metadata
// address).
func (a allowList) addrAllowed(ip netip.Addr, port int, exact bool) bool {
	ip = ip.Unmap().WithZone("")
	for _, e := range a.addrs {
		if e.port != 0 && e.port != port {
			continue
		}
		if exact && e.p.Bits() != e.p.Addr().BitLen() {
			continue
		}
		if e.p.Contains(ip) {
			return true
		}
	}
	return false
}

// checkAddr is the address policy, applied to each address the dialer is
// about to connect to. host is the URL's host, hostOK whether it is
// allow-listed by name.
func (c *Client) checkAddr(host string, hostOK bool, ip netip.Addr, port int) error {
	cat := Classify(ip)
	switch {
	case cat == Public:
		return nil
	case cat == Metadata:
		// Only an entry of that very address allows it: not a host name
		// (whose DNS could be made to point there), not a wider CIDR.
		if c.allow.addrAllowed(ip, port, true) {
			return nil
		}
	case hostOK, c.allow.addrAllowed(ip, port, false):
		return nil
	case c.allowPrivate && (cat == Loopback || cat == LinkLocal || cat == Private || cat == SharedCGNAT):
		return nil
	}
	return &AddressError{Host: host, Addr: ip.Unmap().WithZone(""), Category: cat}
}
