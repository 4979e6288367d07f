package safehttp

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// Defaults for Options.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultMaxRedirects = 3
)

// Options configures NewClient.
type Options struct {
	// AllowPrivate lets requests reach loopback, private, link-local and
	// other non-public addresses, and use plain http to such hosts. Set it
	// only when the operator asked for it (--allow-private-endpoints).
	AllowPrivate bool
	// Timeout bounds a whole request including redirects and reading the
	// body. Zero means DefaultTimeout.
	Timeout time.Duration
	// MaxRedirects caps how many redirects are followed. Zero means
	// DefaultMaxRedirects; a negative value follows none.
	MaxRedirects int
	// Resolver, when set, resolves host names for dialling and for the
	// static check of http URLs; nil means the system's. The connect-time
	// check applies to whatever it answers (tests map names to loopback
	// addresses with it).
	Resolver *net.Resolver
}

// policy is the resolved Options plus test-only exemptions.
type policy struct {
	allowPrivate bool
	timeout      time.Duration
	maxRedirects int
	resolver     *net.Resolver

	// Test hooks (see export_test.go); nil in production. They exempt a
	// URL host ("host:port") from the static checks or a dialled address
	// ("ip:port") from the connect-time check.
	exemptURLs  map[string]bool
	exemptDials map[string]bool
}

// policy resolves the defaults of o.
func (o Options) policy() *policy {
	p := &policy{allowPrivate: o.AllowPrivate, timeout: o.Timeout, maxRedirects: o.MaxRedirects, resolver: o.Resolver}
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	switch {
	case p.maxRedirects == 0:
		p.maxRedirects = DefaultMaxRedirects
	case p.maxRedirects < 0:
		p.maxRedirects = 0
	}
	return p
}

func (p *policy) exemptURL(hostport string) bool { return p.exemptURLs[hostport] }
func (p *policy) exemptDial(address string) bool { return p.exemptDials[address] }

// NewClient returns an http.Client that enforces the checks described in
// the package documentation on every request and redirect it makes. It
// ignores proxy settings from the environment.
func NewClient(o Options) *http.Client {
	return newClient(o.policy(), nil)
}

// newClient builds the client; tlsConfig is nil except in tests.
func newClient(p *policy, tlsConfig *tls.Config) *http.Client {
	t := &http.Transport{
		Proxy:                  nil, // never from the environment
		DialContext:            p.dialer().DialContext,
		TLSClientConfig:        tlsConfig,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    p.timeout,
		MaxIdleConns:           16,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport:     &guard{p: p, next: t},
		CheckRedirect: p.checkRedirect,
		Timeout:       p.timeout,
	}
}

// dialer returns a dialer that applies the connect-time check (control)
// to every address it connects to.
func (p *policy) dialer() *net.Dialer {
	return &net.Dialer{Timeout: p.timeout, KeepAlive: 30 * time.Second, Control: p.control, Resolver: p.resolver}
}

// NewTransport returns an http.Transport for proxying to upstreams that
// admins configure (agent runtimes, gateway targets). Every connection it
// makes gets the connect-time check of NewClient: the address actually
// dialled, after DNS resolution, must be public unless o.AllowPrivate.
// Unlike NewClient it checks no URL statically (check an upstream's URL
// with CheckURL when it is configured; this transport never follows
// redirects), sets no overall timeout (answers may stream for minutes: the
// request's context bounds a call), keeps many connections alive per host
// and does no transparent decompression. o.Timeout bounds dialling (DNS
// included) and the TLS handshake; o.MaxRedirects is ignored. Proxy
// settings from the environment are ignored. Give callers one message
// whatever its error (refused address, closed port, timeout, DNS or TLS
// failure): distinct texts would tell them what lies at an address.
func NewTransport(o Options) *http.Transport {
	p := o.policy()
	return &http.Transport{
		Proxy:                  nil, // never from the environment
		DialContext:            p.dialer().DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    p.timeout,
		MaxIdleConns:           256,
		MaxIdleConnsPerHost:    64,
		IdleConnTimeout:        90 * time.Second,
		ExpectContinueTimeout:  time.Second,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 64 << 10,
	}
}

// guard is the client's RoundTripper: it statically checks every request
// URL before handing it to the transport, and carries the policy so that
// AllowsPrivate and GetJSON can recover it from the client.
type guard struct {
	p    *policy
	next *http.Transport
}

// RoundTrip checks req.URL, then sends req.
func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := g.p.checkURL(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return g.next.RoundTrip(req)
}

// checkRedirect caps the number of hops and checks each hop's URL.
func (p *policy) checkRedirect(req *http.Request, via []*http.Request) error {
	if p.maxRedirects == 0 {
		return refusef("server redirected to %s; redirects are not followed", req.URL.Host)
	}
	if len(via) > p.maxRedirects {
		return refusef("too many redirects (more than %d)", p.maxRedirects)
	}
	if err := p.checkURL(req.URL); err != nil {
		return failf(err, "redirect to %s refused: %s", req.URL.Host, err)
	}
	return nil
}

// policyOf returns the policy of a client from NewClient; any other client
// gets the strictest static checks (but no connect-time check).
func policyOf(c *http.Client) *policy {
	if c != nil {
		if g, ok := c.Transport.(*guard); ok {
			return g.p
		}
	}
	return Options{}.policy()
}

// AllowsPrivate reports whether c is a client from NewClient with
// AllowPrivate set, so callers can apply CheckURL to URLs they will hand
// on (for example endpoints read from a discovery document) with the same
// rule the client enforces.
func AllowsPrivate(c *http.Client) bool {
	return policyOf(c).allowPrivate
}
