package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// Ensure the browser-key cookie is HttpOnly, Secure with the __Secure-
// prefix on https, scoped to the OAuth paths and sealed to its name, and that BrowserKeys returns exactly the keys the
// browser was given: a cookie edited, moved to another name or with
// another prefix is ignored, and at most maxBrowserKeys are read.
func TestBrowserKeys(t *testing.T) {
	s := &SignIn{Sealer: signinSealer{}, PublicURL: "https://behalf.example.com", Now: time.Now}
	j := jar{}
	var keys []string
	for i := range 3 {
		key := fmt.Sprintf("key-%d", i)
		keys = append(keys, key)
		rec := httptest.NewRecorder()
		if err := s.setBrowserKey(rec, httptest.NewRequest("GET", "/identities/oauth2/authorize", nil), behalf.Secret(key)); err != nil {
			t.Fatal(err)
		}
		c := rec.Result().Cookies()[0]
		if !c.HttpOnly || !c.Secure || c.Path != browserKeyPath || c.SameSite != http.SameSiteLaxMode || !strings.HasPrefix(c.Name, "__Secure-"+browserKeyPrefix) || strings.Contains(c.Value, key) {
			t.Fatalf("cookie %+v", c)
		}
		j.take(rec.Result())
	}
	got := s.BrowserKeys(j.request("GET", "/identities/oauth2/callback/p"))
	if len(got) != 3 {
		t.Fatalf("BrowserKeys = %d keys, want 3", len(got))
	}
	for _, k := range got {
		if !slices.Contains(keys, k.Reveal()) {
			t.Fatalf("BrowserKeys returned %q, not one of %q", k.Reveal(), keys)
		}
	}

	// Moved to another name, edited, unprefixed (as a plain-http response
	// could plant it), or another cookie: ignored.
	var name, value string
	for n, c := range j {
		name, value = n, c.Value
		break
	}
	forged := httptest.NewRequest("GET", "/identities/oauth2/callback/p", nil)
	forged.AddCookie(&http.Cookie{Name: "__Secure-" + browserKeyPrefix + "0000000000000000", Value: value})
	forged.AddCookie(&http.Cookie{Name: strings.TrimPrefix(name, "__Secure-"), Value: value})
	forged.AddCookie(&http.Cookie{Name: name, Value: value[:len(value)-2] + "AA"})
	forged.AddCookie(&http.Cookie{Name: "behalf_signin_x", Value: value})
	forged.AddCookie(&http.Cookie{Name: "__Secure-" + browserKeyPrefix + "1111111111111111", Value: strings.Repeat("A", maxCookieLen+1)})
	if got := s.BrowserKeys(forged); len(got) != 0 {
		t.Fatalf("forged cookies gave %d keys", len(got))
	}

	// Many cookies: at most maxBrowserKeys are opened.
	many := httptest.NewRequest("GET", "/identities/oauth2/callback/p", nil)
	for i := range maxBrowserKeys + 5 {
		rec := httptest.NewRecorder()
		s.setBrowserKey(rec, many, behalf.Secret(fmt.Sprintf("k%d", i)))
		for _, c := range rec.Result().Cookies() {
			many.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	if got := s.BrowserKeys(many); len(got) != maxBrowserKeys {
		t.Fatalf("BrowserKeys read %d keys, want the cap %d", len(got), maxBrowserKeys)
	}
}
