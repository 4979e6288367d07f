package oidcop

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/cookieprefix"
)

// Cookie names. The session cookie's path is the pool's issuer path (or
// "/" on a domain of the pool), the CSRF cookie's the pool's login page,
// so each pool has its own. On https both carry the __Secure- prefix
// (wireName).
const (
	sessionCookie = "behalf_session"
	csrfCookie    = "behalf_login"
	maxCookieLen  = 2048
)

// session is a signed-in browser, sealed into the session cookie.
type session struct {
	Username string `json:"u"`
	Sub      string `json:"s"`
	AuthTime int64  `json:"t"` // Unix microseconds
	Expires  int64  `json:"e"` // Unix seconds
}

// sessionContext binds a session cookie to its pool.
func sessionContext(poolID string) behalf.SealContext {
	return behalf.SealContext{Kind: "pool-login-session", Key: poolID, Field: "cookie"}
}

// csrfContext binds a login form's CSRF token to its auth request.
func csrfContext(requestID string) behalf.SealContext {
	return behalf.SealContext{Kind: "pool-login-csrf", Key: requestID, Field: "token"}
}

// setSession adds a Set-Cookie header for a new session of u.
func (p *Provider) setSession(ctx context.Context, h http.Header, poolID string, u *behalf.PoolUser, authTime time.Time) error {
	exp := p.clock().Add(p.sessionLifetime)
	b, err := json.Marshal(session{Username: u.Username, Sub: u.Sub, AuthTime: authTime.UnixMicro(), Expires: exp.Unix()})
	if err != nil {
		return err
	}
	sealed, err := p.sealer.Seal(ctx, sessionContext(poolID), b)
	if err != nil {
		return err
	}
	h.Add("Set-Cookie", p.cookie(sessionCookie, base64.RawURLEncoding.EncodeToString(sealed),
		p.cookiePath(ctx, poolID), int(p.sessionLifetime/time.Second), http.SameSiteLaxMode).String())
	return nil
}

// clearSession adds a Set-Cookie header that deletes the session cookie.
func (p *Provider) clearSession(ctx context.Context, h http.Header, poolID string) {
	h.Add("Set-Cookie", p.cookie(sessionCookie, "", p.cookiePath(ctx, poolID), -1, http.SameSiteLaxMode).String())
}

// readSession returns the unexpired session in the request's cookies, or nil.
func (p *Provider) readSession(ctx context.Context, h http.Header, poolID string) *session {
	raw := cookieValue(h, p.wireName(sessionCookie))
	if raw == "" {
		return nil
	}
	sealed, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return nil
	}
	plain, err := p.sealer.Open(ctx, sessionContext(poolID), sealed)
	if err != nil {
		return nil
	}
	var s session
	if json.Unmarshal(plain, &s) != nil || s.Username == "" || p.clock().Unix() >= s.Expires {
		return nil
	}
	return &s
}

// browserID returns the login CSRF cookie's value, setting a new cookie
// when the request has none.
func (p *Provider) browserID(w http.ResponseWriter, r *http.Request, poolID string) string {
	if v := cookieValue(r.Header, p.wireName(csrfCookie)); len(v) == 43 {
		return v
	}
	b := make([]byte, 32)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, p.cookie(csrfCookie, v, p.basePath(r.Context(), poolID)+pathLogin, int(loginLifetime/time.Second), http.SameSiteStrictMode))
	return v
}

// csrfToken returns the login form's token: the browser's CSRF cookie
// sealed to the auth request, so it is valid only with that cookie and
// for that request.
func (p *Provider) csrfToken(ctx context.Context, requestID, browser string) (string, error) {
	sealed, err := p.sealer.Seal(ctx, csrfContext(requestID), []byte(browser))
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// checkCSRF reports whether a posted form's token matches the browser's
// CSRF cookie and the auth request.
func (p *Provider) checkCSRF(ctx context.Context, r *http.Request, requestID string) bool {
	browser, token := cookieValue(r.Header, p.wireName(csrfCookie)), r.PostForm.Get("csrf")
	if browser == "" || token == "" || len(token) > maxCookieLen {
		return false
	}
	sealed, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return false
	}
	plain, err := p.sealer.Open(ctx, csrfContext(requestID), sealed)
	return err == nil && subtle.ConstantTimeCompare(plain, []byte(browser)) == 1
}

// browserHash is what an auth request remembers of a browser.
func browserHash(browser string) string {
	sum := sha256.Sum256([]byte("behalf-login-browser\x00" + browser))
	return hex.EncodeToString(sum[:])
}

// cookie returns an HttpOnly cookie; Secure, and named with the
// __Secure- prefix, when the public URL is https. maxAge < 0 deletes it.
func (p *Provider) cookie(name, value, path string, maxAge int, sameSite http.SameSite) *http.Cookie {
	return &http.Cookie{
		Name: p.wireName(name), Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, Secure: p.secure, SameSite: sameSite,
	}
}

// wireName is a cookie's name on the wire. Every cookie here is scoped to
// a pool's path, never "/", so on https it takes the __Secure- prefix, not
// __Host- (which requires Path=/).
func (p *Provider) wireName(name string) string {
	return cookieprefix.Name(name, poolScoped, p.secure)
}

// poolScoped stands for the pool paths the cookies are set on.
const poolScoped = "/{poolId}"

// cookieValue returns a request cookie's value, or "".
func cookieValue(h http.Header, name string) string {
	c, err := (&http.Request{Header: h}).Cookie(name)
	if err != nil || len(c.Value) > maxCookieLen {
		return ""
	}
	return c.Value
}
