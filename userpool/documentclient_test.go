package userpool_test

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// Ensure a client ID metadata document's app client is created once per
// pool and URL, under an id of a generated client's shape, updated when
// the document changes, distinct in another pool, and refused as
// anything but a public, dynamically registered client.
func TestPutDocumentClient(t *testing.T) {
	e := newEnv(t)
	p1, p2 := e.pool(t), e.pool(t)
	const url = "https://app.example.com/client.json"
	in := func(poolID string, callbacks ...string) behalf.UserPoolClientInput {
		return behalf.UserPoolClientInput{PoolID: poolID, Name: "Notes", DynamicallyRegistered: true,
			ExplicitAuthFlows: []string{behalf.AllowRefreshTokenAuth}, AllowedOAuthFlows: []string{"code"},
			AllowedOAuthScopes: []string{"openid"}, AllowedOAuthFlowsUserPoolClient: true, CallbackURLs: callbacks,
			SupportedIdentityProviders: []string{"COGNITO"}, RotateRefreshTokens: true}
	}
	c, err := e.svc.PutDocumentClient(e.ctx, url, in(p1.ID, "http://127.0.0.1:3000/cb"))
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != e.svc.DocumentClientID(p1.ID, url) || !regexp.MustCompile(`^[a-z0-9]{26}$`).MatchString(c.ID) || !c.DynamicallyRegistered {
		t.Fatalf("client %+v", c)
	}
	again, err := e.svc.PutDocumentClient(e.ctx, url, in(p1.ID, "http://127.0.0.1:3000/cb"))
	if err != nil || again.ID != c.ID || !again.UpdatedAt.Equal(c.UpdatedAt) {
		t.Fatalf("again: %+v %v", again, err)
	}
	e.clock.Add(time.Second)
	changed, err := e.svc.PutDocumentClient(e.ctx, url, in(p1.ID, "http://127.0.0.1:4000/cb"))
	if err != nil || changed.ID != c.ID || !slices.Equal(changed.CallbackURLs, []string{"http://127.0.0.1:4000/cb"}) {
		t.Fatalf("changed: %+v %v", changed, err)
	}
	got, _, err := e.svc.DescribeUserPoolClient(e.ctx, p1.ID, c.ID)
	if err != nil || !slices.Equal(got.CallbackURLs, changed.CallbackURLs) || !got.DynamicallyRegistered {
		t.Fatalf("stored: %+v %v", got, err)
	}
	other, err := e.svc.PutDocumentClient(e.ctx, url, in(p2.ID, "http://127.0.0.1:3000/cb"))
	if err != nil || other.ID == c.ID || other.PoolID != p2.ID {
		t.Fatalf("other pool: %+v %v", other, err)
	}
	confidential := in(p1.ID, "http://127.0.0.1:3000/cb")
	confidential.GenerateSecret = true
	notRegistered := in(p1.ID, "http://127.0.0.1:3000/cb")
	notRegistered.DynamicallyRegistered = false
	noCallbacks := in(p1.ID)
	for name, bad := range map[string]behalf.UserPoolClientInput{"secret": confidential, "not registered": notRegistered, "no callbacks": noCallbacks} {
		if _, err := e.svc.PutDocumentClient(e.ctx, url+"/"+name, bad); behalf.CognitoException(err) != behalf.CognitoInvalidParameter {
			t.Errorf("%s: %v, want InvalidParameterException", name, err)
		}
	}
}
