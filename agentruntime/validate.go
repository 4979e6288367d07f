package agentruntime

import (
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/safehttp"
)

var (
	// runtimeNamePattern is AgentCore's AgentRuntimeName.
	runtimeNamePattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,47}$`)
	// runtimeIDPattern is "<name>-<10 alphanumerics>".
	runtimeIDPattern   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,47}-[a-zA-Z0-9]{10}$`)
	scopePattern       = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`)
	claimNamePattern   = regexp.MustCompile(`^[A-Za-z0-9_.\-:]+$`)
	headerNamePattern  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
	envKeyPattern      = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]{0,99}$`)
	roleARNPattern     = regexp.MustCompile(`^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+$`)
	containerURIField  = "agentRuntimeArtifact.containerConfiguration.containerUri"
	customHeaderPrefix = "x-amzn-bedrock-agentcore-runtime-custom-"
)

// Limits: AgentCore's where it documents them, otherwise bounds that keep
// records small.
const (
	maxDescription  = 4096
	maxAllowlist    = 20
	maxAuthzList    = 100
	maxCustomClaims = 100
	maxClaimValue   = 255
	maxEnvEntries   = 50
	maxEnvValue     = 5000
	minLifetime     = 60
	maxLifetime     = 28800
)

// restrictedHeaders may not be passed through to an agent: AgentCore's
// restricted list, the hop-by-hop and proxy headers, and the headers Behalf
// itself sets on invocations (an allowlisted WorkloadAccessToken would let
// a caller forge the agent's identity).
var restrictedHeaders = map[string]bool{}

func init() {
	for _, h := range []string{
		"Proxy-Authorization", "WWW-Authenticate",
		"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language",
		"Content-Type", "Content-Length", "Content-Encoding", "Content-Language", "Content-Location", "Content-Range",
		"Cache-Control", "ETag", "Expires", "If-Match", "If-Modified-Since", "If-None-Match", "If-Range",
		"If-Unmodified-Since", "Last-Modified", "Pragma", "Vary",
		"Connection", "Keep-Alive", "Proxy-Connection", "Upgrade",
		"Host", "Referer", "User-Agent", "From", "Origin",
		"Range", "Accept-Ranges", "Transfer-Encoding", "TE", "Trailer", "Expect",
		"Server", "Date", "Via", "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto",
		"X-Real-Ip", "Cookie", "Set-Cookie",
		"WorkloadAccessToken", "OAuth2CallbackUrl",
	} {
		restrictedHeaders[strings.ToLower(h)] = true
	}
}

// validateName checks a runtime name.
func validateName(name string) error {
	if !runtimeNamePattern.MatchString(name) {
		return behalf.Invalid("agentRuntimeName", "agentRuntimeName must be 1 to 48 characters: a letter, then letters, digits or underscores ([a-zA-Z][a-zA-Z0-9_]{0,47}).")
	}
	return nil
}

// validateID checks a runtime id (or a name, which GetAgentRuntime also
// accepts): anything else cannot exist.
func validateID(id string) error {
	if !runtimeIDPattern.MatchString(id) && !runtimeNamePattern.MatchString(id) {
		return behalf.Invalid("agentRuntimeId", "agentRuntimeId %q is not a valid agent runtime id.", id)
	}
	return nil
}

// checkContainerURI checks the agent's URL and returns it without a
// trailing slash. Anything that is not an http(s) URL is taken for a
// container image and refused: Behalf runs no containers.
func checkContainerURI(raw string, policy safehttp.Options) (string, error) {
	if raw == "" {
		return "", behalf.Invalid(containerURIField, "%s is required: the http(s) URL of the running agent.", containerURIField)
	}
	lower := strings.ToLower(raw)
	if !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "http://") {
		return "", behalf.Invalid(containerURIField,
			"Behalf runs no containers: %s must be the http(s) URL of an agent that is already running (for example https://agent.internal:8080), not a container image (%q).",
			containerURIField, truncate(raw, 200))
	}
	if len(raw) > 1024 {
		return "", behalf.Invalid(containerURIField, "%s must be at most 1024 characters long.", containerURIField)
	}
	u, err := policy.CheckURL(raw)
	if err != nil {
		return "", behalf.Invalid(containerURIField, "%s %q is refused: %v.", containerURIField, truncate(raw, 200), err)
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.Contains(raw, "#") {
		return "", behalf.Invalid(containerURIField, "%s must not have a query or fragment: Behalf appends /invocations and /ping to it.", containerURIField)
	}
	return strings.TrimRight(raw, "/"), nil
}

// validateAuthorizer checks a JWT authorizer; nil (SigV4) is valid.
func validateAuthorizer(a *behalf.JWTAuthorizer, policy safehttp.Options) error {
	if a == nil {
		return nil
	}
	const base = "authorizerConfiguration.customJWTAuthorizer"
	if err := policy.CheckDiscoveryURL(a.DiscoveryURL, safehttp.OIDCDiscovery); err != nil {
		return behalf.Invalid(base+".discoveryUrl", "%s.", safehttp.Describe("discoveryUrl", err))
	}
	lists := []struct {
		field string
		items []string
		check func(string) bool
	}{
		{"allowedClients", a.AllowedClients, nil},
		{"allowedAudience", a.AllowedAudience, nil},
		{"allowedScopes", a.AllowedScopes, scopePattern.MatchString},
	}
	for _, l := range lists {
		if len(l.items) > maxAuthzList {
			return behalf.Invalid(base+"."+l.field, "%s may list at most %d values.", l.field, maxAuthzList)
		}
		for _, v := range l.items {
			if n := utf8.RuneCountInString(v); n < 1 || n > 255 {
				return behalf.Invalid(base+"."+l.field, "Each of %s must be 1 to 255 characters long.", l.field)
			}
			if l.check != nil && !l.check(v) {
				return behalf.Invalid(base+"."+l.field, "%s value %q has characters a scope may not contain.", l.field, v)
			}
		}
	}
	if len(a.CustomClaims) > maxCustomClaims {
		return behalf.Invalid(base+".customClaims", "customClaims may list at most %d rules.", maxCustomClaims)
	}
	for _, c := range a.CustomClaims {
		if err := validateClaim(c); err != nil {
			return err
		}
	}
	return nil
}

// validateClaim checks one custom-claim rule: EQUALS on STRING claims with
// matchValueString, CONTAINS on STRING_ARRAY claims with matchValueString,
// CONTAINS_ANY on STRING_ARRAY claims with matchValueStringList.
func validateClaim(c behalf.ClaimRule) error {
	const field = "authorizerConfiguration.customJWTAuthorizer.customClaims"
	if n := len(c.Name); n < 1 || n > 255 || !claimNamePattern.MatchString(c.Name) {
		return behalf.Invalid(field, "inboundTokenClaimName must be 1 to 255 characters of letters, digits and _.-:.")
	}
	var wantType string
	var wantList bool
	switch c.Operator {
	case behalf.ClaimEquals:
		wantType = behalf.ClaimString
	case behalf.ClaimContains:
		wantType = behalf.ClaimStringArray
	case behalf.ClaimContainsAny:
		wantType, wantList = behalf.ClaimStringArray, true
	default:
		return behalf.Invalid(field, "claimMatchOperator of claim %q must be EQUALS, CONTAINS or CONTAINS_ANY.", c.Name)
	}
	if c.ValueType != behalf.ClaimString && c.ValueType != behalf.ClaimStringArray {
		return behalf.Invalid(field, "inboundTokenClaimValueType of claim %q must be STRING or STRING_ARRAY.", c.Name)
	}
	if c.ValueType != wantType {
		return behalf.Invalid(field, "Claim %q: %s applies only to %s claims.", c.Name, c.Operator, wantType)
	}
	if wantList {
		if c.Value != "" || len(c.Values) == 0 {
			return behalf.Invalid(field, "Claim %q: CONTAINS_ANY needs claimMatchValue.matchValueStringList.", c.Name)
		}
		if len(c.Values) > maxAuthzList {
			return behalf.Invalid(field, "Claim %q: matchValueStringList may list at most %d values.", c.Name, maxAuthzList)
		}
		for _, v := range c.Values {
			if n := utf8.RuneCountInString(v); n < 1 || n > maxClaimValue {
				return behalf.Invalid(field, "Claim %q: each match value must be 1 to %d characters long.", c.Name, maxClaimValue)
			}
		}
		return nil
	}
	if len(c.Values) != 0 || c.Value == "" {
		return behalf.Invalid(field, "Claim %q: %s needs claimMatchValue.matchValueString.", c.Name, c.Operator)
	}
	if utf8.RuneCountInString(c.Value) > maxClaimValue {
		return behalf.Invalid(field, "Claim %q: the match value must be at most %d characters long.", c.Name, maxClaimValue)
	}
	return nil
}

// validateHeaders checks the request header allowlist as AgentCore does:
// at most 20 distinct (case-insensitively) valid header names, none
// restricted, none x-amz-*, no x-amzn-* but the custom prefix, and
// Authorization only with a JWT authorizer.
func validateHeaders(headers []string, jwt bool) error {
	const field = "requestHeaderConfiguration.requestHeaderAllowlist"
	if len(headers) > maxAllowlist {
		return behalf.Invalid(field, "requestHeaderAllowlist may list at most %d headers.", maxAllowlist)
	}
	seen := map[string]bool{}
	for _, h := range headers {
		lower := strings.ToLower(h)
		switch {
		case !headerNamePattern.MatchString(h):
			return behalf.Invalid(field, "Header name %q must be 1 to 256 letters, digits, hyphens and underscores.", truncate(h, 100))
		case restrictedHeaders[lower]:
			return behalf.Invalid(field, "Header %q is restricted and cannot be passed to the agent.", h)
		case strings.HasPrefix(lower, "x-amz-"):
			return behalf.Invalid(field, "Header %q is refused: x-amz- headers are reserved for SigV4.", h)
		case strings.HasPrefix(lower, "x-amzn-") && (!strings.HasPrefix(lower, customHeaderPrefix) || len(lower) == len(customHeaderPrefix)):
			return behalf.Invalid(field, "Header %q is refused: the only x-amzn- headers allowed start with X-Amzn-Bedrock-AgentCore-Runtime-Custom-.", h)
		case lower == "authorization" && !jwt:
			return behalf.Invalid(field, "The Authorization header can be passed only to a runtime with a customJWTAuthorizer.")
		case seen[lower]:
			return behalf.Invalid(field, "Header %q is listed twice.", h)
		}
		seen[lower] = true
	}
	return nil
}

// validateCallbackURL checks the OAuth2 return URL handed to the agent.
func validateCallbackURL(raw string) error {
	if raw == "" {
		return nil
	}
	field := "environmentVariables." + behalf.CallbackURLEnv
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(raw) > 2048 {
		return behalf.Invalid(field, "The OAuth2 callback URL must be an absolute http(s) URL of at most 2048 characters.")
	}
	if u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") {
		return behalf.Invalid(field, "The OAuth2 callback URL must not contain user information or a fragment.")
	}
	return nil
}

// validateEnvironment checks environmentVariables.
func validateEnvironment(env map[string]string) error {
	if len(env) > maxEnvEntries {
		return behalf.Invalid("environmentVariables", "At most %d environment variables are allowed.", maxEnvEntries)
	}
	for k, v := range env {
		if !envKeyPattern.MatchString(k) {
			return behalf.Invalid("environmentVariables", "Environment variable name %q must be 1 to 100 letters, digits and underscores, not starting with a digit.", truncate(k, 100))
		}
		if len(v) > maxEnvValue {
			return behalf.Invalid("environmentVariables", "Environment variable %s must be at most %d characters long.", k, maxEnvValue)
		}
	}
	return nil
}

// validateProtocol checks the server protocol and path.
func validateProtocol(protocol, path string) error {
	switch protocol {
	case behalf.ProtocolHTTP, behalf.ProtocolMCP, behalf.ProtocolA2A, behalf.ProtocolAGUI:
	default:
		return behalf.Invalid("protocolConfiguration.serverProtocol", "serverProtocol must be HTTP, MCP, A2A or AGUI.")
	}
	if path != "" && (!strings.HasPrefix(path, "/") || len(path) > 256 || strings.ContainsAny(path, "?# \t\r\n")) {
		return behalf.Invalid("protocolConfiguration.path", "path must begin with / and be at most 256 characters, without a query or fragment.")
	}
	return nil
}

// validateLifecycle checks lifecycleConfiguration (0 means the default).
func validateLifecycle(idle, maxLife int) error {
	for _, f := range []struct {
		name string
		v    int
	}{{"idleRuntimeSessionTimeout", idle}, {"maxLifetime", maxLife}} {
		if f.v != 0 && (f.v < minLifetime || f.v > maxLifetime) {
			return behalf.Invalid("lifecycleConfiguration."+f.name, "%s must be between %d and %d seconds.", f.name, minLifetime, maxLifetime)
		}
	}
	if idle != 0 && maxLife != 0 && idle > maxLife {
		return behalf.Invalid("lifecycleConfiguration.idleRuntimeSessionTimeout", "idleRuntimeSessionTimeout must not exceed maxLifetime.")
	}
	return nil
}

// truncate shortens s for messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// ValidateAuthorizer checks a customJWTAuthorizer as a runtime's is
// checked (the discovery URL under policy, the allow lists, the custom
// claims), naming fields under authorizerConfiguration.customJWTAuthorizer;
// nil is valid.
func ValidateAuthorizer(a *behalf.JWTAuthorizer, policy safehttp.Options) error {
	return validateAuthorizer(a, policy)
}

// CloneAuthorizer deep-copies a, normalizing empty lists to nil.
func CloneAuthorizer(a *behalf.JWTAuthorizer) *behalf.JWTAuthorizer { return cloneAuthorizer(a) }
