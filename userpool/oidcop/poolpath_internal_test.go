package oidcop

import (
	"testing"

	"github.com/behalf-dev/behalf"
)

// splitPoolPath recognises /{poolId}/… only for ids of the pool id
// pattern; everything else (the AgentCore and Behalf API paths) is passed on.
func TestSplitPoolPath(t *testing.T) {
	for _, tc := range []struct {
		path, pool, rest string
		ok               bool
	}{
		{"/us-east-1_AbC123/oauth2/authorize", "us-east-1_AbC123", "/oauth2/authorize", true},
		{"/eu_west_9/.well-known/openid-configuration", "eu_west_9", "/.well-known/openid-configuration", true},
		{"/us-east-1_AbC123/", "us-east-1_AbC123", "/", true},
		{"/identities/oauth2/token", "", "", false},
		{"/runtimes/x/invocations", "", "", false},
		{"/us-east-1_AbC123", "", "", false}, // no rest
		{"/_abc/x", "", "", false},           // nothing before the underscore
		{"/us-east-1_/x", "", "", false},     // nothing after it
		{"/us-east-1_ab-c/x", "", "", false}, // a dash after the last underscore
		{"/us east_1/x", "", "", false},
		{"us-east-1_a/x", "", "", false},
	} {
		pool, rest, ok := splitPoolPath(tc.path)
		if pool != tc.pool || rest != tc.rest || ok != tc.ok {
			t.Errorf("splitPoolPath(%q) = %q, %q, %v; want %q, %q, %v", tc.path, pool, rest, ok, tc.pool, tc.rest, tc.ok)
		}
	}
}

func FuzzSplitPoolPath(f *testing.F) {
	f.Add("/us-east-1_AbC123/oauth2/token")
	f.Add("/identities/x")
	f.Fuzz(func(t *testing.T, path string) {
		pool, rest, ok := splitPoolPath(path)
		if !ok {
			return
		}
		if !behalf.IsPoolID(pool) || "/"+pool+rest != path {
			t.Fatalf("splitPoolPath(%q) = %q, %q", path, pool, rest)
		}
	})
}
