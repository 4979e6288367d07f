package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/spf13/cobra"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/sqlstore"
)

// cliMain runs a command line as main does and returns its exit status,
// stdout and stderr.
func cliMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runMain(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// Ensure every command's --help, -h and `behalf help CMD` print its help
// on stdout and exit 0, as gh and kubectl do.
func TestCLIHelpEveryCommand(t *testing.T) {
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string{}, path...), sub.Name()))
		}
	}
	walk(newRoot(context.Background(), nil, nil, nouns()), nil)
	if len(paths) < 60 {
		t.Fatalf("only %d commands in the tree", len(paths))
	}
	for _, path := range paths {
		for _, args := range [][]string{append(path, "--help"), append(path, "-h"), append([]string{"help"}, path...)} {
			code, out, errOut := cliMain(t, args...)
			if code != 0 || errOut != "" || !strings.Contains(out, "Usage:") {
				t.Fatalf("behalf %s: exit %d, stdout %q, stderr %q; want the help on stdout, exit 0", strings.Join(args, " "), code, out, errOut)
			}
		}
	}
	_, out, _ := cliMain(t, "help", "workload", "create")
	for _, want := range []string{"behalf workload create NAME", "--return-url", "-o, --output", "--endpoint-url"} {
		if !strings.Contains(out, want) {
			t.Errorf("behalf help workload create lacks %q:\n%s", want, out)
		}
	}
	if _, out, _ := cliMain(t, "help", "workload"); !strings.Contains(out, "set-binding") || strings.Contains(out, "serve") {
		t.Errorf("behalf help workload prints another command's help:\n%s", out)
	}
}

// Ensure usage errors exit 2 with the error printed once on stderr, say
// "unknown command" with suggestions, and print nothing on stdout.
func TestCLIUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"workload", "frob"}, []string{`unknown command "frob" for "behalf workload"`, "Run 'behalf workload --help' for usage."}},
		{[]string{"workload", "creat"}, []string{`unknown command "creat" for "behalf workload"`, "Did you mean this?\n\tcreate"}},
		{[]string{"wrkload", "list"}, []string{`unknown command "wrkload" for "behalf"`, "Did you mean this?\n\tworkload"}},
		{[]string{"workload", "list", "--frob"}, []string{"unknown flag: --frob", "Run 'behalf workload list --help' for usage."}},
		{[]string{"workload", "list", "-o", "xml"}, []string{`--output must be table, json or yaml, not "xml"`}},
		{[]string{"help", "frob"}, []string{`unknown help topic "frob"`}},
		{[]string{"serve", "extra"}, []string{`serve takes no arguments`}},
		{[]string{"serve", "--account-id", "12"}, []string{`--account-id must be 12 digits`}},
		{[]string{"demo", "--seed-files", "x"}, []string{`invalid argument "x" for "--seed-files"`}},
	}
	for _, tc := range cases {
		code, out, errOut := cliMain(t, tc.args...)
		if code != 2 || out != "" {
			t.Errorf("behalf %s: exit %d, stdout %q; want exit 2, nothing on stdout", strings.Join(tc.args, " "), code, out)
		}
		for _, want := range tc.want {
			if strings.Count(errOut, want) != 1 {
				t.Errorf("behalf %s: stderr %q; want %q once", strings.Join(tc.args, " "), errOut, want)
			}
		}
	}
}

// Ensure the old single-dash long flags still work, with a deprecation
// note, rather than being read as short flags (-output as -o utput).
func TestCLISingleDashFlags(t *testing.T) {
	code, _, errOut := cliMain(t, "workload", "list", "-output", "xml")
	if code != 2 || !strings.Contains(errOut, "-output is deprecated; use --output") || !strings.Contains(errOut, `not "xml"`) {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if code, out, _ := cliMain(t, "workload", "-help"); code != 0 || !strings.Contains(out, "Usage:") {
		t.Fatalf("-help: exit %d, stdout %q", code, out)
	}
}

// Ensure `behalf completion SHELL` prints a completion script.
func TestCLICompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "__start_behalf", "zsh": "#compdef behalf", "fish": "complete -c behalf", "powershell": "Register-ArgumentCompleter"} {
		code, out, errOut := cliMain(t, "completion", shell)
		if code != 0 || errOut != "" || !strings.Contains(out, want) {
			t.Errorf("behalf completion %s: exit %d, stderr %q, script lacks %q", shell, code, errOut, want)
		}
	}
}

// Ensure `behalf version` reports the build information: module version,
// VCS revision and whether the tree was modified.
func TestCLIVersion(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/behalf-dev/behalf", Version: "v0.3.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := versionOf(info), "v0.3.0 (revision 0123456789abcdef, 2026-01-02T03:04:05Z, dirty, go1.26.8)"; got != want {
		t.Fatalf("version %q, want %q", got, want)
	}
	code, out, _ := cliMain(t, "version")
	if code != 0 || !strings.HasPrefix(out, "behalf ") || strings.TrimSpace(out) == "behalf dev" {
		t.Fatalf("behalf version: exit %d, %q", code, out)
	}
	if code, out2, _ := cliMain(t, "--version"); code != 0 || out2 != out {
		t.Fatalf("behalf --version: exit %d, %q, want %q", code, out2, out)
	}
}

// lastBody is an SDK HTTP client that keeps the last response body.
type lastBody struct{ body []byte }

func (l *lastBody) Do(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		return nil, err
	}
	l.body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(l.body))
	return resp, err
}

// cliJSON runs a command with -o json and decodes what it printed.
func cliJSON(t *testing.T, s *testServer, args ...string) any {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append(args, "-o", "json", "--endpoint-url", s.URL, "--data-dir", s.DataDir)
	if err := run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("behalf %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	var doc any
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("behalf %s printed %q: %v", strings.Join(args, " "), out.String(), err)
	}
	return doc
}

// wireJSON decodes a wire response body.
func wireJSON(t *testing.T, b []byte) any {
	t.Helper()
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("wire body %q: %v", b, err)
	}
	return doc
}

// Ensure -o json prints what the server sent, as the aws CLI prints it
// (the service's member names and nesting, list pages merged), compared
// with the wire response the official SDK client received for the same
// call; -o yaml the same document; and that list commands print a header
// row, and only it when the list is empty.
func TestCLIOutputWire(t *testing.T) {
	isolateAWSEnv(t)
	agent := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer agent.Close()
	s := mustRunMain(t, "", "--allow-private-endpoints")
	ctx := context.Background()
	rec := &lastBody{}
	control := ctl.New(ctl.Options{BaseEndpoint: aws.String(s.URL), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(s.KeyID, s.Secret, ""), HTTPClient: rec})
	cognito := cip.New(cip.Options{BaseEndpoint: aws.String(s.URL), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(s.KeyID, s.Secret, ""), HTTPClient: rec})

	for _, list := range [][]string{{"workload", "list"}, {"provider", "list"}, {"apikey", "list"}, {"runtime", "list"},
		{"userpool", "list"}, {"issuer", "list"}, {"grant", "list"}} {
		out, err := cliRun(t, s, list...)
		if lines := strings.Split(strings.TrimSpace(out), "\n"); err != nil || len(lines) != 1 || lines[0] != strings.ToUpper(lines[0]) {
			t.Errorf("behalf %s on an empty server printed %q (%v); want the header row only", strings.Join(list, " "), out, err)
		}
	}

	if out, err := cliRun(t, s, "runtime", "create", "wire_agent", "--upstream", agent.URL, "--header-allowlist", "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Wire"); err != nil {
		t.Fatalf("runtime create: %v\n%s", err, out)
	}
	rts, err := control.ListAgentRuntimes(ctx, &ctl.ListAgentRuntimesInput{})
	if err != nil || len(rts.AgentRuntimes) != 1 {
		t.Fatalf("ListAgentRuntimes: %v", err)
	}
	id := aws.ToString(rts.AgentRuntimes[0].AgentRuntimeId)
	if _, err := control.GetAgentRuntime(ctx, &ctl.GetAgentRuntimeInput{AgentRuntimeId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	wire := wireJSON(t, rec.body)
	got := cliJSON(t, s, "runtime", "get", id)
	if !reflect.DeepEqual(got, wire) {
		t.Fatalf("runtime get -o json printed\n%v\nthe wire answer is\n%v", got, wire)
	}
	uri := got.(map[string]any)["agentRuntimeArtifact"].(map[string]any)["containerConfiguration"].(map[string]any)["containerUri"]
	if uri != agent.URL {
		t.Fatalf("agentRuntimeArtifact.containerConfiguration.containerUri = %v", uri)
	}
	var y bytes.Buffer
	if err := run(ctx, []string{"runtime", "get", id, "-o", "yaml", "--endpoint-url", s.URL, "--data-dir", s.DataDir}, &y, io.Discard); err != nil ||
		!strings.Contains(y.String(), "agentRuntimeArtifact:\n  containerConfiguration:\n    containerUri: "+agent.URL) {
		t.Fatalf("runtime get -o yaml: %v\n%s", err, y.String())
	}

	secretFile := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secretFile, []byte("s3cret"), 0o600)
	if out, err := cliRun(t, s, "provider", "create", "wire-google", "--vendor", "GoogleOauth2", "--client-id", "ID", "--client-secret-file", secretFile); err != nil {
		t.Fatalf("provider create: %v\n%s", err, out)
	}
	if _, err := control.GetOauth2CredentialProvider(ctx, &ctl.GetOauth2CredentialProviderInput{Name: aws.String("wire-google")}); err != nil {
		t.Fatal(err)
	}
	wire = wireJSON(t, rec.body)
	if got := cliJSON(t, s, "provider", "get", "wire-google"); !reflect.DeepEqual(got, wire) {
		t.Fatalf("provider get -o json printed\n%v\nthe wire answer is\n%v", got, wire)
	}
	if _, ok := wire.(map[string]any)["oauth2ProviderConfigOutput"].(map[string]any)["googleOauth2ProviderConfig"]; !ok {
		t.Fatalf("the wire answer has no oauth2ProviderConfigOutput.googleOauth2ProviderConfig: %v", wire)
	}

	// A list (see TestWireLogPages for several pages).
	for i := range 3 {
		if _, err := control.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String(fmt.Sprintf("wire-%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := control.ListWorkloadIdentities(ctx, &ctl.ListWorkloadIdentitiesInput{MaxResults: aws.Int32(20)}); err != nil {
		t.Fatal(err)
	}
	wire = wireJSON(t, rec.body)
	if got := cliJSON(t, s, "workload", "list"); !reflect.DeepEqual(got, wire) {
		t.Fatalf("workload list -o json printed\n%v\nthe wire answer is\n%v", got, wire)
	}
	out, err := cliRun(t, s, "workload", "list")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); err != nil || len(lines) != 5 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("workload list printed %q (%v); want a header and four rows", out, err)
	}

	if _, err := cognito.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("wire-pool")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cognito.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(60)}); err != nil {
		t.Fatal(err)
	}
	wire = wireJSON(t, rec.body)
	if got := cliJSON(t, s, "userpool", "list"); !reflect.DeepEqual(got, wire) {
		t.Fatalf("userpool list -o json printed\n%v\nthe wire answer is\n%v", got, wire)
	}

	// Behalf's own operations: the server's wire names too.
	if _, err := cliRun(t, s, "access-key", "create", "--workload", "wire-0"); err != nil {
		t.Fatal(err)
	}
	code, body := signedPostAs(t, s, "/behalf/ListAccessKeys", "{}", [2]string{s.KeyID, s.Secret})
	if code != 200 {
		t.Fatalf("ListAccessKeys: %d %s", code, body)
	}
	if got := cliJSON(t, s, "access-key", "list"); !reflect.DeepEqual(got, wireJSON(t, []byte(body))) {
		t.Fatalf("access-key list -o json printed\n%v\nthe wire answer is\n%s", got, body)
	}
}

// Ensure `behalf key` (access keys) still works under its old name with a
// deprecation note, and `behalf keys` names the encryption keys.
func TestCLIAccessKeyRename(t *testing.T) {
	isolateAWSEnv(t)
	s := mustRunMain(t, "")
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"key", "list", "--endpoint-url", s.URL, "--data-dir", s.DataDir}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), `"key" is deprecated; use "behalf access-key" instead`) || !strings.HasPrefix(out.String(), "ACCESS KEY ID") {
		t.Fatalf("behalf key list: stdout %q, stderr %q", out.String(), errOut.String())
	}
	out.Reset()
	errOut.Reset()
	if err := run(context.Background(), []string{"access-key", "list", "--endpoint-url", s.URL, "--data-dir", s.DataDir}, &out, &errOut); err != nil || errOut.Len() != 0 {
		t.Fatalf("behalf access-key list: %v, stderr %q", err, errOut.String())
	}
	_, help, _ := cliMain(t, "--help")
	if !strings.Contains(help, "access-key") || regexp.MustCompile(`(?m)^  key\s`).MatchString(help) {
		t.Fatalf("behalf --help lists:\n%s", help)
	}
}

// Ensure the pages of a list are printed as one answer, as the aws CLI
// prints them, and a later operation's answer replaces an earlier one's.
func TestWireLogPages(t *testing.T) {
	l := &wireLog{}
	l.record("GetWorkloadIdentity", []byte(`{"name":"a"}`))
	l.record("ListWorkloadIdentities", []byte(`{"workloadIdentities":[{"name":"a"}],"nextToken":"t1"}`))
	l.record("ListWorkloadIdentities", []byte(`{"workloadIdentities":[{"name":"b"},{"name":"c"}]}`))
	if got, want := string(l.last()), `{"workloadIdentities":[{"name":"a"},{"name":"b"},{"name":"c"}]}`; got != want {
		t.Fatalf("merged %s, want %s", got, want)
	}
	l.record("UpdateWorkloadIdentity", []byte(`{"name":"a","allowedResourceOauth2ReturnUrls":[]}`))
	if got, want := string(l.last()), `{"name":"a","allowedResourceOauth2ReturnUrls":[]}`; got != want {
		t.Fatalf("last %s, want %s", got, want)
	}
	l.record("DeleteWorkloadIdentity", []byte(`{}`))
	if l.last() != nil {
		t.Fatal("an empty answer is printed")
	}
}

// Ensure update commands change only the flags given: they read the
// resource, apply the flags set, and write it back.
func TestCLIUpdateOnlyGiven(t *testing.T) {
	isolateAWSEnv(t)
	s := mustRunMain(t, "", "--allow-private-endpoints")
	ctx := context.Background()
	control := s.client(t)
	const header = "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Kept"
	if out, err := cliRun(t, s, "runtime", "create", "upd_agent", "--upstream", "http://127.0.0.1:9/agent", "--description", "kept",
		"--discovery-url", "https://idp.example.com/.well-known/openid-configuration", "--allowed-client", "c1", "--header-allowlist", header); err != nil {
		t.Fatalf("runtime create: %v\n%s", err, out)
	}
	rts, err := control.ListAgentRuntimes(ctx, &ctl.ListAgentRuntimesInput{})
	if err != nil || len(rts.AgentRuntimes) != 1 {
		t.Fatal(err)
	}
	id := aws.ToString(rts.AgentRuntimes[0].AgentRuntimeId)
	if out, err := cliRun(t, s, "runtime", "update", id, "--callback-url", "http://localhost:9090/callback"); err != nil {
		t.Fatalf("runtime update --callback-url alone: %v\n%s", err, out)
	}
	rt, err := control.GetAgentRuntime(ctx, &ctl.GetAgentRuntimeInput{AgentRuntimeId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if a := authorizerOf(rt.AuthorizerConfiguration); upstreamOf(rt.AgentRuntimeArtifact) != "http://127.0.0.1:9/agent" || aws.ToString(rt.Description) != "kept" ||
		a == nil || !reflect.DeepEqual(a.AllowedClients, []string{"c1"}) || !reflect.DeepEqual(headersOf(rt.RequestHeaderConfiguration), []string{header}) ||
		rt.EnvironmentVariables["OAUTH2_CALLBACK_URL"] != "http://localhost:9090/callback" {
		t.Fatalf("after update --callback-url: %+v", rt)
	}
	if out, err := cliRun(t, s, "runtime", "update", id, "--discovery-url", ""); err != nil {
		t.Fatalf("runtime update --discovery-url '': %v\n%s", err, out)
	}
	rt, _ = control.GetAgentRuntime(ctx, &ctl.GetAgentRuntimeInput{AgentRuntimeId: aws.String(id)})
	if authorizerOf(rt.AuthorizerConfiguration) != nil || rt.EnvironmentVariables["OAUTH2_CALLBACK_URL"] == "" {
		t.Fatalf("after update --discovery-url '': %+v", rt)
	}

	secretFile := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secretFile, []byte("s3cret"), 0o600)
	if out, err := cliRun(t, s, "provider", "create", "upd-custom", "--vendor", "CustomOauth2", "--client-id", "old-id", "--client-secret-file", secretFile,
		"--issuer", "https://idp.example", "--authorization-endpoint", "https://idp.example/a", "--token-endpoint", "https://idp.example/t"); err != nil {
		t.Fatalf("provider create: %v\n%s", err, out)
	}
	if out, err := cliRun(t, s, "provider", "update", "upd-custom", "--client-id", "new-id"); err != nil {
		t.Fatalf("provider update --client-id alone: %v\n%s", err, out)
	}
	p, err := control.GetOauth2CredentialProvider(ctx, &ctl.GetOauth2CredentialProviderInput{Name: aws.String("upd-custom")})
	if err != nil {
		t.Fatal(err)
	}
	custom := p.Oauth2ProviderConfigOutput.(*types.Oauth2ProviderConfigOutputMemberCustomOauth2ProviderConfig).Value
	meta, ok := custom.OauthDiscovery.(*types.Oauth2DiscoveryMemberAuthorizationServerMetadata)
	if aws.ToString(custom.ClientId) != "new-id" || !ok || aws.ToString(meta.Value.TokenEndpoint) != "https://idp.example/t" {
		t.Fatalf("after provider update --client-id: %+v", custom)
	}

	if _, err := cliRun(t, s, "workload", "create", "upd-wl", "--return-url", "https://app.example/cb"); err != nil {
		t.Fatal(err)
	}
	if _, err := cliRun(t, s, "workload", "update", "upd-wl"); !errors.Is(err, errUsage) {
		t.Fatalf("workload update without flags: %v", err)
	}
	if out, err := cliRun(t, s, "workload", "update", "upd-wl", "--return-url", ""); err != nil || !strings.Contains(out, "(none)") {
		t.Fatalf("workload update --return-url '': %v\n%s", err, out)
	}
}

// Ensure a refused connection says how to point the CLI at a server, and
// that without credentials the CLI says which it looked for instead of
// asking EC2 instance metadata (whose SDK warning went to stderr).
func TestCLIErrorsSayWhatToDo(t *testing.T) {
	isolateAWSEnv(t)
	t.Setenv("HOME", t.TempDir())
	empty := t.TempDir()

	stderr := captureStderr(t, func() {
		code, out, errOut := cliMain(t, "workload", "list", "--data-dir", empty, "--endpoint-url", "http://127.0.0.1:1")
		for _, want := range []string{"no credentials found", "AWS_ACCESS_KEY_ID", "AWS_PROFILE", filepath.Join(empty, "credentials"), ".aws/credentials"} {
			if code != 1 || out != "" || !strings.Contains(errOut, want) {
				t.Errorf("without credentials: exit %d, stderr %q; want %q", code, errOut, want)
			}
		}
	})
	if strings.Contains(stderr, "IMDS") {
		t.Errorf("the SDK asked EC2 instance metadata: %s", stderr)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	os.WriteFile(filepath.Join(empty, "credentials"), []byte("[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n"), 0o600)
	for _, args := range [][]string{{"workload", "list"}, {"access-key", "list"}, {"userpool", "list"}} {
		code, _, errOut := cliMain(t, append(args, "--data-dir", empty, "--endpoint-url", "http://"+closed)...)
		for _, want := range []string{"cannot connect to Behalf at " + closed, "--endpoint-url", "AWS_ENDPOINT_URL", "behalf serve"} {
			if code != 1 || !strings.Contains(errOut, want) {
				t.Errorf("behalf %s to a closed port: exit %d, stderr %q; want %q", strings.Join(args, " "), code, errOut, want)
			}
		}
	}
}

// captureStderr runs fn with the process's stderr (where the SDK logs)
// going to a pipe, and returns what was written.
func captureStderr(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	defer func() { os.Stderr = old }()
	fn()
	w.Close()
	return string(<-done)
}

// Ensure `behalf audit list` is newest first by time (a flushed event of
// an earlier hour comes after later ones), filters by kind, principal,
// resource and time, prints a table with no "<nil>", and -o json the wire.
func TestCLIAuditList(t *testing.T) {
	isolateAWSEnv(t)
	dir := t.TempDir()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "behalf.db"))
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now().UTC().Truncate(time.Second).Add(-3 * time.Hour)
	events := []*behalf.AuditEvent{
		{Time: base.Add(time.Hour), Kind: behalf.AuditGrantIssued, Workload: "agent-a", Actor: "BHLFKEY1", Detail: "first"},
		{Time: base.Add(2 * time.Hour), Kind: behalf.AuditGrantRevoked, Workload: "agent-b", Actor: "BHLFKEY2"},
		{Time: base, Kind: behalf.AuditGrantFetched, Workload: "agent-a", Detail: "count=3"}, // appended last, oldest
	}
	for _, e := range events {
		if err := db.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s := startMain(t, serverOptions{dataDir: dir})

	out, err := cliRun(t, s, "audit", "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "TIME") || !strings.Contains(lines[1], "grant.revoked") ||
		!strings.Contains(lines[2], "grant.issued") || !strings.Contains(lines[3], "grant.fetched") || strings.Contains(out, "<nil>") {
		t.Fatalf("audit list printed:\n%s\nwant a header, then revoked, issued, fetched (newest first), no <nil>", out)
	}
	kinds := func(args ...string) []string {
		t.Helper()
		doc := cliJSON(t, s, append([]string{"audit", "list"}, args...)...)
		var got []string
		for _, e := range doc.(map[string]any)["events"].([]any) {
			got = append(got, e.(map[string]any)["kind"].(string))
		}
		return got
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"grant.revoked", "grant.issued", "grant.fetched"}},
		{[]string{"--kind", "grant.issued"}, []string{"grant.issued"}},
		{[]string{"--principal", "BHLFKEY2"}, []string{"grant.revoked"}},
		{[]string{"--resource", "agent-a"}, []string{"grant.issued", "grant.fetched"}},
		{[]string{"--since", base.Add(time.Hour).Format(time.RFC3339)}, []string{"grant.revoked", "grant.issued"}},
		{[]string{"--until", base.Add(time.Hour).Format(time.RFC3339)}, []string{"grant.fetched"}},
		{[]string{"--since", "90m"}, []string{"grant.revoked"}},
		{[]string{"--limit", "1"}, []string{"grant.revoked"}},
	} {
		if got := kinds(tc.args...); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("audit list %s: %v, want %v", strings.Join(tc.args, " "), got, tc.want)
		}
	}
	if _, err := cliRun(t, s, "audit", "list", "--since", "yesterday"); !errors.Is(err, errUsage) {
		t.Errorf("--since yesterday: %v", err)
	}
	code, body := signedPostAs(t, s, "/behalf/ListAuditEvents", `{"since":"soon"}`, [2]string{s.KeyID, s.Secret})
	if code != 400 || !strings.Contains(body, "ValidationException") || !strings.Contains(body, "since") {
		t.Errorf("ListAuditEvents with a bad since: %d %s", code, body)
	}

	// An administrative change is audited with its principal and resource
	// (issue 15), found by --resource and shown in the RESOURCE column.
	if _, err := cliRun(t, s, "workload", "create", "wl-audited"); err != nil {
		t.Fatal(err)
	}
	doc := cliJSON(t, s, "audit", "list", "--resource", "wl-audited")
	evs := doc.(map[string]any)["events"].([]any)
	if len(evs) != 1 {
		t.Fatalf("audit list --resource wl-audited: %v", doc)
	}
	if e := evs[0].(map[string]any); e["kind"] != "admin.CreateWorkloadIdentity" || e["actor"] != s.KeyID || e["resource"] != "wl-audited" {
		t.Errorf("audit list --resource wl-audited: %v, want admin.CreateWorkloadIdentity by %s", e, s.KeyID)
	}
	out, err = cliRun(t, s, "audit", "list", "--kind", "admin.CreateWorkloadIdentity")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); err != nil || len(lines) != 2 || !strings.Contains(lines[0], "RESOURCE") || !strings.Contains(lines[1], "wl-audited") {
		t.Errorf("audit list --kind admin.CreateWorkloadIdentity: %v\n%s", err, out)
	}
}

// FuzzParseWhen: any --since/--until either parses or is refused.
func FuzzParseWhen(f *testing.F) {
	for _, s := range []string{"2026-01-02T15:04:05Z", "2026-01-02", "90m", "-1h", "", "yesterday"} {
		f.Add(s)
	}
	now := time.Now()
	f.Fuzz(func(t *testing.T, s string) {
		if at, err := parseWhen(s, now); err == nil && at.IsZero() && s != "0001-01-01" {
			t.Logf("%q parsed as the zero time", s)
		}
	})
}

// Ensure the demo does not claim the browser opened when the opener
// (xdg-open) failed.
func TestOpenBrowserReportsFailure(t *testing.T) {
	if goruntime.GOOS != "linux" {
		t.Skip("xdg-open is the Linux opener")
	}
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	script := filepath.Join(dir, "xdg-open")
	os.WriteFile(script, []byte("#!/bin/sh\necho 'xdg-open: no method available for opening' >&2\nexit 3\n"), 0o755)
	if err := openBrowser("http://127.0.0.1:1/"); err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("a failing xdg-open: %v", err)
	}
	os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755)
	if err := openBrowser("http://127.0.0.1:1/"); err != nil {
		t.Fatalf("a working xdg-open: %v", err)
	}
}

// asMainEnv makes the test binary run main, as the behalf command.
const asMainEnv = "BEHALF_TEST_AS_MAIN"

// Ensure `behalf runtime create NAME -- CMD | tee` still cleans up on
// Ctrl-C although the pipe's reader is gone (Ctrl-C stops tee too) and
// the agent writes a line on its way out: the write fails, rather than
// SIGPIPE killing behalf before it deletes the agent's access key.
func TestSuperviseCleansUpWithBrokenStdout(t *testing.T) {
	if goruntime.GOOS == "windows" {
		t.Skip("no SIGPIPE")
	}
	isolateAWSEnv(t)
	s := mustRunMain(t, "", "--allow-private-endpoints")
	agent := filepath.Join(t.TempDir(), "agent.sh")
	os.WriteFile(agent, []byte("#!/bin/sh\ntrap 'echo stopping; echo stopping; exit 0' TERM\necho started\nwhile :; do sleep 0.1; done\n"), 0o755)

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var errOut syncBuffer
	cmd := exec.Command(os.Args[0], "runtime", "create", "pipe_agent", "--endpoint-url", s.URL, "--data-dir", s.DataDir, "--", agent)
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	cmd.Stdout, cmd.Stderr = w, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer cmd.Process.Kill()

	// Read stdout (as tee does) until the agent's first line.
	lines := make(chan string)
	go func() {
		b := make([]byte, 4096)
		var seen string
		for {
			n, err := r.Read(b)
			seen += string(b[:n])
			if strings.Contains(seen, "[pipe_agent] started") {
				lines <- seen
				return
			}
			if err != nil {
				lines <- seen
				return
			}
		}
	}()
	select {
	case got := <-lines:
		if !strings.Contains(got, "[pipe_agent] started") {
			t.Fatalf("stdout %q, stderr:\n%s", got, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the agent did not start; stderr:\n%s", errOut.String())
	}
	key := regexp.MustCompile(`created access key (\S+) for the agent`).FindStringSubmatch(errOut.String())
	if key == nil {
		t.Fatalf("no access key line:\n%s", errOut.String())
	}
	r.Close() // Ctrl-C stopped tee
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		t.Logf("behalf exited: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatalf("behalf did not stop; stderr:\n%s", errOut.String())
	}
	if _, left := accessKeys(t, s)[key[1]]; left || !strings.Contains(errOut.String(), "deleted the agent's access key "+key[1]) {
		t.Fatalf("the agent's access key %s was left behind (left: %v); stderr:\n%s", key[1], left, errOut.String())
	}
}
