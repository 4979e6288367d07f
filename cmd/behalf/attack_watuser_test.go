package main

// Attack tests of issue 11, Security 5 (WATs that outlive their pool
// user's standing), on the harness of attack_test.go.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	dptypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore/types"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/behalf-dev/behalf/agentruntime"
	"github.com/behalf-dev/behalf/userpool"
)

// ---------------------------------------------------------------------
// Issue 11, Security 5: a WAT minted before its pool user was disabled or
// signed out keeps fetching their tokens for its remaining hour.

func TestAttackWATOutlivesPoolUser(t *testing.T) { runAttackOnBackends(t, attackWATOutlivesPoolUser) }

func attackWATOutlivesPoolUser(t *testing.T, e *attackEnv) {
	ctx, root := context.Background(), e.f.dp
	cog := e.s.cognito(t)
	pool := newPoolFixture(t, ctx, cog, "wat-users")
	pool.createUser(t, ctx, cog, "alice", "Corr3ct-Horse!")
	pool.createUser(t, ctx, cog, "bob", "Batt3ry-Staple!")
	signIn := func(user, password string) string {
		t.Helper()
		tok := aws.ToString(mustTokens(t)(pool.signIn(ctx, cog, user, password)).AccessToken)
		e.keep("pool access token", tok)
		return tok
	}
	forJWT := func(userToken string) string {
		t.Helper()
		out, err := root.GetWorkloadAccessTokenForJWT(ctx, &dp.GetWorkloadAccessTokenForJWTInput{WorkloadName: aws.String("drive-agent"), UserToken: aws.String(userToken)})
		if err != nil {
			t.Fatalf("GetWorkloadAccessTokenForJWT: %v", err)
		}
		tok := aws.ToString(out.WorkloadAccessToken)
		e.keep("workload access token", tok)
		return tok
	}
	fetch := func(wat string) error {
		out, err := root.GetResourceOauth2Token(ctx, e.f.tokenRequest(wat, ""))
		if err == nil {
			e.keep("provider access token", aws.ToString(out.AccessToken))
		}
		return err
	}
	refused := func(t *testing.T, what, wat string) {
		t.Helper()
		err := within(t, userpool.TokenUserCacheTTL, what, func() error { return fetch(wat) })
		ue := atkAs[*dptypes.UnauthorizedException](t, err, what)
		if want := "The workload access token was refused: The token's user is disabled, deleted or signed out."; aws.ToString(ue.Message) != want {
			t.Errorf("message %q, want %q", aws.ToString(ue.Message), want)
		}
	}

	// Alice's Drive token enters the vault through a WAT minted from her
	// pool access token; the app binds the session with her own token.
	alice := signIn("alice", "Corr3ct-Horse!")
	wat := forJWT(alice)
	authURL, sessionURI := e.start(t, root, wat)
	cb := e.toCallback(t, authURL)
	if status, loc, _, body := e.get(t, cb.String()); status != http.StatusFound || !strings.HasPrefix(loc, e.f.appURL+"?") {
		t.Fatalf("callback: %d Location=%q %.200q, want 302 to the app", status, loc, body)
	}
	if _, err := root.CompleteResourceTokenAuth(ctx, &dp.CompleteResourceTokenAuthInput{
		SessionUri: aws.String(sessionURI), UserIdentifier: &dptypes.UserIdentifierMemberUserToken{Value: alice},
	}); err != nil {
		t.Fatalf("CompleteResourceTokenAuth as alice: %v", err)
	}
	if out := e.poll(t, root, wat, sessionURI); out.AccessToken == nil {
		t.Fatalf("poll = %+v, want alice's token", out)
	}
	if e.vaultToken(t, root, wat) == "" {
		t.Fatal("alice's WAT gets no token from the vault")
	}
	bobWAT := forJWT(signIn("bob", "Batt3ry-Staple!"))

	// A runtime with the pool as its authorizer hands its agent a WAT
	// minted from alice's bearer token.
	runtimeWAT := make(chan string, 4)
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		runtimeWAT <- r.Header.Get(agentruntime.HeaderWAT)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(agent.Close)
	rtOut, err := e.f.ctl.CreateAgentRuntime(ctx, &ctl.CreateAgentRuntimeInput{
		AgentRuntimeName:     aws.String("wat_user_rt"),
		AgentRuntimeArtifact: containerArtifact(agent.URL),
		RoleArn:              aws.String("arn:aws:iam::123456789012:role/agent"),
		NetworkConfiguration: &types.NetworkConfiguration{NetworkMode: types.NetworkModePublic},
		AuthorizerConfiguration: &types.AuthorizerConfigurationMemberCustomJWTAuthorizer{Value: types.CustomJWTAuthorizerConfiguration{
			DiscoveryUrl: aws.String(e.s.URL + "/" + pool.poolID + "/.well-known/openid-configuration"), AllowedClients: []string{pool.clientID},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rtWorkload := workloadName(t, rtOut.WorkloadIdentityDetails)
	if _, err := e.f.ctl.UpdateWorkloadIdentity(ctx, &ctl.UpdateWorkloadIdentityInput{
		Name: aws.String(rtWorkload), AllowedResourceOauth2ReturnUrls: []string{e.f.appURL},
	}); err != nil {
		t.Fatal(err)
	}
	invoke := func(bearer string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, invokeURL(e.s.URL, aws.ToString(rtOut.AgentRuntimeArn), "DEFAULT"), strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+bearer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("invoke: %d %s", resp.StatusCode, b)
		}
		tok := <-runtimeWAT
		e.keep("workload access token", tok)
		return tok
	}
	rtWAT := invoke(alice)
	if err := fetch(rtWAT); err != nil {
		t.Fatalf("the runtime's WAT for alice: %v", err)
	}

	t.Run("SignedOut", func(t *testing.T) {
		if _, err := cog.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: aws.String(alice)}); err != nil {
			t.Fatal(err)
		}
		// At once (likely in the same second), alice signs in again: her
		// new token is issued after the sign-out, to the microsecond.
		again := signIn("alice", "Corr3ct-Horse!")
		fresh := forJWT(again)
		refused(t, "a WAT minted before its user signed out", wat)
		refused(t, "a runtime's WAT minted before its user signed out", rtWAT)
		if e.vaultToken(t, root, fresh) == "" {
			t.Fatal("the WAT of alice's new sign-in gets no token from the vault")
		}
		if err := fetch(bobWAT); err != nil {
			t.Fatalf("bob's WAT after alice signed out: %v", err)
		}
		alice = again
	})
	t.Run("Disabled", func(t *testing.T) {
		wat := forJWT(alice)
		if err := fetch(wat); err != nil {
			t.Fatal(err)
		}
		if _, err := cog.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: aws.String(pool.poolID), Username: aws.String("alice")}); err != nil {
			t.Fatal(err)
		}
		refused(t, "a WAT of a disabled user", wat)
		// Enabled again, her earlier tokens stay refused (disabling signed
		// her out); a new sign-in works.
		if _, err := cog.AdminEnableUser(ctx, &cip.AdminEnableUserInput{UserPoolId: aws.String(pool.poolID), Username: aws.String("alice")}); err != nil {
			t.Fatal(err)
		}
		var ue *dptypes.UnauthorizedException
		if err := fetch(wat); !errors.As(err, &ue) {
			t.Fatalf("the WAT of a user disabled then enabled: %v, want UnauthorizedException", err)
		}
		again := signIn("alice", "Corr3ct-Horse!")
		// Minting sees her enabled again within the same bound.
		deadline := time.Now().Add(userpool.TokenUserCacheTTL + time.Second)
		for {
			out, err := root.GetWorkloadAccessTokenForJWT(ctx, &dp.GetWorkloadAccessTokenForJWTInput{WorkloadName: aws.String("drive-agent"), UserToken: aws.String(again)})
			if err == nil {
				e.keep("workload access token", aws.ToString(out.WorkloadAccessToken))
				if e.vaultToken(t, root, aws.ToString(out.WorkloadAccessToken)) == "" {
					t.Fatal("alice's new sign-in gets no token")
				}
				alice = again
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("alice's sign-in after she was enabled again: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	t.Run("Deleted", func(t *testing.T) {
		wat := forJWT(alice)
		if _, err := cog.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: aws.String(pool.poolID), Username: aws.String("alice")}); err != nil {
			t.Fatal(err)
		}
		refused(t, "a WAT of a deleted user", wat)
	})
}
