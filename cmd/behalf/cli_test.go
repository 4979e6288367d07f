package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cliRun runs a behalf client command against s, as a user would.
func cliRun(t *testing.T, s *testServer, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append(args, "--endpoint-url", s.URL, "--data-dir", s.DataDir)
	err := run(context.Background(), args, &out, &errOut)
	return out.String() + errOut.String(), err
}

func isolateAWSEnv(t *testing.T) {
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
}

// Ensure the README's walkthrough works through the CLI: it finds the local
// server's credentials file, and prints the callback URL to register.
func TestCLI(t *testing.T) {
	isolateAWSEnv(t)
	s := mustRunMain(t, "")
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("google-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"workload", "create", "my-agent", "--return-url", "http://localhost:9090/callback"}, "workload-identity/my-agent"},
		{[]string{"workload", "create", "other-agent"}, "behalf workload set-binding other-agent --issuer"},
		{[]string{"workload", "get", "my-agent"}, "http://localhost:9090/callback"},
		{[]string{"workload", "update", "my-agent", "--return-url", "https://app.example/cb"}, "https://app.example/cb"},
		{[]string{"workload", "list"}, "my-agent"},
		{[]string{"provider", "create", "google-drive-provider", "--vendor", "GoogleOauth2", "--client-id", "ID", "--client-secret-file", secretFile}, s.URL + "/identities/oauth2/callback/"},
		{[]string{"provider", "get", "google-drive-provider"}, "https://accounts.google.com/"},
		{[]string{"provider", "list"}, "GoogleOauth2"},
		{[]string{"provider", "create", "x", "--vendor", "XOauth2", "--client-id", "ID", "--client-secret-file", secretFile}, "Callback URL"},
		{[]string{"provider", "get", "x"}, "https://x.com/i/oauth2/authorize"},
		{[]string{"provider", "create", "signed", "--vendor", "CustomOauth2", "--client-id", "ID", "--auth-method", "PRIVATE_KEY_JWT", "--signing-algorithm", "ES256",
			"--issuer", "https://idp.example", "--authorization-endpoint", "https://idp.example/a", "--token-endpoint", "https://idp.example/t"}, "/jwks.json as the client's JWKS"},
		{[]string{"provider", "get", "signed"}, "JWKS URL:     " + s.URL + "/identities/oauth2/providers/"},
		{[]string{"apikey", "create", "serp", "--api-key-file", secretFile}, "apikeycredentialprovider/serp"},
		{[]string{"apikey", "list"}, "serp"},
		{[]string{"vault", "get"}, "ServiceManagedKey"},
		{[]string{"provider", "delete", "google-drive-provider"}, "Deleted"},
		{[]string{"workload", "delete", "my-agent"}, "Deleted"},
	}
	for _, st := range steps {
		out, err := cliRun(t, s, st.args...)
		if err != nil {
			t.Fatalf("behalf %s: %v\n%s", strings.Join(st.args, " "), err, out)
		}
		if !strings.Contains(out, st.want) {
			t.Fatalf("behalf %s printed:\n%s\nwant it to contain %q", strings.Join(st.args, " "), out, st.want)
		}
		if strings.Contains(out, "google-secret") {
			t.Fatalf("behalf %s printed the secret", strings.Join(st.args, " "))
		}
	}

	out, err := cliRun(t, s, "workload", "get", "my-agent")
	if err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("get missing: err=%v out=%s", err, out)
	}

	if _, err := cliRun(t, s, "workload", "create", "json-agent"); err != nil {
		t.Fatal(err)
	}
	out, err = cliRun(t, s, "workload", "get", "json-agent", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc["name"] != "json-agent" {
		t.Fatalf("--output json printed %q (%v)", out, err)
	}
	if _, ok := doc["ResultMetadata"]; ok {
		t.Fatal("--output json leaks SDK metadata")
	}
}

// Ensure usage errors are reported, not sent.
func TestCLIUsage(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"workload", "frobnicate"}, &out, &out); err == nil {
		t.Fatal("unknown verb accepted")
	}
	if err := run(context.Background(), []string{"provider", "create", "p", "--vendor", "GoogleOauth2"}, &out, &out); err == nil || !strings.Contains(err.Error(), "client-secret-file") {
		t.Fatalf("missing secret file: %v", err)
	}
}

// Ensure Behalf's own administration commands work: scoped keys, trusted
// issuers and the audit log.
func TestCLIAdmin(t *testing.T) {
	isolateAWSEnv(t)
	s := mustRunMain(t, "", "--allow-private-endpoints")
	idp := discoveryServer(t, nil)
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"workload", "create", "scoped-agent"}, "scoped-agent"},
		{[]string{"key", "create", "--workload", "scoped-agent"}, "aws_secret_access_key = "},
		{[]string{"key", "list"}, "scoped-agent"},
		{[]string{"issuer", "add", idp.URL + "/.well-known/openid-configuration"}, "Trusting issuer " + idp.URL},
		{[]string{"issuer", "list"}, idp.URL},
		{[]string{"issuer", "remove", idp.URL}, "No longer trusting"},
		{[]string{"audit", "list", "--kind", "binding.refused"}, ""},
	}
	for _, st := range steps {
		out, err := cliRun(t, s, st.args...)
		if err != nil {
			t.Fatalf("behalf %s: %v\n%s", strings.Join(st.args, " "), err, out)
		}
		if !strings.Contains(out, st.want) {
			t.Fatalf("behalf %s printed:\n%s\nwant %q", strings.Join(st.args, " "), out, st.want)
		}
	}
	if _, err := cliRun(t, s, "key", "create", "--workload", "missing-agent"); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("key for a missing workload: %v", err)
	}
}
