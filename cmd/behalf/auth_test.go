package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
)

// signedRequest builds a POST signed like the SDK signs, at time at.
func signedRequest(t *testing.T, s *testServer, path string, body []byte, id, secret string, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest("POST", s.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "bedrock-agentcore", "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	return req
}

// awsError decodes an AWS restJson1 error response.
func awsError(t *testing.T, resp *http.Response) (string, string) {
	t.Helper()
	defer resp.Body.Close()
	var body struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("error body is not JSON: %v", err)
	}
	if h := resp.Header.Get("X-Amzn-ErrorType"); h != body.Type {
		t.Fatalf("X-Amzn-ErrorType=%q, __type=%q", h, body.Type)
	}
	return body.Type, body.Message
}

// Ensure every request must be SigV4-signed by a known key, within 5 minutes.
func TestAuthentication(t *testing.T) {
	s := mustRunMain(t, "")
	body := []byte(`{}`)
	const path = "/identities/ListWorkloadIdentities"
	for _, tc := range []struct {
		name   string
		req    func() *http.Request
		status int
	}{
		{"OK", func() *http.Request { return signedRequest(t, s, path, body, s.KeyID, s.Secret, time.Now()) }, 200},
		{"Unsigned", func() *http.Request {
			r, _ := http.NewRequest("POST", s.URL+path, bytes.NewReader(body))
			return r
		}, 403},
		{"WrongSecret", func() *http.Request { return signedRequest(t, s, path, body, s.KeyID, s.Secret+"x", time.Now()) }, 403},
		{"UnknownKey", func() *http.Request {
			return signedRequest(t, s, path, body, "BHLFUNKNOWNKEY00000", s.Secret, time.Now())
		}, 403},
		{"TooOld", func() *http.Request {
			return signedRequest(t, s, path, body, s.KeyID, s.Secret, time.Now().Add(-6*time.Minute))
		}, 403},
		{"TooNew", func() *http.Request {
			return signedRequest(t, s, path, body, s.KeyID, s.Secret, time.Now().Add(6*time.Minute))
		}, 403},
		{"TamperedBody", func() *http.Request {
			r := signedRequest(t, s, path, body, s.KeyID, s.Secret, time.Now())
			r.Body, r.ContentLength = http.NoBody, 0
			return r
		}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(tc.req())
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status=%d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == 200 {
				resp.Body.Close()
				return
			}
			typ, msg := awsError(t, resp)
			if typ != "AccessDeniedException" || msg == "" || strings.Contains(msg, s.Secret) {
				t.Fatalf("error %s %q", typ, msg)
			}
		})
	}

	// The official client with a wrong secret surfaces AccessDeniedException.
	_, err := s.clientWith(t, s.KeyID, "wrong-secret").ListWorkloadIdentities(context.Background(), &ctl.ListWorkloadIdentitiesInput{})
	var denied *types.AccessDeniedException
	if !errors.As(err, &denied) {
		t.Fatalf("err=%v, want AccessDeniedException", err)
	}
}

// Ensure the credentials file is private and root keys persist across restarts.
func TestRootCredentials(t *testing.T) {
	s := mustRunMain(t, "")
	fi, err := os.Stat(filepath.Join(s.DataDir, "credentials"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials mode %v, want 0600", fi.Mode().Perm())
	}
	if strings.Contains(s.Log.String(), s.Secret) {
		t.Fatal("the root secret reached the log")
	}
	if !strings.Contains(s.Log.String(), filepath.Join(s.DataDir, "credentials")) {
		t.Fatal("the log does not name the credentials file")
	}

	t.Setenv("BEHALF_ROOT_ACCESS_KEY_ID", "BHLFFROMENV00000")
	t.Setenv("BEHALF_ROOT_SECRET_ACCESS_KEY", "env-secret-value-0123456789")
	e := mustRunMainNoCreds(t)
	if _, err := e.clientWith(t, "BHLFFROMENV00000", "env-secret-value-0123456789").GetTokenVault(context.Background(), &ctl.GetTokenVaultInput{}); err != nil {
		t.Fatalf("env root key: %v", err)
	}
	if strings.Contains(e.Log.String(), "env-secret-value") {
		t.Fatal("the env secret reached the log")
	}
}
