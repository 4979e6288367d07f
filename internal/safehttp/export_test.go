package safehttp

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/netip"
)

// Classify exposes the IP classifier.
var Classify = classify

// Control runs the dialer's connect-time check on address ("ip:port").
func Control(allowPrivate bool, address string) error {
	return (&policy{allowPrivate: allowPrivate}).control("tcp", address, nil)
}

// NewTestClient is NewClient with a TLS configuration (to trust httptest
// certificates) and exemptions: URL hosts ("host:port") that skip the
// static checks and dialled addresses ("ip:port") that skip the
// connect-time check.
func NewTestClient(o Options, tlsConfig *tls.Config, exemptURLs, exemptDials []string) *http.Client {
	p := o.policy()
	p.exemptURLs = set(exemptURLs)
	p.exemptDials = set(exemptDials)
	return newClient(p, tlsConfig)
}

// TransportOf returns the http.Transport under a client from NewClient.
func TransportOf(c *http.Client) *http.Transport {
	return c.Transport.(*guard).next
}

// SetLookup replaces the DNS lookup CheckURL uses for http URLs and
// returns a function that restores it.
func SetLookup(f func(ctx context.Context, host string) ([]netip.Addr, error)) (restore func()) {
	old := lookupHost
	lookupHost = f
	return func() { lookupHost = old }
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}
