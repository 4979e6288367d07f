package identity

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/realidp"
	"github.com/behalf-dev/behalf/oauth"
)

// jwtUsers is a UserVerifier that knows the given tokens (real JWTs of the
// OP under test, whose verification is not what these tests are about);
// each expires an hour after the harness clock's time of verification.
type jwtUsers struct {
	mu     sync.Mutex
	tokens map[string]behalf.User
	clock  *testClock
}

func (j *jwtUsers) VerifyUserToken(ctx context.Context, token string) (UserToken, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	u, ok := j.tokens[token]
	if !ok {
		return UserToken{}, behalf.Errorf(behalf.EUNAUTHORIZED, "The user token is invalid.")
	}
	return UserToken{User: u, Expiry: j.clock.Now().Add(time.Hour)}, nil
}

func (j *jwtUsers) VerifyUser(ctx context.Context, token string) (behalf.User, time.Time, error) {
	u, err := j.VerifyUserToken(ctx, token)
	return u.User, u.Expiry, err
}

func (j *jwtUsers) CheckUser(context.Context, behalf.User, time.Time) error { return nil }

// oboHarness is the harness with zitadel/oidc's example OP as provider
// "zitadel" (client cid), configured for on-behalf-of token exchange, and
// the OP's test user's ID token as a trusted user JWT.
type oboHarness struct {
	*harness
	idp     *realidp.Server
	p       *behalf.OAuth2Provider
	idToken string
	user    behalf.User
}

func newOBOHarness(t *testing.T) *oboHarness {
	t.Helper()
	ctx := context.Background()
	idp := realidp.Start(t)
	h := newHarness(t)
	md, err := oauth.Discover(ctx, h.cfg.HTTPClient, idp.DiscoveryURL)
	if err != nil {
		t.Fatal(err)
	}
	h.addProvider("zitadel", md)
	idp.RegisterClient("cid", "csecret", "http://behalf.test/unused")
	p, err := h.db.UpdateOAuth2Provider(ctx, "zitadel", func(p *behalf.OAuth2Provider) error {
		p.OnBehalfOf = &behalf.OnBehalfOfConfig{GrantType: behalf.OBOTokenExchange}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	idToken, err := idp.IDToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	user := behalf.User{Issuer: idp.Issuer, Subject: "test-user"}
	users := &jwtUsers{tokens: map[string]behalf.User{idToken: user}, clock: h.clock}
	h.rebuild(func(c *Config) { c.Users = users })
	return &oboHarness{harness: h, idp: idp, p: p, idToken: idToken, user: user}
}

// exchange asks for the zitadel token of wat's user with params.
func (o *oboHarness) exchange(wat behalf.Secret, params map[string]string, scopes ...string) behalf.Secret {
	o.t.Helper()
	res, err := o.dp.ResourceOAuth2Token(o.root, behalf.TokenRequest{
		WorkloadToken: wat, Provider: "zitadel", Flow: behalf.FlowOnBehalfOf, Scopes: scopes, CustomParameters: params,
	})
	if err != nil {
		o.t.Fatalf("on-behalf-of token: %v", err)
	}
	if res.AccessToken.IsZero() || res.AuthorizationURL != "" {
		o.t.Fatalf("on-behalf-of answer %+v", res)
	}
	return res.AccessToken
}

// Ensure an on-behalf-of result is vaulted as a grant of its own (beside,
// never instead of, the consent grant), served from the vault while
// fresh, refreshed through the store's refresh lease like any grant when
// it has a refresh token, exchanged again when it has none and expired,
// and that the user's JWT behind the WAT is swept once the WAT expired.
func TestOnBehalfOfVaultedAndRefreshed(t *testing.T) {
	o := newOBOHarness(t)
	ctx := context.Background()
	wat, err := o.dp.WorkloadAccessTokenForJWT(o.root, testWorkload, behalf.Secret(o.idToken))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(wat.Reveal(), o.idToken) {
		t.Fatal("the WAT carries the user's JWT")
	}

	// With a refresh token (the example OP takes its JWTs as access tokens
	// and gives refresh tokens for them).
	refreshable := map[string]string{"subject_token_type": oauth.TokenTypeAccessToken, "requested_token_type": oauth.TokenTypeRefreshToken}
	a := o.exchange(wat, refreshable, "openid", "profile")
	if again := o.exchange(wat, refreshable, "profile", "openid"); again != a {
		t.Fatal("the same request did not answer from the vault")
	}
	key := exchangeKey(behalf.TokenRequest{Scopes: []string{"openid", "profile"}, CustomParameters: refreshable})
	g, err := o.db.GetExchangeGrant(ctx, testWorkload, o.user.Key(), o.p.ID, key)
	if err != nil {
		t.Fatal(err)
	}
	if !g.HasRefresh || g.ExpiresAt.IsZero() || !strings.HasPrefix(g.Exchange, "obo:") {
		t.Fatalf("vaulted exchange grant %+v", g)
	}
	if _, err := o.db.GetGrant(ctx, testWorkload, o.user.Key(), o.p.ID); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("the exchange made a consent grant: %v", err)
	}

	o.clock.Advance(g.ExpiresAt.Sub(o.clock.Now()) - StaleMargin/2) // stale, not expired
	b := o.exchange(wat, refreshable, "openid", "profile")
	if b == a {
		t.Fatal("a stale exchange grant was not refreshed")
	}
	g2, err := o.db.GetExchangeGrant(ctx, testWorkload, o.user.Key(), o.p.ID, key)
	if err != nil || g2.ID != g.ID || !g2.RefreshedAt.After(g.RefreshedAt) {
		t.Fatalf("after the refresh: %+v %v", g2, err)
	}

	// Without a refresh token: exchanged again once expired.
	plain := map[string]string{"subject_token_type": oauth.TokenTypeAccessToken}
	c := o.exchange(wat, plain, "openid")
	key = exchangeKey(behalf.TokenRequest{Scopes: []string{"openid"}, CustomParameters: plain})
	gc, err := o.db.GetExchangeGrant(ctx, testWorkload, o.user.Key(), o.p.ID, key)
	if err != nil || gc.HasRefresh {
		t.Fatalf("grant without refresh: %+v %v", gc, err)
	}
	o.clock.Advance(gc.ExpiresAt.Sub(o.clock.Now()) + time.Second)
	if d := o.exchange(wat, plain, "openid"); d == c {
		t.Fatal("an expired exchange grant was served")
	}

	// The user's JWT is kept while the WAT lives, and swept after.
	claims, err := o.dp.WATs().VerifyWAT(o.root, wat)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := o.dp.WATs().SubjectToken(ctx, claims.SubjectRef); err != nil || tok.Reveal() != o.idToken {
		t.Fatalf("subject token: %v", err)
	}
	o.clock.Advance(2 * time.Hour)
	if n, err := o.dp.WATs().SweepSubjectTokens(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if _, err := o.dp.WATs().SubjectToken(ctx, claims.SubjectRef); behalf.ErrorCode(err) != behalf.EINVALID {
		t.Fatalf("subject token after the sweep: %v", err)
	}
}

// Ensure actorTokenContent M2M sends the workload's own client-credentials
// token of the provider as the actor token, and that the OP (which checks
// it) accepts the exchange; the example OP's service user sid1 is both a
// client-credentials client and, registered here, a token-exchange client.
func TestOnBehalfOfM2MActor(t *testing.T) {
	o := newOBOHarness(t)
	ctx := context.Background()
	o.idp.RegisterClient("sid1", "verysecret", "http://behalf.test/unused")
	sealed, err := o.cfg.Sealer.Seal(ctx, behalf.SealContext{Kind: providerSealKind, Key: o.p.ID, Field: "client_secret"}, []byte("verysecret"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.db.UpdateOAuth2Provider(ctx, "zitadel", func(p *behalf.OAuth2Provider) error {
		p.ClientID, p.ClientSecret = "sid1", sealed
		p.OnBehalfOf = &behalf.OnBehalfOfConfig{GrantType: behalf.OBOTokenExchange, ActorTokenContent: behalf.ActorM2M, ActorTokenScopes: []string{"openid"}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rec := &formRecorder{next: o.cfg.HTTPClient.Transport}
	o.rebuild(func(c *Config) { // no cached provider; token requests recorded
		hc := *c.HTTPClient
		hc.Transport = rec
		c.HTTPClient = &hc
	})
	wat, err := o.dp.WorkloadAccessTokenForJWT(o.root, testWorkload, behalf.Secret(o.idToken))
	if err != nil {
		t.Fatal(err)
	}
	tok := o.exchange(wat, map[string]string{"subject_token_type": oauth.TokenTypeAccessToken}, "openid")
	if tok.IsZero() {
		t.Fatal("no token")
	}
	forms := rec.all()
	if len(forms) != 2 || forms[0].Get("grant_type") != "client_credentials" || forms[0].Get("scope") != "openid" ||
		forms[1].Get("grant_type") != oauth.GrantTypeTokenExchange || forms[1].Get("actor_token") == "" ||
		forms[1].Get("actor_token_type") != oauth.TokenTypeAccessToken {
		t.Fatalf("token requests %v, want client credentials then an exchange with its token as the actor", forms)
	}
	// The actor token came from the M2M cache: a second request with
	// other scopes exchanges again with the same actor.
	if again := o.exchange(wat, map[string]string{"subject_token_type": oauth.TokenTypeAccessToken}, "profile"); again == tok {
		t.Fatal("another request answered with the same token")
	}
	if forms = rec.all(); len(forms) != 3 || forms[2].Get("actor_token") != forms[1].Get("actor_token") {
		t.Fatalf("the actor token was not reused from the M2M cache: %d requests", len(forms))
	}
}

// formRecorder records the forms of the POST requests through it.
type formRecorder struct {
	mu    sync.Mutex
	forms []url.Values
	next  http.RoundTripper
}

func (r *formRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && req.GetBody != nil {
		if body, err := req.GetBody(); err == nil {
			b, _ := io.ReadAll(body)
			form, _ := url.ParseQuery(string(b))
			r.mu.Lock()
			r.forms = append(r.forms, form)
			r.mu.Unlock()
		}
	}
	next := r.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(req)
}

func (r *formRecorder) all() []url.Values {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.forms)
}

// Ensure a WAT the agent-runtime gateway mints from a user's bearer JWT
// can exchange it on behalf of the user, as one from
// GetWorkloadAccessTokenForJWT can; one minted for a user id cannot.
func TestOnBehalfOfRuntimeWAT(t *testing.T) {
	o := newOBOHarness(t)
	wat, _, err := o.dp.WATs().MintForRuntime(context.Background(), testWorkload, o.user, behalf.Secret(o.idToken), o.clock.Now().Add(time.Hour), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	o.exchange(wat, map[string]string{"subject_token_type": oauth.TokenTypeAccessToken}, "openid")

	byID, _, err := o.dp.WATs().MintForRuntime(context.Background(), testWorkload, behalf.User{Subject: "alice"}, "", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.dp.ResourceOAuth2Token(o.root, behalf.TokenRequest{
		WorkloadToken: byID, Provider: "zitadel", Flow: behalf.FlowOnBehalfOf, Scopes: []string{"openid"},
	})
	if behalf.ErrorCode(err) != behalf.EINVALID || behalf.ErrorField(err) != "workloadIdentityToken" {
		t.Fatalf("a WAT for a user id: %v", err)
	}
}
