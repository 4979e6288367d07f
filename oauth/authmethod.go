package oauth

import (
	"slices"
	"strings"

	"github.com/behalf-dev/behalf"
)

// ClientAuthMethodField is the wire field of a custom provider's client
// authentication method; ChooseAuthMethod's errors name it.
const ClientAuthMethodField = "oauth2ProviderConfigInput.customOauth2ProviderConfig.clientAuthenticationMethod"

// ChooseAuthMethod picks how Behalf authenticates at a token endpoint.
// configured, an admin's choice (behalf.ClientSecretBasic,
// behalf.ClientSecretPost or behalf.ClientPrivateKeyJWT), wins; any other
// non-empty value is refused.
// Otherwise advertised (token_endpoint_auth_methods_supported, in
// discovery spelling) decides: empty or containing client_secret_basic
// gives behalf.ClientSecretBasic, else client_secret_post gives
// behalf.ClientSecretPost, else the server supports none of Behalf's
// methods. Errors are behalf.Invalid(ClientAuthMethodField, ...).
func ChooseAuthMethod(configured string, advertised []string) (string, error) {
	switch configured {
	case behalf.ClientSecretBasic, behalf.ClientSecretPost, behalf.ClientPrivateKeyJWT:
		return configured, nil
	case behalf.ClientAWSIAMIDTokenJWT:
		return "", behalf.Invalid(ClientAuthMethodField,
			"Behalf does not support %s: it needs a JWT that AWS STS (GetWebIdentityToken) signs for an IAM role, and Behalf has no AWS identity. "+
				"Use %s: Behalf generates and keeps the signing key and publishes its public keys for you to register at the provider.",
			configured, behalf.ClientPrivateKeyJWT)
	case "":
	default:
		return "", behalf.Invalid(ClientAuthMethodField,
			"Behalf does not support client authentication method %s; use %s, %s or %s.",
			configured, behalf.ClientSecretBasic, behalf.ClientSecretPost, behalf.ClientPrivateKeyJWT)
	}
	switch {
	case len(advertised) == 0 || slices.Contains(advertised, authBasic):
		return behalf.ClientSecretBasic, nil
	case slices.Contains(advertised, authPost):
		return behalf.ClientSecretPost, nil
	}
	return "", behalf.Invalid(ClientAuthMethodField,
		"The authorization server supports none of the client authentication methods Behalf offers (%s, %s); it advertises %s.",
		authBasic, authPost, summarize(advertised))
}

// summarize lists at most a few advertised methods for an error message.
func summarize(methods []string) string {
	const max = 5
	if len(methods) > max {
		return strings.Join(methods[:max], ", ") + ", ..."
	}
	return strings.Join(methods, ", ")
}
