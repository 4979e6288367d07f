package ratelimit

import (
	"encoding/json"
	"html/template"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/behalf-dev/behalf/internal/route"
)

// IPLimit rate-limits the sign-in and consent endpoints per client IP, in
// front of the handlers that serve them. The requests it limits are named
// by their routes (package internal/route: the name the API gave each
// request where its route is mounted), listed in ipLimited:
//
//   - cognito-idp sign-in operations (InitiateAuth, AdminInitiateAuth,
//     RespondToAuthChallenge, AdminRespondToAuthChallenge, ChangePassword)
//     and the sign-up and recovery ones (SignUp, ConfirmSignUp,
//     ResendConfirmationCode, ForgotPassword, ConfirmForgotPassword):
//     TooManyRequestsException in AWS JSON 1.1 with status 400, as
//     Cognito answers it (and as package api answers every Cognito client
//     fault); the SDKs retry it by its name;
//   - the hosted login's POST /{poolId}/login (HostedLogin) and its
//     authorization endpoint, GET and POST /{poolId}/oauth2/authorize
//     (HostedLoginAuthorize: an HTML page; the limit is checked before the
//     redirect_uri is, so it never redirects), and POST
//     /{poolId}/oauth2/token (HostedLoginToken: an OAuth 2.0 error
//     document, invalid_request as the hosted login words its own
//     throttling), and its RFC 7591 registration endpoint, POST
//     /{poolId}/oauth2/register (HostedLoginRegister: the same document);
//   - the consent flow's browser pages (ConsentAuthorize, ConsentCallback,
//     the binding page BindPage and BindPageSwitch, and the browser
//     sign-in's SignInCallback): an HTML page.
//
// The shape of a refusal is the route's Kind; the others answer 429.
// Every refusal carries Retry-After. Other requests, and requests with no
// route, pass untouched.
//
// Loopback clients (127.0.0.0/8, ::1) are not limited: a peer on the same
// host is the operator, or a reverse proxy (Behalf listens on loopback by
// default) whose one address every user would share, so limiting it would
// throttle all users as one. Behind such a proxy, TrustProxy limits each
// forwarded client instead.
type IPLimit struct {
	Limiter *Limiter
	// TrustProxy takes the client IP from the last X-Forwarded-For entry
	// (the one the proxy in front appended) instead of the connection's
	// address. Set it only behind exactly one proxy that appends it.
	TrustProxy bool
	// OnLimit, when set, is called for each refused request (metrics).
	OnLimit func(r *http.Request)
}

// Wrap returns next behind the limit; a nil IPLimit or Limiter returns next.
func (l *IPLimit) Wrap(next http.Handler) http.Handler {
	if l == nil || l.Limiter == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind, ok := classify(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		key, limited := Client(r, l.TrustProxy)
		if !limited {
			next.ServeHTTP(w, r)
			return
		}
		ok, wait := l.Limiter.Allow(key)
		if ok {
			next.ServeHTTP(w, r)
			return
		}
		if l.OnLimit != nil {
			l.OnLimit(r)
		}
		writeThrottled(w, kind, retryAfterSeconds(wait))
	})
}

// ipLimited is the per-IP limit's policy: the names of the routes it
// applies to, with the methods it limits them on (nil: every method the
// route is mounted for).
var ipLimited = map[string][]string{
	// cognito-idp operations that check a password, a challenge answer or
	// a refresh token (POST / only).
	"InitiateAuth": nil, "AdminInitiateAuth": nil, "RespondToAuthChallenge": nil,
	"AdminRespondToAuthChallenge": nil, "ChangePassword": nil,
	// cognito-idp sign-up and recovery: they check codes or send them.
	"SignUp": nil, "ConfirmSignUp": nil, "ResendConfirmationCode": nil, "ForgotPassword": nil, "ConfirmForgotPassword": nil,
	// The hosted login: its authorization endpoint (GET or POST: each
	// stores an auth request), the login form's POST, the token endpoint.
	"HostedLoginAuthorize": {http.MethodGet, http.MethodPost},
	"HostedLogin":          {http.MethodPost},
	"HostedLoginToken":     {http.MethodPost},
	// RFC 7591 registration: each stores an app client.
	"HostedLoginRegister": {http.MethodPost},
	// The consent flow's browser pages (not the SigV4 API under
	// /identities/, such as GetResourceOauth2Token, which the per-key
	// limit covers).
	"ConsentAuthorize": nil, "ConsentCallback": nil, "BindPage": nil, "BindPageSwitch": nil, "SignInCallback": nil,
	// PRIVATE_KEY_JWT providers' public keys: unauthenticated, and each
	// reads the store.
	"GetProviderJWKS": nil,
}

// IPLimitedRoutes returns the names of the routes IPLimit applies to,
// sorted (for documentation, and for tests that each is a route some
// package names).
func IPLimitedRoutes() []string {
	return slices.Sorted(maps.Keys(ipLimited))
}

// classify returns the Kind of r's route (the shape of its refusal) and
// whether IPLimit applies to r.
func classify(r *http.Request) (route.Kind, bool) {
	rt, ok := route.Of(r)
	if !ok {
		return route.None, false
	}
	methods, limited := ipLimited[rt.Name]
	if !limited || (methods != nil && !slices.Contains(methods, r.Method)) {
		return route.None, false
	}
	return rt.Kind, true
}

// Client returns the key r's client is limited by (ClientIP's) and
// whether the per-IP limits apply to it: not to loopback clients (see
// IPLimit).
func Client(r *http.Request, trustProxy bool) (key string, limited bool) {
	addr, raw := clientAddr(r, trustProxy)
	return addrKey(addr, raw), !addr.IsLoopback()
}

// ClientIP returns the client address r's limits are keyed by: the
// connection's IP, or with trustProxy the last X-Forwarded-For entry when
// it parses. IPv6 addresses are keyed by their /64, what one host
// usually holds.
func ClientIP(r *http.Request, trustProxy bool) string {
	return addrKey(clientAddr(r, trustProxy))
}

// clientAddr returns the client's address (invalid when it does not
// parse) and its raw text.
func clientAddr(r *http.Request, trustProxy bool) (netip.Addr, string) {
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if trustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			last = strings.TrimSpace(last[strings.LastIndexByte(last, ',')+1:])
			if _, err := netip.ParseAddr(last); err == nil {
				host = last
			}
		}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, host
	}
	return ip.Unmap(), host
}

// addrKey is the bucket key of an address: IPv4 as is, IPv6 by its /64.
func addrKey(ip netip.Addr, raw string) string {
	if !ip.IsValid() {
		return raw
	}
	if ip.Is6() {
		if p, err := ip.WithZone("").Prefix(64); err == nil {
			return p.String()
		}
	}
	return ip.String()
}

// Messages of the refusals: a rate limit's, and an overloaded server's
// (InFlight).
const (
	throttledMessage = "Rate exceeded."
	busyMessage      = "Too many requests in progress; try again shortly."
)

func writeThrottled(w http.ResponseWriter, kind route.Kind, retryAfter int) {
	writeRefusal(w, kind, retryAfter, false)
}

// writeRefusal answers a refused request in the shape of its route's
// Kind with Retry-After: for a rate limit, or (busy) for overload.
// Requests of no Kind answer in restJson1.
func writeRefusal(w http.ResponseWriter, kind route.Kind, retryAfter int, busy bool) {
	msg := throttledMessage
	if busy {
		msg = busyMessage
	}
	h := w.Header()
	h.Set("Retry-After", strconv.Itoa(retryAfter))
	h.Set("Cache-Control", "no-store")
	switch kind {
	case route.Cognito:
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", "X-Amzn-RequestId, X-Amzn-ErrorType, X-Amzn-ErrorMessage, Date")
		h.Set("X-Amzn-ErrorType", "TooManyRequestsException")
		h.Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "TooManyRequestsException", "message": msg})
	case route.OAuth:
		code, desc := "invalid_request", "Too many requests: try again in "+strconv.Itoa(retryAfter)+" s."
		if busy {
			code, desc = "temporarily_unavailable", "Too many requests in progress: try again in "+strconv.Itoa(retryAfter)+" s."
		}
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	case route.HTML:
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
		w.WriteHeader(http.StatusTooManyRequests)
		page := throttledPage
		if busy {
			page = busyPage
		}
		_ = page.Execute(w, retryAfter)
	default:
		// As package api answers behalf.ETHROTTLED.
		h.Set("X-Amzn-ErrorType", "ThrottlingException")
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_ = json.NewEncoder(w).Encode(struct {
			Type              string `json:"__type"`
			Message           string `json:"message"`
			RetryAfterSeconds int    `json:"retryAfterSeconds"`
		}{"ThrottlingException", msg, retryAfter})
	}
}

var throttledPage = template.Must(template.New("throttled").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Too many attempts · Behalf</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1a1a1a}h1{font-size:1.4rem}</style>
</head>
<body><main>
<h1>Too many attempts</h1>
<p role="alert">Too many requests came from your network. Wait {{.}} seconds, then try again.</p>
</main></body>
</html>
`))

var busyPage = template.Must(template.New("busy").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Busy · Behalf</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1a1a1a}h1{font-size:1.4rem}</style>
</head>
<body><main>
<h1>The server is busy</h1>
<p role="alert">Too many requests are in progress. Wait {{.}} seconds, then try again.</p>
</main></body>
</html>
`))
