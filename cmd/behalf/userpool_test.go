package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// cognito returns the official cognito-idp client for s, signing with the
// root key and recording every response body into s.Captured.
func (s *testServer) cognito(t *testing.T) *cip.Client {
	return s.cognitoWith(t, s.KeyID, s.Secret)
}

func (s *testServer) cognitoWith(t *testing.T, id, secret string) *cip.Client {
	t.Helper()
	return cip.New(cip.Options{
		BaseEndpoint:     aws.String(s.URL),
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(id, secret, ""),
		HTTPClient:       &http.Client{Transport: &capture{next: http.DefaultTransport, into: s.Captured}},
		RetryMaxAttempts: 1,
	})
}

// secretHash is Cognito's SECRET_HASH: Base64(HMAC-SHA256(secret, username + clientId)).
func secretHash(secret, username, clientID string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(username + clientID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// wantAPIError checks that err is an API error whose code is want.
func wantAPIError(t *testing.T, err error, want string) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != want {
		t.Fatalf("err=%v, want %s", err, want)
	}
	return ae
}

// wantErrorAs checks that err is a typed SDK error of T's type and returns it.
func wantErrorAs[T error](t *testing.T, err error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("err=%v (%T), want %T", err, err, target)
	}
	return target
}

// cognitoPost sends a raw AWS JSON 1.1 request for op; signingName ""
// sends it unsigned.
func cognitoPost(t *testing.T, s *testServer, op string, body []byte, signingName string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("POST", s.URL+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if op != "" {
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService."+op)
	}
	if signingName != "" {
		sum := sha256.Sum256(body)
		creds := aws.Credentials{AccessKeyID: s.KeyID, SecretAccessKey: s.Secret}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), signingName, "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// wantCognitoError checks a raw response is a Cognito error of the given
// status and exception, and returns its message.
func wantCognitoError(t *testing.T, resp *http.Response, status int, exception string) string {
	t.Helper()
	if resp.StatusCode != status {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("status=%d body=%s, want %d %s", resp.StatusCode, b, status, exception)
	}
	typ, msg := awsError(t, resp)
	if typ != exception {
		t.Fatalf("__type=%q message=%q, want %s", typ, msg, exception)
	}
	if msg == "" || strings.Contains(msg, "behalf error") || strings.Contains(msg, "cognito error") {
		t.Fatalf("message %q is empty or a Go error string", msg)
	}
	return msg
}

// assertCleanResponses checks that no response the SDK received carried a
// Go error string or one of the given secrets.
func assertCleanResponses(t *testing.T, s *testServer, secrets ...string) {
	t.Helper()
	captured := s.Captured.String()
	for _, bad := range append([]string{"behalf error", "cognito error", "userpool:"}, secrets...) {
		if strings.Contains(captured, bad) {
			t.Fatalf("a response carries %q", bad)
		}
	}
}

// poolFixture creates a pool and a confidential client allowing password
// and refresh sign-in.
type poolFixture struct {
	poolID, clientID, clientSecret string
}

func newPoolFixture(t *testing.T, ctx context.Context, c *cip.Client, name string) poolFixture {
	t.Helper()
	pool, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	client, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: pool.UserPool.Id, ClientName: aws.String(name + "-app"), GenerateSecret: true,
		ExplicitAuthFlows: []types.ExplicitAuthFlowsType{
			types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowAdminUserPasswordAuth,
			types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return poolFixture{aws.ToString(pool.UserPool.Id), aws.ToString(client.UserPoolClient.ClientId), aws.ToString(client.UserPoolClient.ClientSecret)}
}

// createUser creates a user with a permanent password.
func (f poolFixture) createUser(t *testing.T, ctx context.Context, c *cip.Client, username, password string, attrs ...types.AttributeType) {
	t.Helper()
	if _, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(f.poolID), Username: aws.String(username), MessageAction: types.MessageActionTypeSuppress,
		TemporaryPassword: aws.String("Temp-" + password), UserAttributes: attrs,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String(f.poolID), Username: aws.String(username), Password: aws.String(password), Permanent: true,
	}); err != nil {
		t.Fatal(err)
	}
}

// signIn runs USER_PASSWORD_AUTH with SECRET_HASH.
func (f poolFixture) signIn(ctx context.Context, c *cip.Client, username, password string) (*cip.InitiateAuthOutput, error) {
	return c.InitiateAuth(ctx, &cip.InitiateAuthInput{
		ClientId: aws.String(f.clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": username, "PASSWORD": password, "SECRET_HASH": secretHash(f.clientSecret, username, f.clientID)},
	})
}

// refresh runs REFRESH_TOKEN_AUTH; username is the one in SECRET_HASH.
func (f poolFixture) refresh(ctx context.Context, c *cip.Client, username, refreshToken string) (*cip.InitiateAuthOutput, error) {
	return c.InitiateAuth(ctx, &cip.InitiateAuthInput{
		ClientId: aws.String(f.clientID), AuthFlow: types.AuthFlowTypeRefreshTokenAuth,
		AuthParameters: map[string]string{"REFRESH_TOKEN": refreshToken, "SECRET_HASH": secretHash(f.clientSecret, username, f.clientID)},
	})
}

// mustTokens returns a function that checks an InitiateAuth result holds
// tokens: mustTokens(t)(f.signIn(...)).
func mustTokens(t *testing.T) func(*cip.InitiateAuthOutput, error) *types.AuthenticationResultType {
	return func(out *cip.InitiateAuthOutput, err error) *types.AuthenticationResultType {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if out.AuthenticationResult == nil || aws.ToString(out.AuthenticationResult.AccessToken) == "" {
			t.Fatalf("no tokens: challenge %q", out.ChallengeName)
		}
		return out.AuthenticationResult
	}
}

// Ensure pools and app clients round-trip through the official client with
// Cognito's shapes, list paging, and typed errors.
func TestUserPoolAdmin(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *testServer) {
		ctx, c := context.Background(), s.cognito(t)

		created, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{
			PoolName: aws.String("agents"),
			Policies: &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{
				MinimumLength: aws.Int32(10), RequireLowercase: true, RequireNumbers: true, TemporaryPasswordValidityDays: 3,
			}},
			UserPoolTags:       map[string]string{"team": "agents"},
			UsernameAttributes: nil,
			// Members Behalf does not model are ignored.
			AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		})
		if err != nil {
			t.Fatal(err)
		}
		p := created.UserPool
		poolID := aws.ToString(p.Id)
		if !strings.HasPrefix(poolID, "us-east-1_") || len(poolID) != len("us-east-1_")+9 {
			t.Fatalf("pool id %q", poolID)
		}
		if got, want := aws.ToString(p.Arn), "arn:aws:cognito-idp:us-east-1:000000000000:userpool/"+poolID; got != want {
			t.Fatalf("Arn=%s, want %s", got, want)
		}
		pp := p.Policies.PasswordPolicy
		if aws.ToString(p.Name) != "agents" || aws.ToInt32(pp.MinimumLength) != 10 || pp.RequireUppercase || !pp.RequireLowercase ||
			!pp.RequireNumbers || pp.RequireSymbols || pp.TemporaryPasswordValidityDays != 3 || p.MfaConfiguration != types.UserPoolMfaTypeOff {
			t.Fatalf("pool = %+v policy %+v", p, pp)
		}
		if p.CreationDate == nil || time.Since(*p.CreationDate) > time.Minute || p.LastModifiedDate == nil || p.UserPoolTags["team"] != "agents" {
			t.Fatalf("dates/tags: %v %v %v", p.CreationDate, p.LastModifiedDate, p.UserPoolTags)
		}
		if !slices.ContainsFunc(p.SchemaAttributes, func(a types.SchemaAttributeType) bool { return aws.ToString(a.Name) == "sub" }) {
			t.Fatal("schema lacks sub")
		}

		desc, err := c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(poolID)})
		if err != nil || aws.ToString(desc.UserPool.Name) != "agents" || aws.ToInt32(desc.UserPool.Policies.PasswordPolicy.MinimumLength) != 10 {
			t.Fatalf("describe: %v %+v", err, desc)
		}

		// UpdateUserPool replaces the policy; omitted means the default.
		if _, err := c.UpdateUserPool(ctx, &cip.UpdateUserPoolInput{UserPoolId: aws.String(poolID)}); err != nil {
			t.Fatal(err)
		}
		desc, err = c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(poolID)})
		if err != nil {
			t.Fatal(err)
		}
		if pp := desc.UserPool.Policies.PasswordPolicy; aws.ToInt32(pp.MinimumLength) != 8 || !pp.RequireSymbols || !pp.RequireUppercase {
			t.Fatalf("policy after update = %+v", pp)
		}

		// Settings Behalf does not implement are refused, not ignored.
		for name, in := range map[string]*cip.CreateUserPoolInput{
			"mfa":    {PoolName: aws.String("x"), MfaConfiguration: types.UserPoolMfaTypeOn},
			"alias":  {PoolName: aws.String("x"), AliasAttributes: []types.AliasAttributeType{types.AliasAttributeTypeEmail}},
			"case":   {PoolName: aws.String("x"), UsernameConfiguration: &types.UsernameConfigurationType{CaseSensitive: aws.Bool(false)}},
			"lambda": {PoolName: aws.String("x"), LambdaConfig: &types.LambdaConfigType{PreSignUp: aws.String("arn:aws:lambda:us-east-1:000000000000:function:f")}},
		} {
			_, err := c.CreateUserPool(ctx, in)
			ipe := wantErrorAs[*types.InvalidParameterException](t, err)
			if name != "mfa" && !strings.Contains(ipe.ErrorMessage(), "Behalf does not support") {
				t.Fatalf("%s: message %q", name, ipe.ErrorMessage())
			}
		}

		// Pools page by id.
		ids := []string{poolID}
		for i := range 4 {
			out, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String(fmt.Sprintf("pool-%d", i))})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, aws.ToString(out.UserPool.Id))
		}
		var listed []string
		pages := 0
		pg := cip.NewListUserPoolsPaginator(c, &cip.ListUserPoolsInput{MaxResults: aws.Int32(2)})
		for pg.HasMorePages() {
			page, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, p := range page.UserPools {
				if p.CreationDate == nil {
					t.Fatalf("list item without CreationDate: %+v", p)
				}
				listed = append(listed, aws.ToString(p.Id))
			}
		}
		slices.Sort(ids)
		if pages != 3 || !slices.Equal(listed, ids) {
			t.Fatalf("pages=%d listed=%v, want 3 pages of %v", pages, listed, ids)
		}
		_, err = c.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(61)})
		wantErrorAs[*types.InvalidParameterException](t, err)

		// A confidential client: DescribeUserPoolClient returns the secret.
		cc, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
			UserPoolId: aws.String(poolID), ClientName: aws.String("backend"), GenerateSecret: true,
			ExplicitAuthFlows:   []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
			AccessTokenValidity: aws.Int32(30), RefreshTokenValidity: 7,
			TokenValidityUnits: &types.TokenValidityUnitsType{AccessToken: types.TimeUnitsTypeMinutes},
		})
		if err != nil {
			t.Fatal(err)
		}
		client := cc.UserPoolClient
		clientID, secret := aws.ToString(client.ClientId), aws.ToString(client.ClientSecret)
		if len(clientID) != 26 || len(secret) < 40 || aws.ToString(client.UserPoolId) != poolID {
			t.Fatalf("client id %q secret length %d", clientID, len(secret))
		}
		if aws.ToInt32(client.AccessTokenValidity) != 30 || client.TokenValidityUnits.AccessToken != types.TimeUnitsTypeMinutes ||
			client.RefreshTokenValidity != 7 || client.TokenValidityUnits.RefreshToken != types.TimeUnitsTypeDays ||
			aws.ToInt32(client.IdTokenValidity) != 1 || client.TokenValidityUnits.IdToken != types.TimeUnitsTypeHours ||
			!aws.ToBool(client.EnableTokenRevocation) || client.CreationDate == nil {
			t.Fatalf("client = %+v units %+v", client, client.TokenValidityUnits)
		}
		dc, err := c.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(poolID), ClientId: aws.String(clientID)})
		if err != nil || aws.ToString(dc.UserPoolClient.ClientSecret) != secret {
			t.Fatalf("describe client: %v, secret returned=%v", err, dc != nil && aws.ToString(dc.UserPoolClient.ClientSecret) == secret)
		}

		// A public client has no secret and Cognito's default flows.
		pc, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(poolID), ClientName: aws.String("spa")})
		if err != nil {
			t.Fatal(err)
		}
		if pc.UserPoolClient.ClientSecret != nil || !slices.Contains(pc.UserPoolClient.ExplicitAuthFlows, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth) {
			t.Fatalf("public client = %+v", pc.UserPoolClient)
		}
		_, err = c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(poolID), ClientName: aws.String("x"), ClientSecret: aws.String("mine")})
		wantErrorAs[*types.InvalidParameterException](t, err)

		up, err := c.UpdateUserPoolClient(ctx, &cip.UpdateUserPoolClientInput{
			UserPoolId: aws.String(poolID), ClientId: pc.UserPoolClient.ClientId, ClientName: aws.String("spa-2"),
			ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth},
		})
		if err != nil || aws.ToString(up.UserPoolClient.ClientName) != "spa-2" || !slices.Equal(up.UserPoolClient.ExplicitAuthFlows, []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth}) {
			t.Fatalf("update client: %v %+v", err, up)
		}

		lc, err := c.ListUserPoolClients(ctx, &cip.ListUserPoolClientsInput{UserPoolId: aws.String(poolID), MaxResults: aws.Int32(1)})
		if err != nil || len(lc.UserPoolClients) != 1 || lc.NextToken == nil {
			t.Fatalf("list clients page 1: %v %+v", err, lc)
		}
		lc2, err := c.ListUserPoolClients(ctx, &cip.ListUserPoolClientsInput{UserPoolId: aws.String(poolID), MaxResults: aws.Int32(1), NextToken: lc.NextToken})
		if err != nil || len(lc2.UserPoolClients) != 1 || lc2.NextToken != nil || aws.ToString(lc2.UserPoolClients[0].ClientId) == aws.ToString(lc.UserPoolClients[0].ClientId) {
			t.Fatalf("list clients page 2: %v %+v", err, lc2)
		}

		if _, err := c.DeleteUserPoolClient(ctx, &cip.DeleteUserPoolClientInput{UserPoolId: aws.String(poolID), ClientId: pc.UserPoolClient.ClientId}); err != nil {
			t.Fatal(err)
		}
		_, err = c.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(poolID), ClientId: pc.UserPoolClient.ClientId})
		wantErrorAs[*types.ResourceNotFoundException](t, err)
		// A client of another pool is not found in this one.
		_, err = c.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(ids[1]), ClientId: aws.String(clientID)})
		if ids[1] == poolID {
			_, err = c.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(ids[0]), ClientId: aws.String(clientID)})
		}
		wantErrorAs[*types.ResourceNotFoundException](t, err)

		if _, err := c.DeleteUserPool(ctx, &cip.DeleteUserPoolInput{UserPoolId: aws.String(poolID)}); err != nil {
			t.Fatal(err)
		}
		_, err = c.DescribeUserPool(ctx, &cip.DescribeUserPoolInput{UserPoolId: aws.String(poolID)})
		nf := wantErrorAs[*types.ResourceNotFoundException](t, err)
		if !strings.Contains(nf.ErrorMessage(), poolID) {
			t.Fatalf("message %q", nf.ErrorMessage())
		}
		_, err = c.DescribeUserPoolClient(ctx, &cip.DescribeUserPoolClientInput{UserPoolId: aws.String(poolID), ClientId: aws.String(clientID)})
		wantErrorAs[*types.ResourceNotFoundException](t, err)
		assertCleanResponses(t, s)
	})
}

// Ensure user administration: creation with a temporary password,
// passwords, lookup, enable/disable, filters and typed errors.
func TestUserPoolUsers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *testServer) {
		ctx, c := context.Background(), s.cognito(t)
		f := newPoolFixture(t, ctx, c, "users")
		pool := aws.String(f.poolID)

		out, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
			UserPoolId: pool, Username: aws.String("alice"), MessageAction: types.MessageActionTypeSuppress,
			TemporaryPassword: aws.String("Temp-Pass-1!"),
			UserAttributes: []types.AttributeType{
				{Name: aws.String("email"), Value: aws.String("alice@example.com")},
				{Name: aws.String("email_verified"), Value: aws.String("true")},
				{Name: aws.String("custom:team"), Value: aws.String("agents")},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		u := out.User
		attrs := map[string]string{}
		for _, a := range u.Attributes {
			attrs[aws.ToString(a.Name)] = aws.ToString(a.Value)
		}
		if aws.ToString(u.Username) != "alice" || u.UserStatus != types.UserStatusTypeForceChangePassword || !u.Enabled ||
			attrs["email"] != "alice@example.com" || attrs["custom:team"] != "agents" || len(attrs["sub"]) != 36 || u.UserCreateDate == nil {
			t.Fatalf("created user = %+v attrs %v", u, attrs)
		}
		sub := attrs["sub"]

		_, err = c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: pool, Username: aws.String("alice"), TemporaryPassword: aws.String("Temp-Pass-2!")})
		wantErrorAs[*types.UsernameExistsException](t, err)
		_, err = c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: pool, Username: aws.String("weak"), TemporaryPassword: aws.String("short")})
		wantErrorAs[*types.InvalidPasswordException](t, err)
		_, err = c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String("us-east-1_Missing00"), Username: aws.String("x")})
		wantErrorAs[*types.ResourceNotFoundException](t, err)

		got, err := c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: pool, Username: aws.String("alice")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(got.Username) != "alice" || got.UserStatus != types.UserStatusTypeForceChangePassword || !got.Enabled ||
			aws.ToString(got.UserAttributes[0].Name) != "sub" || aws.ToString(got.UserAttributes[0].Value) != sub || got.UserLastModifiedDate == nil {
			t.Fatalf("AdminGetUser = %+v", got)
		}
		_, err = c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: pool, Username: aws.String("nobody")})
		wantErrorAs[*types.UserNotFoundException](t, err)

		_, err = c.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: pool, Username: aws.String("alice"), Password: aws.String("nodigits"), Permanent: true})
		wantErrorAs[*types.InvalidPasswordException](t, err)
		_, err = c.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: pool, Username: aws.String("nobody"), Password: aws.String("Perm-Pass-1!"), Permanent: true})
		wantErrorAs[*types.UserNotFoundException](t, err)
		if _, err := c.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: pool, Username: aws.String("alice"), Password: aws.String("Perm-Pass-1!"), Permanent: true}); err != nil {
			t.Fatal(err)
		}
		got, err = c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: pool, Username: aws.String("alice")})
		if err != nil || got.UserStatus != types.UserStatusTypeConfirmed {
			t.Fatalf("after permanent password: %v %v", err, got.UserStatus)
		}

		if _, err := c.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: pool, Username: aws.String("alice")}); err != nil {
			t.Fatal(err)
		}
		got, _ = c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: pool, Username: aws.String("alice")})
		if got.Enabled {
			t.Fatal("disabled user is Enabled")
		}
		if _, err := c.AdminEnableUser(ctx, &cip.AdminEnableUserInput{UserPoolId: pool, Username: aws.String("alice")}); err != nil {
			t.Fatal(err)
		}
		got, _ = c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: pool, Username: aws.String("alice")})
		if !got.Enabled {
			t.Fatal("enabled user is not Enabled")
		}
		_, err = c.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: pool, Username: aws.String("nobody")})
		wantErrorAs[*types.UserNotFoundException](t, err)

		for i := range 4 {
			if _, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
				UserPoolId: pool, Username: aws.String(fmt.Sprintf("user-%d", i)), MessageAction: types.MessageActionTypeSuppress,
				TemporaryPassword: aws.String("Temp-Pass-1!"),
				UserAttributes:    []types.AttributeType{{Name: aws.String("email"), Value: aws.String(fmt.Sprintf("u%d@example.com", i))}},
			}); err != nil {
				t.Fatal(err)
			}
		}
		var names []string
		pg := cip.NewListUsersPaginator(c, &cip.ListUsersInput{UserPoolId: pool, Limit: aws.Int32(2)})
		for pg.HasMorePages() {
			page, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range page.Users {
				names = append(names, aws.ToString(u.Username))
			}
		}
		if want := []string{"alice", "user-0", "user-1", "user-2", "user-3"}; !slices.Equal(names, want) {
			t.Fatalf("ListUsers = %v, want %v", names, want)
		}
		lu, err := c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: pool, Filter: aws.String(`email = "u2@example.com"`), AttributesToGet: []string{"email"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(lu.Users) != 1 || aws.ToString(lu.Users[0].Username) != "user-2" || len(lu.Users[0].Attributes) != 1 || aws.ToString(lu.Users[0].Attributes[0].Value) != "u2@example.com" {
			t.Fatalf("filtered ListUsers = %+v", lu.Users)
		}
		_, err = c.ListUsers(ctx, &cip.ListUsersInput{UserPoolId: pool, Filter: aws.String(`email ~ nonsense`)})
		wantErrorAs[*types.InvalidParameterException](t, err)

		if _, err := c.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: pool, Username: aws.String("user-3")}); err != nil {
			t.Fatal(err)
		}
		_, err = c.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: pool, Username: aws.String("user-3")})
		wantErrorAs[*types.UserNotFoundException](t, err)
		_, err = c.AdminDeleteUser(ctx, &cip.AdminDeleteUserInput{UserPoolId: pool, Username: aws.String("user-3")})
		wantErrorAs[*types.UserNotFoundException](t, err)
		assertCleanResponses(t, s, "Temp-Pass-1!", "Perm-Pass-1!")
	})
}

// Ensure the sign-in flows through the official client: SECRET_HASH,
// NEW_PASSWORD_REQUIRED, refresh, GetUser, ChangePassword, sign-out,
// revocation, disabled users, and tokens an independent verifier accepts.
func TestUserPoolSignIn(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *testServer) {
		ctx, c := context.Background(), s.cognito(t)
		f := newPoolFixture(t, ctx, c, "signin")
		pool := aws.String(f.poolID)
		if _, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
			UserPoolId: pool, Username: aws.String("alice"), MessageAction: types.MessageActionTypeSuppress,
			TemporaryPassword: aws.String("Temp-Pass-1!"),
			UserAttributes:    []types.AttributeType{{Name: aws.String("email"), Value: aws.String("alice@example.com")}},
		}); err != nil {
			t.Fatal(err)
		}

		// A wrong SECRET_HASH is refused before the password is looked at.
		_, err := c.InitiateAuth(ctx, &cip.InitiateAuthInput{
			ClientId: aws.String(f.clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": "Temp-Pass-1!", "SECRET_HASH": secretHash("wrong", "alice", f.clientID)},
		})
		wantErrorAs[*types.NotAuthorizedException](t, err)
		_, err = c.InitiateAuth(ctx, &cip.InitiateAuthInput{
			ClientId: aws.String(f.clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": "Temp-Pass-1!"},
		})
		wantErrorAs[*types.NotAuthorizedException](t, err)

		// SRP is refused by a client that does not allow it (srp_test.go has SRP).
		_, err = c.InitiateAuth(ctx, &cip.InitiateAuthInput{
			ClientId: aws.String(f.clientID), AuthFlow: types.AuthFlowTypeUserSrpAuth,
			AuthParameters: map[string]string{"USERNAME": "alice", "SRP_A": "abcd"},
		})
		wantErrorAs[*types.InvalidParameterException](t, err)

		// The temporary password leads to NEW_PASSWORD_REQUIRED.
		first, err := f.signIn(ctx, c, "alice", "Temp-Pass-1!")
		if err != nil {
			t.Fatal(err)
		}
		if first.ChallengeName != types.ChallengeNameTypeNewPasswordRequired || aws.ToString(first.Session) == "" || first.AuthenticationResult != nil {
			t.Fatalf("first sign-in = %+v", first)
		}
		_, err = c.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{
			ClientId: aws.String(f.clientID), ChallengeName: types.ChallengeNameTypeNewPasswordRequired, Session: first.Session,
			ChallengeResponses: map[string]string{"USERNAME": "alice", "NEW_PASSWORD": "weak", "SECRET_HASH": secretHash(f.clientSecret, "alice", f.clientID)},
		})
		wantErrorAs[*types.InvalidPasswordException](t, err)
		answered, err := c.RespondToAuthChallenge(ctx, &cip.RespondToAuthChallengeInput{
			ClientId: aws.String(f.clientID), ChallengeName: types.ChallengeNameTypeNewPasswordRequired, Session: first.Session,
			ChallengeResponses: map[string]string{"USERNAME": "alice", "NEW_PASSWORD": "Perm-Pass-1!", "SECRET_HASH": secretHash(f.clientSecret, "alice", f.clientID)},
		})
		if err != nil {
			t.Fatal(err)
		}
		tok := answered.AuthenticationResult
		if tok == nil || aws.ToString(tok.IdToken) == "" || aws.ToString(tok.RefreshToken) == "" || tok.ExpiresIn != 3600 || aws.ToString(tok.TokenType) != "Bearer" {
			t.Fatalf("challenge answer = %+v", answered)
		}
		verifyPoolTokens(t, s, f, aws.ToString(tok.AccessToken), aws.ToString(tok.IdToken), "alice")

		user, err := c.GetUser(ctx, &cip.GetUserInput{AccessToken: tok.AccessToken})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(user.Username) != "alice" || !slices.ContainsFunc(user.UserAttributes, func(a types.AttributeType) bool {
			return aws.ToString(a.Name) == "email" && aws.ToString(a.Value) == "alice@example.com"
		}) {
			t.Fatalf("GetUser = %+v", user)
		}

		// Refresh: new access and ID tokens, no new refresh token.
		refreshed := mustTokens(t)(f.refresh(ctx, c, "alice", aws.ToString(tok.RefreshToken)))
		if aws.ToString(refreshed.RefreshToken) != "" || aws.ToString(refreshed.AccessToken) == aws.ToString(tok.AccessToken) {
			t.Fatalf("refresh = %+v", refreshed)
		}
		if _, err := c.GetUser(ctx, &cip.GetUserInput{AccessToken: refreshed.AccessToken}); err != nil {
			t.Fatal(err)
		}

		// Wrong password and unknown user: the same exception and message.
		_, errWrong := f.signIn(ctx, c, "alice", "Not-The-Pass-1!")
		_, errUnknown := f.signIn(ctx, c, "mallory", "Not-The-Pass-1!")
		w, u := wantErrorAs[*types.NotAuthorizedException](t, errWrong), wantErrorAs[*types.NotAuthorizedException](t, errUnknown)
		if w.ErrorMessage() != u.ErrorMessage() || w.ErrorMessage() != "Incorrect username or password." {
			t.Fatalf("wrong password %q vs unknown user %q", w.ErrorMessage(), u.ErrorMessage())
		}

		// ChangePassword enforces the policy and needs the old password.
		_, err = c.ChangePassword(ctx, &cip.ChangePasswordInput{AccessToken: tok.AccessToken, PreviousPassword: aws.String("Perm-Pass-1!"), ProposedPassword: aws.String("short")})
		wantErrorAs[*types.InvalidPasswordException](t, err)
		_, err = c.ChangePassword(ctx, &cip.ChangePasswordInput{AccessToken: tok.AccessToken, PreviousPassword: aws.String("Wrong-Pass-1!"), ProposedPassword: aws.String("Perm-Pass-2!")})
		wantErrorAs[*types.NotAuthorizedException](t, err)
		if _, err := c.ChangePassword(ctx, &cip.ChangePasswordInput{AccessToken: tok.AccessToken, PreviousPassword: aws.String("Perm-Pass-1!"), ProposedPassword: aws.String("Perm-Pass-2!")}); err != nil {
			t.Fatal(err)
		}

		// AdminInitiateAuth with the new password.
		admin, err := c.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{
			UserPoolId: pool, ClientId: aws.String(f.clientID), AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": "alice", "PASSWORD": "Perm-Pass-2!", "SECRET_HASH": secretHash(f.clientSecret, "alice", f.clientID)},
		})
		if err != nil || admin.AuthenticationResult == nil {
			t.Fatalf("AdminInitiateAuth: %v %+v", err, admin)
		}
		second := admin.AuthenticationResult

		// RevokeToken revokes one refresh token and the access tokens
		// minted from it; the other sign-in is untouched.
		_, err = c.RevokeToken(ctx, &cip.RevokeTokenInput{ClientId: aws.String(f.clientID), Token: second.RefreshToken, ClientSecret: aws.String("wrong")})
		if err == nil {
			t.Fatal("RevokeToken with a wrong client secret succeeded")
		}
		if _, err := c.RevokeToken(ctx, &cip.RevokeTokenInput{ClientId: aws.String(f.clientID), Token: second.RefreshToken, ClientSecret: aws.String(f.clientSecret)}); err != nil {
			t.Fatal(err)
		}
		_, err = f.refresh(ctx, c, "alice", aws.ToString(second.RefreshToken))
		wantErrorAs[*types.NotAuthorizedException](t, err)
		_, err = c.GetUser(ctx, &cip.GetUserInput{AccessToken: second.AccessToken})
		wantErrorAs[*types.NotAuthorizedException](t, err)
		mustTokens(t)(f.refresh(ctx, c, "alice", aws.ToString(tok.RefreshToken)))

		// GlobalSignOut: refresh refused, old access tokens refused.
		if _, err := c.GlobalSignOut(ctx, &cip.GlobalSignOutInput{AccessToken: refreshed.AccessToken}); err != nil {
			t.Fatal(err)
		}
		_, err = f.refresh(ctx, c, "alice", aws.ToString(tok.RefreshToken))
		wantErrorAs[*types.NotAuthorizedException](t, err)
		_, err = c.GetUser(ctx, &cip.GetUserInput{AccessToken: tok.AccessToken})
		wantErrorAs[*types.NotAuthorizedException](t, err)

		// AdminSetUserPassword Permanent: straight to tokens.
		if _, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{UserPoolId: pool, Username: aws.String("bob"), MessageAction: types.MessageActionTypeSuppress}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: pool, Username: aws.String("bob"), Password: aws.String("Bob-Pass-1!"), Permanent: true}); err != nil {
			t.Fatal(err)
		}
		bob := mustTokens(t)(f.signIn(ctx, c, "bob", "Bob-Pass-1!"))

		// AdminUserGlobalSignOut revokes bob's refresh token.
		if _, err := c.AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: pool, Username: aws.String("bob")}); err != nil {
			t.Fatal(err)
		}
		_, err = f.refresh(ctx, c, "bob", aws.ToString(bob.RefreshToken))
		wantErrorAs[*types.NotAuthorizedException](t, err)

		// A temporary password set by an administrator: the Admin challenge flow.
		if _, err := c.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: pool, Username: aws.String("bob"), Password: aws.String("Bob-Temp-2!")}); err != nil {
			t.Fatal(err)
		}
		ch, err := c.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{
			UserPoolId: pool, ClientId: aws.String(f.clientID), AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": "bob", "PASSWORD": "Bob-Temp-2!", "SECRET_HASH": secretHash(f.clientSecret, "bob", f.clientID)},
		})
		if err != nil || ch.ChallengeName != types.ChallengeNameTypeNewPasswordRequired {
			t.Fatalf("AdminInitiateAuth with a temporary password: %v %+v", err, ch)
		}
		ans, err := c.AdminRespondToAuthChallenge(ctx, &cip.AdminRespondToAuthChallengeInput{
			UserPoolId: pool, ClientId: aws.String(f.clientID), ChallengeName: types.ChallengeNameTypeNewPasswordRequired, Session: ch.Session,
			ChallengeResponses: map[string]string{"USERNAME": "bob", "NEW_PASSWORD": "Bob-Pass-3!", "SECRET_HASH": secretHash(f.clientSecret, "bob", f.clientID)},
		})
		if err != nil || ans.AuthenticationResult == nil {
			t.Fatalf("AdminRespondToAuthChallenge: %v %+v", err, ans)
		}
		// A session answers once.
		_, err = c.AdminRespondToAuthChallenge(ctx, &cip.AdminRespondToAuthChallengeInput{
			UserPoolId: pool, ClientId: aws.String(f.clientID), ChallengeName: types.ChallengeNameTypeNewPasswordRequired, Session: ch.Session,
			ChallengeResponses: map[string]string{"USERNAME": "bob", "NEW_PASSWORD": "Bob-Pass-4!", "SECRET_HASH": secretHash(f.clientSecret, "bob", f.clientID)},
		})
		wantErrorAs[*types.NotAuthorizedException](t, err)

		// A disabled user cannot sign in; enabled again, they can.
		if _, err := c.AdminDisableUser(ctx, &cip.AdminDisableUserInput{UserPoolId: pool, Username: aws.String("bob")}); err != nil {
			t.Fatal(err)
		}
		_, err = f.signIn(ctx, c, "bob", "Bob-Pass-3!")
		if nae := wantErrorAs[*types.NotAuthorizedException](t, err); nae.ErrorMessage() != "User is disabled." {
			t.Fatalf("disabled: %q", nae.ErrorMessage())
		}
		_, err = c.GetUser(ctx, &cip.GetUserInput{AccessToken: ans.AuthenticationResult.AccessToken})
		wantErrorAs[*types.NotAuthorizedException](t, err)
		if _, err := c.AdminEnableUser(ctx, &cip.AdminEnableUserInput{UserPoolId: pool, Username: aws.String("bob")}); err != nil {
			t.Fatal(err)
		}
		mustTokens(t)(f.signIn(ctx, c, "bob", "Bob-Pass-3!"))

		// A public client signs in without SECRET_HASH, and only with the
		// flows it allows.
		pub, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
			UserPoolId: pool, ClientName: aws.String("cli"),
			ExplicitAuthFlows: []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserPasswordAuth, types.ExplicitAuthFlowsTypeAllowRefreshTokenAuth},
		})
		if err != nil {
			t.Fatal(err)
		}
		mustTokens(t)(c.InitiateAuth(ctx, &cip.InitiateAuthInput{
			ClientId: pub.UserPoolClient.ClientId, AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": "bob", "PASSWORD": "Bob-Pass-3!"},
		}))
		_, err = c.AdminInitiateAuth(ctx, &cip.AdminInitiateAuthInput{
			UserPoolId: pool, ClientId: pub.UserPoolClient.ClientId, AuthFlow: types.AuthFlowTypeAdminUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": "bob", "PASSWORD": "Bob-Pass-3!"},
		})
		wantErrorAs[*types.InvalidParameterException](t, err)
		_, err = c.InitiateAuth(ctx, &cip.InitiateAuthInput{
			ClientId: aws.String("nosuchclient0000000000000"), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": "bob", "PASSWORD": "Bob-Pass-3!"},
		})
		wantErrorAs[*types.ResourceNotFoundException](t, err)
		assertCleanResponses(t, s, "Temp-Pass-1!", "Perm-Pass-1!", "Perm-Pass-2!", "Bob-Pass-1!", "Bob-Temp-2!", "Bob-Pass-3!")
	})
}

// verifyPoolTokens checks an access and an ID token with jwx against the
// pool's published JWKS only: signature, iss, token_use, client_id / aud,
// exp.
func verifyPoolTokens(t *testing.T, s *testServer, f poolFixture, access, id, username string) {
	t.Helper()
	set := fetchJWKS(t, s, f.poolID)
	iss := s.URL + "/" + f.poolID
	at, err := jwt.ParseString(access, jwt.WithKeySet(set), jwt.WithValidate(true), jwt.WithIssuer(iss),
		jwt.WithClaimValue("token_use", "access"), jwt.WithClaimValue("client_id", f.clientID), jwt.WithClaimValue("username", username))
	if err != nil {
		t.Fatalf("access token does not verify: %v", err)
	}
	if _, ok := at.Audience(); ok {
		t.Fatal("access token has aud")
	}
	if exp, ok := at.Expiration(); !ok || time.Until(exp) < 50*time.Minute || time.Until(exp) > 61*time.Minute {
		t.Fatalf("access token exp %v", exp)
	}
	var scope string
	if err := at.Get("scope", &scope); err != nil || scope != "aws.cognito.signin.user.admin" {
		t.Fatalf("scope %q: %v", scope, err)
	}
	it, err := jwt.ParseString(id, jwt.WithKeySet(set), jwt.WithValidate(true), jwt.WithIssuer(iss),
		jwt.WithClaimValue("token_use", "id"), jwt.WithAudience(f.clientID), jwt.WithClaimValue("cognito:username", username))
	if err != nil {
		t.Fatalf("ID token does not verify: %v", err)
	}
	atSub, _ := at.Subject()
	itSub, _ := it.Subject()
	if atSub == "" || atSub != itSub {
		t.Fatalf("sub %q vs %q", atSub, itSub)
	}
	// An ID token is not an access token.
	if _, err := jwt.ParseString(id, jwt.WithKeySet(set), jwt.WithValidate(true), jwt.WithClaimValue("token_use", "access")); err == nil {
		t.Fatal("ID token verified as an access token")
	}
}

func fetchJWKS(t *testing.T, s *testServer, poolID string) jwk.Set {
	t.Helper()
	resp, err := http.Get(s.URL + "/" + poolID + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("JWKS: %d %s", resp.StatusCode, b)
	}
	set, err := jwk.Parse(b)
	if err != nil || set.Len() == 0 {
		t.Fatalf("JWKS %s: %v", b, err)
	}
	for i := range set.Len() {
		k, _ := set.Key(i)
		if _, ok := k.KeyID(); !ok {
			t.Fatal("JWKS key without kid")
		}
		if k.KeyType().String() != "RSA" {
			t.Fatalf("JWKS key type %s", k.KeyType())
		}
		var d []byte
		if k.Get("d", &d) == nil {
			t.Fatal("JWKS publishes a private key")
		}
	}
	return set
}

// Ensure tokens name their pool: a token is refused when tampered with,
// when its iss is moved to another pool, when used as the wrong kind, and
// once its pool is deleted.
func TestUserPoolTokenBinding(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *testServer) {
		ctx, c := context.Background(), s.cognito(t)
		a := newPoolFixture(t, ctx, c, "pool-a")
		b := newPoolFixture(t, ctx, c, "pool-b")
		a.createUser(t, ctx, c, "alice", "Alice-Pass-1!")
		b.createUser(t, ctx, c, "alice", "Alice-Pass-9!")
		ta := mustTokens(t)(a.signIn(ctx, c, "alice", "Alice-Pass-1!"))
		access := aws.ToString(ta.AccessToken)

		if _, err := c.GetUser(ctx, &cip.GetUserInput{AccessToken: ta.AccessToken}); err != nil {
			t.Fatal(err)
		}
		// Pool B's keys do not verify pool A's tokens.
		if _, err := jwt.ParseString(access, jwt.WithKeySet(fetchJWKS(t, s, b.poolID)), jwt.WithValidate(true)); err == nil {
			t.Fatal("pool A's token verifies with pool B's JWKS")
		}

		parts := strings.Split(access, ".")
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatal(err)
		}
		rewrite := func(mut func(map[string]any)) string {
			m := map[string]any{}
			for k, v := range claims {
				m[k] = v
			}
			mut(m)
			p, _ := json.Marshal(m)
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString(p) + "." + parts[2]
		}
		sig := []byte(parts[2])
		sig[len(sig)/2] ^= 1
		for name, tampered := range map[string]string{
			"signature":  parts[0] + "." + parts[1] + "." + string(sig),
			"other pool": rewrite(func(m map[string]any) { m["iss"] = s.URL + "/" + b.poolID }),
			"username":   rewrite(func(m map[string]any) { m["username"] = "bob" }),
			"expiry":     rewrite(func(m map[string]any) { m["exp"] = float64(time.Now().Add(24 * time.Hour).Unix()) }),
			"no sig":     parts[0] + "." + parts[1] + ".",
			"alg none":   base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + ".",
			"id token":   aws.ToString(ta.IdToken),
			"garbage":    "not-a-jwt",
		} {
			_, err := c.GetUser(ctx, &cip.GetUserInput{AccessToken: aws.String(tampered)})
			if nae := wantErrorAs[*types.NotAuthorizedException](t, err); nae.ErrorMessage() == "" {
				t.Fatalf("%s: empty message", name)
			}
		}

		// Once pool A is deleted its tokens and JWKS are gone.
		if _, err := c.DeleteUserPool(ctx, &cip.DeleteUserPoolInput{UserPoolId: aws.String(a.poolID)}); err != nil {
			t.Fatal(err)
		}
		_, err = c.GetUser(ctx, &cip.GetUserInput{AccessToken: ta.AccessToken})
		wantErrorAs[*types.NotAuthorizedException](t, err)
		resp, err := http.Get(s.URL + "/" + a.poolID + "/.well-known/jwks.json")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("JWKS of a deleted pool: %d, want 404", resp.StatusCode)
		}
		_, err = a.refresh(ctx, c, "alice", aws.ToString(ta.RefreshToken))
		if err == nil {
			t.Fatal("refresh with a deleted pool's token succeeded")
		}
		assertCleanResponses(t, s, "Alice-Pass-1!")
	})
}

// Ensure the wire: unknown targets, malformed and oversized bodies,
// unsigned admin calls, signatures for the other API, and scoped keys are
// refused with Cognito error bodies.
func TestCognitoWire(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *testServer) {
		ctx, c := context.Background(), s.cognito(t)

		resp := cognitoPost(t, s, "FrobnicateUserPool", []byte(`{}`), "cognito-idp")
		wantCognitoError(t, resp, http.StatusBadRequest, "UnknownOperationException")
		resp = cognitoPost(t, s, "", []byte(`{}`), "")
		wantCognitoError(t, resp, http.StatusBadRequest, "UnknownOperationException")

		resp = cognitoPost(t, s, "InitiateAuth", []byte(`{"AuthFlow":`), "")
		wantCognitoError(t, resp, http.StatusBadRequest, "SerializationException")
		resp = cognitoPost(t, s, "ListUserPools", []byte(`{"MaxResults":"ten"}`), "cognito-idp")
		wantCognitoError(t, resp, http.StatusBadRequest, "SerializationException")
		resp = cognitoPost(t, s, "ListUserPools", []byte(`{"MaxResults":10} {}`), "cognito-idp")
		wantCognitoError(t, resp, http.StatusBadRequest, "SerializationException")
		big := []byte(`{"AccessToken":"` + strings.Repeat("a", 1<<20) + `"}`)
		resp = cognitoPost(t, s, "GetUser", big, "")
		wantCognitoError(t, resp, http.StatusRequestEntityTooLarge, "InvalidParameterException")
		// Missing required members: AWS's validation message.
		resp = cognitoPost(t, s, "InitiateAuth", []byte(`{"AuthFlow":"USER_PASSWORD_AUTH"}`), "")
		if msg := wantCognitoError(t, resp, http.StatusBadRequest, "InvalidParameterException"); !strings.Contains(msg, "clientId") {
			t.Fatalf("message %q", msg)
		}
		// Unknown members are ignored, as Cognito does.
		resp = cognitoPost(t, s, "ListUserPools", []byte(`{"MaxResults":10,"SomethingNew":{"a":1}}`), "cognito-idp")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
			t.Fatalf("unknown member: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		resp.Body.Close()

		// Administration needs a signature for cognito-idp with the root key.
		resp = cognitoPost(t, s, "ListUserPools", []byte(`{"MaxResults":10}`), "")
		wantCognitoError(t, resp, http.StatusBadRequest, "MissingAuthenticationTokenException")
		resp = cognitoPost(t, s, "CreateUserPool", []byte(`{"PoolName":"sneaky"}`), "bedrock-agentcore")
		wantCognitoError(t, resp, http.StatusBadRequest, "InvalidSignatureException")
		_, err := s.cognitoWith(t, s.KeyID, "wrong-secret").ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(10)})
		wantAPIError(t, err, "InvalidSignatureException")
		_, err = s.cognitoWith(t, "AKIAUNKNOWNKEY000000", "x").ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(10)})
		wantAPIError(t, err, "UnrecognizedClientException")
		// ... and a cognito-idp signature does not open the AgentCore API.
		req, _ := http.NewRequest("POST", s.URL+"/identities/ListWorkloadIdentities", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		sum := sha256.Sum256([]byte(`{}`))
		if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: s.KeyID, SecretAccessKey: s.Secret}, req, hex.EncodeToString(sum[:]), "cognito-idp", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		r2, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if r2.StatusCode != http.StatusForbidden {
			t.Fatalf("AgentCore call signed for cognito-idp: %d", r2.StatusCode)
		}
		r2.Body.Close()

		// A key scoped to a workload may not administer user pools.
		if _, err := s.client(t).CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String("pool-agent")}); err != nil {
			t.Fatal(err)
		}
		code, body := signedPost(t, s, "/behalf/CreateAccessKey", `{"workloadName":"pool-agent"}`)
		var key struct {
			ID     string `json:"accessKeyId"`
			Secret string `json:"secretAccessKey"`
		}
		if err := json.Unmarshal([]byte(body), &key); code != http.StatusCreated || err != nil {
			t.Fatalf("CreateAccessKey: %d %s", code, body)
		}
		_, err = s.cognitoWith(t, key.ID, key.Secret).ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(10)})
		wantAPIError(t, err, "AccessDeniedException")

		// Anonymous operations need no signature: the SDK sends none.
		_, err = c.InitiateAuth(ctx, &cip.InitiateAuthInput{ClientId: aws.String("nosuchclient"), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
			AuthParameters: map[string]string{"USERNAME": "u", "PASSWORD": "p"}})
		wantErrorAs[*types.ResourceNotFoundException](t, err)
		_, err = c.GetUser(ctx, &cip.GetUserInput{AccessToken: aws.String("x.y.z")})
		wantErrorAs[*types.NotAuthorizedException](t, err)

		// Browsers may call the API (CORS), as they may Cognito.
		pre, _ := http.NewRequest("OPTIONS", s.URL+"/", nil)
		pre.Header.Set("Origin", "https://app.example")
		pre.Header.Set("Access-Control-Request-Method", "POST")
		pre.Header.Set("Access-Control-Request-Headers", "content-type,x-amz-target")
		r3, err := http.DefaultClient.Do(pre)
		if err != nil {
			t.Fatal(err)
		}
		r3.Body.Close()
		if r3.StatusCode != 200 || r3.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(r3.Header.Get("Access-Control-Allow-Headers"), "X-Amz-Target") {
			t.Fatalf("preflight: %d %v", r3.StatusCode, r3.Header)
		}

		// JWKS of a pool that never existed.
		r4, err := http.Get(s.URL + "/us-east-1_NoSuchPoo/.well-known/jwks.json")
		if err != nil {
			t.Fatal(err)
		}
		r4.Body.Close()
		if r4.StatusCode != http.StatusNotFound {
			t.Fatalf("JWKS of a missing pool: %d, want 404", r4.StatusCode)
		}
		assertCleanResponses(t, s)
	})
}

// Ensure the walkthrough through the CLI: create a pool, a confidential
// client, a user with a permanent password, and sign in with `behalf
// login`, whose access token GetUser accepts.
func TestCLIUserPool(t *testing.T) {
	isolateAWSEnv(t)
	s := mustRunMain(t, "")
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "password")
	if err := os.WriteFile(pwFile, []byte("Cli-Pass-1!\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tmpFile := filepath.Join(dir, "temp")
	if err := os.WriteFile(tmpFile, []byte("Cli-Temp-1!\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	out, err := cliRun(t, s, "userpool", "create", "cli-pool", "--output", "json")
	if err != nil {
		t.Fatalf("userpool create: %v\n%s", err, out)
	}
	var pool struct{ UserPool struct{ Id string } }
	if err := json.Unmarshal([]byte(out), &pool); err != nil || pool.UserPool.Id == "" {
		t.Fatalf("userpool create printed %q (%v)", out, err)
	}
	poolID := pool.UserPool.Id

	out, err = cliRun(t, s, "userpool", "client", "create", poolID, "cli-app", "--generate-secret",
		"--auth-flow", "ALLOW_USER_PASSWORD_AUTH", "--auth-flow", "ALLOW_REFRESH_TOKEN_AUTH", "--output", "json")
	if err != nil {
		t.Fatalf("client create: %v\n%s", err, out)
	}
	var client struct {
		UserPoolClient struct{ ClientId, ClientSecret string }
	}
	if err := json.Unmarshal([]byte(out), &client); err != nil || client.UserPoolClient.ClientId == "" || client.UserPoolClient.ClientSecret == "" {
		t.Fatalf("client create printed %q (%v)", out, err)
	}
	clientID := client.UserPoolClient.ClientId

	steps := []struct {
		args []string
		want string
	}{
		{[]string{"userpool", "list"}, poolID},
		{[]string{"userpool", "get", poolID}, "cli-pool"},
		{[]string{"userpool", "client", "create", poolID, "web-app", "--oauth-flow", "code", "--oauth-scope", "openid",
			"--callback-url", "http://localhost:9090/cb"}, "http://localhost:9090/cb"},
		{[]string{"userpool", "client", "list", poolID}, clientID},
		{[]string{"userpool", "client", "get", poolID, clientID}, "ALLOW_USER_PASSWORD_AUTH"},
		{[]string{"user", "create", poolID, "carol", "--attribute", "email=carol@example.com", "--temporary-password-file", tmpFile}, "FORCE_CHANGE_PASSWORD"},
		{[]string{"user", "set-password", poolID, "carol", "--password-file", pwFile, "--permanent"}, "carol"},
		{[]string{"user", "get", poolID, "carol"}, "CONFIRMED"},
		{[]string{"user", "list", poolID}, "carol@example.com"},
	}
	for _, st := range steps {
		out, err := cliRun(t, s, st.args...)
		if err != nil {
			t.Fatalf("behalf %s: %v\n%s", strings.Join(st.args, " "), err, out)
		}
		if !strings.Contains(out, st.want) {
			t.Fatalf("behalf %s printed:\n%s\nwant it to contain %q", strings.Join(st.args, " "), out, st.want)
		}
		if strings.Contains(out, "Cli-Pass-1!") || strings.Contains(out, "Cli-Temp-1!") {
			t.Fatalf("behalf %s printed a password", strings.Join(st.args, " "))
		}
	}

	// login fetches the client secret with the admin key and prints the
	// access token.
	out, err = cliRun(t, s, "login", "--pool", poolID, "--client", clientID, "--username", "carol", "--password-file", pwFile)
	if err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	token := strings.TrimSpace(out)
	if strings.Count(token, ".") != 2 {
		t.Fatalf("login printed %q, want a JWT", out)
	}
	user, err := s.cognito(t).GetUser(context.Background(), &cip.GetUserInput{AccessToken: aws.String(token)})
	if err != nil || aws.ToString(user.Username) != "carol" {
		t.Fatalf("GetUser with the CLI's token: %v", err)
	}

	// Without --password-file a piped password is read from stdin.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString("Cli-Pass-1!\n")
	w.Close()
	stdin := os.Stdin
	os.Stdin = r
	out, err = cliRun(t, s, "login", "--pool", poolID, "--client", clientID, "--username", "carol")
	os.Stdin = stdin
	r.Close()
	if err != nil || strings.Count(strings.TrimSpace(out), ".") != 2 {
		t.Fatalf("login with the password on stdin: %v\n%s", err, out)
	}

	// --save writes it with mode 0600 and prints nothing secret.
	save := filepath.Join(dir, "token")
	out, err = cliRun(t, s, "login", "--pool", poolID, "--client", clientID, "--username", "carol", "--password-file", pwFile, "--save", save)
	if err != nil {
		t.Fatalf("login --save: %v\n%s", err, out)
	}
	st, err := os.Stat(save)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("saved token: %v %v", err, st)
	}
	b, _ := os.ReadFile(save)
	if strings.Count(strings.TrimSpace(string(b)), ".") != 2 || strings.Contains(out, strings.TrimSpace(string(b))) {
		t.Fatalf("login --save wrote %q and printed %q", b, out)
	}

	// With the secret from a file, no admin credentials or pool are needed.
	secretFile := filepath.Join(dir, "client-secret")
	if err := os.WriteFile(secretFile, []byte(client.UserPoolClient.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = cliRun(t, s, "login", "--client", clientID, "--username", "carol", "--password-file", pwFile, "--client-secret-file", secretFile, "--output", "json")
	var answer struct { // InitiateAuth's answer, as the aws CLI prints it
		AuthenticationResult struct{ AccessToken, IdToken, RefreshToken string }
	}
	tokens := &answer.AuthenticationResult
	if err != nil || json.Unmarshal([]byte(out), &answer) != nil || tokens.IdToken == "" || tokens.RefreshToken == "" {
		t.Fatalf("login --client-secret-file --output json: %v\n%s", err, out)
	}

	// Without a temporary-password file the CLI generates one and shows it.
	out, err = cliRun(t, s, "user", "create", poolID, "dave")
	if err != nil || !strings.Contains(out, "Temporary password: ") {
		t.Fatalf("user create without a password: %v\n%s", err, out)
	}

	out, err = cliRun(t, s, "login", "--pool", poolID, "--client", clientID, "--username", "carol", "--password-file", tmpFile)
	if err == nil || !strings.Contains(err.Error(), "NotAuthorizedException") {
		t.Fatalf("login with a wrong password: %v\n%s", err, out)
	}

	// (After the sign-ins: disabling revokes the user's tokens, and a token
	// issued in the same second as a revocation is refused.)
	for _, st := range []struct {
		args []string
		want string
	}{
		{[]string{"user", "disable", poolID, "carol"}, "Disabled user carol"},
		{[]string{"user", "get", poolID, "carol"}, "(Disabled)"},
		{[]string{"user", "enable", poolID, "carol"}, "Enabled user carol"},
		{[]string{"user", "sign-out", poolID, "carol"}, "carol"},
		{[]string{"user", "list", poolID, "--filter", `email = "carol@example.com"`}, "CONFIRMED"},
	} {
		if out, err := cliRun(t, s, st.args...); err != nil || !strings.Contains(out, st.want) {
			t.Fatalf("behalf %s: %v\n%s", strings.Join(st.args, " "), err, out)
		}
	}
	for _, args := range [][]string{
		{"user", "delete", poolID, "carol"},
		{"userpool", "client", "delete", poolID, clientID},
		{"userpool", "delete", poolID},
	} {
		if out, err := cliRun(t, s, args...); err != nil || !strings.Contains(out, "Deleted") {
			t.Fatalf("behalf %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if _, err := cliRun(t, s, "userpool", "get", poolID); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("get deleted pool: %v", err)
	}
}
