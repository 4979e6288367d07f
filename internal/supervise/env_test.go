package supervise

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// Ensure the agent's environment drops the supervisor's credentials,
// endpoints and Behalf's variables, keeps the rest, and sets the given.
func TestEnv(t *testing.T) {
	got := Env([]string{
		"HOME=/home/me", "AWS_SESSION_TOKEN=tok", "AWS_PROFILE=admin", "AWS_ACCESS_KEY_ID=ROOT", "AWS_ENDPOINT_URL_BEDROCK_AGENTCORE=http://elsewhere",
		"BEHALF_ROOT_SECRET_ACCESS_KEY=s", "BEHALF_KMS=x", "PORT=1", "AWS_CA_BUNDLE=/ca.pem", "OAUTH2_CALLBACK_URL=http://old",
	}, map[string]string{"PORT": "2", "AWS_ACCESS_KEY_ID": "SCOPED"})
	slices.Sort(got)
	want := []string{"AWS_ACCESS_KEY_ID=SCOPED", "AWS_CA_BUNDLE=/ca.pem", "HOME=/home/me", "PORT=2"}
	if !slices.Equal(got, want) {
		t.Fatalf("Env = %q, want %q", got, want)
	}
}

// Ensure only http URLs of this machine count as the supervisor's.
func TestIsLoopbackHTTP(t *testing.T) {
	for u, want := range map[string]bool{
		"http://127.0.0.1:8080":  true,
		"http://localhost:1":     true,
		"http://[::1]:9000/":     true,
		"http://127.0.0.2:80":    true,
		"https://127.0.0.1:8080": false,
		"http://10.1.2.3:8080":   false,
		"http://agent.example":   false,
		"::not a url":            false,
	} {
		if got := IsLoopbackHTTP(u); got != want {
			t.Errorf("IsLoopbackHTTP(%q) = %v, want %v", u, got, want)
		}
	}
}

// Ensure PingAnswers wants 200 from GET /ping.
func TestPingAnswers(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/ping" {
			http.NotFound(w, r)
		}
	}))
	defer ok.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer down.Close()
	port, err := FreeLoopbackPort()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if !PingAnswers(ctx, ok.URL+"/") || PingAnswers(ctx, down.URL) || PingAnswers(ctx, "http://127.0.0.1:"+port) {
		t.Fatal("PingAnswers: want true for 200 only")
	}
}
