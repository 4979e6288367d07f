package jwtverify_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/safehttp"
	"github.com/behalf-dev/behalf/jwtverify"
)

// docServer serves doc (with "{base}" replaced by the server's URL) at
// the discovery path.
func docServer(t *testing.T, doc string) string {
	t.Helper()
	var base string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/tenant"+"/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(strings.ReplaceAll(doc, "{base}", base)))
	}))
	t.Cleanup(srv.Close)
	base = srv.URL
	return base
}

func TestDiscover(t *testing.T) {
	client := safehttp.NewClient(safehttp.Options{AllowPrivate: true})
	ctx := context.Background()
	base := docServer(t, `{"issuer":"{base}/tenant","jwks_uri":"{base}/tenant/keys","token_endpoint":"{base}/t"}`)
	want := jwtverify.Issuer{Issuer: base + "/tenant", JWKSURI: base + "/tenant/keys"}
	for _, in := range []string{base + "/tenant/.well-known/openid-configuration", base + "/tenant", base + "/tenant/"} {
		got, err := jwtverify.Discover(ctx, client, in)
		if err != nil {
			t.Fatalf("Discover(%s): %v", in, err)
		}
		if got.Issuer != want.Issuer || got.JWKSURI != want.JWKSURI || got.Audiences != nil {
			t.Errorf("Discover(%s) = %+v, want %+v", in, got, want)
		}
	}
}

func TestDiscoverRefuses(t *testing.T) {
	client := safehttp.NewClient(safehttp.Options{AllowPrivate: true})
	ctx := context.Background()
	big, _ := json.Marshal(map[string]string{"issuer": "{base}/tenant", "jwks_uri": "{base}/k", "pad": strings.Repeat("x", jwtverify.MaxDiscoveryBytes)})
	for _, tc := range []struct {
		name, doc string
	}{
		{"issuer mismatch", `{"issuer":"https://evil.example/tenant","jwks_uri":"{base}/k"}`},
		{"issuer of another tenant", `{"issuer":"{base}/other","jwks_uri":"{base}/k"}`},
		{"no jwks_uri", `{"issuer":"{base}/tenant"}`},
		{"no issuer", `{"jwks_uri":"{base}/k"}`},
		{"jwks_uri not allowed", `{"issuer":"{base}/tenant","jwks_uri":"ftp://x.example/k"}`},
		{"not JSON", `<html>`},
		{"too large", string(big)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := docServer(t, tc.doc)
			_, err := jwtverify.Discover(ctx, client, base+"/tenant")
			if behalf.ErrorCode(err) != behalf.EINVALID || behalf.ErrorField(err) != jwtverify.DiscoveryURLField {
				t.Errorf("err = %v, want EINVALID on %s", err, jwtverify.DiscoveryURLField)
			}
		})
	}
	base := docServer(t, `{"issuer":"{base}/tenant","jwks_uri":"{base}/k"}`)
	strict := safehttp.NewClient(safehttp.Options{})
	for _, raw := range []string{base + "/tenant", base + "/tenant/.well-known/openid-configuration?x=1", "https://user:pw@idp.example/tenant"} {
		_, err := jwtverify.Discover(ctx, strict, raw)
		if behalf.ErrorCode(err) != behalf.EINVALID {
			t.Errorf("Discover(%s) with the strict client: err = %v, want EINVALID", raw, err)
		}
	}
}
