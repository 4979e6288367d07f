package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// stubPools is a UserPoolService whose GetUser and InitiateAuth return
// what the test sets; every other method panics (nil interface).
type stubPools struct {
	behalf.UserPoolService
	err    error
	params map[string]behalf.Secret
}

func (p *stubPools) GetUser(ctx context.Context, token behalf.Secret) (*behalf.PoolUser, error) {
	if p.err != nil {
		return nil, p.err
	}
	return &behalf.PoolUser{Username: "alice", Sub: "s-1", Attributes: map[string]string{"email": "a@example.com", "sub": "s-1"}}, nil
}

func (p *stubPools) InitiateAuth(ctx context.Context, clientID, flow string, params map[string]behalf.Secret) (*behalf.AuthResult, error) {
	p.params = params
	return &behalf.AuthResult{Tokens: &behalf.PoolTokens{AccessToken: "a.b.c", IDToken: "d.e.f", RefreshToken: "r", ExpiresIn: 3600}}, p.err
}

// allowAll is an Authenticator that accepts every request as root.
type allowAll struct{}

func (allowAll) Verify(r *http.Request, body []byte) (behalf.Principal, error) {
	return behalf.Principal{Name: "root"}, nil
}

func cognitoCall(t *testing.T, s *Server, op, body string) (*http.Response, map[string]any) {
	t.Helper()
	req := httptest.NewRequest("POST", "/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", cognitoTargetPrefix+op)
	req.Header.Set("Content-Type", cognitoContentType)
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	resp := w.Result()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: body %q is not JSON", op, b)
	}
	return resp, m
}

// Ensure service errors map to Cognito exceptions and statuses, and that
// internal failures are 500 InternalErrorException with no detail.
func TestCognitoErrorMapping(t *testing.T) {
	pools := &stubPools{}
	s := &Server{UserPools: pools, CognitoAuth: allowAll{}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, tc := range []struct {
		err       error
		status    int
		exception string
		message   string
	}{
		{behalf.CognitoErrorf(behalf.CognitoNotAuthorized, "Access Token has expired"), 400, "NotAuthorizedException", "Access Token has expired"},
		{behalf.CognitoErrorf(behalf.CognitoUserNotFound, "User does not exist."), 400, "UserNotFoundException", "User does not exist."},
		{behalf.Errorf(behalf.ENOTFOUND, "gone"), 400, "ResourceNotFoundException", "gone"},
		{behalf.CognitoErrorf(behalf.CognitoScopeDoesNotExist, "Invalid scope requested: a/b"), 400, "ScopeDoesNotExistException", "Invalid scope requested: a/b"},
		{behalf.CognitoErrorf(behalf.CognitoGroupExists, "A group with the name g already exists."), 400, "GroupExistsException", "A group with the name g already exists."},
		{&behalf.Error{Code: behalf.ETHROTTLED, Message: "slow down", Retry: 2 * time.Second}, 400, "TooManyRequestsException", "slow down"},
		{errors.New("pq: connection refused at 10.0.0.7"), 500, "InternalErrorException", "Internal error."},
		{behalf.CognitoErrorf(behalf.CognitoInternalError, "secret detail"), 500, "InternalErrorException", "Internal error."},
	} {
		pools.err = tc.err
		resp, body := cognitoCall(t, s, "GetUser", `{"AccessToken":"x"}`)
		if resp.StatusCode != tc.status || body["__type"] != tc.exception || body["message"] != tc.message || resp.Header.Get("X-Amzn-ErrorType") != tc.exception {
			t.Fatalf("%v: %d %v %q, want %d %s %q", tc.err, resp.StatusCode, body, resp.Header.Get("X-Amzn-ErrorType"), tc.status, tc.exception, tc.message)
		}
		if tc.exception == "TooManyRequestsException" && resp.Header.Get("Retry-After") != "2" {
			t.Fatalf("Retry-After=%q", resp.Header.Get("Retry-After"))
		}
	}

	pools.err = nil
	resp, body := cognitoCall(t, s, "GetUser", `{"AccessToken":"x","Unmodelled":true}`)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != cognitoContentType || body["Username"] != "alice" {
		t.Fatalf("GetUser: %d %v", resp.StatusCode, body)
	}
	attrs := body["UserAttributes"].([]any)
	if len(attrs) != 2 || attrs[0].(map[string]any)["Name"] != "sub" {
		t.Fatalf("UserAttributes = %v (want sub first, once)", attrs)
	}

	resp, body = cognitoCall(t, s, "InitiateAuth", `{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":"c","AuthParameters":{"USERNAME":"u","PASSWORD":"p"}}`)
	res, _ := body["AuthenticationResult"].(map[string]any)
	if resp.StatusCode != 200 || res["TokenType"] != "Bearer" || res["ExpiresIn"] != float64(3600) || res["IdToken"] != "d.e.f" || pools.params["PASSWORD"].Reveal() != "p" {
		t.Fatalf("InitiateAuth: %d %v", resp.StatusCode, body)
	}
	if cp, ok := body["ChallengeParameters"].(map[string]any); !ok || len(cp) != 0 {
		t.Fatalf("ChallengeParameters = %v, want {}", body["ChallengeParameters"])
	}

	// A panic (here: a method the stub lacks) is a Cognito internal error.
	resp, body = cognitoCall(t, s, "DescribeUserPool", `{"UserPoolId":"us-east-1_x"}`)
	if resp.StatusCode != 500 || body["__type"] != "InternalErrorException" || body["message"] != "Internal error." {
		t.Fatalf("panic: %d %v", resp.StatusCode, body)
	}

	// Without a signature verifier, administration is refused.
	s2 := &Server{UserPools: pools, Log: s.Log}
	resp, body = cognitoCall(t, s2, "DescribeUserPool", `{"UserPoolId":"us-east-1_x"}`)
	if resp.StatusCode != 400 || body["__type"] != "AccessDeniedException" {
		t.Fatalf("no CognitoAuth: %d %v", resp.StatusCode, body)
	}
}
