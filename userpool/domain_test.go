package userpool_test

import (
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/userpool"
)

const testCertificate = "arn:aws:acm:us-east-1:123456789012:certificate/0f3e1c2a-1111-2222-3333-444455556666"

// domainEnv is newEnv whose Service serves prefix domains under
// auth.example.com and the custom domain login.example.org.
func domainEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	e.svc.DomainSuffix = "Auth.Example.com" // case does not matter
	e.svc.CustomDomains = []string{"login.example.org", "spare.example.org"}
	if err := e.svc.CheckDomains(); err != nil {
		t.Fatal(err)
	}
	return e
}

// prefixInput and customInput are valid domain inputs.
func prefixInput(poolID, prefix string) behalf.UserPoolDomainInput {
	return behalf.UserPoolDomainInput{PoolID: poolID, Domain: prefix}
}

func customInput(poolID, name string) behalf.UserPoolDomainInput {
	arn := testCertificate
	return behalf.UserPoolDomainInput{PoolID: poolID, Domain: name, CertificateARN: &arn}
}

// Ensure a pool's prefix and custom domains round-trip with the URL Behalf
// serves them at, that updates change the certificate and the version
// only, that a pool with a domain cannot be deleted (as in Cognito), and
// that deleting a domain frees its name.
func TestUserPoolDomainCRUD(t *testing.T) {
	e := domainEnv(t)
	p := e.pool(t)
	d, err := e.svc.CreateUserPoolDomain(e.ctx, prefixInput(p.ID, "my-app"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Domain != "my-app" || d.PoolID != p.ID || d.Custom || d.CertificateARN != "" || d.ManagedLoginVersion != 1 ||
		d.URL != "https://my-app.auth.example.com" || d.CreatedAt.IsZero() || !d.UpdatedAt.Equal(d.CreatedAt) {
		t.Fatalf("CreateUserPoolDomain(prefix) = %+v", d)
	}
	in := customInput(p.ID, "login.example.org")
	in.ManagedLoginVersion = 2
	c, err := e.svc.CreateUserPoolDomain(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Custom || c.CertificateARN != testCertificate || c.ManagedLoginVersion != 2 || c.URL != "https://login.example.org" {
		t.Fatalf("CreateUserPoolDomain(custom) = %+v", c)
	}
	got, err := e.svc.DescribeUserPoolDomain(e.ctx, "my-app")
	if err != nil || *got != *d {
		t.Fatalf("DescribeUserPoolDomain = %+v, %v; want %+v", got, err, d)
	}
	all, err := e.svc.UserPoolDomains(e.ctx, p.ID)
	if err != nil || len(all) != 2 || *all[0] != *d || *all[1] != *c {
		t.Fatalf("UserPoolDomains = %+v, %v", all, err)
	}

	e.clock.Add(1e9)
	arn := testCertificate + "-renewed"
	up, err := e.svc.UpdateUserPoolDomain(e.ctx, behalf.UserPoolDomainInput{PoolID: p.ID, Domain: "login.example.org", CertificateARN: &arn})
	if err != nil || up.CertificateARN != arn || up.ManagedLoginVersion != 2 || !up.UpdatedAt.After(c.UpdatedAt) || !up.CreatedAt.Equal(c.CreatedAt) {
		t.Fatalf("UpdateUserPoolDomain(certificate) = %+v, %v", up, err)
	}
	up, err = e.svc.UpdateUserPoolDomain(e.ctx, behalf.UserPoolDomainInput{PoolID: p.ID, Domain: "my-app", ManagedLoginVersion: 2})
	if err != nil || up.ManagedLoginVersion != 2 || up.URL != d.URL {
		t.Fatalf("UpdateUserPoolDomain(version) = %+v, %v", up, err)
	}

	err = e.svc.DeleteUserPool(e.ctx, p.ID)
	wantCognito(t, err, behalf.CognitoInvalidParameter, "User pool cannot be deleted. It has a domain configured that should be deleted first.")
	for _, name := range []string{"my-app", "login.example.org"} {
		if err := e.svc.DeleteUserPoolDomain(e.ctx, p.ID, name); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.DescribeUserPoolDomain(e.ctx, name)
		wantCognito(t, err, behalf.CognitoResourceNotFound, "Domain "+name+" does not exist.")
	}
	// The names are free for another pool.
	q := e.pool(t)
	if _, err := e.svc.CreateUserPoolDomain(e.ctx, prefixInput(q.ID, "my-app")); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteUserPool(e.ctx, p.ID); err != nil {
		t.Fatalf("DeleteUserPool without domains: %v", err)
	}
}

// Ensure what Cognito refuses, and what Behalf cannot serve, is
// InvalidParameterException (or ResourceNotFoundException for a missing
// pool) and changes nothing.
func TestUserPoolDomainValidation(t *testing.T) {
	e := domainEnv(t)
	p, other := e.pool(t), e.pool(t)
	if _, err := e.svc.CreateUserPoolDomain(e.ctx, prefixInput(other.ID, "taken")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateUserPoolDomain(e.ctx, customInput(other.ID, "spare.example.org")); err != nil {
		t.Fatal(err)
	}
	format := `The domain name contains an invalid character. Domain names can only contain lower-case letters, numbers, and hyphens. Please enter a different name that follows this format: ^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$`
	empty, badARN := "", "certificate-1234567890"
	cases := []struct {
		name string
		in   behalf.UserPoolDomainInput
		exc  string
		msg  string // "" checks only the exception
	}{
		{"upper case", prefixInput(p.ID, "My-App"), behalf.CognitoInvalidParameter, format},
		{"dot", prefixInput(p.ID, "my.app"), behalf.CognitoInvalidParameter, format},
		{"leading hyphen", prefixInput(p.ID, "-app"), behalf.CognitoInvalidParameter, format},
		{"64 characters", prefixInput(p.ID, strings.Repeat("a", 64)), behalf.CognitoInvalidParameter, format},
		{"reserved word", prefixInput(p.ID, "my-cognito-login"), behalf.CognitoInvalidParameter, "Domain cannot contain reserved word: cognito"},
		{"taken prefix", prefixInput(p.ID, "taken"), behalf.CognitoInvalidParameter, "Domain already associated with another user pool."},
		{"taken custom", customInput(p.ID, "spare.example.org"), behalf.CognitoInvalidParameter, "Domain already associated with another user pool."},
		{"custom not allowed", customInput(p.ID, "evil.example.net"), behalf.CognitoInvalidParameter,
			"Behalf serves a custom domain only if its operator allows it (behalf serve --pool-domain evil.example.net)."},
		{"custom under the suffix", customInput(p.ID, "x.auth.example.com"), behalf.CognitoInvalidParameter, ""},
		{"custom one label", customInput(p.ID, "localhost"), behalf.CognitoInvalidParameter, ""},
		{"custom upper case", customInput(p.ID, "LOGIN.example.org"), behalf.CognitoInvalidParameter, ""},
		{"custom with port", customInput(p.ID, "login.example.org:443"), behalf.CognitoInvalidParameter, ""},
		{"empty certificate", behalf.UserPoolDomainInput{PoolID: p.ID, Domain: "login.example.org", CertificateARN: &empty},
			behalf.CognitoInvalidParameter, "1 validation error detected: Value null at 'customDomainConfig.certificateArn' failed to satisfy constraint: Member must not be null"},
		{"bad certificate", behalf.UserPoolDomainInput{PoolID: p.ID, Domain: "login.example.org", CertificateARN: &badARN}, behalf.CognitoInvalidParameter, ""},
		{"version 3", behalf.UserPoolDomainInput{PoolID: p.ID, Domain: "my-app", ManagedLoginVersion: 3}, behalf.CognitoInvalidParameter,
			"ManagedLoginVersion must be 1 (hosted UI) or 2 (managed login)."},
		{"no such pool", prefixInput("us-east-1_Nope12345", "free"), behalf.CognitoResourceNotFound, "User pool us-east-1_Nope12345 does not exist."},
	}
	for _, tc := range cases {
		_, err := e.svc.CreateUserPoolDomain(e.ctx, tc.in)
		if err == nil {
			t.Errorf("%s: created", tc.name)
			continue
		}
		t.Run(tc.name, func(t *testing.T) { wantCognito(t, err, tc.exc, tc.msg) })
	}
	if ds, err := e.svc.UserPoolDomains(e.ctx, p.ID); err != nil || len(ds) != 0 {
		t.Fatalf("after refusals, the pool has %+v, %v", ds, err)
	}

	// One domain of each kind a pool.
	if _, err := e.svc.CreateUserPoolDomain(e.ctx, prefixInput(p.ID, "first")); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.CreateUserPoolDomain(e.ctx, prefixInput(p.ID, "second"))
	wantCognito(t, err, behalf.CognitoInvalidParameter, "User pool already has a domain configured.")
	if _, err := e.svc.CreateUserPoolDomain(e.ctx, customInput(p.ID, "login.example.org")); err != nil {
		t.Fatalf("a custom domain besides the prefix domain: %v", err)
	}

	// Update and delete: another pool's domain, or none, is Cognito's
	// "No such domain or user pool exists."; a certificate for a prefix
	// domain is refused.
	arn := testCertificate
	for _, in := range []behalf.UserPoolDomainInput{
		{PoolID: p.ID, Domain: "taken", ManagedLoginVersion: 2}, {PoolID: p.ID, Domain: "nothing"},
		{PoolID: "us-east-1_Nope12345", Domain: "first"},
	} {
		_, err := e.svc.UpdateUserPoolDomain(e.ctx, in)
		wantCognito(t, err, behalf.CognitoInvalidParameter, "No such domain or user pool exists.")
		err = e.svc.DeleteUserPoolDomain(e.ctx, in.PoolID, in.Domain)
		wantCognito(t, err, behalf.CognitoInvalidParameter, "No such domain or user pool exists.")
	}
	_, err = e.svc.UpdateUserPoolDomain(e.ctx, behalf.UserPoolDomainInput{PoolID: p.ID, Domain: "first", CertificateARN: &arn})
	wantCognito(t, err, behalf.CognitoInvalidParameter, "CustomDomainConfig applies to custom domains only; first is a prefix domain.")
	if d, err := e.svc.DescribeUserPoolDomain(e.ctx, "taken"); err != nil || d.ManagedLoginVersion != 1 || d.PoolID != other.ID {
		t.Fatalf("another pool's domain after refusals: %+v, %v", d, err)
	}
}

// Ensure a Service without a suffix refuses prefix domains (it could not
// serve them), one whose suffix would make a prefix domain the public
// URL's host refuses that prefix, and invalid configurations fail
// CheckDomains.
func TestUserPoolDomainConfiguration(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	_, err := e.svc.CreateUserPoolDomain(e.ctx, prefixInput(p.ID, "my-app"))
	wantCognito(t, err, behalf.CognitoInvalidParameter,
		"Behalf serves prefix domains under a domain suffix its operator sets (behalf serve --pool-domain-suffix), and this server has none.")
	_, err = e.svc.CreateUserPoolDomain(e.ctx, customInput(p.ID, "login.example.org"))
	wantCognito(t, err, behalf.CognitoInvalidParameter, "")

	e = newEnv(t) // public URL https://behalf.example
	e.svc.DomainSuffix = "example"
	p = e.pool(t)
	_, err = e.svc.CreateUserPoolDomain(e.ctx, prefixInput(p.ID, "behalf"))
	wantCognito(t, err, behalf.CognitoInvalidParameter, "Domain behalf.example is Behalf's own public host.")

	for _, tc := range []struct {
		public, suffix string
		custom         []string
	}{
		{"https://behalf.example", "https://auth.example.com", nil},
		{"https://behalf.example", "auth.example.com:443", nil},
		{"https://behalf.example", "10.0.0.1", nil},
		{"https://behalf.example", "", []string{"login"}},
		{"https://behalf.example", "", []string{"login.example.org/path"}},
		{"https://behalf.example", "auth.example.com", []string{"x.auth.example.com"}},
		{"https://behalf.example", "", []string{"BEHALF.example"}},
		{"not a url", "auth.example.com", nil},
	} {
		svc := &userpool.Service{PublicURL: tc.public, DomainSuffix: tc.suffix, CustomDomains: tc.custom}
		if err := svc.CheckDomains(); err == nil {
			t.Errorf("CheckDomains(%q, %q, %q) = nil, want an error", tc.public, tc.suffix, tc.custom)
		}
	}
	if err := (&userpool.Service{PublicURL: "http://127.0.0.1:8600"}).CheckDomains(); err != nil {
		t.Errorf("CheckDomains without domains: %v", err)
	}
}

// Ensure ResolveHost names a pool only for a Host that is exactly (up to
// case) a served domain a pool has, with the public URL's port, and builds
// the base URL from the configuration, never the Host's text.
func TestResolveHost(t *testing.T) {
	e := domainEnv(t) // https://behalf.example
	p := e.pool(t)
	for _, in := range []behalf.UserPoolDomainInput{prefixInput(p.ID, "my-app"), customInput(p.ID, "login.example.org")} {
		if _, err := e.svc.CreateUserPoolDomain(e.ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct{ host, pool, base string }{
		{"my-app.auth.example.com", p.ID, "https://my-app.auth.example.com"},
		{"MY-APP.Auth.Example.COM", p.ID, "https://my-app.auth.example.com"},
		{"my-app.auth.example.com:443", p.ID, "https://my-app.auth.example.com"},
		{"login.example.org", p.ID, "https://login.example.org"},
		{"Login.Example.Org:443", p.ID, "https://login.example.org"},
		{"my-app.auth.example.com:8443", "", ""},     // another port
		{"my-app.auth.example.com.", "", ""},         // trailing dot
		{"x.my-app.auth.example.com", "", ""},        // two labels
		{"other.auth.example.com", "", ""},           // no pool has it
		{"auth.example.com", "", ""},                 // the suffix itself
		{"my-app.auth.example.com.evil.net", "", ""}, // not under the suffix
		{"spare.example.org", "", ""},                // allowed, but no pool has it
		{"my-app", "", ""},
		{"behalf.example", "", ""},
		{"[::1]:443", "", ""},
		{"", "", ""},
	}
	for _, tc := range cases {
		pool, base, err := e.svc.ResolveHost(e.ctx, tc.host)
		if err != nil || pool != tc.pool || base != tc.base {
			t.Errorf("ResolveHost(%q) = %q, %q, %v; want %q, %q", tc.host, pool, base, err, tc.pool, tc.base)
		}
	}

	// The same database, restarted with the public URL on port 8600 and
	// without the custom domain: the prefix domain moves to that port,
	// the custom domain is no longer served, and Describe says so.
	r := e.replica(t)
	r.svc.PublicURL = "http://behalf.example:8600"
	r.svc.DomainSuffix = "auth.example.com"
	for host, want := range map[string]string{
		"my-app.auth.example.com:8600": "http://my-app.auth.example.com:8600",
		"my-app.auth.example.com":      "",
		"login.example.org:8600":       "",
	} {
		if _, base, err := r.svc.ResolveHost(r.ctx, host); err != nil || base != want {
			t.Errorf("after the restart, ResolveHost(%q) = %q, %v; want %q", host, base, err, want)
		}
	}
	d, err := r.svc.DescribeUserPoolDomain(r.ctx, "login.example.org")
	if err != nil || d.URL != "" {
		t.Fatalf("a custom domain no longer allowed: %+v, %v; want no URL", d, err)
	}
}
