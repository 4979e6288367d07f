package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
)

// Token type hints of a revocation request (RFC 7009 section 2.1).
const (
	HintAccessToken  = "access_token"
	HintRefreshToken = "refresh_token"
)

// ErrRevocationUnsupported is Revoke's error when the provider has no
// revocation endpoint (Microsoft, Atlassian, LinkedIn, a custom provider
// whose metadata names none): Behalf cannot end the grant there; only the
// user can, in their account at the provider.
var ErrRevocationUnsupported = errors.New("oauth: the provider has no revocation endpoint")

// RevocationError is a provider's refusal of a revocation request: an
// answer other than success, with the OAuth error (RFC 7009 section 2.2.1,
// RFC 6749 section 5.2) or the vendor's equivalent when it gave one. Code
// and Description hold no secret of the request (the token, the client
// secret): they are redacted and capped as a TokenError's are.
type RevocationError struct {
	StatusCode  int    // the HTTP status of the answer
	Code        string // "invalid_client", Slack's "invalid_auth", ...; redacted; may be empty
	Description string // the provider's explanation, redacted and capped; may be empty
	// RetryAfter is the provider's Retry-After (429, 503); zero if none.
	RetryAfter time.Duration
}

// Error says what the provider answered.
func (e *RevocationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	return b.String()
}

// revokeTimeout bounds one revocation request when ctx has no earlier
// deadline.
const revokeTimeout = 10 * time.Second

// maxAnswer is the most of a revocation or userinfo answer send reads.
const maxAnswer = 64 << 10

// githubAPI is GitHub's REST API base URL (tests replace it).
var githubAPI = "https://api.github.com"

// RevocationToken picks the token of ts to revoke and its type hint: the
// refresh token when there is one, since revoking it ends the whole grant
// at RFC 7009 servers (Google, Salesforce, most OpenID providers), else the
// access token. GitHub's and Slack's APIs take the access token (GitHub
// deletes the whole grant from it; Slack authenticates the call with it).
// It returns "" when ts holds no usable token.
func (c *Client) RevocationToken(ts behalf.TokenSet) (behalf.Secret, string) {
	vendor := ""
	if c.Provider != nil {
		vendor = c.Provider.Vendor
	}
	if vendor != behalf.VendorGithub && vendor != behalf.VendorSlack && !ts.RefreshToken.IsZero() {
		return ts.RefreshToken, HintRefreshToken
	}
	if !ts.AccessToken.IsZero() {
		return ts.AccessToken, HintAccessToken
	}
	return "", ""
}

// Revoke asks the provider to revoke token, of type hint (HintRefreshToken,
// HintAccessToken or "" for none).
//
// For most providers this is RFC 7009: a form POST of token and
// token_type_hint to Provider.Metadata.RevocationEndpoint, authenticated as
// at the token endpoint (HTTP Basic or client_secret in the form, per
// ChooseAuthMethod; a public client sends only its client_id), where any
// 200 answer is success (RFC 7009 section 2.2: even for a token the server
// did not know). Slack's auth.revoke is called with the token as its
// bearer and succeeds when it answers "ok": true. GitHub has no RFC 7009
// endpoint: its token API, DELETE /applications/{client_id}/grant with the
// client's Basic credentials and the access token, deletes the user's
// whole authorization of the app (204).
//
// It returns nil on success, ErrRevocationUnsupported when the provider has
// no revocation endpoint (no request is made), a *RevocationError when the
// provider refused, or another error when it could not be asked (network,
// the safe HTTP client's policy, a configuration Behalf cannot use).
func (c *Client) Revoke(ctx context.Context, token behalf.Secret, hint string) error {
	if token.IsZero() {
		return errors.New("oauth: revoke: no token")
	}
	if hint != "" && hint != HintAccessToken && hint != HintRefreshToken {
		return fmt.Errorf("oauth: revoke: unknown token type hint %q", hint)
	}
	if c.Provider == nil {
		return errors.New("oauth: revoke: no provider")
	}
	ctx, cancel := context.WithTimeout(ctx, revokeTimeout)
	defer cancel()
	switch {
	case c.Provider.Vendor == behalf.VendorGithub:
		return c.revokeGitHub(ctx, token)
	case c.Provider.Metadata.RevocationEndpoint == "":
		return ErrRevocationUnsupported
	case c.Provider.Vendor == behalf.VendorSlack:
		return c.revokeSlack(ctx, token)
	}
	return c.revokeRFC7009(ctx, token, hint)
}

// revokeRFC7009 sends an RFC 7009 revocation request.
func (c *Client) revokeRFC7009(ctx context.Context, token behalf.Secret, hint string) error {
	form := url.Values{"token": {token.Reveal()}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	basic := false
	assertion := ""
	if c.Provider.ClientAuthMethod == behalf.ClientPrivateKeyJWT {
		auth, a, err := c.clientAssertion(ctx)
		if err != nil {
			return err
		}
		assertion = a
		form.Set("client_id", c.Provider.ClientID)
		for k, v := range auth {
			form[k] = v
		}
	} else if c.ClientSecret.IsZero() {
		form.Set("client_id", c.Provider.ClientID) // a public client identifies itself (RFC 7009 section 2.1)
	} else {
		method, err := ChooseAuthMethod(c.Provider.ClientAuthMethod, c.Provider.Metadata.TokenEndpointAuthMethods)
		if err != nil {
			return fmt.Errorf("oauth: revoke: %w", err)
		}
		if method == behalf.ClientSecretPost {
			form.Set("client_id", c.Provider.ClientID)
			form.Set("client_secret", c.ClientSecret.Reveal())
		} else {
			basic = true
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Provider.Metadata.RevocationEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("oauth: revoke: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
		// RFC 6749 section 2.3.1: both form-encoded before Basic encoding,
		// as x/oauth2 does at the token endpoint.
		req.SetBasicAuth(url.QueryEscape(c.Provider.ClientID), url.QueryEscape(c.ClientSecret.Reveal()))
	}
	status, header, body, err := c.send(req, "revoke")
	if err != nil {
		return err
	}
	if status == http.StatusOK {
		return nil
	}
	return refusal(status, header, body, c.redactor(token.Reveal(), assertion))
}

// revokeSlack calls Slack's auth.revoke with the token as its bearer.
func (c *Client) revokeSlack(ctx context.Context, token behalf.Secret) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Provider.Metadata.RevocationEndpoint, strings.NewReader(""))
	if err != nil {
		return fmt.Errorf("oauth: revoke: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token.Reveal())
	status, header, body, err := c.send(req, "revoke")
	if err != nil {
		return err
	}
	var answer struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	secrets := c.redactor(token.Reveal())
	if status != http.StatusOK {
		return refusal(status, header, body, secrets)
	}
	if json.Unmarshal(body, &answer) != nil {
		return &RevocationError{StatusCode: status, Description: "the answer is not Slack's JSON"}
	}
	if !answer.OK {
		return &RevocationError{StatusCode: status, Code: secrets.code(answer.Error)}
	}
	return nil
}

// revokeGitHub deletes the user's authorization of the app with GitHub's
// token API.
func (c *Client) revokeGitHub(ctx context.Context, token behalf.Secret) error {
	if c.ClientSecret.IsZero() {
		return errors.New("oauth: revoke: GitHub's token API needs the client secret")
	}
	body, err := json.Marshal(map[string]string{"access_token": token.Reveal()})
	if err != nil {
		return fmt.Errorf("oauth: revoke: %w", err)
	}
	u := githubAPI + "/applications/" + url.PathEscape(c.Provider.ClientID) + "/grant"
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("oauth: revoke: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.SetBasicAuth(c.Provider.ClientID, c.ClientSecret.Reveal())
	status, header, answer, err := c.send(req, "revoke")
	if err != nil {
		return err
	}
	if status == http.StatusNoContent || status == http.StatusOK {
		return nil
	}
	var gh struct {
		Message string `json:"message"`
	}
	json.Unmarshal(answer, &gh)
	desc := c.redactor(token.Reveal()).text(gh.Message, maxDescription)
	return &RevocationError{StatusCode: status, Description: desc, RetryAfter: retryAfter(status, header)}
}

// send makes req (the request op: "revoke", "userinfo") with the client's
// HTTP client and reads at most maxAnswer of the answer. Redirects are not
// followed (the token must go nowhere but the endpoint configured): a 3xx
// is a refusal.
func (c *Client) send(req *http.Request, op string) (int, http.Header, []byte, error) {
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP()
	}
	noRedirects := *hc
	noRedirects.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirects.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("oauth: %s: %w", op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("oauth: %s: read the answer: %w", op, err)
	}
	return resp.StatusCode, resp.Header, body, nil
}

// refusal reads an error answer: the OAuth error JSON when there is one,
// with secrets redacted. The rest of the body is dropped.
func refusal(status int, header http.Header, body []byte, secrets redactor) error {
	e := &RevocationError{StatusCode: status, RetryAfter: retryAfter(status, header)}
	var answer struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if mt, _, _ := mime.ParseMediaType(header.Get("Content-Type")); mt == "application/json" || json.Valid(body) {
		if json.Unmarshal(body, &answer) == nil {
			e.Code, e.Description = secrets.code(answer.Error), secrets.text(answer.Description, maxDescription)
		}
	}
	return e
}

// retryAfter reads Retry-After of a 429 or 503 answer.
func retryAfter(status int, header http.Header) time.Duration {
	if status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable {
		return 0
	}
	return parseRetryAfter(header.Get("Retry-After"), time.Now())
}

// truncate shortens a provider's text for messages: at most n bytes,
// printable only.
func truncate(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n] + "…"
	}
	return strings.ToValidUTF8(s, "")
}
