package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	"golang.org/x/oauth2"

	"github.com/behalf-dev/behalf/internal/realidp"
)

// signedPost sends a SigV4-signed JSON POST with the root key.
func signedPost(t *testing.T, s *testServer, path, body string) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(signedRequest(t, s, path, []byte(body), s.KeyID, s.Secret, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// userIDToken signs the test user in at the OpenID provider as an app would
// and returns their ID token (a JWT).
func userIDToken(t *testing.T, idp *realidp.Server) string {
	t.Helper()
	app := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(app.Close)
	idp.RegisterClient("user-app", "user-app-secret", app.URL+"/signed-in")
	cfg := oauth2.Config{ClientID: "user-app", ClientSecret: "user-app-secret", RedirectURL: app.URL + "/signed-in",
		Scopes: []string{"openid", "profile"}, Endpoint: oauth2.Endpoint{AuthURL: idp.Issuer + "/auth", TokenURL: idp.Issuer + "/oauth/token"}}
	verifier := oauth2.GenerateVerifier()
	resp, err := idp.Login(context.Background(), newBrowser(t), cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), realidp.TestUser, realidp.TestPassword)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := tok.Extra("id_token").(string)
	if id == "" {
		t.Fatal("no id_token")
	}
	return id
}

// Ensure the whole flow works against a real OpenID provider nobody on this
// team wrote (zitadel/oidc's example OP): a CustomOauth2 provider by
// discovery URL, a user JWT from that provider as a trusted issuer for
// GetWorkloadAccessTokenForJWT and for binding, and the token it issues.
func TestRealOpenIDProvider(t *testing.T) {
	idp := realidp.Start(t)
	s := mustRunMain(t, "", "--allow-private-endpoints")
	ctx := context.Background()
	control, data := s.client(t), s.dataPlane(t, s.KeyID, s.Secret)

	out, err := control.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
		Name: aws.String("zitadel"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
		Oauth2ProviderConfigInput: customDiscovery(idp.DiscoveryURL, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	idp.RegisterClient("behalf", "behalf-secret", aws.ToString(out.CallbackUrl))
	// The provider was created before the client existed at the OP; give
	// Behalf the secret the OP now knows.
	if _, err := control.UpdateOauth2CredentialProvider(ctx, &ctl.UpdateOauth2CredentialProviderInput{
		Name: aws.String("zitadel"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
		Oauth2ProviderConfigInput: &types.Oauth2ProviderConfigInputMemberCustomOauth2ProviderConfig{Value: types.CustomOauth2ProviderConfigInput{
			OauthDiscovery: &types.Oauth2DiscoveryMemberDiscoveryUrl{Value: idp.DiscoveryURL},
			ClientId:       aws.String("behalf"), ClientSecret: aws.String("behalf-secret"),
		}},
	}); err != nil {
		t.Fatal(err)
	}
	if status, body := signedPost(t, s, "/behalf/CreateTrustedIssuer", fmt.Sprintf(`{"discoveryUrl":%q}`, idp.DiscoveryURL)); status != 201 {
		t.Fatalf("CreateTrustedIssuer: %d %s", status, body)
	}

	userJWT := userIDToken(t, idp)
	// The app binds with a fresh JWT of the same user (a later sign-in), not
	// the exact token that minted the WAT: Behalf compares issuer + subject.
	freshJWT := userIDToken(t, idp)
	if freshJWT == userJWT {
		t.Fatal("the second sign-in returned the same ID token")
	}
	bound := make(chan error, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := data.CompleteResourceTokenAuth(r.Context(), &dp.CompleteResourceTokenAuthInput{
			SessionUri: aws.String(r.URL.Query().Get("session_id")), UserIdentifier: &dptypes.UserIdentifierMemberUserToken{Value: freshJWT},
		})
		bound <- err
	}))
	defer app.Close()
	if _, err := control.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{
		Name: aws.String("agent"), AllowedResourceOauth2ReturnUrls: []string{app.URL + "/cb"},
	}); err != nil {
		t.Fatal(err)
	}
	watOut, err := data.GetWorkloadAccessTokenForJWT(ctx, &dp.GetWorkloadAccessTokenForJWTInput{WorkloadName: aws.String("agent"), UserToken: aws.String(userJWT)})
	if err != nil {
		t.Fatal(err)
	}
	req := &dp.GetResourceOauth2TokenInput{
		WorkloadIdentityToken: watOut.WorkloadAccessToken, ResourceCredentialProviderName: aws.String("zitadel"),
		Scopes: []string{"openid", "profile", "offline_access"}, Oauth2Flow: dptypes.Oauth2FlowTypeUserFederation,
		ResourceOauth2ReturnUrl: aws.String(app.URL + "/cb"),
	}
	first, err := data.GetResourceOauth2Token(ctx, req)
	if err != nil || first.AuthorizationUrl == nil {
		t.Fatalf("first call: %+v %v", first, err)
	}

	browser := newBrowser(t)
	resp, err := idp.Login(ctx, browser, aws.ToString(first.AuthorizationUrl), realidp.TestUser, realidp.TestPassword)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || !strings.HasPrefix(loc.String(), s.URL+"/identities/oauth2/callback/") {
		t.Fatalf("the OP sent the browser to %v (%v)", loc, err)
	}
	if resp, err = browser.Get(loc.String()); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := <-bound; err != nil {
		t.Fatalf("binding with the user's JWT: %v", err)
	}
	req.SessionUri = first.SessionUri
	poll, err := data.GetResourceOauth2Token(ctx, req)
	if err != nil || poll.AccessToken == nil {
		t.Fatalf("poll: %+v %v", poll, err)
	}

	// The token the vault holds is accepted by the OP's userinfo endpoint.
	ui, _ := http.NewRequest("GET", idp.Issuer+"/userinfo", nil)
	ui.Header.Set("Authorization", "Bearer "+aws.ToString(poll.AccessToken))
	uresp, err := http.DefaultClient.Do(ui)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(uresp.Body)
	uresp.Body.Close()
	if uresp.StatusCode != 200 || !bytes.Contains(body, []byte(`"sub"`)) {
		t.Fatalf("userinfo with the vaulted token: %d %s", uresp.StatusCode, body)
	}
}
