package oauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/oauth"
)

// echoSecrets are what the echoing provider's requests carry; the
// characters change under form, JSON and Basic encoding.
var echoSecrets = map[string]string{
	"client secret": "cl1ent-s3cret+with/odd=chars&more",
	"code":          "4/0AcodeValue+with/slash==",
	"verifier":      "pkce-verifier-0123456789abcdefghijklmnopqrstuvwxyz-._~",
	"refresh token": "1//refresh-token+value/xyz",
	"access token":  "ya29.access-token+value/xyz",
}

// echoProvider answers every request with status, an OAuth error whose
// description echoes the whole request (body and Authorization header),
// in JSON, or, when raw, in a text/html body without an OAuth error.
func echoProvider(t *testing.T, status int, raw bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		echo := "you sent: " + string(body) + " with Authorization: " + r.Header.Get("Authorization") + " at " + r.URL.String()
		w.Header().Set("Retry-After", "7")
		if raw {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(status)
			w.Write([]byte("<html><body>" + echo + "</body></html>"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_request", "error_description": echo + strings.Repeat(" padding", 100)})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// echoClient is a client of the echoing provider at srv.
func echoClient(srv *httptest.Server, method string) *oauth.Client {
	p := &behalf.OAuth2Provider{ClientID: "echo-client", ClientAuthMethod: method, Vendor: behalf.VendorCustom,
		Metadata: behalf.AuthServerMetadata{TokenEndpoint: srv.URL + "/token", RevocationEndpoint: srv.URL + "/revoke"}}
	return &oauth.Client{Provider: p, ClientSecret: behalf.Secret(echoSecrets["client secret"]), RedirectURL: testRedirect, HTTP: privateClient()}
}

// wantNoSecret fails if text holds a secret of echoSecrets in any form a
// provider may echo it.
func wantNoSecret(t *testing.T, what, text string) {
	t.Helper()
	for name, s := range echoSecrets {
		basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape("echo-client") + ":" + url.QueryEscape(s)))
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s), basic} {
			if strings.Contains(text, form) {
				t.Errorf("%s: the %s is in %q", what, name, text)
			}
		}
	}
}

// Ensure a token endpoint that echoes its request in its error answer
// cannot put a secret of the request into an error (and so into a log):
// the description is redacted and capped, the raw body is dropped, and
// the classification (ErrInvalidGrant, IsTransient, RetryAfter) holds.
func TestTokenErrorsRedactEchoedSecrets(t *testing.T) {
	ctx := context.Background()
	for _, method := range []string{behalf.ClientSecretBasic, behalf.ClientSecretPost} {
		for _, tc := range []struct {
			status int
			raw    bool
		}{{400, false}, {503, false}, {400, true}, {429, true}} {
			srv := echoProvider(t, tc.status, tc.raw)
			c := echoClient(srv, method)
			calls := map[string]func() error{
				"exchange": func() error {
					_, err := c.Exchange(ctx, echoSecrets["code"], echoSecrets["verifier"], []string{"https://api.example"})
					return err
				},
				"refresh": func() error {
					_, err := c.Refresh(ctx, behalf.Secret(echoSecrets["refresh token"]), []string{"drive"})
					return err
				},
				"client credentials": func() error {
					_, err := c.ClientCredentials(ctx, []string{"drive"}, nil, nil)
					return err
				},
			}
			for name, call := range calls {
				what := name + " " + method + " " + http.StatusText(tc.status)
				if tc.raw {
					what += " (raw body)"
				}
				err := call()
				var te *oauth.TokenError
				if !errors.As(err, &te) || te.StatusCode != tc.status {
					t.Fatalf("%s: err = %v, want a TokenError %d", what, err, tc.status)
				}
				wantNoSecret(t, what, err.Error())
				if tc.raw {
					if te.Code != "" || te.Description != "" || strings.Contains(err.Error(), "you sent") {
						t.Errorf("%s: the raw body reached the error: %q", what, err)
					}
				} else {
					if te.Code != "invalid_request" || !strings.Contains(te.Description, "[REDACTED]") || len(te.Description) > 200+len("…") {
						t.Errorf("%s: code %q, description %q (%d bytes)", what, te.Code, te.Description, len(te.Description))
					}
				}
				transient := tc.status >= 429
				if oauth.IsTransient(err) != transient || errors.Is(err, oauth.ErrInvalidGrant) {
					t.Errorf("%s: IsTransient = %v, want %v", what, oauth.IsTransient(err), transient)
				}
				if want := map[bool]time.Duration{true: 7 * time.Second}[transient]; oauth.RetryAfter(err) != want {
					t.Errorf("%s: RetryAfter = %v, want %v", what, oauth.RetryAfter(err), want)
				}
			}

			// Revocation (RFC 7009) echoes alike.
			for _, tok := range []string{"refresh token", "access token"} {
				err := c.Revoke(ctx, behalf.Secret(echoSecrets[tok]), oauth.HintRefreshToken)
				var re *oauth.RevocationError
				if !errors.As(err, &re) || re.StatusCode != tc.status {
					t.Fatalf("revoke: err = %v, want a RevocationError %d", err, tc.status)
				}
				wantNoSecret(t, "revoke "+method, err.Error())
			}
		}
	}
}

// Ensure redaction catches a secret echoed in an encoding it does not
// know, by the parameter's name, and leaves other words alone.
func TestTokenErrorRedactsSecretParameters(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_grant","error_description":"Invalid code: code=Q09ERQ%3d%3d&refresh_token=AbC and {\"client_secret\":\"x\\\"y\"} for the authorization code"}`))
	}))
	t.Cleanup(srv.Close)
	_, err := echoClient(srv, behalf.ClientSecretPost).Exchange(context.Background(), "the-code", "the-verifier", nil)
	want := `oauth: exchange authorization code: HTTP 400 invalid_grant: Invalid code: code=[REDACTED]&refresh_token=[REDACTED] and {"client_secret":"[REDACTED]"} for the authorization code`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %q\nwant  %q", err, want)
	}
	if !errors.Is(err, oauth.ErrInvalidGrant) {
		t.Errorf("invalid_grant is not ErrInvalidGrant: %v", err)
	}
}

// Ensure TokenRequestError gives x/oauth2's own Exchange the same safe
// errors as Client.Exchange.
func TestTokenRequestError(t *testing.T) {
	srv := echoProvider(t, http.StatusBadRequest, false)
	conf := &oauth2.Config{ClientID: "echo-client", ClientSecret: echoSecrets["client secret"],
		Endpoint: oauth2.Endpoint{TokenURL: srv.URL + "/token", AuthStyle: oauth2.AuthStyleInHeader}}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, privateClient())
	_, err := conf.Exchange(ctx, echoSecrets["code"], oauth2.VerifierOption(echoSecrets["verifier"]))
	if err == nil || !strings.Contains(err.Error(), echoSecrets["verifier"]) {
		t.Fatalf("x/oauth2's error = %v, want the echo in it", err)
	}
	err = oauth.TokenRequestError("exchange code", err, conf.ClientID, conf.ClientSecret, echoSecrets["code"], echoSecrets["verifier"])
	var te *oauth.TokenError
	if !errors.As(err, &te) || te.Op != "exchange code" || te.Code != "invalid_request" {
		t.Fatalf("err = %v, want a TokenError", err)
	}
	wantNoSecret(t, "TokenRequestError", err.Error())
	if oauth.TokenRequestError("x", nil, "c") != nil {
		t.Fatal("TokenRequestError(nil) is not nil")
	}
}
