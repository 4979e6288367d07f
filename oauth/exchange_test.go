package oauth_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/realidp"
	"github.com/behalf-dev/behalf/internal/safehttp"
	"github.com/behalf-dev/behalf/oauth"
)

// idTokenType is RFC 8693's token type of an ID token: the subject tokens
// these tests exchange are the OP's ID tokens.
const idTokenType = "urn:ietf:params:oauth:token-type:id_token"

// recorder remembers the form and Authorization header of the requests
// that pass through it.
type recorder struct {
	mu    sync.Mutex
	forms []url.Values
	auths []string
	next  http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.GetBody != nil {
		body, err := req.GetBody()
		if err == nil {
			b, _ := io.ReadAll(body)
			form, _ := url.ParseQuery(string(b))
			r.mu.Lock()
			r.forms = append(r.forms, form)
			r.auths = append(r.auths, req.Header.Get("Authorization"))
			r.mu.Unlock()
		}
	}
	return r.next.RoundTrip(req)
}

func (r *recorder) last(t *testing.T) (url.Values, string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.forms) == 0 {
		t.Fatal("no request recorded")
	}
	return r.forms[len(r.forms)-1], r.auths[len(r.auths)-1]
}

// realClient registers a confidential client at the OP (or uses one it
// has) and returns a Client for it with the OP's discovered endpoints,
// and the recorder its requests pass through.
func realClient(t *testing.T, idp *realidp.Server, id, secret string, register bool) (*oauth.Client, *recorder) {
	t.Helper()
	if register {
		idp.RegisterClient(id, secret, "http://behalf.invalid/callback")
	}
	hc := safehttp.NewClient(safehttp.Options{AllowPrivate: true})
	md, err := oauth.Discover(context.Background(), hc, idp.DiscoveryURL)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{next: hc.Transport}
	if rec.next == nil {
		rec.next = http.DefaultTransport
	}
	recording := *hc
	recording.Transport = rec
	p := &behalf.OAuth2Provider{Name: "zitadel", Vendor: behalf.VendorCustom, ClientID: id, Metadata: md, ClientAuthMethod: behalf.ClientSecretBasic}
	return &oauth.Client{Provider: p, ClientSecret: behalf.Secret(secret), HTTP: &recording}, rec
}

// userinfoSub returns the sub the OP's userinfo endpoint gives for tok.
func userinfoSub(t *testing.T, idp *realidp.Server, tok behalf.Secret) string {
	t.Helper()
	req, _ := http.NewRequest("GET", idp.Issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Reveal())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ui struct {
		Sub string `json:"sub"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&ui) != nil || ui.Sub == "" {
		t.Fatalf("userinfo with the exchanged token: %d", resp.StatusCode)
	}
	return ui.Sub
}

// Ensure RFC 8693 token exchange works against a real server nobody here
// wrote (zitadel/oidc's example OP): the user's ID token is exchanged for
// an access token of the same user, sent as documented; a refresh token
// asked for refreshes; an actor token is sent and checked by the OP; and a
// refusal is a *TokenError that holds none of the request's tokens.
func TestOnBehalfOfTokenExchangeRealOP(t *testing.T) {
	idp := realidp.Start(t)
	ctx := context.Background()
	idToken, err := idp.IDToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, rec := realClient(t, idp, "behalf", "behalf-secret", true)
	req := oauth.ExchangeRequest{
		GrantType: oauth.GrantTypeTokenExchange, SubjectToken: behalf.Secret(idToken), Scopes: []string{"openid", "profile"},
		Audiences: []string{"aud-1", "aud-2"}, CustomParameters: map[string]string{"subject_token_type": idTokenType},
	}
	ts, err := c.OnBehalfOf(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if ts.AccessToken.IsZero() || ts.Expiry.IsZero() || !ts.RefreshToken.IsZero() {
		t.Fatalf("token set: access %v expiry %v refresh %v", !ts.AccessToken.IsZero(), ts.Expiry, !ts.RefreshToken.IsZero())
	}
	if sub := userinfoSub(t, idp, ts.AccessToken); sub == "" {
		t.Fatal("no user")
	}
	form, auth := rec.last(t)
	want := url.Values{
		"grant_type": {oauth.GrantTypeTokenExchange}, "subject_token": {idToken}, "subject_token_type": {idTokenType},
		"requested_token_type": {oauth.TokenTypeAccessToken}, "scope": {"openid profile"}, "audience": {"aud-1", "aud-2"},
	}
	if !equalForms(form, want) || !strings.HasPrefix(auth, "Basic ") {
		t.Fatalf("request %v (auth %q), want %v with Basic auth", form, auth, want)
	}

	// A refresh token asked for (requested_token_type) refreshes. (The
	// example OP refuses refresh tokens for ID-token subjects; it takes
	// its JWTs as access tokens too.)
	req.CustomParameters = map[string]string{"subject_token_type": oauth.TokenTypeAccessToken, "requested_token_type": oauth.TokenTypeRefreshToken}
	withRefresh, err := c.OnBehalfOf(ctx, req)
	if err != nil || withRefresh.RefreshToken.IsZero() {
		t.Fatalf("exchange for a refresh token: %v (refresh %v)", err, !withRefresh.RefreshToken.IsZero())
	}
	refreshed, err := c.Refresh(ctx, withRefresh.RefreshToken, nil)
	if err != nil || refreshed.AccessToken == withRefresh.AccessToken {
		t.Fatalf("refresh of the exchanged grant: %v", err)
	}
	userinfoSub(t, idp, refreshed.AccessToken)

	// The actor token (here a client-credentials token of the OP's service
	// user) is sent with its type; a forged one is refused by the OP.
	svc, _ := realClient(t, idp, "sid1", "verysecret", false)
	actor, err := svc.ClientCredentials(ctx, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.CustomParameters = map[string]string{"subject_token_type": idTokenType}
	req.ActorToken = actor.AccessToken
	if _, err := c.OnBehalfOf(ctx, req); err != nil {
		t.Fatalf("exchange with an actor token: %v", err)
	}
	form, _ = rec.last(t)
	if form.Get("actor_token") != actor.AccessToken.Reveal() || form.Get("actor_token_type") != oauth.TokenTypeAccessToken {
		t.Fatalf("actor token not sent as documented: %v", form)
	}
	req.ActorToken = "forged-actor-token-0123456789"
	_, err = c.OnBehalfOf(ctx, req)
	var te *oauth.TokenError
	if !errors.As(err, &te) || te.StatusCode != 400 || te.Code != "invalid_request" {
		t.Fatalf("forged actor token: %v", err)
	}

	// Refused: the error holds none of the request's tokens.
	req.ActorToken = ""
	req.CustomParameters = map[string]string{"subject_token_type": oauth.TokenTypeRefreshToken}
	_, err = c.OnBehalfOf(ctx, req)
	if !errors.As(err, &te) || te.Code != "invalid_request" || strings.Contains(err.Error(), idToken) {
		t.Fatalf("refused exchange: %v", err)
	}

	// NoClientAuth sends neither client_id nor a secret; the OP requires
	// them for a token exchange.
	req.CustomParameters = map[string]string{"subject_token_type": idTokenType}
	req.NoClientAuth = true
	_, err = c.OnBehalfOf(ctx, req)
	form, auth = rec.last(t)
	if form.Has("client_id") || form.Has("client_secret") || auth != "" {
		t.Fatalf("NoClientAuth sent client authentication: %v %q", form, auth)
	}
	if !errors.As(err, &te) || te.StatusCode/100 != 4 {
		t.Fatalf("exchange without client authentication: %v", err)
	}

	// Parameters Behalf sets are refused before anything is sent.
	for _, k := range []string{"grant_type", "subject_token", "actor_token", "scope", "client_id"} {
		req.CustomParameters = map[string]string{k: "x"}
		if _, err := c.OnBehalfOf(ctx, req); behalf.ErrorCode(err) != behalf.EINVALID {
			t.Errorf("custom parameter %s: %v", k, err)
		}
	}
}

// zitadelServiceKey returns the private key of the example OP's service
// user (example/server/service-key1.pem in the zitadel/oidc module), whose
// public half the example storage trusts for RFC 7523 assertions.
func zitadelServiceKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/zitadel/oidc/v3").Output()
	if err != nil {
		t.Skipf("locate the zitadel/oidc module: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "example", "server", "service-key1.pem"))
	if err != nil {
		t.Skipf("read the example service key: %v", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatal("service-key1.pem: no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

// Ensure the RFC 7523 JWT authorization grant works against the real OP:
// the assertion is sent as documented and the OP issues a token for it.
func TestOnBehalfOfJWTBearerRealOP(t *testing.T) {
	idp := realidp.Start(t)
	key := zitadelServiceKey(t)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "key1"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims, _ := json.Marshal(map[string]any{"iss": "service", "sub": "service", "aud": idp.Issuer, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()})
	jws, err := signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	assertion, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	c, rec := realClient(t, idp, "behalf", "behalf-secret", true)
	ts, err := c.OnBehalfOf(context.Background(), oauth.ExchangeRequest{
		GrantType: oauth.GrantTypeJWTBearer, SubjectToken: behalf.Secret(assertion), Scopes: []string{"openid"}, NoClientAuth: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if ts.AccessToken.IsZero() {
		t.Fatal("no access token")
	}
	form, auth := rec.last(t)
	want := url.Values{"grant_type": {oauth.GrantTypeJWTBearer}, "assertion": {assertion}, "scope": {"openid"}}
	if !equalForms(form, want) || auth != "" {
		t.Fatalf("request %v (auth %q), want %v", form, auth, want)
	}
}

func equalForms(a, b url.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if strings.Join(a[k], "\x00") != strings.Join(v, "\x00") {
			return false
		}
	}
	return true
}
