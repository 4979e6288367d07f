package oauth_test

import (
	"strings"
	"testing"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/oauth"
)

func TestChooseAuthMethod(t *testing.T) {
	basic, post := behalf.ClientSecretBasic, behalf.ClientSecretPost
	tests := []struct {
		configured string
		advertised []string
		want       string
		wantErr    string
	}{
		{"", nil, basic, ""},
		{"", []string{}, basic, ""},
		{"", []string{"client_secret_basic"}, basic, ""},
		{"", []string{"client_secret_post"}, post, ""},
		{"", []string{"client_secret_post", "client_secret_basic"}, basic, ""},
		{"", []string{"private_key_jwt", "client_secret_post"}, post, ""},
		{"", []string{"none", "client_secret_basic"}, basic, ""},
		{post, nil, post, ""},
		{post, []string{"client_secret_basic"}, post, ""},
		{basic, []string{"client_secret_post"}, basic, ""},
		{basic, []string{"private_key_jwt"}, basic, ""},
		{"", []string{"private_key_jwt", "tls_client_auth"}, "",
			"supports none of the client authentication methods Behalf offers (client_secret_basic, client_secret_post); it advertises private_key_jwt, tls_client_auth."},
		{"PRIVATE_KEY_JWT", nil, "PRIVATE_KEY_JWT", ""},
		{"PRIVATE_KEY_JWT", []string{"client_secret_basic"}, "PRIVATE_KEY_JWT", ""},
		{"AWS_IAM_ID_TOKEN_JWT", []string{"client_secret_basic"}, "", "Behalf has no AWS identity. Use PRIVATE_KEY_JWT"},
		{"client_secret_basic", nil, "", "Behalf does not support client authentication method client_secret_basic"},
	}
	for _, tt := range tests {
		got, err := oauth.ChooseAuthMethod(tt.configured, tt.advertised)
		if tt.wantErr == "" {
			if err != nil || got != tt.want {
				t.Errorf("ChooseAuthMethod(%q, %q) = %q, %v; want %q", tt.configured, tt.advertised, got, err, tt.want)
			}
			continue
		}
		msg := behalf.ErrorMessage(err)
		if got != "" || behalf.ErrorCode(err) != behalf.EINVALID || behalf.ErrorField(err) != oauth.ClientAuthMethodField ||
			!strings.Contains(msg, tt.wantErr) {
			t.Errorf("ChooseAuthMethod(%q, %q) = %q, %v; want EINVALID %q", tt.configured, tt.advertised, got, err, tt.wantErr)
		}
	}
}
