package oidcop

import (
	"context"
	"net/http"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/route"
)

// HostResolver is what a UserPoolService offers, beyond
// behalf.UserPoolService, to serve pools under their domains
// (CreateUserPoolDomain): *userpool.Service does. Without it, the pools are
// served under their issuers only.
type HostResolver interface {
	// ResolveHost returns the pool whose domain a request's Host header
	// names and the base URL that domain is served at (scheme, host and
	// port, no path), or "" and "" when the Host is no pool's domain. The
	// base URL must come from the operator's configuration, never from the
	// Host header's text.
	ResolveHost(ctx context.Context, host string) (poolID, base string, err error)
}

// domainKey is the context key of a request that came in on a domain.
type domainKey struct{}

// domainRequest is what serveDomain knows of such a request.
type domainRequest struct {
	base string // the domain's base URL, from HostResolver
}

// Discovery documents' paths at the root of a domain: the host names the
// pool, so neither form takes a pool id.
var domainMetadataPaths = map[string]bool{
	"/.well-known/openid-configuration":       true,
	"/.well-known/oauth-authorization-server": true,
}

// serveDomain serves a request whose Host is a pool's domain and reports
// whether it was one. On a domain the pool's routes are at the root
// (/oauth2/authorize, /login, /logout, /oauth2/token, /oauth2/userInfo,
// /oauth2/revoke, /.well-known/jwks.json, discovery) and every other path
// is 404: the host is the pool's alone, so its session cookie (path /)
// reaches nothing else. The request is served as /{pool}/… with the
// domain's base URL on its context, from which links, redirects, cookie
// paths and discovery's endpoints are built; tokens' issuer is unchanged.
func (p *Provider) serveDomain(w http.ResponseWriter, r *http.Request) bool {
	poolID, base, err := p.hosts.ResolveHost(r.Context(), r.Host)
	if err != nil {
		p.log.ErrorContext(r.Context(), "hosted login: resolve the request's host", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return true
	}
	if poolID == "" || !behalf.IsPoolID(poolID) {
		return false
	}
	path := r.URL.Path
	_, known := routes[path]
	meta := domainMetadataPaths[path]
	if !known && !meta {
		http.NotFound(w, r)
		return true
	}
	ctx := context.WithValue(r.Context(), domainKey{}, domainRequest{base: base})
	r = r.WithContext(ctx)
	u := *r.URL
	u.RawPath = ""
	if meta {
		u.Path = "/" + poolID + "/.well-known/openid-configuration"
	} else {
		u.Path = "/" + poolID + path
	}
	r.URL = &u
	if meta {
		p.meta.ServeHTTP(w, r)
	} else {
		p.serve(w, r, path)
	}
	return true
}

// domainRoute names a request whose Host is a pool's domain, which
// serveDomain serves: its route, the discovery document, or an unnamed
// HTML answer (the 404 of anything else there). False for other hosts,
// and when the host cannot be resolved (serveDomain answers that).
func (p *Provider) domainRoute(r *http.Request) (route.Route, bool) {
	if p.hosts == nil {
		return route.Route{}, false
	}
	poolID, _, err := p.hosts.ResolveHost(r.Context(), r.Host)
	if err != nil || poolID == "" || !behalf.IsPoolID(poolID) {
		return route.Route{}, false
	}
	if pr, ok := routes[r.URL.Path]; ok {
		return pr.Route, true
	}
	if domainMetadataPaths[r.URL.Path] {
		return discovery, true
	}
	return route.Route{Kind: route.HTML}, true
}
