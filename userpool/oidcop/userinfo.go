package oidcop

import (
	"slices"
	"strings"

	"github.com/behalf-dev/behalf"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// Standard claims each userinfo scope releases (OpenID Connect Core §5.4).
var scopeClaims = map[string][]string{
	oidc.ScopeEmail: {"email", "email_verified"},
	oidc.ScopePhone: {"phone_number", "phone_number_verified"},
	oidc.ScopeProfile: {
		"name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
		"profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at", "address",
	},
}

// userInfo returns the claims an access token's scopes release about its
// user: sub and username always; the scopes' standard claims; every
// attribute with aws.cognito.signin.user.admin. *_verified attributes are
// booleans, as in ID tokens.
func userInfo(c *behalf.PoolAccessClaims) map[string]any {
	u := c.User
	out := map[string]any{"sub": u.Sub, "username": u.Username}
	release := func(name string) {
		v, ok := u.Attributes[name]
		if !ok || name == "sub" {
			return
		}
		if strings.HasSuffix(name, "_verified") {
			out[name] = v == "true"
			return
		}
		out[name] = v
	}
	if slices.Contains(c.Scopes, behalf.ScopeCognitoAdmin) {
		for name := range u.Attributes {
			release(name)
		}
		return out
	}
	for _, sc := range c.Scopes {
		for _, name := range scopeClaims[sc] {
			release(name)
		}
	}
	return out
}
