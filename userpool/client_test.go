package userpool_test

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

var (
	clientIDShape     = regexp.MustCompile(`^[0-9a-z]{26}$`)
	clientSecretShape = regexp.MustCompile(`^[0-9a-z]{51}$`)
)

func TestClientCRUD(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	c, secret, err := e.svc.CreateUserPoolClient(e.ctx, behalf.UserPoolClientInput{
		PoolID: p.ID, Name: "web", GenerateSecret: true,
		AllowedOAuthFlows: []string{"code"}, AllowedOAuthScopes: []string{"openid", "email"},
		AllowedOAuthFlowsUserPoolClient: true, CallbackURLs: []string{"https://app.example/cb", "http://localhost:3000/cb", "myapp://cb"},
		SupportedIdentityProviders: []string{"COGNITO"},
		AccessTokenValidity:        30, TokenValidityUnits: behalf.TokenValidityUnits{AccessToken: "minutes"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !clientIDShape.MatchString(c.ID) || !clientSecretShape.MatchString(secret.Reveal()) {
		t.Fatalf("client id %q / secret of %d chars do not have Cognito's shapes", c.ID, len(secret.Reveal()))
	}
	if c.AccessTokenValidity != 30*time.Minute || c.IDTokenValidity != time.Hour || c.RefreshTokenValidity != 30*24*time.Hour {
		t.Errorf("validities %v %v %v", c.AccessTokenValidity, c.IDTokenValidity, c.RefreshTokenValidity)
	}
	if !c.EnableTokenRevocation {
		t.Error("EnableTokenRevocation defaults to false")
	}
	if !slices.Equal(c.ExplicitAuthFlows, []string{"ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"}) {
		t.Errorf("default ExplicitAuthFlows = %v", c.ExplicitAuthFlows)
	}

	got, gotSecret, err := e.svc.DescribeUserPoolClient(e.ctx, p.ID, c.ID)
	if err != nil || got.Name != "web" || gotSecret != secret {
		t.Fatalf("DescribeUserPoolClient = %+v, secret equal %v, %v", got, gotSecret == secret, err)
	}

	off := false
	up, upSecret, err := e.svc.UpdateUserPoolClient(e.ctx, behalf.UserPoolClientInput{
		PoolID: p.ID, ClientID: c.ID, Name: "web2", EnableTokenRevocation: &off,
		ExplicitAuthFlows: []string{behalf.AllowUserPasswordAuth},
	})
	if err != nil {
		t.Fatal(err)
	}
	if up.Name != "web2" || up.EnableTokenRevocation || len(up.CallbackURLs) != 0 || upSecret != secret {
		t.Errorf("update did not replace settings or lost the secret: %+v", up)
	}

	public, noSecret, err := e.svc.CreateUserPoolClient(e.ctx, behalf.UserPoolClientInput{PoolID: p.ID, Name: "cli"})
	if err != nil || !noSecret.IsZero() || len(public.Secret) != 0 {
		t.Fatalf("public client: %v, secret %v", err, !noSecret.IsZero())
	}
	list, next, err := e.svc.ListUserPoolClients(e.ctx, p.ID, behalf.PageRequest{})
	if err != nil || len(list) != 2 || next != "" {
		t.Fatalf("ListUserPoolClients = %d, %q, %v", len(list), next, err)
	}

	other := e.pool(t)
	_, _, err = e.svc.DescribeUserPoolClient(e.ctx, other.ID, c.ID)
	wantCognito(t, err, behalf.CognitoResourceNotFound, "User pool client "+c.ID+" does not exist.")

	if err := e.svc.DeleteUserPoolClient(e.ctx, p.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.svc.DescribeUserPoolClient(e.ctx, p.ID, c.ID)
	wantCognito(t, err, behalf.CognitoResourceNotFound, "")
}

func TestClientValidation(t *testing.T) {
	e := newEnv(t)
	p := e.pool(t)
	base := behalf.UserPoolClientInput{PoolID: p.ID, Name: "app"}
	cases := map[string]func(in *behalf.UserPoolClientInput){
		"no name":      func(in *behalf.UserPoolClientInput) { in.Name = "" },
		"unknown flow": func(in *behalf.UserPoolClientInput) { in.ExplicitAuthFlows = []string{"ALLOW_EVERYTHING"} },
		"legacy mixed": func(in *behalf.UserPoolClientInput) {
			in.ExplicitAuthFlows = []string{"USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
		},
		"client_credentials public": func(in *behalf.UserPoolClientInput) {
			in.AllowedOAuthFlows = []string{"client_credentials"}
			in.AllowedOAuthScopes = []string{"api/read"}
		},
		"client_credentials mixed": func(in *behalf.UserPoolClientInput) {
			in.GenerateSecret = true
			in.AllowedOAuthFlows = []string{"client_credentials", "code"}
		},
		"http callback":     func(in *behalf.UserPoolClientInput) { in.CallbackURLs = []string{"http://app.example/cb"} },
		"fragment callback": func(in *behalf.UserPoolClientInput) { in.CallbackURLs = []string{"https://app.example/cb#x"} },
		"relative callback": func(in *behalf.UserPoolClientInput) { in.CallbackURLs = []string{"/cb"} },
		"javascript logout": func(in *behalf.UserPoolClientInput) { in.LogoutURLs = []string{"javascript:alert(1)"} },
		"access too short": func(in *behalf.UserPoolClientInput) {
			in.AccessTokenValidity = 1
			in.TokenValidityUnits.AccessToken = "minutes"
		},
		"access too long":  func(in *behalf.UserPoolClientInput) { in.AccessTokenValidity = 25 },
		"refresh too long": func(in *behalf.UserPoolClientInput) { in.RefreshTokenValidity = 3651 },
		"bad unit": func(in *behalf.UserPoolClientInput) {
			in.AccessTokenValidity = 1
			in.TokenValidityUnits.AccessToken = "weeks"
		},
		"oauth no scopes": func(in *behalf.UserPoolClientInput) {
			in.AllowedOAuthFlowsUserPoolClient = true
			in.AllowedOAuthFlows = []string{"code"}
		},
		"code no callback": func(in *behalf.UserPoolClientInput) {
			in.AllowedOAuthFlowsUserPoolClient = true
			in.AllowedOAuthFlows = []string{"code"}
			in.AllowedOAuthScopes = []string{"openid"}
		},
		"other idp": func(in *behalf.UserPoolClientInput) { in.SupportedIdentityProviders = []string{"Google"} },
	}
	for name, edit := range cases {
		in := base
		edit(&in)
		_, _, err := e.svc.CreateUserPoolClient(e.ctx, in)
		if behalf.CognitoException(err) != behalf.CognitoInvalidParameter {
			t.Errorf("%s: err = %v, want InvalidParameterException", name, err)
		}
	}
	_, _, err := e.svc.CreateUserPoolClient(e.ctx, behalf.UserPoolClientInput{PoolID: "us-east-1_nothere12", Name: "x"})
	wantCognito(t, err, behalf.CognitoResourceNotFound, "")

	cc := base
	cc.GenerateSecret = true
	cc.AllowedOAuthFlows = []string{"client_credentials"}
	cc.AllowedOAuthScopes = []string{"api/read"}
	e.resourceServer(t, p.ID, "api", "read")
	if _, _, err := e.svc.CreateUserPoolClient(e.ctx, cc); err != nil {
		t.Errorf("client_credentials with secret: %v", err)
	}
}
