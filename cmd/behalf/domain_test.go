package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/behalf-dev/behalf/internal/browsertest"
)

// The domains the domain tests' servers serve: prefix domains under
// domainSuffix, and the custom domain customDomain.
const (
	domainSuffix = "auth.example.test"
	customDomain = "login.example.test"
	testCertARN  = "arn:aws:acm:us-east-1:123456789012:certificate/2b4f6a8c-0000-1111-2222-333344445555"
)

// domainArgs are the serve flags of the domain tests.
var domainArgs = []string{"--pool-domain-suffix", domainSuffix, "--pool-domain", customDomain}

// domainClient returns an HTTP client that reaches s whatever the URL's
// host, as the operator's DNS pointing the domains at Behalf would.
func domainClient(s *testServer) *http.Client {
	addr := strings.TrimPrefix(s.URL, "http://")
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// domainURL is where s serves a domain host: the public URL's scheme and port.
func domainURL(s *testServer, host string) string {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.URL, "http://"))
	return "http://" + host + ":" + port
}

// getJSON GETs u with c and decodes a JSON object.
func getJSON(t *testing.T, c *http.Client, u string) (int, map[string]any) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// Ensure user pool domains round-trip through the official client with
// Cognito's shapes and errors (an empty DomainDescription for an unknown
// domain, InvalidParameterException for a name taken or a second domain),
// that DescribeUserPoolDomain and DescribeUserPool report what Behalf
// serves, and that a created domain is served at once and a deleted one
// no longer.
func TestUserPoolDomainSDK(t *testing.T) {
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s := mustRunMain(t, dsn(t), domainArgs...)
			testUserPoolDomainSDK(t, s)
		})
	}
}

func testUserPoolDomainSDK(t *testing.T, s *testServer) {
	ctx, c, web := context.Background(), s.cognito(t), domainClient(s)
	pool, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("agentcore-sample")})
	if err != nil {
		t.Fatal(err)
	}
	poolID := pool.UserPool.Id
	issuer := s.URL + "/" + aws.ToString(poolID)

	// The sample's call, which UnknownOperationException used to stop.
	created, err := c.CreateUserPoolDomain(ctx, &cip.CreateUserPoolDomainInput{UserPoolId: poolID, Domain: aws.String("agentcore-m2m")})
	if err != nil {
		t.Fatal(err)
	}
	if created.CloudFrontDomain != nil || aws.ToInt32(created.ManagedLoginVersion) != 1 {
		t.Fatalf("CreateUserPoolDomain(prefix) = %+v", created)
	}
	desc, err := c.DescribeUserPoolDomain(ctx, &cip.DescribeUserPoolDomainInput{Domain: aws.String("agentcore-m2m")})
	if err != nil {
		t.Fatal(err)
	}
	d := desc.DomainDescription
	if aws.ToString(d.UserPoolId) != aws.ToString(poolID) || aws.ToString(d.AWSAccountId) != "000000000000" ||
		aws.ToString(d.Domain) != "agentcore-m2m" || aws.ToString(d.CloudFrontDistribution) != "127.0.0.1" ||
		d.Status != types.DomainStatusTypeActive || d.CustomDomainConfig != nil || aws.ToInt32(d.ManagedLoginVersion) != 1 ||
		!regexp.MustCompile(`^20\d{12}$`).MatchString(aws.ToString(d.Version)) || d.S3Bucket != nil {
		t.Fatalf("DescribeUserPoolDomain(prefix) = %+v", d)
	}
	prefixBase := domainURL(s, "agentcore-m2m."+domainSuffix)
	status, doc := getJSON(t, web, prefixBase+"/.well-known/openid-configuration")
	if status != http.StatusOK || doc["issuer"] != issuer || doc["token_endpoint"] != prefixBase+"/oauth2/token" {
		t.Fatalf("discovery at the prefix domain: %d %v", status, doc)
	}

	// A custom domain the operator allows, besides the prefix domain.
	custom, err := c.CreateUserPoolDomain(ctx, &cip.CreateUserPoolDomainInput{
		UserPoolId: poolID, Domain: aws.String(customDomain), ManagedLoginVersion: aws.Int32(2),
		CustomDomainConfig: &types.CustomDomainConfigType{CertificateArn: aws.String(testCertARN)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(custom.CloudFrontDomain) != "127.0.0.1" || aws.ToInt32(custom.ManagedLoginVersion) != 2 {
		t.Fatalf("CreateUserPoolDomain(custom) = %+v", custom)
	}
	desc, err = c.DescribeUserPoolDomain(ctx, &cip.DescribeUserPoolDomainInput{Domain: aws.String(customDomain)})
	if err != nil || desc.DomainDescription.CustomDomainConfig == nil ||
		aws.ToString(desc.DomainDescription.CustomDomainConfig.CertificateArn) != testCertARN || desc.DomainDescription.Status != types.DomainStatusTypeActive {
		t.Fatalf("DescribeUserPoolDomain(custom) = %+v, %v", desc, err)
	}
	dp, err := c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: poolID})
	if err != nil || aws.ToString(dp.UserPool.Domain) != "agentcore-m2m" || aws.ToString(dp.UserPool.CustomDomain) != customDomain {
		t.Fatalf("DescribeUserPool's domains: %+v, %v", dp, err)
	}
	renewed := testCertARN + "-renewed"
	up, err := c.UpdateUserPoolDomain(ctx, &cip.UpdateUserPoolDomainInput{
		UserPoolId: poolID, Domain: aws.String(customDomain), ManagedLoginVersion: aws.Int32(1),
		CustomDomainConfig: &types.CustomDomainConfigType{CertificateArn: aws.String(renewed)},
	})
	if err != nil || aws.ToString(up.CloudFrontDomain) != "127.0.0.1" || aws.ToInt32(up.ManagedLoginVersion) != 1 {
		t.Fatalf("UpdateUserPoolDomain = %+v, %v", up, err)
	}
	desc, _ = c.DescribeUserPoolDomain(ctx, &cip.DescribeUserPoolDomainInput{Domain: aws.String(customDomain)})
	if aws.ToString(desc.DomainDescription.CustomDomainConfig.CertificateArn) != renewed {
		t.Fatalf("after the update: %+v", desc.DomainDescription)
	}

	// Cognito's refusals.
	other, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("other")})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		in  *cip.CreateUserPoolDomainInput
		msg string
	}{
		"taken by another pool": {&cip.CreateUserPoolDomainInput{UserPoolId: other.UserPool.Id, Domain: aws.String("agentcore-m2m")},
			"Domain already associated with another user pool."},
		"a second prefix domain": {&cip.CreateUserPoolDomainInput{UserPoolId: poolID, Domain: aws.String("second")},
			"User pool already has a domain configured."},
		"upper case": {&cip.CreateUserPoolDomainInput{UserPoolId: other.UserPool.Id, Domain: aws.String("Upper")},
			`The domain name contains an invalid character. Domain names can only contain lower-case letters, numbers, and hyphens. Please enter a different name that follows this format: ^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$`},
		"reserved word": {&cip.CreateUserPoolDomainInput{UserPoolId: other.UserPool.Id, Domain: aws.String("my-aws-login")},
			"Domain cannot contain reserved word: aws"},
		"custom domain not allowed": {&cip.CreateUserPoolDomainInput{UserPoolId: other.UserPool.Id, Domain: aws.String("login.evil.test"),
			CustomDomainConfig: &types.CustomDomainConfigType{CertificateArn: aws.String(testCertARN)}},
			"Behalf serves a custom domain only if its operator allows it (behalf serve --pool-domain login.evil.test)."},
		"Routing": {&cip.CreateUserPoolDomainInput{UserPoolId: other.UserPool.Id, Domain: aws.String("routed"),
			Routing: &types.RoutingType{Failover: &types.FailoverType{
				SecondaryRegion: aws.String("us-west-2"), PrimaryRoute53HealthCheckId: aws.String("hc-1")}}},
			"Behalf does not support Routing: Behalf has no replicated user pools."},
	} {
		_, err := c.CreateUserPoolDomain(ctx, tc.in)
		var ipe *types.InvalidParameterException
		if !errors.As(err, &ipe) || aws.ToString(ipe.Message) != tc.msg {
			t.Errorf("%s: %v, want InvalidParameterException %q", name, err, tc.msg)
		}
	}
	// What the SDK would not send, on the raw wire.
	otherID := aws.ToString(other.UserPool.Id)
	for body, want := range map[string]string{
		`{"UserPoolId":"` + otherID + `"}`: "1 validation error detected: Value null at 'domain' failed to satisfy constraint: Member must not be null",
		`{"UserPoolId":"` + otherID + `","Domain":"` + customDomain + `","CustomDomainConfig":{}}`: "1 validation error detected: Value null at 'customDomainConfig.certificateArn' failed to satisfy constraint: Member must not be null",
		`{"UserPoolId":"` + otherID + `","Domain":"v3","ManagedLoginVersion":3}`:                   "ManagedLoginVersion must be 1 (hosted UI) or 2 (managed login).",
	} {
		resp := cognitoPost(t, s, "CreateUserPoolDomain", []byte(body), "cognito-idp")
		if msg := wantCognitoError(t, resp, http.StatusBadRequest, "InvalidParameterException"); msg != want {
			t.Errorf("%s: %q, want %q", body, msg, want)
		}
	}
	_, err = c.CreateUserPoolDomain(ctx, &cip.CreateUserPoolDomainInput{UserPoolId: aws.String("us-east-1_nothere12"), Domain: aws.String("free")})
	wantErrorAs[*types.ResourceNotFoundException](t, err)
	for _, del := range []*cip.DeleteUserPoolDomainInput{
		{UserPoolId: other.UserPool.Id, Domain: aws.String("agentcore-m2m")}, // another pool's
		{UserPoolId: poolID, Domain: aws.String("nothing")},
	} {
		_, err := c.DeleteUserPoolDomain(ctx, del)
		if ipe := wantErrorAs[*types.InvalidParameterException](t, err); aws.ToString(ipe.Message) != "No such domain or user pool exists." {
			t.Errorf("DeleteUserPoolDomain(%s): %q", aws.ToString(del.Domain), aws.ToString(ipe.Message))
		}
	}
	_, err = c.UpdateUserPoolDomain(ctx, &cip.UpdateUserPoolDomainInput{UserPoolId: other.UserPool.Id, Domain: aws.String(customDomain)})
	wantErrorAs[*types.InvalidParameterException](t, err)
	_, err = c.DeleteUserPool(ctx, &cip.DeleteUserPoolInput{UserPoolId: poolID})
	if ipe := wantErrorAs[*types.InvalidParameterException](t, err); aws.ToString(ipe.Message) != "User pool cannot be deleted. It has a domain configured that should be deleted first." {
		t.Errorf("DeleteUserPool with a domain: %q", aws.ToString(ipe.Message))
	}
	// An unknown domain: 200 with an empty description, as Cognito answers.
	desc, err = c.DescribeUserPoolDomain(ctx, &cip.DescribeUserPoolDomainInput{Domain: aws.String("nothing")})
	if err != nil || desc.DomainDescription == nil || *desc.DomainDescription != (types.DomainDescriptionType{}) {
		t.Fatalf("DescribeUserPoolDomain(unknown) = %+v, %v; want an empty description", desc, err)
	}
	resp := cognitoPost(t, s, "DescribeUserPoolDomain", []byte(`{"Domain":"nothing"}`), "cognito-idp")
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK || strings.TrimSpace(string(b)) != `{"DomainDescription":{}}` {
		t.Fatalf("DescribeUserPoolDomain(unknown) on the wire: %d %s", resp.StatusCode, b)
	}
	resp = cognitoPost(t, s, "DescribeUserPoolDomain", []byte(`{"Domain":"agentcore-m2m"}`), "")
	wantCognitoError(t, resp, http.StatusBadRequest, "MissingAuthenticationTokenException")

	// Deleting frees the name and stops serving it; then the pool goes.
	for _, name := range []string{"agentcore-m2m", customDomain} {
		if _, err := c.DeleteUserPoolDomain(ctx, &cip.DeleteUserPoolDomainInput{UserPoolId: poolID, Domain: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	if status, _ := getJSON(t, web, prefixBase+"/.well-known/openid-configuration"); status != http.StatusNotFound {
		t.Errorf("discovery at a deleted domain: %d", status)
	}
	if _, err := c.CreateUserPoolDomain(ctx, &cip.CreateUserPoolDomainInput{UserPoolId: other.UserPool.Id, Domain: aws.String("agentcore-m2m")}); err != nil {
		t.Fatalf("the freed name: %v", err)
	}
	if _, err := c.DeleteUserPool(ctx, &cip.DeleteUserPoolInput{UserPoolId: poolID}); err != nil {
		t.Fatalf("DeleteUserPool without domains: %v", err)
	}
}

// Ensure a server without --pool-domain-suffix refuses prefix domains,
// saying which flag serves them.
func TestUserPoolDomainUnconfigured(t *testing.T) {
	s := mustRunMain(t, "")
	ctx, c := context.Background(), s.cognito(t)
	pool, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("plain")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateUserPoolDomain(ctx, &cip.CreateUserPoolDomainInput{UserPoolId: pool.UserPool.Id, Domain: aws.String("agentcore-m2m")})
	ipe := wantErrorAs[*types.InvalidParameterException](t, err)
	if !strings.Contains(aws.ToString(ipe.Message), "--pool-domain-suffix") {
		t.Fatalf("prefix domain without a suffix: %q", aws.ToString(ipe.Message))
	}
}

// Ensure the hosted login end to end on a prefix domain, in a real
// browser whose DNS sends *.auth.example.test to the server: the domain's
// discovery document names the domain's endpoints and the issuer
// {public-url}/{pool id}; Chromium signs in at the domain's login page;
// the code is exchanged at the domain's token endpoint; the ID token
// verifies against the issuer's discovery and keys (coreos/go-oidc) and
// userinfo answers at the domain; the session and logout work on the
// domain. A strict relying party refuses discovery at the domain, as
// OpenID Connect Discovery requires (the document's issuer is not the URL
// it was fetched from).
func TestHostedLoginOnDomain(t *testing.T) {
	s := mustRunMain(t, "", domainArgs...)
	ctx := context.Background()
	cog := s.cognito(t)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "agent console: "+r.URL.Path)
	}))
	t.Cleanup(app.Close)
	callback, signedOut := app.URL+"/callback", app.URL+"/signed-out"

	const password = "Corr3ct-Horse-Battery!"
	f := newPoolFixture(t, ctx, cog, "on-domain")
	f.createUser(t, ctx, cog, "alice", password,
		types.AttributeType{Name: aws.String("email"), Value: aws.String("alice@example.com")},
		types.AttributeType{Name: aws.String("email_verified"), Value: aws.String("true")})
	created, err := cog.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(f.poolID), ClientName: aws.String("agent console"),
		AllowedOAuthFlows: []types.OAuthFlowType{types.OAuthFlowTypeCode}, AllowedOAuthScopes: []string{"openid", "email"},
		AllowedOAuthFlowsUserPoolClient: true, CallbackURLs: []string{callback}, LogoutURLs: []string{signedOut},
		SupportedIdentityProviders: []string{"COGNITO"},
	})
	if err != nil {
		t.Fatal(err)
	}
	clientID := aws.ToString(created.UserPoolClient.ClientId)
	if _, err := cog.CreateUserPoolDomain(ctx, &cip.CreateUserPoolDomainInput{UserPoolId: aws.String(f.poolID), Domain: aws.String("agents")}); err != nil {
		t.Fatal(err)
	}
	issuer := s.URL + "/" + f.poolID
	base := domainURL(s, "agents."+domainSuffix)
	web := domainClient(s)

	// Discovery at the domain: its endpoints, the unchanged issuer.
	status, doc := getJSON(t, web, base+"/.well-known/openid-configuration")
	if status != http.StatusOK || doc["issuer"] != issuer || doc["authorization_endpoint"] != base+"/oauth2/authorize" ||
		doc["token_endpoint"] != base+"/oauth2/token" || doc["userinfo_endpoint"] != base+"/oauth2/userInfo" ||
		doc["end_session_endpoint"] != base+"/logout" {
		t.Fatalf("discovery at the domain: %d %v", status, doc)
	}
	octx := oidc.ClientContext(ctx, web)
	if _, err := oidc.NewProvider(octx, base); err == nil || !strings.Contains(err.Error(), "did not match the issuer URL returned by provider") {
		t.Fatalf("strict discovery at the domain: %v, want the issuer mismatch", err)
	}
	provider, err := oidc.NewProvider(octx, issuer) // the verifier's view: the issuer
	if err != nil {
		t.Fatal(err)
	}

	browser := browsertest.New(t, chromedp.Flag("host-resolver-rules", "MAP *."+domainSuffix+" 127.0.0.1"))
	conf := &oauth2.Config{
		ClientID: clientID, RedirectURL: callback, Scopes: []string{oidc.ScopeOpenID, "email"},
		Endpoint: oauth2.Endpoint{AuthURL: doc["authorization_endpoint"].(string), TokenURL: doc["token_endpoint"].(string)},
	}
	verifier := oauth2.GenerateVerifier()
	chromeDo(t, browser, chromedp.Navigate(conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-1"))))
	chromeWaitURL(t, browser, base+"/login?request=")
	chromeDo(t, browser, chromeFillLogin("alice", password))
	q := chromeWaitURL(t, browser, callback+"?").Query()
	if q.Get("state") != "state-1" || q.Get("code") == "" {
		t.Fatalf("callback query %v, want a code and state-1", q)
	}
	tok, err := conf.Exchange(octx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange at the domain: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: clientID}).Verify(octx, rawID)
	if err != nil || idt.Issuer != issuer || idt.Nonce != "nonce-1" {
		t.Fatalf("the ID token from the domain: %+v, %v", idt, err)
	}
	req, _ := http.NewRequest(http.MethodGet, doc["userinfo_endpoint"].(string), nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := web.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || info["email"] != "alice@example.com" || info["sub"] != idt.Subject {
		t.Fatalf("userinfo at the domain: %d %v", resp.StatusCode, info)
	}

	// The session on the domain skips the password; logout there ends it.
	again := conf.AuthCodeURL("state-2", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oidc.Nonce("nonce-2"))
	chromeDo(t, browser, chromedp.Navigate(again))
	if got := chromeWaitURL(t, browser, callback+"?").Query().Get("state"); got != "state-2" {
		t.Errorf("state with a session = %q", got)
	}
	chromeDo(t, browser, chromedp.Navigate(base+"/logout?"+url.Values{"client_id": {clientID}, "logout_uri": {signedOut}}.Encode()))
	chromeWaitURL(t, browser, signedOut)
	chromeDo(t, browser, chromedp.Navigate(again))
	chromeWaitURL(t, browser, base+"/login?")
	chromeDo(t, browser, chromedp.WaitVisible(chromedp.CSS("#password")))
}

// Ensure serve refuses domain flags it could not serve by: a suffix or a
// custom domain that is not a host name, a custom domain under the
// suffix or equal to the public URL's host.
func TestPoolDomainFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--pool-domain-suffix", "https://auth.example.com"},
		{"--pool-domain-suffix", "auth.example.com:443"},
		{"--pool-domain", "login"},
		{"--pool-domain-suffix", "auth.example.com", "--pool-domain", "x.auth.example.com"},
		{"--public-url", "https://login.example.com", "--pool-domain", "login.example.com"},
	} {
		err := NewMain(io.Discard).ParseFlags(args)
		if err == nil || !strings.Contains(err.Error(), "--pool-domain-suffix, --pool-domain:") {
			t.Errorf("ParseFlags(%q) = %v, want the domains refused", args, err)
		}
	}
	if err := NewMain(io.Discard).ParseFlags(append([]string{"--public-url", "https://behalf.example.com"}, domainArgs...)); err != nil {
		t.Errorf("valid domain flags: %v", err)
	}
}
