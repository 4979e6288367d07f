package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/behalf-dev/behalf/internal/smtptest"
)

// jsClientsSource is the directory of the JS client tests and their
// pinned dependencies (package-lock.json).
const jsClientsSource = "../../clients/js"

// jsClientsDir returns a directory holding the JS client tests with their
// node_modules: clients/js itself when its node_modules was installed
// there (CI runs npm ci in it), else a temporary copy in which it runs
// npm ci, so that the source tree is never written. It skips the test
// when node or npm is not installed.
func jsClientsDir(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the tests with amazon-cognito-identity-js and aws-amplify are skipped (Debian: apt-get install nodejs npm)")
	}
	src, err := filepath.Abs(jsClientsSource)
	if err != nil {
		t.Fatal(err)
	}
	installed := true
	for _, m := range []string{"amazon-cognito-identity-js", "aws-amplify", "@modelcontextprotocol/sdk"} {
		if _, err := os.Stat(filepath.Join(src, "node_modules", m, "package.json")); err != nil {
			installed = false
		}
	}
	if installed {
		return src
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed and clients/js/node_modules is missing: the JS client tests are skipped (Debian: apt-get install nodejs npm)")
	}
	dir := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "npm_config_cache="+filepath.Join(dir, ".npm-cache"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in a copy of clients/js: %v\n%s", err, out)
	}
	return dir
}

// runNodeTest runs one node test file of dir with env, failing t with its
// output if it fails.
func runNodeTest(t *testing.T, dir, file string, env map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "--test", "--test-reporter=spec", file)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("node --test %s: %v\n%s", file, err, out.String())
	}
	t.Logf("node --test %s:\n%s", file, out.String())
}

// Ensure the real front-end libraries, unmodified, work against Behalf
// with only the endpoint changed: amazon-cognito-identity-js (SRP sign-in,
// NEW_PASSWORD_REQUIRED, REFRESH_TOKEN_AUTH, global sign-out) and
// aws-amplify v6 (signIn by SRP, fetchAuthSession({forceRefresh: true})
// through GetTokensFromRefreshToken, with and without refresh-token
// rotation, signOut).
func TestJSClients(t *testing.T) {
	dir := jsClientsDir(t)
	s := startMain(t, serverOptions{})
	ctx, c := context.Background(), s.cognito(t)
	pool, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("js")})
	if err != nil {
		t.Fatal(err)
	}
	poolID := aws.ToString(pool.UserPool.Id)
	// Public clients with the default flows (SRP and refresh), as the
	// libraries' apps use them.
	newClient := func(name string, rotation *types.RefreshTokenRotationType) string {
		out, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{
			UserPoolId: aws.String(poolID), ClientName: aws.String(name), RefreshTokenRotation: rotation,
		})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.UserPoolClient.ClientId)
	}
	plain := newClient("web", nil)
	rotating := newClient("web-rotating", &types.RefreshTokenRotationType{Feature: types.FeatureTypeEnabled, RetryGracePeriodSeconds: aws.Int32(0)})
	newUser := func(name, password string, permanent bool) {
		if _, err := c.AdminCreateUser(ctx, &cip.AdminCreateUserInput{
			UserPoolId: aws.String(poolID), Username: aws.String(name), TemporaryPassword: aws.String("Temp-Pass-1!"),
			MessageAction:  types.MessageActionTypeSuppress,
			UserAttributes: []types.AttributeType{{Name: aws.String("email"), Value: aws.String(name + "@example.com")}},
		}); err != nil {
			t.Fatal(err)
		}
		if permanent {
			if _, err := c.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{
				UserPoolId: aws.String(poolID), Username: aws.String(name), Password: aws.String(password), Permanent: true,
			}); err != nil {
				t.Fatal(err)
			}
		}
	}

	t.Run("amazon-cognito-identity-js", func(t *testing.T) {
		newUser("ajs-user", "", false)
		runNodeTest(t, dir, "cognito-identity-js.test.js", map[string]string{
			"BEHALF_URL": s.URL, "POOL_ID": poolID, "CLIENT_ID": plain,
			"USERNAME": "ajs-user", "TEMP_PASSWORD": "Temp-Pass-1!", "NEW_PASSWORD": "Ajs-New-Pass-2!",
		})
	})
	for name, client := range map[string]string{"aws-amplify": plain, "aws-amplify-rotation": rotating} {
		t.Run(name, func(t *testing.T) {
			user := name + "-user"
			newUser(user, "Amplify-Pass-3!", true)
			runNodeTest(t, dir, "amplify.test.js", map[string]string{
				"BEHALF_URL": s.URL, "POOL_ID": poolID, "CLIENT_ID": client, "USERNAME": user, "PASSWORD": "Amplify-Pass-3!",
			})
		})
	}
	// Amplify refreshed through GetTokensFromRefreshToken (with rotation
	// and no grace period, a second refresh with the old token would
	// have failed the test), and nothing answered 500.
	log := s.Log.String()
	if !strings.Contains(log, "op=GetTokensFromRefreshToken status=200") || strings.Contains(log, "status=500") {
		t.Fatalf("server log lacks a successful GetTokensFromRefreshToken, or has a 500:\n%s", log)
	}
}

// Ensure amazon-cognito-identity-js, unmodified, signs a user up and
// resets a password with the codes Behalf mailed through --smtp-url to a
// real SMTP server; the node test reads them from the received mail
// through CODES_URL.
func TestJSClientsSignUp(t *testing.T) {
	dir := jsClientsDir(t)
	mail := smtptest.Start(t, smtptest.Options{})
	s := startMain(t, serverOptions{smtpTLS: mail.RootCAs,
		args: []string{"--smtp-url", mail.URL("smtp"), "--smtp-from", "no-reply@behalf.example"}})
	ctx, c := context.Background(), s.cognito(t)
	pool, err := c.CreateUserPool(ctx, &cip.CreateUserPoolInput{PoolName: aws.String("js-signup"),
		AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail}})
	if err != nil {
		t.Fatal(err)
	}
	client, err := c.CreateUserPoolClient(ctx, &cip.CreateUserPoolClientInput{UserPoolId: pool.UserPool.Id, ClientName: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	codes := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		code, err := mail.Code(r.URL.Query().Get("to"), n, 10*time.Second)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		io.WriteString(w, code)
	}))
	defer codes.Close()
	runNodeTest(t, dir, "signup.test.js", map[string]string{
		"BEHALF_URL": s.URL, "POOL_ID": aws.ToString(pool.UserPool.Id), "CLIENT_ID": aws.ToString(client.UserPoolClient.ClientId),
		"CODES_URL": codes.URL,
	})
}
