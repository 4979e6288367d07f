package driveagent_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	dp "github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"

	"github.com/behalf-dev/behalf/agent"
	"github.com/behalf-dev/behalf/agent/driveagent"
)

// Ensure the agent answers auth_required with the consent URL, then lists
// files with the token, asking Drive for 10 files' id, name and mimeType;
// and that a token Drive rejects leads to a forced new consent.
func TestInvoke(t *testing.T) {
	var tokenCalls atomic.Int32
	var lastToken map[string]any
	identity := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewDecoder(r.Body).Decode(&lastToken)
		w.Header().Set("Content-Type", "application/json")
		switch n := tokenCalls.Add(1); {
		case n == 1 || lastToken["forceAuthentication"] == true:
			w.Write([]byte(`{"authorizationUrl":"https://id.example/authorize?request_uri=x","sessionUri":"urn:ietf:params:oauth:request_uri:x","sessionStatus":"IN_PROGRESS"}`))
		case n == 2:
			w.Write([]byte(`{"accessToken":"good"}`))
		default:
			w.Write([]byte(`{"accessToken":"revoked"}`))
		}
	}))
	defer identity.Close()
	drive := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/drive/v3/files" || q.Get("pageSize") != "10" || q.Get("fields") != "files(id,name,mimeType)" {
			t.Errorf("drive request %s", r.URL)
		}
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("Authorization") != "Bearer good" {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`))
			return
		}
		w.Write([]byte(`{"files":[{"id":"1","name":"notes.txt","mimeType":"text/plain"}]}`))
	}))
	defer drive.Close()

	client := agent.NewClient(dp.New(dp.Options{
		BaseEndpoint: aws.String(identity.URL), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
	}))
	app := httptest.NewServer(driveagent.New(driveagent.Config{DriveEndpoint: drive.URL + "/drive/v3"}, client))
	defer app.Close()
	invoke := func() string {
		req, _ := http.NewRequest(http.MethodPost, app.URL+"/invocations", strings.NewReader(`{"prompt":"list"}`))
		req.Header.Set(agent.HeaderWAT, "wat")
		req.Header.Set(agent.HeaderOAuth2CallbackURL, "http://app.example/callback")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	want := `{"status":"auth_required","auth_url":"https://id.example/authorize?request_uri=x","message":"Please visit the URL to authorize access to your Google Drive, then invoke again."}`
	if got := invoke(); got != want {
		t.Fatalf("first invocation\n got %s\nwant %s", got, want)
	}
	if lastToken["resourceCredentialProviderName"] != driveagent.DefaultProvider || lastToken["resourceOauth2ReturnUrl"] != "http://app.example/callback" {
		t.Fatalf("token request %v", lastToken)
	}
	if p, _ := lastToken["customParameters"].(map[string]any); p["access_type"] != "offline" {
		t.Fatalf("custom parameters %v", lastToken["customParameters"])
	}
	if got, want := invoke(), `{"status":"success","files":[{"id":"1","name":"notes.txt","mimeType":"text/plain"}]}`; got != want {
		t.Fatalf("second invocation\n got %s\nwant %s", got, want)
	}
	if got := invoke(); got != want {
		t.Fatalf("with a rejected token\n got %s\nwant %s", got, want)
	}
	if lastToken["forceAuthentication"] != true {
		t.Fatalf("re-consent was not forced: %v", lastToken)
	}
}
