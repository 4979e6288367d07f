package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/behalf-dev/behalf/sandbox"
)

// Ensure `behalf sandbox --refresh-rotation --rotation-grace D` rotates
// refresh tokens and keeps a replaced one usable in the window, answering
// the same successor; --rotation-grace without --refresh-rotation, or
// negative, is refused.
func TestSandboxCommandRotation(t *testing.T) {
	codes := make(chan string, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		codes <- r.URL.Query().Get("code")
		w.Write([]byte("ok"))
	}))
	defer app.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"sandbox", "--listen", "127.0.0.1:0", "--refresh-rotation", "--rotation-grace", "1m",
			"--client", "c1:s1:" + app.URL + "/callback"}, out, errOut)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "Press Ctrl-C") || !strings.Contains(out.String(), "Refresh tokens:") {
		if time.Now().After(deadline) {
			t.Fatalf("no banner:\n%s\n%s", out, errOut)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "Refresh tokens: rotated on every refresh; a replaced one still works for 1m0s") {
		t.Errorf("banner:\n%s", out)
	}
	m := regexp.MustCompile(`Discovery URL:  (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("banner:\n%s", out)
	}
	base := strings.TrimSuffix(m[1], sandbox.DiscoveryPath)
	cfg := &oauth2.Config{
		ClientID: "c1", ClientSecret: "s1", RedirectURL: app.URL + "/callback", Scopes: []string{sandbox.DriveScope},
		Endpoint: oauth2.Endpoint{AuthURL: base + sandbox.AuthorizePath, TokenURL: base + sandbox.TokenPath, AuthStyle: oauth2.AuthStyleInHeader},
	}
	v := oauth2.GenerateVerifier()
	if _, _, err := sandbox.Consent(ctx, nil, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(v), oauth2.AccessTypeOffline), "", true); err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.Exchange(ctx, <-codes, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	refresh := func(rt string) string {
		t.Helper()
		next, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		return next.RefreshToken
	}
	rt2 := refresh(tok.RefreshToken)
	if rt2 == tok.RefreshToken {
		t.Fatal("--refresh-rotation: the refresh token was not rotated")
	}
	if again := refresh(tok.RefreshToken); again != rt2 {
		t.Fatalf("--rotation-grace: a retry with the replaced token answered %q, want the successor %q", again, rt2)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("sandbox stopped with %v", err)
	}

	for _, args := range [][]string{{"--rotation-grace", "30s"}, {"--refresh-rotation", "--rotation-grace", "-1s"}} {
		err := run(context.Background(), append([]string{"sandbox", "--listen", "127.0.0.1:0"}, args...), out, errOut)
		if err == nil || !strings.Contains(err.Error(), "--rotation-grace") {
			t.Errorf("sandbox %q: %v", args, err)
		}
	}
}
