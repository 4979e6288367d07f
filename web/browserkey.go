package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
)

// The browser-key cookie: Consent gives the browser it sends to a provider
// the key of that authorization (behalf.Authorization.BrowserKey), sealed;
// the callback and the binding page accept only a browser that holds it.
// One cookie per authorization, so a browser may run several flows at
// once; each lives as long as a session can.
const (
	browserKeyPrefix   = "behalf_browser_"
	browserKeyPath     = "/identities/oauth2/" // the callback and the binding page
	browserKeyLifetime = 15 * time.Minute
	// maxBrowserKeys bounds how many browser-key cookies a request is read for.
	maxBrowserKeys = 16
)

// setBrowserKey gives the browser key in a sealed, HttpOnly cookie
// scoped to browserKeyPath.
func (s *SignIn) setBrowserKey(w http.ResponseWriter, r *http.Request, key behalf.Secret) error {
	name := browserKeyPrefix + shortHash(key.Reveal())
	v, err := s.seal(r.Context(), browserKeySeal(name), key.Reveal())
	if err != nil {
		return err
	}
	http.SetCookie(w, s.cookie(name, v, browserKeyPath, int(browserKeyLifetime/time.Second), http.SameSiteLaxMode))
	return nil
}

// BrowserKeys returns the authorization keys the request's browser holds
// (at most maxBrowserKeys); cookies that do not open are ignored.
func (s *SignIn) BrowserKeys(r *http.Request) []behalf.Secret {
	var keys []behalf.Secret
	prefix := s.wireName(browserKeyPrefix, browserKeyPath)
	for _, c := range r.Cookies() {
		if len(keys) == maxBrowserKeys {
			break
		}
		if !strings.HasPrefix(c.Name, prefix) || len(c.Value) > maxCookieLen {
			continue
		}
		name := browserKeyPrefix + strings.TrimPrefix(c.Name, prefix)
		var key string
		if s.open(r.Context(), browserKeySeal(name), c.Value, &key) && key != "" {
			keys = append(keys, behalf.Secret(key))
		}
	}
	return keys
}

func browserKeySeal(name string) behalf.SealContext {
	return behalf.SealContext{Kind: "web-browser-key", Key: name, Field: "cookie"}
}
