package oauth_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/oauth"
)

var builtIns = []struct{ name, member string }{
	{behalf.VendorGoogle, "googleOauth2ProviderConfig"},
	{behalf.VendorGithub, "githubOauth2ProviderConfig"},
	{behalf.VendorMicrosoft, "microsoftOauth2ProviderConfig"},
	{behalf.VendorSlack, "slackOauth2ProviderConfig"},
	{behalf.VendorSalesforce, "salesforceOauth2ProviderConfig"},
	{behalf.VendorAtlassian, "atlassianOauth2ProviderConfig"},
	{behalf.VendorLinkedin, "linkedinOauth2ProviderConfig"},
	{behalf.VendorX, "includedOauth2ProviderConfig"},
	{behalf.VendorFacebook, "includedOauth2ProviderConfig"},
	{behalf.VendorYandex, "includedOauth2ProviderConfig"},
	{behalf.VendorReddit, "includedOauth2ProviderConfig"},
	{behalf.VendorZoom, "includedOauth2ProviderConfig"},
	{behalf.VendorTwitch, "includedOauth2ProviderConfig"},
	{behalf.VendorSpotify, "includedOauth2ProviderConfig"},
	{behalf.VendorDropbox, "includedOauth2ProviderConfig"},
	{behalf.VendorNotion, "includedOauth2ProviderConfig"},
	{behalf.VendorHubspot, "includedOauth2ProviderConfig"},
}

// tenantVendors take their endpoints from includedOauth2ProviderConfig;
// revoke is the revocation endpoint of a tenant whose token endpoint is
// token, "" for none.
var tenantVendors = []struct{ name, token, revoke string }{
	{behalf.VendorOkta, "https://acme.okta.com/oauth2/default/v1/token", "https://acme.okta.com/oauth2/default/v1/revoke"},
	{behalf.VendorOneLogin, "https://acme.onelogin.com/oidc/2/token", "https://acme.onelogin.com/oidc/2/token/revocation"},
	{behalf.VendorPingOne, "https://auth.pingone.com/env-1/as/token", "https://auth.pingone.com/env-1/as/revoke"},
	{behalf.VendorCognito, "https://acme.auth.us-east-1.amazoncognito.com/oauth2/token", "https://acme.auth.us-east-1.amazoncognito.com/oauth2/revoke"},
	{behalf.VendorAuth0, "https://acme.auth0.com/oauth/token", "https://acme.auth0.com/oauth/revoke"},
	{behalf.VendorCyberArk, "https://t1.id.cyberark.cloud/OAuth2/Token/__idaptive_cybr_user_oidc", ""},
	{behalf.VendorFusionAuth, "https://auth.acme.com/oauth2/token", ""},
}

// Ensure the tenant vendors are in the catalogue, take their endpoints
// from the admin, and derive a revocation endpoint only as documented.
func TestTenantVendors(t *testing.T) {
	for _, tv := range tenantVendors {
		v, ok := oauth.LookupVendor(tv.name)
		if !ok || !v.Tenant || v.ConfigMember != "includedOauth2ProviderConfig" || v.Metadata.TokenEndpoint != "" || !v.OIDC {
			t.Errorf("%s: %+v %v", tv.name, v, ok)
			continue
		}
		if _, err := oauth.ChooseAuthMethod("", v.Metadata.TokenEndpointAuthMethods); err != nil {
			t.Errorf("%s: no usable client auth method: %v", tv.name, err)
		}
		if got := v.TenantRevocation(tv.token); got != tv.revoke {
			t.Errorf("%s: revocation of %s = %q, want %q", tv.name, tv.token, got, tv.revoke)
		}
		if got := v.TenantRevocation("https://elsewhere.example/token?x=1"); got != "" {
			t.Errorf("%s: revocation of an undocumented layout = %q", tv.name, got)
		}
	}
}

// checkHTTPS fails unless raw is empty (when optional) or an absolute
// https URL with a host.
func checkHTTPS(t *testing.T, what, raw string, required bool) {
	t.Helper()
	if raw == "" {
		if required {
			t.Errorf("%s is empty", what)
		}
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || strings.ContainsAny(raw, "{}") {
		t.Errorf("%s = %q, want an absolute https URL", what, raw)
	}
}

func TestBuiltInVendors(t *testing.T) {
	for _, b := range builtIns {
		v, ok := oauth.LookupVendor(b.name)
		if !ok {
			t.Errorf("LookupVendor(%s) not found", b.name)
			continue
		}
		if v.Name != b.name || v.ConfigMember != b.member {
			t.Errorf("%s: Name, ConfigMember = %q, %q; want %q, %q", b.name, v.Name, v.ConfigMember, b.name, b.member)
		}
		m := v.Metadata
		checkHTTPS(t, b.name+" authorization endpoint", m.AuthorizationEndpoint, true)
		checkHTTPS(t, b.name+" token endpoint", m.TokenEndpoint, true)
		checkHTTPS(t, b.name+" revocation endpoint", m.RevocationEndpoint, false)
		checkHTTPS(t, b.name+" userinfo endpoint", m.UserinfoEndpoint, false)
		checkHTTPS(t, b.name+" JWKS URI", m.JWKSURI, v.OIDC)
		if v.OIDC && m.Issuer == "" {
			t.Errorf("%s: OIDC vendor without issuer", b.name)
		}
		if _, err := oauth.ChooseAuthMethod("", m.TokenEndpointAuthMethods); err != nil {
			t.Errorf("%s: no usable client auth method: %v", b.name, err)
		}
	}
}

func TestVendorDetails(t *testing.T) {
	g, _ := oauth.LookupVendor(behalf.VendorGoogle)
	if !g.OIDC || g.Metadata.Issuer != "https://accounts.google.com" ||
		g.Metadata.RevocationEndpoint != "https://oauth2.googleapis.com/revoke" ||
		g.AuthParams["access_type"] != "offline" || g.AuthParams["prompt"] != "consent" {
		t.Errorf("Google = %+v", g)
	}
	a, _ := oauth.LookupVendor(behalf.VendorAtlassian)
	if a.AuthParams["audience"] != "api.atlassian.com" || a.AuthParams["prompt"] != "consent" || a.OIDC {
		t.Errorf("Atlassian = %+v", a)
	}
	s, _ := oauth.LookupVendor(behalf.VendorSlack)
	if s.Metadata.RevocationEndpoint != "https://slack.com/api/auth.revoke" {
		t.Errorf("Slack revocation = %q", s.Metadata.RevocationEndpoint)
	}
	gh, _ := oauth.LookupVendor(behalf.VendorGithub)
	if gh.Metadata.Issuer != "" || gh.Metadata.RevocationEndpoint != "" || gh.OIDC {
		t.Errorf("GitHub = %+v", gh)
	}
}

func TestCustomAndUnknownVendors(t *testing.T) {
	c, ok := oauth.LookupVendor(behalf.VendorCustom)
	if !ok || c.ConfigMember != "customOauth2ProviderConfig" || c.Metadata.TokenEndpoint != "" {
		t.Errorf("LookupVendor(Custom) = %+v, %v", c, ok)
	}
	for _, name := range []string{"", "OktaOAuth2", "googleoauth2", "Google", "LinkedInOAuth2"} {
		if _, ok := oauth.LookupVendor(name); ok {
			t.Errorf("LookupVendor(%q) found", name)
		}
		if _, ok := oauth.VendorFor(name, ""); ok {
			t.Errorf("VendorFor(%q) found", name)
		}
	}
}

func TestLookupVendorReturnsCopies(t *testing.T) {
	g, _ := oauth.LookupVendor(behalf.VendorGoogle)
	g.AuthParams["prompt"] = "none"
	g.Metadata.TokenEndpointAuthMethods[0] = "private_key_jwt"
	again, _ := oauth.LookupVendor(behalf.VendorGoogle)
	if again.AuthParams["prompt"] != "consent" || again.Metadata.TokenEndpointAuthMethods[0] == "private_key_jwt" {
		t.Error("LookupVendor shares maps or slices with the catalogue")
	}
}

func TestMicrosoftTenant(t *testing.T) {
	const login = "https://login.microsoftonline.com/"
	tests := []struct{ tenant, path, issuer string }{
		{"", "common", login + "{tenantid}/v2.0"},
		{"common", "common", login + "{tenantid}/v2.0"},
		{"organizations", "organizations", login + "{tenantid}/v2.0"},
		{"consumers", "consumers", login + "9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"},
		{"contoso.onmicrosoft.com", "contoso.onmicrosoft.com", login + "{tenantid}/v2.0"},
		{"72F988BF-86F1-41AF-91AB-2D7CD011DB47", "72F988BF-86F1-41AF-91AB-2D7CD011DB47",
			login + "72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"},
	}
	for _, tt := range tests {
		v, ok := oauth.VendorFor(behalf.VendorMicrosoft, tt.tenant)
		if !ok {
			t.Errorf("VendorFor(Microsoft, %q) failed", tt.tenant)
			continue
		}
		m := v.Metadata
		if m.AuthorizationEndpoint != login+tt.path+"/oauth2/v2.0/authorize" ||
			m.TokenEndpoint != login+tt.path+"/oauth2/v2.0/token" ||
			m.JWKSURI != login+tt.path+"/discovery/v2.0/keys" || m.Issuer != tt.issuer {
			t.Errorf("VendorFor(Microsoft, %q) = %+v", tt.tenant, m)
		}
		if m.RevocationEndpoint != "" {
			t.Errorf("Microsoft revocation endpoint = %q, want none", m.RevocationEndpoint)
		}
	}
	def, _ := oauth.LookupVendor(behalf.VendorMicrosoft)
	if def.Metadata.TokenEndpoint != login+"common/oauth2/v2.0/token" {
		t.Errorf("LookupVendor(Microsoft) token endpoint = %q", def.Metadata.TokenEndpoint)
	}
}

func TestMicrosoftBadTenant(t *testing.T) {
	for _, tenant := range []string{
		"a/b", "../common", "..", ".", "common/", "a?b", "a#b", "a b", "a%2Fb", "a..b", ".a", "a.",
		"-a", "a_b", "ténant", "a\nb", strings.Repeat("a", 254),
	} {
		if _, ok := oauth.VendorFor(behalf.VendorMicrosoft, tenant); ok {
			t.Errorf("VendorFor(Microsoft, %q) accepted", tenant)
		}
		err := oauth.CheckTenantID(tenant)
		if behalf.ErrorCode(err) != behalf.EINVALID || behalf.ErrorField(err) != oauth.TenantIDField {
			t.Errorf("CheckTenantID(%q) = %v, want EINVALID on %s", tenant, err, oauth.TenantIDField)
		}
	}
}

func TestTenantIgnoredByOtherVendors(t *testing.T) {
	v, ok := oauth.VendorFor(behalf.VendorGoogle, "a/b")
	g, _ := oauth.LookupVendor(behalf.VendorGoogle)
	if !ok || v.Metadata.TokenEndpoint != g.Metadata.TokenEndpoint {
		t.Errorf("VendorFor(Google, tenant) = %+v, %v", v, ok)
	}
}
