package oidcop

import "net/http"

// WithDocumentHTTPClient turns on client ID metadata documents fetched
// with c (tests: a client that trusts httptest's certificate).
func WithDocumentHTTPClient(c *http.Client) Option {
	return func(p *Provider) { p.docHTTP = c }
}
