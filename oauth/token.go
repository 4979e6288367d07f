package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/safehttp"
)

// Exchange redeems an authorization code at the token endpoint, sending
// the PKCE verifier, the redirect URL and one resource parameter per entry
// of resources (RFC 8707). The provider's error answer is a *TokenError
// (see ErrInvalidGrant and IsTransient); no error holds a secret of the
// request. The same goes for Refresh and ClientCredentials.
func (c *Client) Exchange(ctx context.Context, code, pkceVerifier string, resources []string) (behalf.TokenSet, error) {
	if code == "" || pkceVerifier == "" {
		return behalf.TokenSet{}, errors.New("oauth: exchange: code and PKCE verifier are required")
	}
	cfg, err := c.tokenConfig()
	if err != nil {
		return behalf.TokenSet{}, err
	}
	extra, assertion, err := c.clientAssertion(ctx)
	if err != nil {
		return behalf.TokenSet{}, err
	}
	if len(resources) > 0 {
		extra["resource"] = resources
	}
	tok, err := cfg.Exchange(c.tokenContext(ctx, extra), code, oauth2.VerifierOption(pkceVerifier))
	if err != nil {
		return behalf.TokenSet{}, tokenError("exchange authorization code", err, c.redactor(code, pkceVerifier, assertion))
	}
	return c.tokenSet(tok), nil
}

// Refresh uses refreshToken for a new access token, asking for scopes
// when given (else the grant's scopes). Each call makes exactly one token
// request: nothing is cached. The result's RefreshToken is empty unless
// the provider returned a (rotated) refresh token; the caller then keeps
// the old one.
func (c *Client) Refresh(ctx context.Context, refreshToken behalf.Secret, scopes []string) (behalf.TokenSet, error) {
	if refreshToken.IsZero() {
		return behalf.TokenSet{}, errors.New("oauth: refresh: no refresh token")
	}
	cfg, err := c.tokenConfig()
	if err != nil {
		return behalf.TokenSet{}, err
	}
	extra, assertion, err := c.clientAssertion(ctx)
	if err != nil {
		return behalf.TokenSet{}, err
	}
	if len(scopes) > 0 {
		extra.Set("scope", strings.Join(scopes, " ")) // x/oauth2 sends no scope on refresh
	}
	// A fresh TokenSource per call whose token is already expired, so its
	// cache never answers: Token makes one refresh request.
	expired := &oauth2.Token{RefreshToken: refreshToken.Reveal(), Expiry: time.Unix(1, 0)}
	tok, err := cfg.TokenSource(c.tokenContext(ctx, extra), expired).Token()
	if err != nil {
		return behalf.TokenSet{}, tokenError("refresh token", err, c.redactor(refreshToken.Reveal(), assertion))
	}
	return c.tokenSet(tok), nil
}

// ClientCredentials gets a token for the client itself (RFC 6749 section
// 4.4), with one resource and audience parameter per entry.
func (c *Client) ClientCredentials(ctx context.Context, scopes []string, resources, audiences []string) (behalf.TokenSet, error) {
	cfg, err := c.tokenConfig()
	if err != nil {
		return behalf.TokenSet{}, err
	}
	params, assertion, err := c.clientAssertion(ctx)
	if err != nil {
		return behalf.TokenSet{}, err
	}
	cc := &clientcredentials.Config{
		ClientID:       cfg.ClientID,
		ClientSecret:   cfg.ClientSecret,
		TokenURL:       cfg.Endpoint.TokenURL,
		Scopes:         scopes,
		EndpointParams: params,
		AuthStyle:      cfg.Endpoint.AuthStyle,
	}
	if len(resources) > 0 {
		cc.EndpointParams["resource"] = resources
	}
	if len(audiences) > 0 {
		cc.EndpointParams["audience"] = audiences
	}
	tok, err := cc.Token(c.tokenContext(ctx, nil))
	if err != nil {
		return behalf.TokenSet{}, tokenError("client credentials", err, c.redactor(assertion))
	}
	return c.tokenSet(tok), nil
}

// redactor returns the redactor for a request of c that carried secrets
// besides the client secret.
func (c *Client) redactor(secrets ...string) redactor {
	id := ""
	if c.Provider != nil {
		id = c.Provider.ClientID
	}
	return newRedactor(id, append([]string{c.ClientSecret.Reveal()}, secrets...)...)
}

// tokenConfig returns the x/oauth2 configuration for token requests, with
// the client authentication method of the provider: a public client (no
// secret) sends its client_id in the form.
func (c *Client) tokenConfig() (*oauth2.Config, error) {
	if c.Provider == nil || c.Provider.Metadata.TokenEndpoint == "" {
		return nil, errors.New("oauth: the provider has no token endpoint")
	}
	if c.Provider.ClientAuthMethod == behalf.ClientPrivateKeyJWT {
		cfg := c.config(nil, oauth2.AuthStyleInParams) // client_id in the form, with the assertion
		cfg.ClientSecret = ""
		return cfg, nil
	}
	if c.ClientSecret.IsZero() {
		return c.config(nil, oauth2.AuthStyleInParams), nil
	}
	method, err := ChooseAuthMethod(c.Provider.ClientAuthMethod, c.Provider.Metadata.TokenEndpointAuthMethods)
	if err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	style := oauth2.AuthStyleInHeader
	if method == behalf.ClientSecretPost {
		style = oauth2.AuthStyleInParams
	}
	return c.config(nil, style), nil
}

// ClientAssertionType is RFC 7523's client_assertion_type.
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// clientAssertion returns the form parameters of one token request's
// client authentication by PRIVATE_KEY_JWT (client_assertion_type and a
// fresh client_assertion) and the assertion; for other methods no
// parameters (x/oauth2 sends the secret). The values are new for the
// caller to add to.
func (c *Client) clientAssertion(ctx context.Context) (url.Values, string, error) {
	if c.Provider == nil || c.Provider.ClientAuthMethod != behalf.ClientPrivateKeyJWT {
		return url.Values{}, "", nil
	}
	if c.ClientAssertion == nil {
		return nil, "", errors.New("oauth: the provider uses PRIVATE_KEY_JWT but the client has no ClientAssertion")
	}
	a, err := c.ClientAssertion(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("oauth: sign the client assertion: %w", err)
	}
	return url.Values{"client_assertion_type": {ClientAssertionType}, "client_assertion": {a}}, a, nil
}

// config returns the x/oauth2 configuration of the client. The auth style
// is always explicit: x/oauth2's auto-detection would retry with the
// secret sent the other way.
func (c *Client) config(scopes []string, style oauth2.AuthStyle) *oauth2.Config {
	md := c.Provider.Metadata
	return &oauth2.Config{
		ClientID:     c.Provider.ClientID,
		ClientSecret: c.ClientSecret.Reveal(),
		Endpoint:     oauth2.Endpoint{AuthURL: md.AuthorizationEndpoint, TokenURL: md.TokenEndpoint, AuthStyle: style},
		RedirectURL:  c.RedirectURL,
		Scopes:       scopes,
	}
}

// defaultHTTP is the client used when Client.HTTP is nil.
var defaultHTTP = sync.OnceValue(func() *http.Client { return safehttp.NewClient(safehttp.Options{}) })

// tokenContext returns ctx carrying the HTTP client x/oauth2 is to use
// (x/oauth2 takes it only from the context, under oauth2.HTTPClient; this
// is the one place Behalf sets it). When extra is not empty the client
// adds those form parameters to token requests: x/oauth2 cannot repeat a
// parameter (RFC 8707 resource) nor send a scope when refreshing.
func (c *Client) tokenContext(ctx context.Context, extra url.Values) context.Context {
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP()
	}
	if len(extra) > 0 {
		withExtra := *hc
		withExtra.Transport = &formExtras{extra: extra, next: hc.Transport}
		hc = &withExtra
	}
	return context.WithValue(ctx, oauth2.HTTPClient, hc)
}

// formExtras is a RoundTripper that adds parameters to the form body of
// POST requests, never replacing one already there.
type formExtras struct {
	extra url.Values
	next  http.RoundTripper // nil means http.DefaultTransport
}

// RoundTrip sends req with the extra parameters added to its body.
func (f *formExtras) RoundTrip(req *http.Request) (*http.Response, error) {
	next := f.next
	if next == nil {
		next = http.DefaultTransport
	}
	if req.Method != http.MethodPost || req.Body == nil {
		return next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("oauth: read token request: %w", err)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("oauth: parse token request: %w", err)
	}
	for k, vs := range f.extra {
		if _, set := form[k]; !set {
			form[k] = vs
		}
	}
	enc := form.Encode()
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(strings.NewReader(enc))
	out.ContentLength = int64(len(enc))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(enc)), nil }
	return next.RoundTrip(out)
}

// tokenSet converts an x/oauth2 token. TokenType is normalised by
// oauth2.Token.Type ("bearer" becomes "Bearer", empty means "Bearer");
// the ID token is passed on unverified. RefreshToken is set only when the
// response carried one (x/oauth2 copies the request's refresh token into
// Token.RefreshToken otherwise); Scopes come from the response's scope
// field, space- or comma-separated (GitHub, Slack), nil if absent. Expiry
// is expires_in from c.Now when Now is set, else x/oauth2's reading.
func (c *Client) tokenSet(tok *oauth2.Token) behalf.TokenSet {
	ts := behalf.TokenSet{
		AccessToken: behalf.Secret(tok.AccessToken),
		TokenType:   tok.Type(),
		IDToken:     behalf.Secret(extraString(tok, "id_token")),
		Expiry:      tok.Expiry,
		Scopes:      splitScopes(extraString(tok, "scope")),
	}
	if in := expiresIn(tok); c.Now != nil && in > 0 {
		ts.Expiry = c.Now().Add(time.Duration(in) * time.Second)
	}
	if extraString(tok, "refresh_token") != "" {
		ts.RefreshToken = behalf.Secret(tok.RefreshToken)
	}
	return ts
}

// expiresIn is the answer's expires_in in seconds, 0 if absent: x/oauth2's
// client-credentials flow (which exchanges go through too) does not copy
// it into Token.ExpiresIn.
func expiresIn(tok *oauth2.Token) int64 {
	if tok.ExpiresIn > 0 {
		return tok.ExpiresIn
	}
	f, err := strconv.ParseFloat(extraString(tok, "expires_in"), 64)
	if err != nil || f <= 0 || f > math.MaxInt32 {
		return 0
	}
	return int64(f)
}

// extraString returns a response field as a string, "" if absent.
// (x/oauth2 turns numeric-looking form-encoded values into numbers.)
func extraString(tok *oauth2.Token, key string) string {
	switch v := tok.Extra(key).(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

// splitScopes splits a scope field on spaces or commas; nil if empty.
func splitScopes(s string) []string {
	scopes := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
	if len(scopes) == 0 {
		return nil
	}
	return scopes
}
