package safehttp

import (
	"net/netip"
	"syscall"
)

// blockedRange is an address range that a fetch may not reach unless
// private endpoints are allowed; kind says why in plain words.
type blockedRange struct {
	prefix netip.Prefix
	kind   string
}

var blockedRanges = []blockedRange{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (carrier-grade NAT)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private"},
	{netip.MustParsePrefix("198.18.0.0/15"), "reserved"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("fc00::/7"), "private"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("fec0::/10"), "private"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

// IPv6 ranges that embed an IPv4 address, which is classified in turn.
var (
	compatPrefix = netip.MustParsePrefix("::/96")        // IPv4-compatible (deprecated)
	nat64Prefix  = netip.MustParsePrefix("64:ff9b::/96") // NAT64 well-known prefix
	sixToFour    = netip.MustParsePrefix("2002::/16")    // 6to4
)

// classify returns why ip may not be reached ("private", "loopback", ...)
// or "" if it is a public address. IPv4-mapped, IPv4-compatible, NAT64 and
// 6to4 forms are judged by the IPv4 address they carry.
func classify(ip netip.Addr) string {
	ip = ip.WithZone("").Unmap()
	for _, r := range blockedRanges {
		if r.prefix.Contains(ip) {
			return r.kind
		}
	}
	if v4, ok := embeddedIPv4(ip); ok {
		return classify(v4)
	}
	return ""
}

// embeddedIPv4 returns the IPv4 address an IPv6 transition address carries.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	if !ip.Is6() {
		return netip.Addr{}, false
	}
	b := ip.As16()
	switch {
	case compatPrefix.Contains(ip), nat64Prefix.Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// control is the net.Dialer Control hook: it runs after DNS resolution,
// just before connecting, and refuses non-public addresses unless private
// endpoints are allowed.
func (p *policy) control(_, address string, _ syscall.RawConn) error {
	if p.allowPrivate || p.exemptDial(address) {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return failf(err, "could not check address %s", address)
	}
	if kind := classify(ap.Addr()); kind != "" {
		return notPublic("address "+ap.Addr().String(), kind)
	}
	return nil
}
