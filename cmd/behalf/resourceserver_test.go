package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctltypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// sampleServer is the identifier AWS's AgentCore samples give their
// resource server (with a random suffix).
const sampleServer = "default-m2m-resource-server-a1b2"

// rsScopes returns ResourceServerScopeTypes for scope names.
func rsScopes(names ...string) []types.ResourceServerScopeType {
	var out []types.ResourceServerScopeType
	for _, n := range names {
		out = append(out, types.ResourceServerScopeType{ScopeName: aws.String(n), ScopeDescription: aws.String(n + " access")})
	}
	return out
}

// scopeNames returns the names of ResourceServerScopeTypes.
func scopeNames(scopes []types.ResourceServerScopeType) []string {
	var out []string
	for _, sc := range scopes {
		out = append(out, aws.ToString(sc.ScopeName))
	}
	return out
}

// createM2MClient creates a confidential client_credentials client allowed
// scopes, as the samples do.
func createM2MClient(ctx context.Context, c *cip.Client, poolID string, scopes ...string) (*types.UserPoolClientType, error) {
	out, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(poolID), ClientName: aws.String("m2m-client"), GenerateSecret: true,
		AllowedOAuthFlows: []types.OAuthFlowType{types.OAuthFlowTypeClientCredentials}, AllowedOAuthScopes: scopes,
		AllowedOAuthFlowsUserPoolClient: true, SupportedIdentityProviders: []string{"COGNITO"},
	})
	if err != nil {
		return nil, err
	}
	return out.UserPoolClient, nil
}

// Ensure resource servers round-trip through the official client with
// Cognito's shapes and errors, and that app clients may be allowed only
// the custom scopes a resource server of the pool defines, losing them
// when the server drops them or is deleted.
func TestResourceServerSDK(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *testServer) {
		ctx, c := context.Background(), s.cognito(t)
		pool, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("agentcore-sample")})
		if err != nil {
			t.Fatal(err)
		}
		poolID := pool.UserPool.Id

		// The sample's call, which UnknownOperationException used to stop.
		created, err := c.CreateResourceServer(ctx, &cip.CreateResourceServerInput{
			UserPoolId: poolID, Identifier: aws.String(sampleServer), Name: aws.String("Default M2M resource server"),
			Scopes: rsScopes("read"),
		})
		if err != nil {
			t.Fatal(err)
		}
		rs := created.ResourceServer
		if aws.ToString(rs.UserPoolId) != aws.ToString(poolID) || aws.ToString(rs.Identifier) != sampleServer ||
			aws.ToString(rs.Name) != "Default M2M resource server" || !slices.Equal(scopeNames(rs.Scopes), []string{"read"}) ||
			aws.ToString(rs.Scopes[0].ScopeDescription) != "read access" {
			t.Fatalf("CreateResourceServer = %+v", rs)
		}
		desc, err := c.DescribeResourceServer(ctx, &cip.DescribeResourceServerInput{UserPoolId: poolID, Identifier: aws.String(sampleServer)})
		if err != nil || !slices.Equal(scopeNames(desc.ResourceServer.Scopes), []string{"read"}) {
			t.Fatalf("DescribeResourceServer = %+v, %v", desc, err)
		}

		// A second server with the identifier: InvalidParameterException.
		_, err = c.CreateResourceServer(ctx, &cip.CreateResourceServerInput{
			UserPoolId: poolID, Identifier: aws.String(sampleServer), Name: aws.String("again"),
		})
		ipe := wantErrorAs[*types.InvalidParameterException](t, err)
		if want := sampleServer + " already exists in user pool " + aws.ToString(poolID) + "."; aws.ToString(ipe.Message) != want {
			t.Fatalf("duplicate: %q, want %q", aws.ToString(ipe.Message), want)
		}
		// Validation, in AWS's words.
		for name, in := range map[string]*cip.CreateResourceServerInput{
			"identifier with a space": {UserPoolId: poolID, Identifier: aws.String("my api"), Name: aws.String("x")},
			"name with a slash":       {UserPoolId: poolID, Identifier: aws.String("api"), Name: aws.String("a/b")},
			"scope name with a slash": {UserPoolId: poolID, Identifier: aws.String("api"), Name: aws.String("x"), Scopes: rsScopes("a/b")},
			"empty description": {UserPoolId: poolID, Identifier: aws.String("api"), Name: aws.String("x"),
				Scopes: []types.ResourceServerScopeType{{ScopeName: aws.String("read"), ScopeDescription: aws.String("")}}},
			"101 scopes": {UserPoolId: poolID, Identifier: aws.String("api"), Name: aws.String("x"), Scopes: rsScopes(func() []string {
				var n []string
				for i := range 101 {
					n = append(n, fmt.Sprintf("s%d", i))
				}
				return n
			}()...)},
		} {
			_, err := c.CreateResourceServer(ctx, in)
			ipe := wantErrorAs[*types.InvalidParameterException](t, err)
			if !strings.Contains(aws.ToString(ipe.Message), "validation error") {
				t.Errorf("%s: message %q", name, aws.ToString(ipe.Message))
			}
		}
		// On the raw wire: required members, and a signature.
		resp := cognitoPost(t, s, "CreateResourceServer", []byte(`{"UserPoolId":"`+aws.ToString(poolID)+`","Name":"x"}`), "cognito-idp")
		if msg := wantCognitoError(t, resp, http.StatusBadRequest, "InvalidParameterException"); !strings.Contains(msg, "Value null at 'identifier'") {
			t.Fatalf("no Identifier: %q", msg)
		}
		resp = cognitoPost(t, s, "ListResourceServers", []byte(`{"UserPoolId":"`+aws.ToString(poolID)+`"}`), "")
		wantCognitoError(t, resp, http.StatusBadRequest, "MissingAuthenticationTokenException")
		// Unknown pools and servers.
		_, err = c.CreateResourceServer(ctx, &cip.CreateResourceServerInput{
			UserPoolId: aws.String("us-east-1_nothere12"), Identifier: aws.String("api"), Name: aws.String("x"),
		})
		wantErrorAs[*types.ResourceNotFoundException](t, err)
		_, err = c.DescribeResourceServer(ctx, &cip.DescribeResourceServerInput{UserPoolId: poolID, Identifier: aws.String("nope")})
		rnf := wantErrorAs[*types.ResourceNotFoundException](t, err)
		if aws.ToString(rnf.Message) != "Resource server nope does not exist." {
			t.Fatalf("unknown server: %q", aws.ToString(rnf.Message))
		}
		_, err = c.UpdateResourceServer(ctx, &cip.UpdateResourceServerInput{UserPoolId: poolID, Identifier: aws.String("nope"), Name: aws.String("x")})
		wantErrorAs[*types.ResourceNotFoundException](t, err)
		_, err = c.DeleteResourceServer(ctx, &cip.DeleteResourceServerInput{UserPoolId: poolID, Identifier: aws.String("nope")})
		wantErrorAs[*types.ResourceNotFoundException](t, err)
		_, err = c.ListResourceServers(ctx, &cip.ListResourceServersInput{UserPoolId: aws.String("us-east-1_nothere12")})
		wantErrorAs[*types.ResourceNotFoundException](t, err)

		// App clients: only defined custom scopes (and system scopes).
		_, err = createM2MClient(ctx, c, aws.ToString(poolID), "IDENT/read")
		sde := wantErrorAs[*types.ScopeDoesNotExistException](t, err)
		if aws.ToString(sde.Message) != "Invalid scope requested: IDENT/read" {
			t.Fatalf("undefined scope: %q", aws.ToString(sde.Message))
		}
		_, err = createM2MClient(ctx, c, aws.ToString(poolID), sampleServer+"/write")
		wantErrorAs[*types.ScopeDoesNotExistException](t, err)
		m2m, err := createM2MClient(ctx, c, aws.ToString(poolID), sampleServer+"/read")
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{
			UserPoolId: poolID, ClientId: m2m.ClientId, AllowedOAuthFlowsUserPoolClient: true,
			AllowedOAuthFlows:  []types.OAuthFlowType{types.OAuthFlowTypeClientCredentials},
			AllowedOAuthScopes: []string{sampleServer + "/read", sampleServer + "/write"},
		})
		wantErrorAs[*types.ScopeDoesNotExistException](t, err)
		web, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
			UserPoolId: poolID, ClientName: aws.String("web"), AllowedOAuthFlowsUserPoolClient: true,
			AllowedOAuthFlows:  []types.OAuthFlowType{types.OAuthFlowTypeCode},
			AllowedOAuthScopes: []string{"openid", "email", sampleServer + "/read"}, CallbackURLs: []string{"https://app.example.com/cb"},
		})
		if err != nil {
			t.Fatalf("system and custom scopes on a code client: %v", err)
		}

		// Update replaces the name and scopes; the dropped scope leaves
		// the clients, the added one may now be allowed.
		up, err := c.UpdateResourceServer(ctx, &cip.UpdateResourceServerInput{
			UserPoolId: poolID, Identifier: aws.String(sampleServer), Name: aws.String("Renamed"), Scopes: rsScopes("write", "admin"),
		})
		if err != nil || aws.ToString(up.ResourceServer.Name) != "Renamed" || !slices.Equal(scopeNames(up.ResourceServer.Scopes), []string{"write", "admin"}) {
			t.Fatalf("UpdateResourceServer = %+v, %v", up, err)
		}
		clientScopes := func(id *string) []string {
			t.Helper()
			out, err := c.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: poolID, ClientId: id})
			if err != nil {
				t.Fatal(err)
			}
			return out.UserPoolClient.AllowedOAuthScopes
		}
		if got := clientScopes(m2m.ClientId); len(got) != 0 {
			t.Fatalf("m2m client after read was dropped: %q", got)
		}
		if got := clientScopes(web.UserPoolClient.ClientId); !slices.Equal(got, []string{"openid", "email"}) {
			t.Fatalf("web client after read was dropped: %q", got)
		}
		if _, err := c.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{
			UserPoolId: poolID, ClientId: m2m.ClientId, AllowedOAuthFlowsUserPoolClient: true,
			AllowedOAuthFlows:  []types.OAuthFlowType{types.OAuthFlowTypeClientCredentials},
			AllowedOAuthScopes: []string{sampleServer + "/write", sampleServer + "/admin"},
		}); err != nil {
			t.Fatal(err)
		}

		// List pages by identifier.
		for _, id := range []string{"https://api.example.com", "a-first"} {
			if _, err := c.CreateResourceServer(ctx, &cip.CreateResourceServerInput{
				UserPoolId: poolID, Identifier: aws.String(id), Name: aws.String("more"), Scopes: rsScopes("read"),
			}); err != nil {
				t.Fatal(err)
			}
		}
		var listed []string
		p := cip.NewListResourceServersPaginator(c, &cip.ListResourceServersInput{UserPoolId: poolID, MaxResults: aws.Int32(2)})
		for pages := 0; p.HasMorePages(); pages++ {
			page, err := p.NextPage(ctx)
			if err != nil || pages > 2 || len(page.ResourceServers) > 2 {
				t.Fatalf("ListResourceServers page %d: %+v, %v", pages, page, err)
			}
			for _, rs := range page.ResourceServers {
				listed = append(listed, aws.ToString(rs.Identifier))
			}
		}
		if want := []string{"a-first", sampleServer, "https://api.example.com"}; !slices.Equal(listed, want) {
			t.Fatalf("listed %q, want %q", listed, want)
		}
		all, err := c.ListResourceServers(ctx, &cip.ListResourceServersInput{UserPoolId: poolID})
		if err != nil || len(all.ResourceServers) != 3 || all.NextToken != nil {
			t.Fatalf("ListResourceServers without MaxResults: %+v, %v", all, err)
		}
		for _, n := range []int32{0, 51} {
			_, err = c.ListResourceServers(ctx, &cip.ListResourceServersInput{UserPoolId: poolID, MaxResults: aws.Int32(n)})
			wantErrorAs[*types.InvalidParameterException](t, err)
		}

		// Delete: the server's scopes leave the clients.
		if _, err := c.DeleteResourceServer(ctx, &cip.DeleteResourceServerInput{UserPoolId: poolID, Identifier: aws.String(sampleServer)}); err != nil {
			t.Fatal(err)
		}
		if got := clientScopes(m2m.ClientId); len(got) != 0 {
			t.Fatalf("m2m client after its server was deleted: %q", got)
		}
		_, err = c.DescribeResourceServer(ctx, &cip.DescribeResourceServerInput{UserPoolId: poolID, Identifier: aws.String(sampleServer)})
		wantErrorAs[*types.ResourceNotFoundException](t, err)
		assertCleanResponses(t, s)
	})
}

// tokenAnswer is the token endpoint's JSON answer.
type tokenAnswer struct {
	status int
	body   map[string]any
}

// clientCredentials posts a client_credentials request to a pool's token
// endpoint, authenticating with client_secret_basic or (post true)
// client_secret_post; scope "" sends none.
func clientCredentials(t *testing.T, s *testServer, poolID, clientID, secret, scope string, post bool) tokenAnswer {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	if post {
		form.Set("client_id", clientID)
		form.Set("client_secret", secret)
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/"+poolID+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if !post {
		req.SetBasicAuth(clientID, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := tokenAnswer{status: resp.StatusCode}
	if err := json.Unmarshal(b, &a.body); err != nil {
		t.Fatalf("token endpoint: %d %s", resp.StatusCode, b)
	}
	return a
}

// m2mClaims verifies a client_credentials access token with the pool's
// JWKS and returns its claims.
func m2mClaims(t *testing.T, s *testServer, poolID, token string) map[string]any {
	t.Helper()
	if _, err := jwt.ParseString(token, jwt.WithKeySet(fetchJWKS(t, s, poolID)), jwt.WithValidate(true),
		jwt.WithIssuer(s.URL+"/"+poolID)); err != nil {
		t.Fatalf("access token does not verify: %v", err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// Ensure the client_credentials grant of a pool's /oauth2/token, with
// either client authentication method, issues exactly the requested
// subset of the client's custom scopes (all of them without scope) in a
// token whose claims are Cognito's, no ID or refresh token, and refuses
// any other scope with invalid_scope.
func TestM2MClientCredentials(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *testServer) {
		ctx, c := context.Background(), s.cognito(t)
		pool, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("m2m")})
		if err != nil {
			t.Fatal(err)
		}
		poolID := aws.ToString(pool.UserPool.Id)
		if _, err := c.CreateResourceServer(ctx, &cip.CreateResourceServerInput{
			UserPoolId: aws.String(poolID), Identifier: aws.String(sampleServer), Name: aws.String("sample"),
			Scopes: rsScopes("read", "write", "admin"),
		}); err != nil {
			t.Fatal(err)
		}
		m2m, err := createM2MClient(ctx, c, poolID, sampleServer+"/read", sampleServer+"/write")
		if err != nil {
			t.Fatal(err)
		}
		id, secret := aws.ToString(m2m.ClientId), aws.ToString(m2m.ClientSecret)
		read, write := sampleServer+"/read", sampleServer+"/write"
		for _, post := range []bool{false, true} {
			method := map[bool]string{false: "client_secret_basic", true: "client_secret_post"}[post]
			for _, c := range []struct{ ask, want string }{
				{read, read},
				{write + " " + read, write + " " + read},
				{read + " " + read, read},
				{"", read + " " + write}, // no scope: all the client's
			} {
				before := time.Now().Unix()
				a := clientCredentials(t, s, poolID, id, secret, c.ask, post)
				if a.status != http.StatusOK {
					t.Fatalf("%s, scope %q: %d %v", method, c.ask, a.status, a.body)
				}
				if a.body["token_type"] != "Bearer" || a.body["expires_in"] != float64(3600) || a.body["id_token"] != nil || a.body["refresh_token"] != nil {
					t.Fatalf("%s, scope %q: answer %v", method, c.ask, a.body)
				}
				claims := m2mClaims(t, s, poolID, a.body["access_token"].(string))
				keys := slices.Sorted(func(yield func(string) bool) {
					for k := range claims {
						if !yield(k) {
							return
						}
					}
				})
				// The ten claims of a Cognito client_credentials token.
				if want := []string{"auth_time", "client_id", "exp", "iat", "iss", "jti", "scope", "sub", "token_use", "version"}; !slices.Equal(keys, want) {
					t.Fatalf("%s: claims %v, want exactly %v", method, keys, want)
				}
				iat, _ := claims["iat"].(float64)
				if claims["sub"] != id || claims["client_id"] != id || claims["token_use"] != "access" || claims["scope"] != c.want ||
					claims["iss"] != s.URL+"/"+poolID || claims["version"] != float64(2) || claims["auth_time"] != claims["iat"] ||
					claims["exp"] != iat+3600 || int64(iat) < before-1 || int64(iat) > time.Now().Unix()+1 {
					t.Fatalf("%s, scope %q: claims %v", method, c.ask, claims)
				}
			}
			// Refusals: a scope the client may not have (defined or not),
			// a system scope, and one of them among allowed ones.
			for _, ask := range []string{sampleServer + "/admin", "IDENT/read", sampleServer + "/delete", "openid", read + " IDENT/read"} {
				a := clientCredentials(t, s, poolID, id, secret, ask, post)
				if a.status != http.StatusBadRequest || a.body["error"] != "invalid_scope" {
					t.Fatalf("%s, scope %q: %d %v, want 400 invalid_scope", method, ask, a.status, a.body)
				}
			}
			if a := clientCredentials(t, s, poolID, id, "wrong-secret", read, post); a.status != http.StatusUnauthorized || a.body["error"] != "invalid_client" {
				t.Fatalf("%s, wrong secret: %d %v", method, a.status, a.body)
			}
		}

		// A scope the server drops is refused from then on.
		if _, err := c.UpdateResourceServer(ctx, &cip.UpdateResourceServerInput{
			UserPoolId: aws.String(poolID), Identifier: aws.String(sampleServer), Name: aws.String("sample"), Scopes: rsScopes("read"),
		}); err != nil {
			t.Fatal(err)
		}
		if a := clientCredentials(t, s, poolID, id, secret, write, false); a.body["error"] != "invalid_scope" {
			t.Fatalf("dropped scope: %d %v", a.status, a.body)
		}
		if a := clientCredentials(t, s, poolID, id, secret, "", false); a.status != http.StatusOK ||
			m2mClaims(t, s, poolID, a.body["access_token"].(string))["scope"] != read {
			t.Fatalf("no scope after write was dropped: %d %v", a.status, a.body)
		}
		assertCleanResponses(t, s)
	})
}

// Ensure a client_credentials token with a resource server's scope gets
// through an agent runtime's JWT authorizer that allows that client and
// scope, and that a token of the same client with another scope is
// refused (403 AccessDeniedException).
func TestM2MJWTAuthorizer(t *testing.T) {
	e := newInvEnv(t)
	ctx := context.Background()
	poolID := e.pool.poolID
	if _, err := e.cog.CreateResourceServer(ctx, &cip.CreateResourceServerInput{
		UserPoolId: aws.String(poolID), Identifier: aws.String(sampleServer), Name: aws.String("sample"),
		Scopes: rsScopes("invoke", "read"),
	}); err != nil {
		t.Fatal(err)
	}
	m2m, err := createM2MClient(ctx, e.cog, poolID, sampleServer+"/invoke", sampleServer+"/read")
	if err != nil {
		t.Fatal(err)
	}
	id, secret := aws.ToString(m2m.ClientId), aws.ToString(m2m.ClientSecret)
	rt := e.createRuntime(t, "inv_m2m", e.agent.srv.URL, e.poolAuthorizer(func(a *ctltypes.CustomJWTAuthorizerConfiguration) {
		a.AllowedClients = []string{id}
		a.AllowedScopes = []string{sampleServer + "/invoke"}
	}), nil)
	token := func(scope string, post bool) string {
		t.Helper()
		a := clientCredentials(t, e.s, poolID, id, secret, scope, post)
		if a.status != http.StatusOK {
			t.Fatalf("token for %q: %d %v", scope, a.status, a.body)
		}
		return a.body["access_token"].(string)
	}
	for _, post := range []bool{false, true} {
		calls := e.agent.calls()
		resp, body := e.bearer(t, rt, token(sampleServer+"/invoke", post), `{"prompt":"hi"}`)
		if resp.StatusCode != http.StatusOK || e.agent.calls() != calls+1 {
			t.Fatalf("invoke scope, post=%v: %d %s", post, resp.StatusCode, body)
		}
	}
	resp, body := e.bearer(t, rt, token(sampleServer+"/read", false), `{}`)
	wantInvokeError(t, resp, body, http.StatusForbidden, "AccessDeniedException")
	// A user of the pool, through another client, is not let in either.
	resp, body = e.bearer(t, rt, e.alice, `{}`)
	wantInvokeError(t, resp, body, http.StatusForbidden, "AccessDeniedException")
}
