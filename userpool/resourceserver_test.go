package userpool_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// rsInput is a valid resource-server input with the given scope names.
func rsInput(poolID, identifier string, names ...string) behalf.ResourceServerInput {
	in := behalf.ResourceServerInput{PoolID: poolID, Identifier: identifier, Name: "Solar system data"}
	for _, n := range names {
		in.Scopes = append(in.Scopes, behalf.ResourceServerScope{Name: n, Description: "May " + n})
	}
	return in
}

// Ensure resource servers round-trip and that Update replaces the name and
// every scope, Delete removes the server, and unknown pools and servers are
// ResourceNotFoundException.
func TestResourceServerCRUD(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	in := rsInput(p.ID, "https://solar-system-data-api.example.com", "sunproximity.read", "asteroids.add")
	rs, err := e.svc.CreateResourceServer(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if rs.PoolID != p.ID || rs.Identifier != in.Identifier || rs.Name != in.Name || !slices.Equal(rs.Scopes, in.Scopes) {
		t.Fatalf("CreateResourceServer = %+v", rs)
	}
	got, err := e.svc.DescribeResourceServer(e.ctx, p.ID, in.Identifier)
	if err != nil || got.Name != in.Name || !slices.Equal(got.Scopes, in.Scopes) {
		t.Fatalf("DescribeResourceServer = %+v, %v", got, err)
	}
	up := rsInput(p.ID, in.Identifier, "asteroids.add")
	up.Name = "renamed"
	got, err = e.svc.UpdateResourceServer(e.ctx, up)
	if err != nil || got.Name != "renamed" || !slices.Equal(got.Scopes, up.Scopes) {
		t.Fatalf("UpdateResourceServer = %+v, %v", got, err)
	}
	// No scopes at all is a valid update.
	up.Scopes = nil
	if got, err = e.svc.UpdateResourceServer(e.ctx, up); err != nil || len(got.Scopes) != 0 {
		t.Fatalf("UpdateResourceServer without scopes = %+v, %v", got, err)
	}
	if err := e.svc.DeleteResourceServer(e.ctx, p.ID, in.Identifier); err != nil {
		t.Fatal(err)
	}
	msg := "Resource server " + in.Identifier + " does not exist."
	_, err = e.svc.DescribeResourceServer(e.ctx, p.ID, in.Identifier)
	wantCognito(t, err, behalf.CognitoResourceNotFound, msg)
	_, err = e.svc.UpdateResourceServer(e.ctx, up)
	wantCognito(t, err, behalf.CognitoResourceNotFound, msg)
	err = e.svc.DeleteResourceServer(e.ctx, p.ID, in.Identifier)
	wantCognito(t, err, behalf.CognitoResourceNotFound, msg)

	missing := "us-east-1_nothere12"
	poolMsg := "User pool " + missing + " does not exist."
	_, err = e.svc.CreateResourceServer(e.ctx, rsInput(missing, "api", "read"))
	wantCognito(t, err, behalf.CognitoResourceNotFound, poolMsg)
	_, err = e.svc.DescribeResourceServer(e.ctx, missing, "api")
	wantCognito(t, err, behalf.CognitoResourceNotFound, poolMsg)
	_, err = e.svc.UpdateResourceServer(e.ctx, rsInput(missing, "api"))
	wantCognito(t, err, behalf.CognitoResourceNotFound, poolMsg)
	_, _, err = e.svc.ListResourceServers(e.ctx, missing, behalf.PageRequest{})
	wantCognito(t, err, behalf.CognitoResourceNotFound, poolMsg)
	err = e.svc.DeleteResourceServer(e.ctx, missing, "api")
	wantCognito(t, err, behalf.CognitoResourceNotFound, poolMsg)
}

// Ensure a second server with an identifier is InvalidParameterException,
// as Cognito answers (CreateResourceServer declares no conflict type), and
// that a pool holds at most 25 servers (LimitExceededException).
func TestResourceServerDuplicateAndLimit(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	other := e.pool(t)
	if _, err := e.svc.CreateResourceServer(e.ctx, rsInput(p.ID, "api", "read")); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.CreateResourceServer(e.ctx, rsInput(p.ID, "api", "write"))
	wantCognito(t, err, behalf.CognitoInvalidParameter, "api already exists in user pool "+p.ID+".")
	if _, err := e.svc.CreateResourceServer(e.ctx, rsInput(other.ID, "api", "write")); err != nil {
		t.Fatalf("the same identifier in another pool: %v", err)
	}
	for i := 2; i <= 25; i++ {
		if _, err := e.svc.CreateResourceServer(e.ctx, rsInput(p.ID, fmt.Sprintf("api%02d", i))); err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
	}
	_, err = e.svc.CreateResourceServer(e.ctx, rsInput(p.ID, "api26"))
	wantCognito(t, err, behalf.CognitoLimitExceeded, "")
}

// Ensure Cognito's constraints on identifiers, names and scopes, each
// answered with AWS's validation wording.
func TestResourceServerValidation(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	long := strings.Repeat("a", 257)
	hundred := rsInput(p.ID, "api")
	for i := range 100 {
		hundred.Scopes = append(hundred.Scopes, behalf.ResourceServerScope{Name: fmt.Sprintf("s%d", i), Description: "d"})
	}
	if _, err := e.svc.CreateResourceServer(e.ctx, hundred); err != nil {
		t.Fatalf("100 scopes: %v", err)
	}
	edge := rsInput(p.ID, strings.Repeat("!", 256), strings.Repeat("~", 256))
	edge.Name, edge.Scopes[0].Description = "a b+c=d,e.f@g-h_1", strings.Repeat("é", 256)
	if _, err := e.svc.CreateResourceServer(e.ctx, edge); err != nil {
		t.Fatalf("longest and oddest valid values: %v", err)
	}
	cases := map[string]struct {
		edit func(in *behalf.ResourceServerInput)
		want string // in the message
	}{
		"empty identifier": {func(in *behalf.ResourceServerInput) { in.Identifier = "" }, "at 'identifier' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		"long identifier":  {func(in *behalf.ResourceServerInput) { in.Identifier = long }, "Member must have length less than or equal to 256"},
		"identifier space": {func(in *behalf.ResourceServerInput) { in.Identifier = "my api" }, `Member must satisfy regular expression pattern: [\x21\x23-\x5B\x5D-\x7E]+`},
		"identifier quote": {func(in *behalf.ResourceServerInput) { in.Identifier = `a"b` }, "at 'identifier'"},
		"identifier \\":    {func(in *behalf.ResourceServerInput) { in.Identifier = `a\b` }, "at 'identifier'"},
		"empty name":       {func(in *behalf.ResourceServerInput) { in.Name = "" }, "at 'name'"},
		"name symbol":      {func(in *behalf.ResourceServerInput) { in.Name = "api/v1" }, `[\w\s+=,.@-]+`},
		"long name":        {func(in *behalf.ResourceServerInput) { in.Name = long }, "at 'name'"},
		"scope slash":      {func(in *behalf.ResourceServerInput) { in.Scopes[0].Name = "a/b" }, `at 'scopes.1.member.scopeName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\x21\x23-\x2E\x30-\x5B\x5D-\x7E]+`},
		"empty scope":      {func(in *behalf.ResourceServerInput) { in.Scopes[1].Name = "" }, "at 'scopes.2.member.scopeName'"},
		"long scope":       {func(in *behalf.ResourceServerInput) { in.Scopes[0].Name = long }, "at 'scopes.1.member.scopeName'"},
		"no description":   {func(in *behalf.ResourceServerInput) { in.Scopes[1].Description = "" }, "at 'scopes.2.member.scopeDescription'"},
		"long description": {func(in *behalf.ResourceServerInput) { in.Scopes[0].Description = long }, "at 'scopes.1.member.scopeDescription'"},
		"101 scopes": {func(in *behalf.ResourceServerInput) {
			in.Scopes = slices.Clone(hundred.Scopes)
			in.Scopes = append(in.Scopes, in.Scopes[0])
		}, "Member must have length less than or equal to 100"},
		"duplicate scope":    {func(in *behalf.ResourceServerInput) { in.Scopes[1].Name = in.Scopes[0].Name }, "The scope name read is given twice."},
		"several violations": {func(in *behalf.ResourceServerInput) { in.Identifier, in.Name = "", "" }, "2 validation errors detected: "},
	}
	for name, c := range cases {
		in := rsInput(p.ID, "other", "read", "write")
		c.edit(&in)
		_, err := e.svc.CreateResourceServer(e.ctx, in)
		if behalf.CognitoException(err) != behalf.CognitoInvalidParameter || !strings.Contains(behalf.ErrorMessage(err), c.want) {
			t.Errorf("%s: create err = %v, want InvalidParameterException with %q", name, err, c.want)
		}
		in.Identifier = "api"
		if name == "empty identifier" || name == "long identifier" || name == "identifier space" || name == "identifier quote" || name == "identifier \\" || name == "several violations" {
			continue
		}
		_, err = e.svc.UpdateResourceServer(e.ctx, in)
		if behalf.CognitoException(err) != behalf.CognitoInvalidParameter || !strings.Contains(behalf.ErrorMessage(err), c.want) {
			t.Errorf("%s: update err = %v, want InvalidParameterException with %q", name, err, c.want)
		}
	}
	_, err := e.svc.DescribeResourceServer(e.ctx, p.ID, "my api")
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	err = e.svc.DeleteResourceServer(e.ctx, p.ID, "")
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	if got, _ := e.svc.DescribeResourceServer(e.ctx, p.ID, "api"); len(got.Scopes) != 100 {
		t.Fatalf("a refused update changed the server: %d scopes", len(got.Scopes))
	}
}

// Ensure ListResourceServers pages by identifier, 1 to 50 a page.
func TestListResourceServers(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	var want []string
	for i := range 12 {
		id := fmt.Sprintf("https://api%02d.example.com", 11-i)
		want = append(want, id)
		if _, err := e.svc.CreateResourceServer(e.ctx, rsInput(p.ID, id, "read")); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(want)
	var got []string
	next := ""
	for pages := 0; ; pages++ {
		page, tok, err := e.svc.ListResourceServers(e.ctx, p.ID, behalf.PageRequest{MaxResults: 5, NextToken: next})
		if err != nil {
			t.Fatal(err)
		}
		for _, rs := range page {
			if rs.PoolID != p.ID || len(rs.Scopes) != 1 {
				t.Fatalf("listed %+v", rs)
			}
			got = append(got, rs.Identifier)
		}
		if next = tok; next == "" {
			break
		}
		if pages > 3 {
			t.Fatal("too many pages")
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %q, want %q", got, want)
	}
	all, tok, err := e.svc.ListResourceServers(e.ctx, p.ID, behalf.PageRequest{})
	if err != nil || len(all) != 12 || tok != "" {
		t.Fatalf("default page: %d servers, token %q, %v", len(all), tok, err)
	}
	for _, n := range []int{-1, 51} {
		_, _, err := e.svc.ListResourceServers(e.ctx, p.ID, behalf.PageRequest{MaxResults: n})
		wantCognito(t, err, behalf.CognitoInvalidParameter, fmt.Sprintf("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 50", n))
	}
	_, _, err = e.svc.ListResourceServers(e.ctx, p.ID, behalf.PageRequest{NextToken: "garbage!"})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
}

// Ensure an app client may be allowed a custom scope only when a resource
// server of its pool defines it, on create and update
// (ScopeDoesNotExistException), and that system scopes stay as they were.
func TestClientScopesMustExist(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	other := e.pool(t)
	e.resourceServer(t, p.ID, "https://api.example.com", "read", "write")
	e.resourceServer(t, other.ID, "elsewhere", "read")
	machine := func(scopes ...string) behalf.UserPoolClientInput {
		return behalf.UserPoolClientInput{
			PoolID: p.ID, Name: "m2m", GenerateSecret: true, AllowedOAuthFlowsUserPoolClient: true,
			AllowedOAuthFlows: []string{"client_credentials"}, AllowedOAuthScopes: scopes,
		}
	}
	c, _, err := e.svc.CreateUserPoolClient(e.ctx, machine("https://api.example.com/read", "https://api.example.com/write"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range []string{"IDENT/read", "https://api.example.com/delete", "https://api.example.com", "elsewhere/read", "api.example.com/read"} {
		_, _, err := e.svc.CreateUserPoolClient(e.ctx, machine("https://api.example.com/read", sc))
		wantCognito(t, err, behalf.CognitoScopeDoesNotExist, "Invalid scope requested: "+sc)
		up := machine(sc)
		up.ClientID, up.GenerateSecret = c.ID, false
		_, _, err = e.svc.UpdateUserPoolClient(e.ctx, up)
		wantCognito(t, err, behalf.CognitoScopeDoesNotExist, "Invalid scope requested: "+sc)
	}
	// A code-flow client: system scopes, custom ones, and no others.
	web := behalf.UserPoolClientInput{
		PoolID: p.ID, Name: "web", AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: []string{"code"},
		AllowedOAuthScopes: []string{"openid", "email", "phone", "profile", "aws.cognito.signin.user.admin", "https://api.example.com/read"},
		CallbackURLs:       []string{"https://app.example.com/cb"},
	}
	if _, _, err := e.svc.CreateUserPoolClient(e.ctx, web); err != nil {
		t.Fatalf("system and custom scopes: %v", err)
	}
	web.AllowedOAuthScopes = []string{"openid", "Cognito"}
	_, _, err = e.svc.CreateUserPoolClient(e.ctx, web)
	wantCognito(t, err, behalf.CognitoScopeDoesNotExist, "Invalid scope requested: Cognito")
	// System scopes stay refused on client_credentials clients, as before.
	_, _, err = e.svc.CreateUserPoolClient(e.ctx, machine("openid"))
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")
	got, _, err := e.svc.DescribeUserPoolClient(e.ctx, p.ID, c.ID)
	if err != nil || !slices.Equal(got.AllowedOAuthScopes, []string{"https://api.example.com/read", "https://api.example.com/write"}) {
		t.Fatalf("refused updates changed the client: %v, %v", got.AllowedOAuthScopes, err)
	}
}

// Ensure updating a resource server to drop a scope, and deleting it,
// removes its scopes from the pool's clients, as Cognito does; and that the
// client_credentials grant then refuses them.
func TestResourceServerChangesReachClients(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	e.resourceServer(t, p.ID, "api", "read", "write")
	e.resourceServer(t, p.ID, "api/v2", "read")
	c, _, err := e.svc.CreateUserPoolClient(e.ctx, behalf.UserPoolClientInput{
		PoolID: p.ID, Name: "m2m", GenerateSecret: true, AllowedOAuthFlowsUserPoolClient: true,
		AllowedOAuthFlows: []string{"client_credentials"}, AllowedOAuthScopes: []string{"api/read", "api/write", "api/v2/read"},
	})
	if err != nil {
		t.Fatal(err)
	}
	scopes := func() []string {
		t.Helper()
		got, _, err := e.svc.DescribeUserPoolClient(e.ctx, p.ID, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.AllowedOAuthScopes
	}
	if _, err := e.svc.UpdateResourceServer(e.ctx, rsInput(p.ID, "api", "read", "list")); err != nil {
		t.Fatal(err)
	}
	if got := scopes(); !slices.Equal(got, []string{"api/read", "api/v2/read"}) {
		t.Fatalf("after dropping write: %q", got)
	}
	_, err = e.svc.IssueTokens(e.ctx, behalf.IssueTokensInput{PoolID: p.ID, ClientID: c.ID, Scopes: []string{"api/write"}})
	wantCognito(t, err, behalf.CognitoScopeDoesNotExist, "")
	if err := e.svc.DeleteResourceServer(e.ctx, p.ID, "api"); err != nil {
		t.Fatal(err)
	}
	if got := scopes(); !slices.Equal(got, []string{"api/v2/read"}) {
		t.Fatalf("after deleting api: %q", got)
	}
	if err := e.svc.DeleteResourceServer(e.ctx, p.ID, "api/v2"); err != nil {
		t.Fatal(err)
	}
	if got := scopes(); len(got) != 0 {
		t.Fatalf("after deleting api/v2: %q", got)
	}
	// A client with no scope left gets no token.
	_, err = e.svc.IssueTokens(e.ctx, behalf.IssueTokensInput{PoolID: p.ID, ClientID: c.ID})
	wantCognito(t, err, behalf.CognitoScopeDoesNotExist, "")
}

// Ensure the client_credentials token carries exactly the scopes asked for
// (each once) and Cognito's claims, and that a scope a client was allowed
// before definitions were checked (stored directly here) is not granted.
func TestClientCredentialsScopes(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	m, _ := e.machineClient(t, p.ID) // agents/read, agents/write
	now := e.clock.Now()
	tok, err := e.svc.IssueTokens(e.ctx, behalf.IssueTokensInput{PoolID: p.ID, ClientID: m.ID, Scopes: []string{"agents/write", "agents/read", "agents/write"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tok.Scopes, []string{"agents/write", "agents/read"}) || !tok.IDToken.IsZero() || !tok.RefreshToken.IsZero() {
		t.Fatalf("tokens = %+v", tok)
	}
	claims := claimsOf(t, e, p.ID, tok.AccessToken)
	jti, _ := claims["jti"].(string)
	if len(jti) != 36 {
		t.Errorf("jti = %v, want a UUID", claims["jti"])
	}
	delete(claims, "jti")
	want := map[string]any{
		"sub": m.ID, "client_id": m.ID, "iss": e.svc.Issuer(p.ID), "token_use": "access",
		"scope": "agents/write agents/read", "auth_time": float64(now.Unix()), "iat": float64(now.Unix()),
		"exp": float64(now.Add(10 * time.Minute).Unix()), "version": float64(2),
	}
	if !maps.Equal(claims, want) {
		t.Errorf("claims = %v\nwant     %v (and jti)", claims, want)
	}

	// A scope stored on the client without a definition is refused.
	if _, err := e.store.UpdateAppClient(e.ctx, m.ID, func(c *behalf.AppClient) error {
		c.AllowedOAuthScopes = append(c.AllowedOAuthScopes, "IDENT/read")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.IssueTokens(e.ctx, behalf.IssueTokensInput{PoolID: p.ID, ClientID: m.ID, Scopes: []string{"agents/read", "IDENT/read"}})
	wantCognito(t, err, behalf.CognitoScopeDoesNotExist, "Invalid scope requested: IDENT/read")
	// Asking for none grants the defined ones only.
	all, err := e.svc.IssueTokens(e.ctx, behalf.IssueTokensInput{PoolID: p.ID, ClientID: m.ID})
	if err != nil || claimsOf(t, e, p.ID, all.AccessToken)["scope"] != "agents/read agents/write" {
		t.Fatalf("no scope, with an undefined one allowed: %v", err)
	}
}
