package ratelimit

import (
	"encoding/json"
	"html/template"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// IPLimit rate-limits the sign-in and consent endpoints per client IP, in
// front of the handlers that serve them:
//
//   - cognito-idp sign-in operations (POST / with X-Amz-Target
//     AWSCognitoIdentityProviderService.InitiateAuth, AdminInitiateAuth,
//     RespondToAuthChallenge, AdminRespondToAuthChallenge, ChangePassword):
//     TooManyRequestsException in AWS JSON 1.1 with status 400, as
//     Cognito answers it (and as package api answers every Cognito client
//     fault); the SDKs retry it by its name;
//   - the hosted login's POST /{poolId}/login and its authorization
//     endpoint, GET and POST /{poolId}/oauth2/authorize (an HTML page:
//     the limit is checked before the redirect_uri is, so it never
//     redirects), and POST /{poolId}/oauth2/token (an OAuth 2.0 error
//     document, invalid_request as the hosted login words its own
//     throttling);
//   - the consent flow's browser pages (GET /identities/oauth2/authorize
//     and /identities/oauth2/callback/…, the binding page
//     /identities/oauth2/bind and its sign-in /identities/oauth2/signin/…):
//     an HTML page.
//
// The others answer 429. Every refusal carries Retry-After. Other requests
// pass untouched.
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
		s := classify(r)
		if s == shapeNone {
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
		writeThrottled(w, s, retryAfterSeconds(wait))
	})
}

// shape is the error shape of a limited endpoint.
type shape int

const (
	shapeNone    shape = iota
	shapeCognito       // AWS JSON 1.1
	shapeOAuth         // RFC 6749 error document
	shapeHTML          // a browser page
	shapeAWSJSON       // restJson1 (AgentCore and every other JSON API)
)

// cognitoSignIn are the cognito-idp operations that check a password, a
// challenge answer or a refresh token.
var cognitoSignIn = map[string]bool{
	"InitiateAuth": true, "AdminInitiateAuth": true, "RespondToAuthChallenge": true,
	"AdminRespondToAuthChallenge": true, "ChangePassword": true,
}

// browserPage reports whether p is one of the consent flow's browser
// pages (not the SigV4 API under /identities/, such as
// POST /identities/oauth2/token, which the per-key limit covers).
func browserPage(p string) bool {
	switch p {
	case "/identities/oauth2/authorize", "/identities/oauth2/bind", "/identities/oauth2/bind/switch":
		return true
	}
	return strings.HasPrefix(p, "/identities/oauth2/callback/") || strings.HasPrefix(p, "/identities/oauth2/signin/")
}

// poolIDPattern is a user pool id (Cognito's UserPoolId shape).
var poolIDPattern = regexp.MustCompile(`^[\w-]+_[0-9a-zA-Z]+$`)

func classify(r *http.Request) shape {
	p := r.URL.Path
	switch {
	case p == "/":
		op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AWSCognitoIdentityProviderService.")
		if r.Method == http.MethodPost && ok && cognitoSignIn[op] {
			return shapeCognito
		}
	case browserPage(p):
		return shapeHTML
	case r.Method == http.MethodPost || r.Method == http.MethodGet:
		pool, rest, ok := strings.Cut(strings.TrimPrefix(p, "/"), "/")
		if !ok || !poolIDPattern.MatchString(pool) {
			return shapeNone
		}
		switch post := r.Method == http.MethodPost; {
		case rest == "oauth2/authorize": // GET or POST: each stores an auth request
			return shapeHTML
		case post && rest == "login":
			return shapeHTML
		case post && rest == "oauth2/token":
			return shapeOAuth
		}
	}
	return shapeNone
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

func writeThrottled(w http.ResponseWriter, s shape, retryAfter int) {
	writeRefusal(w, s, retryAfter, false)
}

// writeRefusal answers a refused request in shape s with Retry-After:
// for a rate limit, or (busy) for overload.
func writeRefusal(w http.ResponseWriter, s shape, retryAfter int, busy bool) {
	msg := throttledMessage
	if busy {
		msg = busyMessage
	}
	h := w.Header()
	h.Set("Retry-After", strconv.Itoa(retryAfter))
	h.Set("Cache-Control", "no-store")
	switch s {
	case shapeCognito:
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", "X-Amzn-RequestId, X-Amzn-ErrorType, X-Amzn-ErrorMessage, Date")
		h.Set("X-Amzn-ErrorType", "TooManyRequestsException")
		h.Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "TooManyRequestsException", "message": msg})
	case shapeAWSJSON:
		// As package api answers behalf.ETHROTTLED.
		h.Set("X-Amzn-ErrorType", "ThrottlingException")
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_ = json.NewEncoder(w).Encode(struct {
			Type              string `json:"__type"`
			Message           string `json:"message"`
			RetryAfterSeconds int    `json:"retryAfterSeconds"`
		}{"ThrottlingException", msg, retryAfter})
	case shapeOAuth:
		code, desc := "invalid_request", "Too many requests: try again in "+strconv.Itoa(retryAfter)+" s."
		if busy {
			code, desc = "temporarily_unavailable", "Too many requests in progress: try again in "+strconv.Itoa(retryAfter)+" s."
		}
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
	default:
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
