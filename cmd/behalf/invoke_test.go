package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	ciptypes "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/agentruntime"
	"github.com/behalf-dev/behalf/internal/fakeprovider"
)

// End-to-end tests of InvokeAgentRuntime through the real server: a user
// pool signs users in, the control plane registers agents (httptest
// servers) as runtimes, and callers invoke them with bearer tokens, SigV4
// (the official client) and the CLI.

// invAgent is a running agent: it records what it receives and answers
// with its current handler (default: a JSON echo).
type invAgent struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []http.Header
	bodies []string
	handle http.HandlerFunc
}

func newInvAgent(t testing.TB) *invAgent {
	a := &invAgent{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		h := a.handle
		a.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		a.record(r, body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"echo":%q}`, body)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *invAgent) set(h http.HandlerFunc) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.handle = h
}

func (a *invAgent) record(r *http.Request, body []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, r.Header.Clone())
	a.bodies = append(a.bodies, string(body))
}

func (a *invAgent) last(t testing.TB) http.Header {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.got) == 0 {
		t.Fatal("the agent received nothing")
	}
	return a.got[len(a.got)-1]
}

func (a *invAgent) calls() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.got)
}

// invRuntime is a runtime the control plane created.
type invRuntime struct{ id, arn, workload string }

// invEnv is a server with a user pool (alice and bob), one agent, and
// runtimes in front of it.
type invEnv struct {
	s     *testServer
	ctl   *ctl.Client
	cog   *cip.Client
	pool  poolFixture
	agent *invAgent
	clock *testClock
	alice string // alice's access token
	bob   string
}

const invCallbackPath = "/oauth2/callback"

func newInvEnv(t *testing.T) *invEnv {
	t.Helper()
	e := &invEnv{clock: &testClock{}, agent: newInvAgent(t)}
	e.s = startMain(t, serverOptions{now: e.clock.Now, args: []string{"--allow-private-endpoints"}})
	e.ctl, e.cog = e.s.client(t), e.s.cognito(t)
	ctx := context.Background()
	e.pool = newPoolFixture(t, ctx, e.cog, "agent-users")
	e.pool.createUser(t, ctx, e.cog, "alice", "Corr3ct-Horse!")
	e.pool.createUser(t, ctx, e.cog, "bob", "Batt3ry-Staple!")
	e.alice = aws.ToString(mustTokens(t)(e.pool.signIn(ctx, e.cog, "alice", "Corr3ct-Horse!")).AccessToken)
	e.bob = aws.ToString(mustTokens(t)(e.pool.signIn(ctx, e.cog, "bob", "Batt3ry-Staple!")).AccessToken)
	return e
}

// discoveryURL is the pool's OpenID discovery document.
func (e *invEnv) discoveryURL() string {
	return e.s.URL + "/" + e.pool.poolID + "/.well-known/openid-configuration"
}

// poolAuthorizer admits the pool's access tokens of its app client.
func (e *invEnv) poolAuthorizer(change func(*types.CustomJWTAuthorizerConfiguration)) types.AuthorizerConfiguration {
	a := types.CustomJWTAuthorizerConfiguration{
		DiscoveryUrl:   aws.String(e.discoveryURL()),
		AllowedClients: []string{e.pool.clientID},
		AllowedScopes:  []string{behalf.ScopeCognitoAdmin},
		CustomClaims: []types.CustomClaimValidationType{{
			InboundTokenClaimName:      aws.String("token_use"),
			InboundTokenClaimValueType: types.InboundTokenClaimValueTypeString,
			AuthorizingClaimMatchValue: &types.AuthorizingClaimMatchValueType{
				ClaimMatchOperator: types.ClaimMatchOperatorTypeEquals,
				ClaimMatchValue:    &types.ClaimMatchValueTypeMemberMatchValueString{Value: "access"},
			},
		}},
	}
	if change != nil {
		change(&a)
	}
	return &types.AuthorizerConfigurationMemberCustomJWTAuthorizer{Value: a}
}

// createRuntime registers uri as a runtime; authz nil is SigV4.
func (e *invEnv) createRuntime(t testing.TB, name, uri string, authz types.AuthorizerConfiguration, env map[string]string) invRuntime {
	t.Helper()
	in := &ctl.CreateAgentRuntimeInput{
		AgentRuntimeName:        aws.String(name),
		AgentRuntimeArtifact:    &types.AgentRuntimeArtifactMemberContainerConfiguration{Value: types.ContainerConfiguration{ContainerUri: aws.String(uri)}},
		RoleArn:                 aws.String("arn:aws:iam::123456789012:role/agent"),
		NetworkConfiguration:    &types.NetworkConfiguration{NetworkMode: types.NetworkModePublic},
		AuthorizerConfiguration: authz,
		RequestHeaderConfiguration: &types.RequestHeaderConfigurationMemberRequestHeaderAllowlist{
			Value: []string{"X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant"},
		},
		EnvironmentVariables: env,
	}
	if authz != nil {
		in.RequestHeaderConfiguration = &types.RequestHeaderConfigurationMemberRequestHeaderAllowlist{
			Value: []string{"Authorization", "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant"},
		}
	}
	out, err := e.ctl.CreateAgentRuntime(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateAgentRuntime %s: %v", name, err)
	}
	rt := invRuntime{id: aws.ToString(out.AgentRuntimeId), arn: aws.ToString(out.AgentRuntimeArn)}
	arn := aws.ToString(out.WorkloadIdentityDetails.WorkloadIdentityArn)
	rt.workload = arn[strings.LastIndex(arn, "/")+1:]
	return rt
}

// invokeURLOf is the URL of an invocation, the ARN encoded as the SDKs do.
func (e *invEnv) invokeURLOf(rt invRuntime) string {
	return invokeURL(e.s.URL, rt.arn, "DEFAULT")
}

// bearer sends an invocation with a bearer token and extra headers.
func (e *invEnv) bearer(t testing.TB, rt invRuntime, token, body string, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.invokeURLOf(rt), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// wantInvokeError checks an AgentCore restJson1 error answer.
func wantInvokeError(t testing.TB, resp *http.Response, body string, status int, typ string) string {
	t.Helper()
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if resp.StatusCode != status || json.Unmarshal([]byte(body), &e) != nil || e.Type != typ || resp.Header.Get("X-Amzn-ErrorType") != typ {
		t.Fatalf("got %d %s %s, want %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body, status, typ)
	}
	if e.Message == "" || strings.Contains(e.Message, "behalf error") {
		t.Fatalf("message %q", e.Message)
	}
	return e.Message
}

// Ensure a pool user's bearer invocation reaches the agent with the WAT,
// session id, request id and callback URL, and that the WAT works: the
// agent gets the user's consent URL from GetResourceOauth2Token with it,
// the app binds the session with the user's own token, and the next
// invocation (same bearer, same cached WAT) gets the user's token from the
// vault, which another user's invocation does not.
func TestInvokeJWTWorkloadAccessToken(t *testing.T) {
	e := newInvEnv(t)
	ctx := context.Background()
	google := fakeprovider.New(t, fakeprovider.Options{})

	// The app: its session-binding endpoint completes sessions for alice,
	// whom it has signed in (it holds her access token).
	bound := make(chan error, 4)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := e.s.dataPlane(t, e.s.KeyID, e.s.Secret).CompleteResourceTokenAuth(r.Context(), &dp.CompleteResourceTokenAuthInput{
			SessionUri:     aws.String(r.URL.Query().Get("session_id")),
			UserIdentifier: &dptypes.UserIdentifierMemberUserToken{Value: e.alice},
		})
		bound <- err
	}))
	t.Cleanup(app.Close)
	callback := app.URL + invCallbackPath

	prov, err := e.ctl.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
		Name: aws.String("inv-google"), CredentialProviderVendor: types.CredentialProviderVendorTypeCustomOauth2,
		Oauth2ProviderConfigInput: customDiscovery(google.URL+fakeprovider.DiscoveryPath, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	google.RegisterClient("cid", "csecret", aws.ToString(prov.CallbackUrl))

	rt := e.createRuntime(t, "inv_jwt", e.agent.srv.URL, e.poolAuthorizer(nil), map[string]string{behalf.CallbackURLEnv: callback})
	if _, err := e.ctl.UpdateWorkloadIdentity(ctx, &ctl.UpdateWorkloadIdentityInput{
		Name: aws.String(rt.workload), AllowedResourceOauth2ReturnUrls: []string{callback},
	}); err != nil {
		t.Fatal(err)
	}
	// The agent's own key, scoped to its workload, as a deployed agent has.
	var key struct {
		ID     string `json:"accessKeyId"`
		Secret string `json:"secretAccessKey"`
	}
	code, body := signedPost(t, e.s, "/behalf/CreateAccessKey", `{"workloadName":"`+rt.workload+`"}`)
	if code != http.StatusCreated || json.Unmarshal([]byte(body), &key) != nil {
		t.Fatalf("CreateAccessKey: %d %s", code, body)
	}
	agentDP := e.s.dataPlane(t, key.ID, key.Secret)

	// The agent: asks the vault for the user's Drive token with the WAT and
	// the callback URL it was handed, and answers with what it got.
	e.agent.set(func(w http.ResponseWriter, r *http.Request) {
		e.agent.record(r, nil)
		out, err := agentDP.GetResourceOauth2Token(r.Context(), &dp.GetResourceOauth2TokenInput{
			WorkloadIdentityToken: aws.String(r.Header.Get(agentruntime.HeaderWAT)), ResourceCredentialProviderName: aws.String("inv-google"),
			Scopes: []string{driveScope}, Oauth2Flow: dptypes.Oauth2FlowTypeUserFederation,
			ResourceOauth2ReturnUrl: aws.String(r.Header.Get(agentruntime.HeaderCallbackURL)),
		})
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"accessToken": aws.ToString(out.AccessToken), "authorizationUrl": aws.ToString(out.AuthorizationUrl)})
	})
	type agentAnswer struct{ AccessToken, AuthorizationURL, Error string }
	invoke := func(token string) (agentAnswer, http.Header) {
		t.Helper()
		resp, body := e.bearer(t, rt, token, `{"prompt":"list my files"}`)
		var a agentAnswer
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &a) != nil {
			t.Fatalf("invoke: %d %s", resp.StatusCode, body)
		}
		if got := e.agent.last(t).Get(agentruntime.HeaderSessionID); resp.Header.Get(agentruntime.HeaderSessionID) != got {
			t.Fatalf("session id %q echoed as %q", got, resp.Header.Get(agentruntime.HeaderSessionID))
		}
		return a, e.agent.last(t)
	}

	first, h1 := invoke(e.alice)
	if first.AccessToken != "" || !strings.HasPrefix(first.AuthorizationURL, e.s.URL+"/identities/oauth2/authorize?") {
		t.Fatalf("first invocation: %+v", first)
	}
	wat := h1.Get(agentruntime.HeaderWAT)
	if wat == "" || h1.Get(agentruntime.HeaderWATLegacy) != wat {
		t.Fatalf("WAT headers %q / %q", wat, h1.Get(agentruntime.HeaderWATLegacy))
	}
	if sid := h1.Get(agentruntime.HeaderSessionID); len(sid) < 33 {
		t.Errorf("session id %q", sid)
	}
	if h1.Get(agentruntime.HeaderRequestID) == "" || h1.Get(agentruntime.HeaderCallbackURL) != callback {
		t.Errorf("request id %q, callback %q", h1.Get(agentruntime.HeaderRequestID), h1.Get(agentruntime.HeaderCallbackURL))
	}
	if h1.Get("Authorization") != "Bearer "+e.alice {
		t.Errorf("allowlisted Authorization not delivered")
	}
	// Alice consents in her browser; the app binds the session with her JWT.
	resp, err := newBrowser(t).Get(first.AuthorizationURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case err := <-bound:
		if err != nil {
			t.Fatalf("binding with alice's token: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the app was never called back")
	}

	second, h2 := invoke(e.alice)
	if second.AccessToken == "" {
		t.Fatalf("second invocation: %+v", second)
	}
	if h2.Get(agentruntime.HeaderWAT) != wat {
		t.Errorf("the second invocation with the same bearer got another WAT (minted twice)")
	}
	if h2.Get(agentruntime.HeaderSessionID) == h1.Get(agentruntime.HeaderSessionID) {
		t.Errorf("two invocations without a session id share session %s", h1.Get(agentruntime.HeaderSessionID))
	}
	bobs, hb := invoke(e.bob)
	if bobs.AccessToken != "" || bobs.AuthorizationURL == "" || hb.Get(agentruntime.HeaderWAT) == wat {
		t.Fatalf("bob's invocation: %+v", bobs)
	}
	assertCleanResponses(t, e.s, key.Secret)
}

// Ensure the authorizer refuses what it should, through the real server:
// no or bad tokens (401), tokens whose claims it does not allow (403),
// tokens that expired, another pool's tokens; and that forged headers are
// stripped or refused.
func TestInvokeJWTAttacks(t *testing.T) {
	e := newInvEnv(t)
	ctx := context.Background()
	rt := e.createRuntime(t, "inv_attacks", e.agent.srv.URL, e.poolAuthorizer(nil), map[string]string{behalf.CallbackURLEnv: "https://app.example/cb"})
	aud := e.createRuntime(t, "inv_aud", e.agent.srv.URL, e.poolAuthorizer(func(a *types.CustomJWTAuthorizerConfiguration) {
		a.AllowedAudience = []string{"agents-api"}
	}), nil)
	scope := e.createRuntime(t, "inv_scope", e.agent.srv.URL, e.poolAuthorizer(func(a *types.CustomJWTAuthorizerConfiguration) {
		a.AllowedScopes = []string{"agent/invoke"}
	}), nil)
	claim := e.createRuntime(t, "inv_claim", e.agent.srv.URL, e.poolAuthorizer(func(a *types.CustomJWTAuthorizerConfiguration) {
		a.CustomClaims = append(a.CustomClaims, types.CustomClaimValidationType{
			InboundTokenClaimName:      aws.String("username"),
			InboundTokenClaimValueType: types.InboundTokenClaimValueTypeString,
			AuthorizingClaimMatchValue: &types.AuthorizingClaimMatchValueType{
				ClaimMatchOperator: types.ClaimMatchOperatorTypeEquals,
				ClaimMatchValue:    &types.ClaimMatchValueTypeMemberMatchValueString{Value: "alice"},
			},
		})
	}), nil)

	// Tokens the authorizer must refuse.
	idToken := aws.ToString(mustTokens(t)(e.pool.signIn(ctx, e.cog, "alice", "Corr3ct-Horse!")).IdToken)
	other, err := e.cog.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(e.pool.poolID), ClientName: aws.String("other-app"),
		ExplicitAuthFlows: []ciptypes.ExplicitAuthFlowsType{ciptypes.ExplicitAuthFlowsTypeAllowUserPasswordAuth, ciptypes.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
	})
	if err != nil {
		t.Fatal(err)
	}
	otherPool := newPoolFixture(t, ctx, e.cog, "other-pool")
	otherPool.createUser(t, ctx, e.cog, "alice", "Corr3ct-Horse!")
	otherPoolToken := aws.ToString(mustTokens(t)(otherPool.signIn(ctx, e.cog, "alice", "Corr3ct-Horse!")).AccessToken)
	parts := strings.Split(e.alice, ".")
	tampered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))

	for _, c := range []struct {
		name   string
		rt     invRuntime
		token  string
		status int
		typ    string
	}{
		{"no bearer", rt, "", 401, "UnauthorizedException"},
		{"garbage", rt, "garbage.garbage.garbage", 401, "UnauthorizedException"},
		{"tampered signature", rt, tampered, 401, "UnauthorizedException"},
		{"another pool's token", rt, otherPoolToken, 401, "UnauthorizedException"},
		{"ID token (no client_id)", rt, idToken, 403, "AccessDeniedException"},
		{"wrong audience", aud, e.alice, 403, "AccessDeniedException"},
		{"wrong scope", scope, e.alice, 403, "AccessDeniedException"},
		{"custom claim mismatch", claim, e.bob, 403, "AccessDeniedException"},
	} {
		resp, body := e.bearer(t, c.rt, c.token, `{}`)
		if resp.StatusCode != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, resp.StatusCode, body, c.status)
			continue
		}
		wantInvokeError(t, resp, body, c.status, c.typ)
	}
	if resp, body := e.bearer(t, claim, e.alice, `{}`); resp.StatusCode != 200 {
		t.Fatalf("alice on the claim runtime: %d %s", resp.StatusCode, body)
	}
	if n := e.agent.calls(); n != 1 {
		t.Fatalf("the agent was called %d times, want only alice's allowed call", n)
	}

	// A client of the pool the authorizer does not list.
	otherToken := signInOtherClient(t, e, aws.ToString(other.UserPoolClient.ClientId))
	resp, body := e.bearer(t, rt, otherToken, `{}`)
	wantInvokeError(t, resp, body, 403, "AccessDeniedException")

	// Forged identity headers are replaced; a forged user id is refused;
	// an invalid session id is refused.
	resp, body = e.bearer(t, rt, e.alice, `{"x":1}`,
		agentruntime.HeaderWAT, "forged", agentruntime.HeaderWATLegacy, "forged",
		agentruntime.HeaderCallbackURL, "https://evil.example/steal",
		"X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant", "acme")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	h := e.agent.last(t)
	if v := h.Values(agentruntime.HeaderWAT); len(v) != 1 || v[0] == "forged" || h.Get(agentruntime.HeaderWATLegacy) != v[0] {
		t.Errorf("WAT headers %q %q", v, h.Values(agentruntime.HeaderWATLegacy))
	}
	if v := h.Values(agentruntime.HeaderCallbackURL); len(v) != 1 || v[0] != "https://app.example/cb" {
		t.Errorf("callback %q", v)
	}
	if h.Get("X-Amzn-Bedrock-AgentCore-Runtime-Custom-Tenant") != "acme" {
		t.Errorf("allowlisted custom header lost")
	}
	calls := e.agent.calls()
	resp, body = e.bearer(t, rt, e.alice, `{}`, agentruntime.HeaderUserID, "bob")
	wantInvokeError(t, resp, body, 403, "AccessDeniedException")
	resp, body = e.bearer(t, rt, e.alice, `{}`, agentruntime.HeaderSessionID, "too-short")
	wantInvokeError(t, resp, body, 400, "ValidationException")
	good := "alice-session-0123456789abcdefghijklmnop"
	resp, _ = e.bearer(t, rt, e.alice, `{}`, agentruntime.HeaderSessionID, good)
	if resp.StatusCode != 200 || resp.Header.Get(agentruntime.HeaderSessionID) != good || e.agent.last(t).Get(agentruntime.HeaderSessionID) != good {
		t.Fatalf("client session id: %d %q", resp.StatusCode, resp.Header.Get(agentruntime.HeaderSessionID))
	}
	if e.agent.calls() != calls+1 {
		t.Fatal("a refused invocation reached the agent")
	}

	// Expired: two hours later alice's token is past its exp.
	e.clock.Advance(2 * time.Hour)
	resp, body = e.bearer(t, rt, e.alice, `{}`)
	if msg := wantInvokeError(t, resp, body, 401, "UnauthorizedException"); !strings.Contains(msg, "expired") {
		t.Errorf("expired token: %q", msg)
	}
	assertCleanResponses(t, e.s)
}

// signInOtherClient signs alice in through another app client of the
// pool (one without a secret).
func signInOtherClient(t *testing.T, e *invEnv, clientID string) string {
	t.Helper()
	out, err := e.cog.InitiateAuth(context.Background(), &cip.InitiateAuthInput{
		ClientId: aws.String(clientID), AuthFlow: ciptypes.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": "Corr3ct-Horse!"},
	})
	return aws.ToString(mustTokens(t)(out, err).AccessToken)
}

// Ensure a runtime takes only its own method, both ways, through the
// official client for SigV4.
func TestInvokeMethodMismatch(t *testing.T) {
	e := newInvEnv(t)
	jwtRT := e.createRuntime(t, "inv_mm_jwt", e.agent.srv.URL, e.poolAuthorizer(nil), nil)
	sigRT := e.createRuntime(t, "inv_mm_sigv4", e.agent.srv.URL, nil, nil)
	_, err := e.s.dataPlane(t, e.s.KeyID, e.s.Secret).InvokeAgentRuntime(context.Background(), &dp.InvokeAgentRuntimeInput{
		AgentRuntimeArn: aws.String(jwtRT.arn), Payload: []byte(`{}`),
	})
	var denied *dptypes.AccessDeniedException
	if !errors.As(err, &denied) || !strings.HasPrefix(aws.ToString(denied.Message), "Authorization method mismatch.") {
		t.Fatalf("SigV4 to a JWT runtime: %v", err)
	}
	resp, body := e.bearer(t, sigRT, e.alice, `{}`)
	if msg := wantInvokeError(t, resp, body, 403, "AccessDeniedException"); msg != agentruntime.MsgMethodMismatch {
		t.Fatalf("bearer to a SigV4 runtime: %q", msg)
	}
	if e.agent.calls() != 0 {
		t.Fatal("a refused invocation reached the agent")
	}
}

// Ensure SigV4 invocations through the official client: the payload, the
// user WAT for a named user (minted once), the session echo; keys scoped
// to another workload are refused; an agent that is down is a 424.
func TestInvokeSigV4(t *testing.T) {
	e := newInvEnv(t)
	ctx := context.Background()
	rt := e.createRuntime(t, "inv_sigv4", e.agent.srv.URL, nil, nil)
	root := e.s.dataPlane(t, e.s.KeyID, e.s.Secret)
	invoke := func(c *dp.Client, user, session string) (*dp.InvokeAgentRuntimeOutput, string, error) {
		in := &dp.InvokeAgentRuntimeInput{AgentRuntimeArn: aws.String(rt.arn), Payload: []byte(`{"prompt":"hello"}`), ContentType: aws.String("application/json")}
		if user != "" {
			in.RuntimeUserId = aws.String(user)
		}
		if session != "" {
			in.RuntimeSessionId = aws.String(session)
		}
		out, err := c.InvokeAgentRuntime(ctx, in)
		if err != nil {
			return nil, "", err
		}
		defer out.Response.Close()
		b, err := io.ReadAll(out.Response)
		return out, string(b), err
	}
	out, body, err := invoke(root, "bob", "")
	if err != nil {
		t.Fatal(err)
	}
	if body != `{"echo":"{\"prompt\":\"hello\"}"}` || aws.ToInt32(out.StatusCode) != 200 {
		t.Fatalf("answer %d %s", aws.ToInt32(out.StatusCode), body)
	}
	h := e.agent.last(t)
	wat := h.Get(agentruntime.HeaderWAT)
	if wat == "" || h.Get(agentruntime.HeaderSessionID) != aws.ToString(out.RuntimeSessionId) || h.Get("Authorization") != "" {
		t.Fatalf("agent headers: WAT %q session %q (SDK %q) Authorization %q", wat, h.Get(agentruntime.HeaderSessionID), aws.ToString(out.RuntimeSessionId), h.Get("Authorization"))
	}
	// The WAT names the runtime's workload and bob: the data plane accepts
	// it and its user is bob (an API key lookup needs only the workload).
	if _, err := root.GetResourceApiKey(ctx, &dp.GetResourceApiKeyInput{WorkloadIdentityToken: aws.String(wat), ResourceCredentialProviderName: aws.String("missing")}); err == nil || !strings.Contains(err.Error(), "ResourceNotFound") {
		t.Fatalf("GetResourceApiKey with the WAT: %v", err)
	}
	session := "sigv4-session-0123456789abcdefghijklmnop"
	out, _, err = invoke(root, "bob", session)
	if err != nil || aws.ToString(out.RuntimeSessionId) != session || e.agent.last(t).Get(agentruntime.HeaderWAT) != wat {
		t.Fatalf("second call: %v, session %q, WAT reused %v", err, aws.ToString(out.RuntimeSessionId), e.agent.last(t).Get(agentruntime.HeaderWAT) == wat)
	}
	if _, _, err := invoke(root, "", ""); err != nil || e.agent.last(t).Get(agentruntime.HeaderWAT) != "" {
		t.Fatalf("without a user: %v, WAT %q", err, e.agent.last(t).Get(agentruntime.HeaderWAT))
	}

	// Keys: scoped to this runtime's workload, yes; to another, no.
	for _, c := range []struct {
		workload string
		ok       bool
	}{{rt.workload, true}, {"someone-else", false}} {
		if c.workload == "someone-else" {
			if _, err := e.ctl.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String(c.workload)}); err != nil {
				t.Fatal(err)
			}
		}
		var key struct {
			ID     string `json:"accessKeyId"`
			Secret string `json:"secretAccessKey"`
		}
		code, b := signedPost(t, e.s, "/behalf/CreateAccessKey", `{"workloadName":"`+c.workload+`"}`)
		if code != http.StatusCreated || json.Unmarshal([]byte(b), &key) != nil {
			t.Fatalf("CreateAccessKey: %d %s", code, b)
		}
		_, _, err := invoke(e.s.dataPlane(t, key.ID, key.Secret), "carol", "")
		var denied *dptypes.AccessDeniedException
		if c.ok && err != nil || !c.ok && !errors.As(err, &denied) {
			t.Errorf("key scoped to %s: %v", c.workload, err)
		}
	}

	// The agent is down.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := e.createRuntime(t, "inv_down", "http://"+ln.Addr().String(), nil, nil)
	ln.Close()
	_, err = root.InvokeAgentRuntime(ctx, &dp.InvokeAgentRuntimeInput{AgentRuntimeArn: aws.String(down.arn), Payload: []byte(`{}`)})
	var rce *dptypes.RuntimeClientError
	if !errors.As(err, &rce) || aws.ToString(rce.Message) != agentruntime.MsgAgentUnreachable {
		t.Fatalf("agent down: %v", err)
	}
	resp, b := e.bearer(t, invRuntime{arn: "arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/nope-AbCdEf1234"}, e.alice, `{}`)
	wantInvokeError(t, resp, b, 404, "ResourceNotFoundException")
}

// Ensure a 10 MB server-sent-event answer streams through the real
// server: the first event arrives before the agent finishes, and memory
// stays flat.
func TestInvokeStreaming(t *testing.T) {
	e := newInvEnv(t)
	rt := e.createRuntime(t, "inv_stream", e.agent.srv.URL, e.poolAuthorizer(nil), nil)
	const total = 10 << 20
	cont, finished := make(chan struct{}), make(chan struct{})
	const first = "data: {\"event\":\"first\"}\n\n"
	e.agent.set(func(w http.ResponseWriter, r *http.Request) {
		defer close(finished)
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		io.WriteString(w, first)
		rc.Flush()
		select {
		case <-cont:
		case <-time.After(10 * time.Second):
			return
		}
		event := []byte("data: " + strings.Repeat("x", 32<<10-8) + "\n\n")
		for sent := 0; sent < total; sent += len(event) {
			if _, err := w.Write(event); err != nil {
				return
			}
			rc.Flush()
		}
		io.WriteString(w, "data: [DONE]\n\n")
	})
	req, _ := http.NewRequest(http.MethodPost, e.invokeURLOf(rt), strings.NewReader(`{"stream":true}`))
	req.Header.Set("Authorization", "Bearer "+e.alice)
	req.Header.Set("Accept", "text/event-stream")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	if line, err := br.ReadString('\n'); err != nil || line != first[:len(first)-1] {
		t.Fatalf("first line %q, %v", line, err)
	}
	select {
	case <-finished:
		t.Fatal("the agent finished before the caller read its first event")
	default:
	}
	t.Logf("first event %v after the request, with the agent still answering", time.Since(start))
	close(cont)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	buf := make([]byte, 32<<10)
	n, next := 0, 1<<20
	var tail []byte
	for {
		k, err := br.Read(buf)
		n += k
		if k > 0 {
			tail = append(tail[:0], buf[max(0, k-32):k]...)
		}
		if n >= next {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			next += 1 << 20
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d bytes: %v", n, err)
		}
	}
	if n < total || !bytes.HasSuffix(tail, []byte("data: [DONE]\n\n")) {
		t.Fatalf("read %d bytes, tail %q", n, tail)
	}
	growth := int64(peak) - int64(base)
	t.Logf("streamed %d bytes; heap in use grew by at most %d KiB", n, growth>>10)
	if growth > 4<<20 {
		t.Errorf("heap in use grew by %d bytes during a %d-byte stream", growth, n)
	}
}

// Ensure an agent that dies mid-answer breaks the caller's stream (through
// the API server's middleware) instead of ending it as if complete.
func TestInvokeAgentFailsMidStream(t *testing.T) {
	e := newInvEnv(t)
	rt := e.createRuntime(t, "inv_midstream", e.agent.srv.URL, e.poolAuthorizer(nil), nil)
	e.agent.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: partial\n\n")
		w.(http.Flusher).Flush()
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close() // chunked, unterminated
		}
	})
	req, _ := http.NewRequest(http.MethodPost, e.invokeURLOf(rt), strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+e.alice)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil || !strings.HasPrefix(string(b), "data: partial") || strings.Contains(string(b), "__type") {
		t.Fatalf("read %q, %v; want the partial answer, then an error", b, err)
	}
	if !strings.Contains(e.s.Log.String(), "agent runtime failed mid-answer") || strings.Contains(e.s.Log.String(), "level=ERROR msg=panic") {
		t.Errorf("log:\n%s", e.s.Log)
	}
}

// Ensure `behalf invoke` streams an answer with a bearer token (SSE data
// one line each) and with SigV4 (the local credentials file), and reports
// errors in AgentCore's words.
func TestInvokeCLI(t *testing.T) {
	isolateAWSEnv(t)
	e := newInvEnv(t)
	jwtRT := e.createRuntime(t, "inv_cli_jwt", e.agent.srv.URL, e.poolAuthorizer(nil), nil)
	sigRT := e.createRuntime(t, "inv_cli_sigv4", e.agent.srv.URL, nil, nil)
	e.agent.set(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e.agent.record(r, body)
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "data: {\"got\":%q}\n\n", body)
		w.(http.Flusher).Flush()
		io.WriteString(w, "event: done\ndata: bye\n\n")
	})
	cli := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		args = append([]string{"invoke"}, append(args, "--endpoint-url", e.s.URL, "--data-dir", e.s.DataDir)...)
		err := run(context.Background(), args, &out, &errOut)
		return out.String(), errOut.String(), err
	}
	out, stderr, err := cli(jwtRT.arn, `{"prompt":"hi"}`, "--bearer-token", e.alice, "--session-id", "cli-session-0123456789abcdefghijklmnopq")
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	if out != "{\"got\":\"{\\\"prompt\\\":\\\"hi\\\"}\"}\nbye\n" || !strings.Contains(stderr, "Session: cli-session-0123456789abcdefghijklmnopq") {
		t.Fatalf("stdout %q stderr %q", out, stderr)
	}
	tokenFile := t.TempDir() + "/token"
	if err := os.WriteFile(tokenFile, []byte(e.alice+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, stderr, err = cli(jwtRT.id, "--bearer-token-file", tokenFile, "--raw"); err != nil || !strings.HasPrefix(out, "data: {\"got\":\"{}\"}\n\n") {
		t.Fatalf("by id with a token file: %v %q %q", err, out, stderr)
	}
	if out, stderr, err = cli(sigRT.arn, `{"prompt":"sigv4"}`, "--user-id", "bob"); err != nil || !strings.HasPrefix(out, `{"got":"{\"prompt\":\"sigv4\"}"}`) {
		t.Fatalf("SigV4: %v %q %q", err, out, stderr)
	}
	if e.agent.last(t).Get(agentruntime.HeaderWAT) == "" {
		t.Error("SigV4 with --user-id: no WAT")
	}
	if _, _, err = cli(jwtRT.arn, "--bearer-token", "garbage"); err == nil || !strings.HasPrefix(err.Error(), "UnauthorizedException: ") {
		t.Fatalf("bad token: %v", err)
	}
	if _, _, err = cli(sigRT.arn, "--bearer-token", e.alice); err == nil || !strings.Contains(err.Error(), "Authorization method mismatch") {
		t.Fatalf("mismatch: %v", err)
	}
}
