package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// TestMain lets the test binary serve as `behalf bench`'s baseline child
// process (bench_baseline.go), which is the running executable started
// again with benchChildEnv set.
func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" { // the test binary as behalf itself
		main()
	}
	if os.Getenv(benchChildEnv) == "1" {
		if err := serveBaselineChild(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Ensure `behalf bench` measures every target of issue 12 against a server
// that allows private endpoints, prints each with its baseline and a ratio
// (the one-connection row with the added p50), and deletes everything it
// created. Nothing here depends on the figures.
func TestBenchCommand(t *testing.T) {
	isolateAWSEnv(t)
	s := startMain(t, serverOptions{args: []string{"--allow-private-endpoints"}, discardLog: true})
	out, err := cliRun(t, s, "bench", "--duration", "200ms", "--connections", "2")
	if err != nil {
		t.Fatalf("behalf bench: %v\n%s", err, out)
	}
	t.Logf("behalf bench printed:\n%s", out)
	number := `[0-9]+(\.[0-9]+)?(µs|ms)`
	for _, want := range []struct{ target, ratio, baseline string }{
		{"GetResourceOauth2Token, vault hit", `[0-9]+\.[0-9]{2}`, "vs bare net/http handler, same answer bytes"},
		{"GetWorkloadAccessTokenForJWT, pool token", `[0-9]+\.[0-9]{2}`, "vs bare net/http handler, same answer bytes"},
		{"InitiateAuth USER_PASSWORD_AUTH", `[0-9]+\.[0-9]{2}`, `vs argon2id floor \(m=19456 KiB, t=2, p=1\), hashes`},
		{"InvokeAgentRuntime, trivial agent", `[0-9]+\.[0-9]{2}`, "vs bare httputil.ReverseProxy, same agent"},
		{"InvokeAgentRuntime, 1 connection", `[+-]` + number, "vs the agent directly, 1 connection"},
	} {
		// TARGET CONNS REQ/S P50 P99 ERRORS RATIO GOAL MET, then the baseline's line.
		row := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(want.target) + ` +[0-9]+ +[0-9]+ +` + number + ` +` + number + ` +0 +` + want.ratio + ` +\S.* +(yes|no)\n` +
			`  ` + want.baseline + ` +[0-9]+ +[0-9]+ +` + number + ` +` + number + ` +0 *$`)
		if !row.MatchString(out) {
			t.Errorf("no row for %s with a ratio and its baseline below it", want.target)
		}
	}
	hop := regexp.MustCompile(`(?m)^  vs bare httputil.ReverseProxy, 1 connection +1 +[0-9]+ +` + number + ` +` + number + ` +0 +[+-]` + number + ` *$`)
	if !hop.MatchString(out) {
		t.Errorf("no line for the p50 a bare ReverseProxy adds at one connection")
	}
	if strings.Contains(out, "skipped") {
		t.Errorf("a target was skipped")
	}
	if !strings.Contains(out, "Deleted what the run created (6 resources).") {
		t.Errorf("no report of the deletions")
	}

	// Nothing is left behind.
	ctx := context.Background()
	control := s.clientWith(t, s.KeyID, s.Secret)
	if w, err := control.ListWorkloadIdentities(ctx, &ctl.ListWorkloadIdentitiesInput{}); err != nil || len(w.WorkloadIdentities) != 0 {
		t.Errorf("workload identities left: %+v %v", w, err)
	}
	if p, err := control.ListOauth2CredentialProviders(ctx, &ctl.ListOauth2CredentialProvidersInput{}); err != nil || len(p.CredentialProviders) != 0 {
		t.Errorf("credential providers left: %+v %v", p, err)
	}
	if r, err := control.ListAgentRuntimes(ctx, &ctl.ListAgentRuntimesInput{}); err != nil || len(r.AgentRuntimes) != 0 {
		t.Errorf("agent runtimes left: %+v %v", r, err)
	}
	cog := cip.New(cip.Options{BaseEndpoint: aws.String(s.URL), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(s.KeyID, s.Secret, "")})
	if p, err := cog.ListUserPools(ctx, &cip.ListUserPoolsInput{MaxResults: aws.Int32(60)}); err != nil || len(p.UserPools) != 0 {
		t.Errorf("user pools left: %+v %v", p, err)
	}
	if grants, err := cliRun(t, s, "grant", "list"); err != nil || strings.Count(strings.TrimSpace(grants), "\n") != 0 {
		t.Errorf("grants left: %s %v", grants, err)
	}
}
