package gateway_test

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/gateway"
)

// portalProviders: "idp" is a client of the gateway's issuer, "google"
// of another.
type portalProviders struct{}

func (portalProviders) GetOAuth2Provider(_ context.Context, name string) (*behalf.OAuth2Provider, error) {
	switch name {
	case "idp":
		return &behalf.OAuth2Provider{ID: "p1", Name: name, ClientID: "portal-client",
			Metadata: behalf.AuthServerMetadata{Issuer: "https://idp.example.com", AuthorizationEndpoint: "https://idp.example.com/authorize"}}, nil
	case "google":
		return &behalf.OAuth2Provider{ID: "p2", Name: name, ClientID: "g",
			Metadata: behalf.AuthServerMetadata{Issuer: "https://accounts.google.com", AuthorizationEndpoint: "https://accounts.google.com:443/o/oauth2/v2/auth"}}, nil
	}
	return nil, behalf.Errorf(behalf.ENOTFOUND, "no %s", name)
}

// bindings records SetWorkloadBinding calls, failing with err when set.
type bindings struct {
	calls []behalf.WorkloadBindingInput
	err   error
}

func (b *bindings) SetWorkloadBinding(_ context.Context, in behalf.WorkloadBindingInput) (*behalf.WorkloadIdentity, error) {
	b.calls = append(b.calls, in)
	return nil, b.err
}

const idpARN = "arn:aws:bedrock-agentcore:us-east-1:000000000000:token-vault/default/oauth2credentialprovider/idp"

func newPortals(t *testing.T) (*gateway.Portals, *gateway.Service, *bindings) {
	t.Helper()
	s, db := newService(t)
	b := &bindings{}
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &gateway.Portals{Store: db, Gateways: db, Providers: portalProviders{}, Workloads: db, Bindings: b,
		PublicURL: "https://behalf.example.com", Region: "us-east-1", Account: "000000000000",
		Now: func() time.Time { return clock }}, s, b
}

func portalInput(gw string) behalf.ConsentPortalInput {
	return behalf.ConsentPortalInput{Name: "tools_portal", ExecutionRoleARN: "arn:aws:iam::123456789012:role/p",
		ProviderARN: idpARN, Scopes: []string{"openid", "email"}, GatewayID: gw}
}

func TestConsentPortalLifecycle(t *testing.T) {
	p, s, b := newPortals(t)
	ctx := t.Context()
	g, err := s.CreateGateway(ctx, gatewayInput())
	if err != nil {
		t.Fatal(err)
	}
	cp, err := p.CreateConsentPortal(ctx, portalInput(behalf.GatewayARN("us-east-1", "000000000000", g.ID)))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^tools_portal-[A-Za-z0-9]{10}$`).MatchString(cp.ID) || cp.GatewayID != g.ID || cp.Provider != "idp" || cp.Status != behalf.ConsentPortalActive {
		t.Fatalf("created %+v", cp)
	}
	// The gateway's workload is set up for the binding page.
	want := behalf.WorkloadBindingInput{WorkloadName: g.Workload, Issuer: "https://idp.example.com", ClientID: "portal-client",
		RedirectURL: "https://behalf.example.com/consent-portals/" + cp.ID}
	if len(b.calls) != 1 || b.calls[0] != want {
		t.Errorf("SetWorkloadBinding calls %+v, want %+v", b.calls, want)
	}
	w, err := p.Workloads.GetWorkload(ctx, g.Workload)
	if err != nil || !slices.Equal(w.AllowedReturnURLs, []string{"https://behalf.example.com" + behalf.BindPath}) {
		t.Errorf("workload return URLs %v, %v", w, err)
	}
	got, err := p.GetConsentPortal(ctx, behalf.ConsentPortalARN("us-east-1", "000000000000", cp.ID))
	if err != nil || got.ID != cp.ID {
		t.Fatalf("GetConsentPortal by ARN: %v, %v", got, err)
	}
	in := portalInput("")
	in.Description, in.Scopes = "Connect", []string{"profile"}
	up, err := p.UpdateConsentPortal(ctx, cp.ID, in)
	if err != nil || up.Description != "Connect" || !slices.Equal(up.Scopes, []string{"profile"}) || up.Name != cp.Name || up.GatewayID != g.ID {
		t.Fatalf("UpdateConsentPortal: %+v, %v", up, err)
	}
	if w, _ := p.Workloads.GetWorkload(ctx, g.Workload); len(w.AllowedReturnURLs) != 1 {
		t.Errorf("the binding URL added twice: %v", w.AllowedReturnURLs)
	}
	_, err = p.CreateConsentPortal(ctx, portalInput(g.ID))
	if behalf.ErrorCode(err) != behalf.ECONFLICT {
		t.Errorf("a second portal for the gateway: %v, want ECONFLICT", err)
	}
	items, next, err := p.ListConsentPortals(ctx, behalf.PageRequest{})
	if err != nil || len(items) != 1 || next != "" {
		t.Errorf("ListConsentPortals: %v, %q, %v", items, next, err)
	}
	if err := p.DeleteConsentPortal(ctx, cp.ID); err != nil {
		t.Fatal(err)
	}
	if err := p.DeleteConsentPortal(ctx, cp.ID); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Errorf("deleting twice: %v", err)
	}
}

func TestConsentPortalValidation(t *testing.T) {
	p, s, b := newPortals(t)
	ctx := t.Context()
	g, err := s.CreateGateway(ctx, gatewayInput())
	if err != nil {
		t.Fatal(err)
	}
	none := gatewayInput()
	none.Name, none.AuthorizerType, none.Authorizer = "open", behalf.GatewayAuthorizerNone, nil
	open, err := s.CreateGateway(ctx, none)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*behalf.ConsentPortalInput)
		field string
	}{
		{"name", func(in *behalf.ConsentPortalInput) { in.Name = "bad name" }, "name"},
		{"long name", func(in *behalf.ConsentPortalInput) { in.Name = strings.Repeat("a", 51) }, "name"},
		{"description", func(in *behalf.ConsentPortalInput) { in.Description = strings.Repeat("é", 513) }, "description"},
		{"no role", func(in *behalf.ConsentPortalInput) { in.ExecutionRoleARN = "" }, "executionRoleArn"},
		{"bad role", func(in *behalf.ConsentPortalInput) { in.ExecutionRoleARN = "role" }, "executionRoleArn"},
		{"no provider", func(in *behalf.ConsentPortalInput) { in.ProviderARN = "" }, "idpConfig.credentialProviderArn"},
		{"api key provider", func(in *behalf.ConsentPortalInput) { in.ProviderARN = apiKeyARN }, "idpConfig.credentialProviderArn"},
		{"other issuer", func(in *behalf.ConsentPortalInput) { in.ProviderARN = oauthARN }, "idpConfig.credentialProviderArn"},
		{"bad scope", func(in *behalf.ConsentPortalInput) { in.Scopes = []string{"a b"} }, "idpConfig.scopes"},
		{"bad gateway id", func(in *behalf.ConsentPortalInput) { in.GatewayID = "bad id!" }, "sources.identifier"},
		{"gateway without authorizer", func(in *behalf.ConsentPortalInput) { in.GatewayID = open.ID }, "sources"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := portalInput(g.ID)
			tc.edit(&in)
			_, err := p.CreateConsentPortal(ctx, in)
			wantInvalid(t, err, tc.field)
		})
	}
	in := portalInput("missing-0123456789")
	if _, err := p.CreateConsentPortal(ctx, in); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Errorf("unknown gateway: %v, want ENOTFOUND", err)
	}
	in = portalInput(g.ID)
	in.ProviderARN = idpARN[:len(idpARN)-3] + "nope"
	if _, err := p.CreateConsentPortal(ctx, in); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Errorf("unknown provider: %v, want ENOTFOUND", err)
	}
	if _, err := p.GetConsentPortal(ctx, "no"); behalf.ErrorCode(err) != behalf.EINVALID {
		t.Errorf("bad identifier: %v, want EINVALID", err)
	}
	// A binding the identity service refuses stores nothing.
	b.err = behalf.Invalid("clientId", "the pool's client must list the sign-in callback")
	_, err = p.CreateConsentPortal(ctx, portalInput(g.ID))
	wantInvalid(t, err, "clientId")
	if items, _, _ := p.ListConsentPortals(ctx, behalf.PageRequest{}); len(items) != 0 {
		t.Errorf("a refused portal was kept: %v", items)
	}
	if len(b.calls) != 1 {
		t.Errorf("SetWorkloadBinding called %d times, want once (after every check passed)", len(b.calls))
	}
}

// Ensure a portal's page lists only the targets that act with users'
// own accounts, with their providers' origins.
func TestConsentPortalPageTargets(t *testing.T) {
	p, s, _ := newPortals(t)
	ctx := t.Context()
	g, err := s.CreateGateway(ctx, gatewayInput())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, tg := range []*behalf.GatewayTarget{
		{GatewayID: g.ID, ID: "AAAAAAAAAA", Name: "drive", Kind: behalf.TargetOpenAPI, Status: behalf.GatewayReady, CreatedAt: now, UpdatedAt: now,
			Credentials: []behalf.GatewayCredential{{Type: behalf.CredentialOAuth, Provider: "google", GrantType: behalf.GrantAuthorizationCode, Scopes: []string{"drive"}}}},
		{GatewayID: g.ID, ID: "BBBBBBBBBB", Name: "m2m", Kind: behalf.TargetOpenAPI, Status: behalf.GatewayReady, CreatedAt: now, UpdatedAt: now,
			Credentials: []behalf.GatewayCredential{{Type: behalf.CredentialOAuth, Provider: "google", GrantType: behalf.GrantClientCredentials}}},
		{GatewayID: g.ID, ID: "CCCCCCCCCC", Name: "notes", Kind: behalf.TargetOpenAPI, Status: behalf.GatewayReady, CreatedAt: now, UpdatedAt: now,
			Credentials: []behalf.GatewayCredential{{Type: behalf.CredentialAPIKey, Provider: "notes-key"}}},
	} {
		if err := p.Gateways.CreateGatewayTarget(ctx, tg); err != nil {
			t.Fatal(err)
		}
	}
	cp, err := p.CreateConsentPortal(ctx, portalInput(g.ID))
	if err != nil {
		t.Fatal(err)
	}
	page, err := p.ConsentPortalPage(ctx, cp.ID)
	if err != nil {
		t.Fatal(err)
	}
	if page.Workload != g.Workload || page.SignIn.Issuer != "https://idp.example.com" || page.SignIn.ClientID != "portal-client" ||
		!slices.Equal(page.SignIn.Scopes, []string{"email"}) {
		t.Errorf("page %+v", page)
	}
	if len(page.Targets) != 1 || page.Targets[0].Name != "drive" || page.Targets[0].AuthorizationOrigin != "https://accounts.google.com:443" {
		t.Errorf("targets %+v, want drive alone", page.Targets)
	}
	if _, err := p.ConsentPortalPage(ctx, "../etc"); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Errorf("a bad id: %v, want ENOTFOUND", err)
	}
	if _, err := p.StartConsent(ctx, cp.ID, "BBBBBBBBBB", behalf.User{Issuer: "https://idp.example.com", Subject: "alice"}); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Errorf("StartConsent for a client-credentials target: %v, want ENOTFOUND", err)
	}
}
