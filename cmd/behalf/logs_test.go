package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	ctltypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"golang.org/x/oauth2"

	"github.com/behalf-dev/behalf/agentruntime"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
	"github.com/behalf-dev/behalf/internal/randid"
)

// secretSet collects every secret value a test sees.
type secretSet struct {
	mu   sync.Mutex
	vals map[string]string // value → what it is
}

// add keeps a secret; JWTs also keep their signature alone. Values shorter
// than 8 characters are refused: they could match by accident.
func (s *secretSet) add(t *testing.T, kind string, values ...string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vals == nil {
		s.vals = map[string]string{}
	}
	for _, v := range values {
		if len(v) < 8 {
			t.Fatalf("secret %s %q is missing or too short to search for", kind, v)
		}
		s.vals[v] = kind
		if parts := strings.Split(v, "."); len(parts) == 3 && len(parts[2]) >= 16 {
			s.vals[parts[2]] = kind + " (signature)"
		}
	}
}

// forms returns the ways a value may be written into a log line.
func secretForms(v string) []string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	jsonForm := strings.TrimSuffix(strings.TrimSpace(b.String()), `"`)[1:]
	html, _ := json.Marshal(v)
	return []string{v, jsonForm, string(html[1 : len(html)-1]), url.QueryEscape(v), url.PathEscape(v), fmt.Sprintf("%q", v)[1 : len(fmt.Sprintf("%q", v))-1]}
}

// assertNoSecretInLog fails for every secret, in any form, in log.
func (s *secretSet) assertNotIn(t *testing.T, where, text string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for v, kind := range s.vals {
		for _, form := range secretForms(v) {
			if strings.Contains(text, form) {
				t.Errorf("a %s (%.10s…) is in the %s", kind, v, where)
				break
			}
		}
	}
}

// Ensure no secret, token or password reaches a log line at any level:
// the server logs at debug, in JSON, while complete flows run — the
// three-legged flow with a refresh and a refused refresh, M2M, an API key,
// a scoped access key, user-pool sign-in, refresh, wrong password and
// new-password challenge, admin sign-in, the hosted login (wrong password,
// code, token, refresh), tokens for JWTs, and runtime invocations (SigV4
// with a user, and a pool bearer token). Every value seen is then looked
// for in the log. Every request's log line carries its request id, and so
// does every line logged while serving one.
func TestLogsNoSecrets(t *testing.T) {
	clock := &testClock{}
	google := fakeprovider.New(t, fakeprovider.Options{Now: clock.Now})
	s := startMain(t, serverOptions{now: clock.Now, args: []string{"--allow-private-endpoints", "--log-level", "debug", "--log-format", "json"}})
	sec := &secretSet{}
	sec.add(t, "root secret access key", s.Secret)
	f := newFlowFixture(t, s, google)
	ctx := context.Background()

	// The provider's client secret: one of our own.
	clientSecret := "cs-" + randid.Alnum(32)
	sec.add(t, "provider client secret", clientSecret)
	if _, err := f.ctl.UpdateOauth2CredentialProvider(ctx, &ctl.UpdateOauth2CredentialProviderInput{
		Name: aws.String("google-drive-provider"), CredentialProviderVendor: ctltypes.CredentialProviderVendorTypeCustomOauth2,
		Oauth2ProviderConfigInput: &ctltypes.Oauth2ProviderConfigInputMemberCustomOauth2ProviderConfig{Value: ctltypes.CustomOauth2ProviderConfigInput{
			OauthDiscovery: &ctltypes.Oauth2DiscoveryMemberDiscoveryUrl{Value: google.URL + fakeprovider.DiscoveryPath},
			ClientId:       aws.String("cid"), ClientSecret: aws.String(clientSecret),
			ClientAuthenticationMethod: ctltypes.ClientAuthenticationMethodTypeClientSecretPost,
		}},
	}); err != nil {
		t.Fatal(err)
	}
	google.RegisterClient("cid", clientSecret, f.callback)

	// M2M, with the same client secret.
	m2mWAT, err := f.dp.GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String("drive-agent")})
	if err != nil {
		t.Fatal(err)
	}
	sec.add(t, "workload access token (M2M)", aws.ToString(m2mWAT.WorkloadAccessToken))
	m2m, err := f.dp.GetResourceOauth2Token(ctx, &dp.GetResourceOauth2TokenInput{
		WorkloadIdentityToken: m2mWAT.WorkloadAccessToken, ResourceCredentialProviderName: aws.String("google-drive-provider"),
		Scopes: []string{driveScope}, Oauth2Flow: dptypes.Oauth2FlowTypeM2m,
	})
	if err != nil || m2m.AccessToken == nil {
		t.Fatalf("M2M: %+v %v", m2m, err)
	}
	sec.add(t, "M2M access token", aws.ToString(m2m.AccessToken))

	// An API key provider.
	apiKey := "ak-" + randid.Alnum(32)
	sec.add(t, "API key", apiKey)
	if _, err := f.ctl.CreateApiKeyCredentialProvider(ctx, &ctl.CreateApiKeyCredentialProviderInput{Name: aws.String("serp"), ApiKey: aws.String(apiKey)}); err != nil {
		t.Fatal(err)
	}
	if got, err := f.dp.GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{WorkloadIdentityToken: m2mWAT.WorkloadAccessToken, ResourceCredentialProviderName: aws.String("serp")}); err != nil || aws.ToString(got.ApiKey) != apiKey {
		t.Fatalf("GetResourceApiKey: %v", err)
	}

	// A scoped access key, used; and a request signed with a wrong secret.
	var key struct {
		ID     string `json:"accessKeyId"`
		Secret string `json:"secretAccessKey"`
	}
	resp, err := http.DefaultClient.Do(signedRequest(t, s, "/behalf/CreateAccessKey", []byte(`{"workloadName":"drive-agent"}`), s.KeyID, s.Secret, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&key)
	resp.Body.Close()
	sec.add(t, "scoped secret access key", key.Secret)
	scoped := s.dataPlane(t, key.ID, key.Secret)
	scopedWAT, err := scoped.GetWorkloadAccessTokenForUserId(ctx, &dp.GetWorkloadAccessTokenForUserIdInput{WorkloadName: aws.String("drive-agent"), UserId: aws.String("bob")})
	if err != nil {
		t.Fatal(err)
	}
	sec.add(t, "workload access token (scoped key)", aws.ToString(scopedWAT.WorkloadAccessToken))
	wrongSecret := "wrong-" + randid.Alnum(34)
	sec.add(t, "wrong secret access key", wrongSecret)
	if _, err := s.dataPlane(t, key.ID, wrongSecret).GetWorkloadAccessToken(ctx, &dp.GetWorkloadAccessTokenInput{WorkloadName: aws.String("drive-agent")}); err == nil {
		t.Fatal("a wrong secret was accepted")
	}

	// User pools: sign-in, refresh, wrong password, new-password challenge, admin sign-in.
	cog := s.cognito(t)
	pool := newPoolFixture(t, ctx, cog, "logs")
	sec.add(t, "pool client secret", pool.clientSecret)
	const password, wrongPassword, tempPassword, newPassword = "Corr3ct-Horse-Log!", "Wr0ng-Password-Log!", "Temp-Pass-Log-1!", "New-Pass-Log-2!"
	sec.add(t, "password", password, wrongPassword, tempPassword, newPassword, "Temp-"+password)
	pool.createUser(t, ctx, cog, "erin", password)
	keepTokens := func(what string, r *types.AuthenticationResultType) {
		t.Helper()
		sec.add(t, what+" access token", aws.ToString(r.AccessToken))
		sec.add(t, what+" ID token", aws.ToString(r.IdToken))
		if r.RefreshToken != nil {
			sec.add(t, what+" refresh token", aws.ToString(r.RefreshToken))
		}
	}
	signedIn := mustTokens(t)(pool.signIn(ctx, cog, "erin", password))
	keepTokens("pool", signedIn)
	sec.add(t, "SECRET_HASH", secretHash(pool.clientSecret, "erin", pool.clientID))
	keepTokens("pool (refreshed)", mustTokens(t)(pool.refresh(ctx, cog, "erin", aws.ToString(signedIn.RefreshToken))))
	if _, err := pool.signIn(ctx, cog, "erin", wrongPassword); err == nil {
		t.Fatal("a wrong password signed in")
	}
	if _, err := cog.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(pool.poolID), Username: aws.String("frank"), MessageAction: types.MessageActionTypeSuppress, TemporaryPassword: aws.String(tempPassword),
	}); err != nil {
		t.Fatal(err)
	}
	challenge, err := pool.signIn(ctx, cog, "frank", tempPassword)
	if err != nil || challenge.ChallengeName != types.ChallengeNameTypeNewPasswordRequired {
		t.Fatalf("challenge: %+v %v", challenge, err)
	}
	sec.add(t, "challenge session", aws.ToString(challenge.Session))
	answered, err := cog.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{
		ClientId: aws.String(pool.clientID), ChallengeName: types.ChallengeNameTypeNewPasswordRequired, Session: challenge.Session,
		ChallengeResponses: map[string]string{"USERNAME": "frank", "NEW_PASSWORD": newPassword, "SECRET_HASH": secretHash(pool.clientSecret, "frank", pool.clientID)},
	})
	if err != nil {
		t.Fatal(err)
	}
	keepTokens("challenge", answered.AuthenticationResult)
	admin, err := cog.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{
		UserPoolId: aws.String(pool.poolID), ClientId: aws.String(pool.clientID), AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "frank", "PASSWORD": newPassword, "SECRET_HASH": secretHash(pool.clientSecret, "frank", pool.clientID)},
	})
	if err != nil || admin.AuthenticationResult == nil {
		t.Fatalf("AdminInitiateAuth: %+v %v", admin, err)
	}
	keepTokens("admin sign-in", admin.AuthenticationResult)
	// A pool user's JWT for a WAT.
	jwtWAT, err := f.dp.GetWorkloadAccessTokenForJWT(ctx, &dp.GetWorkloadAccessTokenForJWTInput{WorkloadName: aws.String("drive-agent"), UserToken: signedIn.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	sec.add(t, "workload access token (JWT)", aws.ToString(jwtWAT.WorkloadAccessToken))

	// The hosted login: wrong password, then the code flow and a refresh.
	hostedTokens := hostedLoginFlow(t, s, cog, pool.poolID, "erin", password, wrongPassword, sec)

	// Runtime invocations: SigV4 with a user (the agent gets a WAT), and a
	// pool user's bearer token (the hosted login's access token).
	var agentWATs []string
	var agentMu sync.Mutex
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		agentMu.Lock()
		agentWATs = append(agentWATs, r.Header.Get(agentruntime.HeaderWAT))
		agentMu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(agent.Close)
	sigv4RT := createTestRuntime(t, f.ctl, "logs_sigv4", agent.URL, nil)
	inv, err := f.dp.InvokeAgentRuntime(ctx, &dp.InvokeAgentRuntimeInput{
		AgentRuntimeArn: aws.String(sigv4RT), RuntimeUserId: aws.String("alice"), Payload: []byte(`{"prompt":"hi"}`), ContentType: aws.String("application/json"),
	})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, inv.Response)
	inv.Response.Close()
	bearerRT := createTestRuntime(t, f.ctl, "logs_bearer", agent.URL, &ctltypes.AuthorizerConfigurationMemberCustomJWTAuthorizer{Value: ctltypes.CustomJWTAuthorizerConfiguration{
		DiscoveryUrl: aws.String(s.URL + "/" + pool.poolID + "/.well-known/openid-configuration"), AllowedClients: []string{hostedTokens.clientID},
	}})
	req, _ := http.NewRequest("POST", invokeURL(s.URL, bearerRT, "DEFAULT"), strings.NewReader(`{"prompt":"hi"}`))
	req.Header.Set("Authorization", "Bearer "+hostedTokens.access)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("bearer invocation: %d %s", resp.StatusCode, body)
	}
	agentMu.Lock()
	if len(agentWATs) != 2 {
		t.Fatalf("the agent got %d invocations, want 2", len(agentWATs))
	}
	sec.add(t, "workload access token (invocation)", agentWATs...)
	agentMu.Unlock()

	// Three-legged flow, then a refresh, a refused refresh, a new consent
	// (last: it moves the clock, which the pools' tokens follow).
	wat := f.wat("alice")
	sec.add(t, "workload access token", wat)
	sec.add(t, "provider access token", f.consent(wat))
	exchange, authz := google.LastTokenRequest(), google.LastAuthorization()
	sec.add(t, "authorization code", exchange.Get("code"))
	sec.add(t, "PKCE verifier", exchange.Get("code_verifier"))
	sec.add(t, "client secret (as sent)", exchange.Get("client_secret"))
	sec.add(t, "OAuth state", authz.Get("state"))
	sec.add(t, "PKCE challenge", authz.Get("code_challenge"))
	clock.Advance(2 * time.Hour)
	out, err := f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(f.wat("alice"), ""))
	if err != nil || out.AccessToken == nil {
		t.Fatalf("refresh: %+v %v", out, err)
	}
	sec.add(t, "refreshed access token", aws.ToString(out.AccessToken))
	sec.add(t, "provider refresh token", google.LastTokenRequest().Get("refresh_token"))
	clock.Advance(2 * time.Hour)
	google.FailRefreshWith(400, "invalid_request") // logged as a refresh failure
	if _, err := f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(f.wat("alice"), "")); err == nil {
		t.Fatal("a refused refresh returned a token")
	}
	google.FailRefreshWith(400, "invalid_grant") // the grant is dropped: consent again
	if out, err := f.dp.GetResourceOauth2Token(ctx, f.tokenRequest(f.wat("alice"), "")); err != nil || out.AuthorizationUrl == nil {
		t.Fatalf("after invalid_grant: %+v %v", out, err)
	}
	google.FailRefreshWith(0, "")

	// The sweep: no secret anywhere in the log.
	log := s.Log.String()
	sec.assertNotIn(t, "server log", log)

	// Every line is JSON; request lines carry a request id, and so does
	// every line logged in a request's context (everything but the
	// server's own lifecycle).
	background := regexp.MustCompile(`(?i)^(shutting down|swept |sweep |.*flush|.*runtime)`)
	lines, requests, withID, serving := 0, 0, 0, false
	ids := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		lines++
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		msg, _ := rec["msg"].(string)
		if !serving { // startup: no request yet
			serving = msg == "behalf serving"
			continue
		}
		id, _ := rec["request_id"].(string)
		if id != "" {
			withID++
		}
		if msg == "request" {
			requests++
			if id == "" || ids[id] {
				t.Errorf("request line without a unique request_id: %s", line)
			}
			ids[id] = true
			continue
		}
		if id == "" && !background.MatchString(msg) {
			t.Errorf("a line logged while serving lacks a request_id: %s", line)
		}
	}
	if requests < 40 || withID <= requests {
		t.Fatalf("%d log lines, %d request lines, %d with a request id: the flows did not log as expected", lines, requests, withID)
	}
	for _, op := range []string{`"op":"GetResourceOauth2Token"`, `"op":"InitiateAuth"`, `"op":"InvokeAgentRuntime"`, `"path":"/` + pool.poolID + `/login"`, `"msg":"refresh failed"`} {
		if !strings.Contains(log, op) {
			t.Errorf("the log has no line with %s", op)
		}
	}
}

// hostedTokens are what the hosted login's code flow returned.
type hostedTokens struct{ clientID, access string }

// hostedLoginFlow signs user in at the hosted login with plain HTTP (a
// wrong password first), exchanges the code with PKCE and refreshes,
// keeping every secret it sees.
func hostedLoginFlow(t *testing.T, s *testServer, cog *cip.Client, poolID, user, password, wrongPassword string, sec *secretSet) hostedTokens {
	t.Helper()
	ctx := context.Background()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "app") }))
	t.Cleanup(app.Close)
	callback := app.URL + "/callback"
	created, err := cog.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(poolID), ClientName: aws.String("hosted"),
		AllowedOAuthFlows: []types.OAuthFlowType{types.OAuthFlowTypeCode}, AllowedOAuthScopes: []string{"openid", "email"},
		AllowedOAuthFlowsUserPoolClient: true, CallbackURLs: []string{callback}, SupportedIdentityProviders: []string{"COGNITO"},
	})
	if err != nil {
		t.Fatal(err)
	}
	clientID := aws.ToString(created.UserPoolClient.ClientId)
	issuer := s.URL + "/" + poolID
	verifier := oauth2.GenerateVerifier()
	sec.add(t, "hosted-login PKCE verifier", verifier)
	conf := &oauth2.Config{ClientID: clientID, RedirectURL: callback, Endpoint: oauth2.Endpoint{AuthURL: issuer + "/oauth2/authorize", TokenURL: issuer + "/oauth2/token"}, Scopes: []string{"openid", "email"}}
	jar := newBrowser(t).Jar
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(conf.AuthCodeURL("state-logs-123", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loginURL := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loginURL, issuer+"/login?") {
		t.Fatalf("authorize: %d Location=%q", resp.StatusCode, loginURL)
	}
	fields := func() url.Values {
		resp, err := browser.Get(loginURL)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		v := url.Values{}
		for _, m := range regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`).FindAllStringSubmatch(string(page), -1) {
			v.Set(m[1], m[2])
		}
		if v.Get("csrf") == "" {
			t.Fatalf("login page without a csrf field: %d %.300s", resp.StatusCode, page)
		}
		sec.add(t, "login CSRF token", v.Get("csrf"))
		return v
	}
	post := func(pw string) *http.Response {
		form := fields()
		form.Set("username", user)
		form.Set("password", pw)
		resp, err := browser.PostForm(loginURL, form)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if resp := post(wrongPassword); resp.StatusCode/100 == 3 {
		t.Fatal("the hosted login accepted a wrong password")
	}
	resp = post(password)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode/100 != 3 || loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("sign-in: %d Location=%q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, c := range jar.Cookies(mustParseURL(t, issuer+"/")) {
		sec.add(t, "hosted-login cookie", c.Value)
	}
	sec.add(t, "hosted-login code", loc.Query().Get("code"))
	tctx := context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Timeout: 10 * time.Second})
	tok, err := conf.Exchange(tctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	idToken, _ := tok.Extra("id_token").(string)
	sec.add(t, "hosted-login tokens", tok.AccessToken, tok.RefreshToken, idToken)
	tok.Expiry = time.Now().Add(-time.Minute)
	fresh, err := conf.TokenSource(tctx, tok).Token()
	if err != nil || fresh.AccessToken == tok.AccessToken {
		t.Fatalf("hosted-login refresh: %v", err)
	}
	sec.add(t, "hosted-login refreshed token", fresh.AccessToken)
	return hostedTokens{clientID: clientID, access: fresh.AccessToken}
}

func mustParseURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// createTestRuntime registers uri as a runtime (authz nil: SigV4) and
// returns its ARN.
func createTestRuntime(t *testing.T, c *ctl.Client, name, uri string, authz ctltypes.AuthorizerConfiguration) string {
	t.Helper()
	in := &ctl.CreateAgentRuntimeInput{
		AgentRuntimeName:        aws.String(name),
		AgentRuntimeArtifact:    &ctltypes.AgentRuntimeArtifactMemberContainerConfiguration{Value: ctltypes.ContainerConfiguration{ContainerUri: aws.String(uri)}},
		RoleArn:                 aws.String("arn:aws:iam::123456789012:role/agent"),
		NetworkConfiguration:    &ctltypes.NetworkConfiguration{NetworkMode: ctltypes.NetworkModePublic},
		AuthorizerConfiguration: authz,
	}
	out, err := c.CreateAgentRuntime(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateAgentRuntime %s: %v", name, err)
	}
	return aws.ToString(out.AgentRuntimeArn)
}
