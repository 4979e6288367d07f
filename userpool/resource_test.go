package userpool_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// Ensure RFC 8707 resources become the access token's aud (never the ID
// token's), are kept by the refresh token, may be narrowed at a refresh
// but never widened, and are validated.
func TestTokenResources(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, _ := e.client(t, p.ID, false)
	e.user(t, p.ID, "alice", nil)
	const r1, r2 = "https://mcp.example.com/mcp", "urn:example:tools"
	tok, err := e.svc.IssueTokens(e.ctx, behalf.IssueTokensInput{
		PoolID: p.ID, ClientID: c.ID, Username: "alice", Scopes: []string{"openid"}, RefreshToken: true,
		Resources: []string{r1, r2},
	})
	if err != nil {
		t.Fatal(err)
	}
	aud := func(token behalf.Secret) string { return fmt.Sprint(claimsOf(t, e, p.ID, token)["aud"]) }
	if got, want := aud(tok.AccessToken), fmt.Sprint([]any{r1, r2}); got != want {
		t.Errorf("access aud = %s, want %s", got, want)
	}
	if got := aud(tok.IDToken); got != c.ID {
		t.Errorf("ID token aud = %s, want the client", got)
	}
	// A resource-bound token is not one for the user pool's own APIs.
	if _, err := e.svc.GetUser(e.ctx, tok.AccessToken); err == nil {
		t.Error("GetUser accepted an access token bound to another resource")
	}

	e.clock.Add(time.Minute)
	got, err := e.svc.RefreshTokens(e.ctx, p.ID, c.ID, tok.RefreshToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a, want := aud(got.AccessToken), fmt.Sprint([]any{r1, r2}); a != want {
		t.Errorf("refreshed aud = %s, want %s", a, want)
	}
	got, err = e.svc.RefreshTokens(e.ctx, p.ID, c.ID, tok.RefreshToken, []string{r2})
	if err != nil {
		t.Fatal(err)
	}
	if a, want := aud(got.AccessToken), fmt.Sprint([]any{r2}); a != want {
		t.Errorf("narrowed aud = %s, want %s", a, want)
	}
	for _, bad := range [][]string{{"https://other.example.com/mcp"}, {r1 + "#f"}, {"relative/path"}} {
		_, err = e.svc.RefreshTokens(e.ctx, p.ID, c.ID, tok.RefreshToken, bad)
		if !errors.Is(err, behalf.ErrInvalidTarget) || behalf.CognitoException(err) != behalf.CognitoInvalidParameter {
			t.Errorf("RefreshTokens(%q) = %v, want invalid_target (InvalidParameterException)", bad, err)
		}
	}
	// After narrowing, the refresh token still holds both.
	got, err = e.svc.RefreshTokens(e.ctx, p.ID, c.ID, tok.RefreshToken, []string{r1})
	if err != nil || aud(got.AccessToken) != fmt.Sprint([]any{r1}) {
		t.Errorf("second narrowing: %v", err)
	}

	// Without resources, no aud: as Cognito's access tokens.
	plain, err := e.svc.IssueTokens(e.ctx, behalf.IssueTokensInput{PoolID: p.ID, ClientID: c.ID, Username: "alice", Scopes: []string{"openid"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := claimsOf(t, e, p.ID, plain.AccessToken)["aud"]; ok {
		t.Error("an access token without resources has aud")
	}
	many := make([]string, behalf.MaxResources+1)
	for i := range many {
		many[i] = fmt.Sprintf("https://r%d.example.com/", i)
	}
	for _, bad := range [][]string{{"https://a.example.com/#x"}, {"mcp"}, {r1, r1}, many, {"https://" + strings.Repeat("a", 1100)}} {
		_, err := e.svc.IssueTokens(e.ctx, behalf.IssueTokensInput{PoolID: p.ID, ClientID: c.ID, Username: "alice",
			Scopes: []string{"openid"}, Resources: bad})
		wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	}
}

// Ensure a dynamically registered client is created flagged, public, with
// a display name Cognito's ClientName pattern would refuse, that the flag
// survives an administrator's update, and that names that could mislead
// are refused.
func TestDynamicallyRegisteredClient(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	in := behalf.UserPoolClientInput{
		PoolID: p.ID, Name: "Claude Code (MCP)", DynamicallyRegistered: true,
		AllowedOAuthFlows: []string{"code"}, AllowedOAuthScopes: []string{"openid"}, AllowedOAuthFlowsUserPoolClient: true,
		CallbackURLs: []string{"http://127.0.0.1:33418/cb"}, SupportedIdentityProviders: []string{"COGNITO"},
		ExplicitAuthFlows: []string{behalf.AllowRefreshTokenAuth}, RotateRefreshTokens: true,
	}
	c, secret, err := e.svc.CreateUserPoolClient(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !c.DynamicallyRegistered || !secret.IsZero() || c.Name != "Claude Code (MCP)" {
		t.Fatalf("created %+v", c)
	}
	up := in
	up.ClientID, up.Name, up.DynamicallyRegistered = c.ID, "renamed", false
	got, _, err := e.svc.UpdateUserPoolClient(e.ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	if !got.DynamicallyRegistered {
		t.Error("an update cleared DynamicallyRegistered")
	}
	// An administrator's client keeps Cognito's ClientName pattern.
	admin := in
	admin.DynamicallyRegistered = false
	_, _, err = e.svc.CreateUserPoolClient(e.ctx, admin)
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	for _, name := range []string{"", " padded", "line\nbreak", "rtl\u202eoverride", "zero\u200bwidth", strings.Repeat("é", 129)} {
		bad := in
		bad.Name = name
		_, _, err := e.svc.CreateUserPoolClient(e.ctx, bad)
		wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	}
	withSecret := in
	withSecret.GenerateSecret = true
	_, _, err = e.svc.CreateUserPoolClient(e.ctx, withSecret)
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
}
