package safehttp

import (
	"context"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// lookupTimeout bounds the DNS lookup CheckURL makes for http URLs.
const lookupTimeout = 5 * time.Second

// lookupHost resolves a host name; tests replace it.
var lookupHost = func(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// CheckURL parses raw and checks it before any request is made: the scheme
// must be https, or http when allowPrivate is set and the host is a
// loopback or private address (a literal IP, "localhost", or a name that
// resolves only to such addresses; only this case looks the name up). The
// URL must not carry a user name or password, and unless allowPrivate is
// set its host must not be a literal non-public address or "localhost".
// Names are not resolved for https: the dialer checks the address actually
// connected to. Errors are *Error.
func CheckURL(raw string, allowPrivate bool) (*url.URL, error) {
	return Options{AllowPrivate: allowPrivate}.CheckURL(raw)
}

// CheckURL is the package's CheckURL with o.AllowPrivate, looking http
// hosts up with o.Resolver when it is set.
func (o Options) CheckURL(raw string) (*url.URL, error) {
	return o.policy().checkRaw(raw)
}

// lookup resolves host with the policy's resolver, else lookupHost.
func (p *policy) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if p.resolver != nil {
		return p.resolver.LookupNetIP(ctx, "ip", host)
	}
	return lookupHost(ctx, host)
}

// checkRaw parses raw and applies checkURL.
func (p *policy) checkRaw(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, failf(err, "URL is not valid")
	}
	if err := p.checkURL(u); err != nil {
		return nil, err
	}
	return u, nil
}

// checkURL applies the static checks to a parsed URL.
func (p *policy) checkURL(u *url.URL) error {
	if u.Scheme != "https" && u.Scheme != "http" {
		return refusef("URL must use https")
	}
	if u.User != nil {
		return refusef("URL must not contain a user name or password")
	}
	host := u.Hostname()
	if host == "" {
		return refusef("URL must name a host")
	}
	if p.exemptURL(u.Host) {
		return nil
	}
	what, kind, err := hostKind(host)
	if err != nil {
		return err
	}
	if kind != "" && !p.allowPrivate {
		return notPublic(what, kind)
	}
	if u.Scheme == "http" {
		return p.checkHTTP(host, kind)
	}
	return nil
}

// hostKind classifies a URL host without DNS: literal IPs by address,
// "localhost" names as loopback, other names as "" (judged at dial time).
// what names the host for messages. Numeric hosts that are not canonical
// IP literals ("127.1", "0x7f000001") are refused: resolvers disagree on
// what they mean.
func hostKind(host string) (what, kind string, err error) {
	if ip, perr := netip.ParseAddr(host); perr == nil {
		return "address " + ip.String(), classify(ip), nil
	}
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return "host " + host, "loopback", nil
	}
	if looksNumeric(name) {
		return "", "", refusef("URL host %s is not a valid host name or IP address", host)
	}
	return "host " + host, "", nil
}

// looksNumeric reports whether a host name's last label is a number, as in
// the shorthand, octal, hex or decimal IPv4 forms some resolvers accept.
func looksNumeric(name string) bool {
	last := name[strings.LastIndexByte(name, '.')+1:]
	if strings.HasPrefix(last, "0x") {
		return true
	}
	return last != "" && strings.Trim(last, "0123456789") == ""
}

// checkHTTP allows plain http only when private endpoints are allowed and
// the host is not public: kind is already known for literals and
// "localhost"; other names must resolve only to non-public addresses.
func (p *policy) checkHTTP(host, kind string) error {
	const msg = "URL must use https (http is allowed only for loopback and private hosts)"
	if !p.allowPrivate {
		return refusef("URL must use https")
	}
	if kind != "" {
		return nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return refusef(msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	addrs, err := p.lookup(ctx, host)
	if err != nil || len(addrs) == 0 {
		return failf(err, "could not resolve host %s", host)
	}
	for _, a := range addrs {
		if classify(a) == "" {
			return refusef(msg)
		}
	}
	return nil
}
