package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
)

// Ensure a planted secret reaches no response body, log line, error or
// database file, whatever the operation does with it, successful or not.
func TestSecretCanary(t *testing.T) {
	const canary = "CANARY-7f3a9c-never-print-me"
	s := mustRunMain(t, "")
	ctx, c := context.Background(), s.client(t)

	create := func(name string, cfg types.Oauth2ProviderConfigInput, vendor types.CredentialProviderVendorType) error {
		_, err := c.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
			Name: aws.String(name), CredentialProviderVendor: vendor, Oauth2ProviderConfigInput: cfg,
		})
		return err
	}
	var errs []error
	errs = append(errs, create("google", googleConfig("id", canary), types.CredentialProviderVendorTypeGoogleOauth2))
	// Failing paths: wrong member, over-long secret, bad name: each sees the canary.
	errs = append(errs, create("github", googleConfig("id", canary), types.CredentialProviderVendorTypeGithubOauth2))
	errs = append(errs, create("long", googleConfig("id", canary+strings.Repeat("x", 3000)), types.CredentialProviderVendorTypeGoogleOauth2))
	errs = append(errs, create("bad name!", googleConfig("id", canary), types.CredentialProviderVendorTypeGoogleOauth2))
	_, err := c.UpdateOauth2CredentialProvider(ctx, &ctl.UpdateOauth2CredentialProviderInput{
		Name: aws.String("google"), CredentialProviderVendor: types.CredentialProviderVendorTypeGoogleOauth2,
		Oauth2ProviderConfigInput: googleConfig("id", canary+"-2"),
	})
	errs = append(errs, err)
	_, err = c.CreateApiKeyCredentialProvider(ctx, &ctl.CreateApiKeyCredentialProviderInput{Name: aws.String("key"), ApiKey: aws.String(canary)})
	errs = append(errs, err)
	_, err = c.CreateApiKeyCredentialProvider(ctx, &ctl.CreateApiKeyCredentialProviderInput{Name: aws.String("key"), ApiKey: aws.String(canary)})
	errs = append(errs, err)
	_, err = c.GetOauth2CredentialProvider(ctx, &ctl.GetOauth2CredentialProviderInput{Name: aws.String("google")})
	errs = append(errs, err)
	_, err = c.GetApiKeyCredentialProvider(ctx, &ctl.GetApiKeyCredentialProviderInput{Name: aws.String("key")})
	errs = append(errs, err)

	// A raw body with the canary in a field of the wrong type.
	req := signedRequest(t, s, "/identities/CreateApiKeyCredentialProvider", []byte(`{"name":"raw","apiKey":["`+canary+`"]}`), s.KeyID, s.Secret, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	raw.ReadFrom(resp.Body)
	resp.Body.Close()

	for i, err := range errs {
		if err != nil && strings.Contains(err.Error(), canary) {
			t.Errorf("error %d carries the canary: %v", i, err)
		}
	}
	for where, text := range map[string]string{"responses": s.Captured.String() + raw.String(), "log": s.Log.String()} {
		if strings.Contains(text, canary) {
			t.Errorf("the canary appeared in the %s", where)
		}
	}
	if !strings.Contains(s.Captured.String(), "ValidationException") || !strings.Contains(s.Captured.String(), "ConflictException") {
		t.Fatal("the failing paths did not run")
	}
	// At rest: the database files hold only sealed values.
	files, _ := filepath.Glob(filepath.Join(s.DataDir, "behalf.db*"))
	if len(files) == 0 {
		t.Fatal("no database files found")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(canary)) {
			t.Errorf("%s holds the canary in plaintext", filepath.Base(f))
		}
	}
}
