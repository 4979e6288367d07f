package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf/sandbox"
)

// Ensure `behalf demo` runs the walkthrough end to end headless, prints
// every step with real values and the final file list, and prints no
// secret: not the pool client's or the sandbox client's secret, not the
// user's passwords, not a whole token.
func TestDemo(t *testing.T) {
	var mu sync.Mutex
	var secrets []string
	demoSecretsHook = func(s ...string) {
		mu.Lock()
		defer mu.Unlock()
		secrets = append(secrets, s...)
	}
	t.Cleanup(func() { demoSecretsHook = nil })

	dataDir := filepath.Join(t.TempDir(), "behalf")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	start := time.Now()
	if err := run(ctx, []string{"demo", "--data-dir", dataDir}, &out, &errOut); err != nil {
		t.Fatalf("demo: %v\nstdout:\n%s\nstderr:\n%s", err, &out, &errOut)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the demo took %s", d)
	}
	got := out.String()
	t.Logf("demo output:\n%s", got)

	for _, want := range []string{
		" 1. Start Behalf", "Behalf:   http://127.0.0.1:",
		" 2. Create the user pool, its app client and a user", "User pool:  us-east-1_", "User:       alice (alice@example.com)",
		" 3. Sign in as alice (InitiateAuth USER_PASSWORD_AUTH with SECRET_HASH)", "Access token: eyJ",
		" 4. Start the Google sandbox", "/.well-known/openid-configuration", "/drive/v3/",
		" 5. Create the Google credential provider (CustomOauth2", "oauth2credentialprovider/google-drive-provider", "/identities/oauth2/callback/",
		" 6. Start the drive agent", " 7. Start the app's callback server", "/callback",
		" 8. Create the agent runtime", "arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/drive_agent-", "(READY, version 1)", "Workload identity: drive_agent-",
		" 9. Allow the callback server as the workload's OAuth return URL (UpdateWorkloadIdentity)", "allowedResourceOauth2ReturnUrls = http://127.0.0.1:",
		"10. Invoke the agent as alice", "/invocations?qualifier=DEFAULT", "→ status:   auth_required",
		"auth_url: http://127.0.0.1:", "/identities/oauth2/authorize?request_uri=",
		"11. Consent at \"Google\" (headless", `"Drive Agent (Behalf demo)" wants to access alice@example.com's Google Account`,
		"https://www.googleapis.com/auth/drive.metadata.readonly",
		"12. The app binds the session", "CompleteResourceTokenAuth(sessionUri=urn:ietf:params:oauth:request_uri:",
		`→ 200 "Authorization complete — you can return to the agent."`,
		"13. Invoke the agent again", "→ status: success, 5 files from alice@example.com's Google Drive",
		"Done in ", "Behalf's data is in " + dataDir,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// The final file list: every seeded file of alice, by name and id.
	list := got[strings.Index(got, "NAME "):]
	for _, f := range sandbox.SeedFiles(sandbox.DefaultUser, sandbox.DefaultSeedFiles) {
		if !regexp.MustCompile(regexp.QuoteMeta(f.Name) + ` +` + regexp.QuoteMeta(f.MimeType) + ` +` + regexp.QuoteMeta(f.ID)).MatchString(list) {
			t.Errorf("file list lacks %+v", f)
		}
	}

	mu.Lock()
	defer mu.Unlock()
	if len(secrets) < 6 {
		t.Fatalf("only %d secrets recorded", len(secrets))
	}
	both := got + errOut.String()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(both, s) {
			t.Errorf("the output contains a secret: %.12s…", s)
		}
	}
	if jwt := regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+`).FindString(both); jwt != "" {
		t.Errorf("the output contains a JWT: %.20s…", jwt)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "credentials")); err != nil {
		t.Errorf("--data-dir was not kept: %v", err)
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr: %s", &errOut)
	}

	// A used data directory is refused before anything starts.
	out.Reset()
	errOut.Reset()
	err := run(ctx, []string{"demo", "--data-dir", dataDir}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "step 1") || !strings.Contains(err.Error(), "is not empty") {
		t.Errorf("demo in a used data dir: %v", err)
	}
}

// Ensure `behalf sandbox` serves on --listen, registers --client, prints
// the URLs to use, and stops when interrupted.
func TestSandboxCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"sandbox", "--listen", "127.0.0.1:0", "--seed-files", "3",
			"--client", "demo-client:demo-secret:http://127.0.0.1:8600/identities/oauth2/callback/x"}, out, errOut)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "Press Ctrl-C") {
		if time.Now().After(deadline) {
			t.Fatalf("no banner:\n%s\n%s", out, errOut)
		}
		time.Sleep(10 * time.Millisecond)
	}
	banner := out.String()
	m := regexp.MustCompile(`Discovery URL:  (\S+)`).FindStringSubmatch(banner)
	if m == nil || !strings.Contains(banner, "Drive endpoint: http://127.0.0.1:") || !strings.Contains(banner, "--vendor CustomOauth2") ||
		!strings.Contains(banner, "demo-client -> http://127.0.0.1:8600/identities/oauth2/callback/x") || strings.Contains(banner, "demo-secret") {
		t.Fatalf("banner:\n%s", banner)
	}
	resp, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if doc["issuer"] == nil || !strings.HasPrefix(m[1], doc["issuer"].(string)) {
		t.Errorf("discovery %v", doc)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("sandbox stopped with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sandbox did not stop")
	}

	if err := run(context.Background(), []string{"sandbox", "--client", "no-redirect"}, out, errOut); err == nil || !strings.Contains(err.Error(), "ID:SECRET:REDIRECT_URI") {
		t.Errorf("bad --client: %v", err)
	}
}

// Ensure `behalf demo --mcp` runs the gateway walkthrough headless in
// seconds: the Go SDK's MCP client discovers the pool from the 401,
// registers, signs alice in, lists drive___listFiles, gets a URL
// elicitation, and after consent alice's files; bob gets his own consent
// and his own files, never alice's; no secret or token is printed.
func TestDemoMCP(t *testing.T) {
	var mu sync.Mutex
	var secrets []string
	demoSecretsHook = func(s ...string) {
		mu.Lock()
		defer mu.Unlock()
		secrets = append(secrets, s...)
	}
	t.Cleanup(func() { demoSecretsHook = nil })

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	start := time.Now()
	if err := run(ctx, []string{"demo", "--mcp"}, &out, &errOut); err != nil {
		t.Fatalf("demo --mcp: %v\nstdout:\n%s\nstderr:\n%s", err, &out, &errOut)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the demo took %s", d)
	}
	got := out.String()
	t.Logf("demo --mcp output:\n%s", got)
	for _, want := range []string{
		"$ behalf gateway create drive-tools --discovery-url http://127.0.0.1:", "MCP URL: http://127.0.0.1:",
		"$ behalf gateway update drive-tools --allowed-audience http://127.0.0.1:", "$ behalf gateway target create drive-tools drive --openapi examples/drive-openapi/drive-v3-files.yaml --server http://127.0.0.1:",
		`/mcp → 401  WWW-Authenticate: Bearer resource_metadata="http://127.0.0.1:`, "/.well-known/oauth-authorization-server/us-east-1_",
		"/oauth2/register → 201", "code_challenge_method=S256", "POST /us-east-1_", "(username alice, password)", "/oauth2/token → 200",
		"Signed in: access token eyJ", "initialize → behalf-gateway",
		"drive___listFiles — Lists the user's Google Drive files.",
		"→ error -32042 (URL elicitation required)", "/identities/oauth2/authorize?request_uri=",
		`"Drive Agent (Behalf demo)" wants to access alice@example.com's Google Account`,
		`"Drive Agent (Behalf demo)" wants to access bob@example.com's Google Account`,
		`→ 200 "Authorization complete`, "(username bob, password)",
		"files from alice@example.com's Google Drive", "files from bob@example.com's Google Drive", "Done in ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// alice's files after alice's consent, bob's after bob's: each table
	// holds the one user's files only.
	aliceAt, bobAt := strings.Index(got, "files from alice@example.com's"), strings.Index(got, "files from bob@example.com's")
	if aliceAt < 0 || bobAt < aliceAt {
		t.Fatal("no file lists in order")
	}
	aliceTable, bobTable := got[aliceAt:bobAt], got[bobAt:]
	for _, f := range sandbox.SeedFiles("alice@example.com", sandbox.DefaultSeedFiles) {
		if !strings.Contains(aliceTable, f.ID) || strings.Contains(bobTable, f.ID) {
			t.Errorf("alice's file %s: in alice's table %v, in bob's %v", f.ID, strings.Contains(aliceTable, f.ID), strings.Contains(bobTable, f.ID))
		}
	}
	for _, f := range sandbox.SeedFiles("bob@example.com", sandbox.DefaultSeedFiles) {
		if !strings.Contains(bobTable, f.ID) || strings.Contains(aliceTable, f.ID) {
			t.Errorf("bob's file %s: in bob's table %v, in alice's %v", f.ID, strings.Contains(bobTable, f.ID), strings.Contains(aliceTable, f.ID))
		}
	}

	mu.Lock()
	defer mu.Unlock()
	if len(secrets) < 6 {
		t.Fatalf("only %d secrets recorded", len(secrets))
	}
	both := got + errOut.String()
	for _, s := range secrets {
		if s != "" && strings.Contains(both, s) {
			t.Errorf("the output contains a secret: %.12s…", s)
		}
	}
	if jwt := regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+`).FindString(both); jwt != "" {
		t.Errorf("the output contains a JWT: %.20s…", jwt)
	}
	if regexp.MustCompile(`code=[^…&\s]`).MatchString(both) {
		t.Error("the output contains an authorization code")
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr: %s", &errOut)
	}
	if err := run(ctx, []string{"demo", "--mcp", "--interactive"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "--interactive") {
		t.Errorf("demo --mcp --interactive: %v", err)
	}
}
