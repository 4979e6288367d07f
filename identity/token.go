package identity

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
)

var sessionURIPattern = regexp.MustCompile(`^urn:ietf:params:oauth:request_uri:[a-zA-Z0-9\-._~]+$`)

// ResourceOAuth2Token returns the user's token for a provider, refreshing it
// when stale, or an authorization session for the user to consent.
func (d *DataPlane) ResourceOAuth2Token(ctx context.Context, r behalf.TokenRequest) (res *behalf.TokenResult, err error) {
	ctx, counted := d.observeFetch(ctx, r.Flow)
	defer func() { counted(res, err) }()
	if err := validateTokenRequest(r); err != nil {
		return nil, err
	}
	wat, err := d.wats.VerifyWAT(ctx, r.WorkloadToken)
	if err != nil {
		return nil, err
	}
	p, err := d.config.provider(ctx, r.Provider)
	if err != nil {
		return nil, err
	}
	if r.Flow == behalf.FlowM2M {
		return d.vault.m2mToken(ctx, wat.Workload, p, r)
	}
	if r.Flow == behalf.FlowOnBehalfOf {
		return d.onBehalfOf(ctx, wat, p, r)
	}
	if wat.User.IsZero() {
		return nil, behalf.Invalid("workloadIdentityToken", "USER_FEDERATION needs a workload access token for a user (GetWorkloadAccessTokenForJWT or ForUserId).")
	}
	if err := d.checkReturnURL(ctx, wat.Workload, r.ReturnURL); err != nil {
		return nil, err
	}
	if r.SessionURI != "" && !r.ForceAuthentication {
		return d.consent.pollSession(ctx, wat, p, r)
	}
	var refusal *behalf.ProviderRefusal
	if !r.ForceAuthentication {
		tok, granted, refused, err := d.vault.token(ctx, wat.Workload, wat.User, p, r.Scopes)
		if err != nil {
			return nil, err
		}
		if tok != "" {
			return &behalf.TokenResult{AccessToken: tok}, nil
		}
		r.Scopes, refusal = union(granted, r.Scopes), refused
	}
	res, err = d.consent.startSession(ctx, wat, p, r)
	if err != nil {
		return nil, err
	}
	res.ProviderError = refusal // why the user must consent again, if the provider said
	return res, nil
}

// ResourceAPIKey returns an API-key provider's key to a workload.
func (d *DataPlane) ResourceAPIKey(ctx context.Context, workloadToken behalf.Secret, provider string) (behalf.Secret, error) {
	if err := validateProviderNameField("resourceCredentialProviderName", provider); err != nil {
		return "", err
	}
	if _, err := d.wats.VerifyWAT(ctx, workloadToken); err != nil {
		return "", err
	}
	return d.vault.apiKey(ctx, provider)
}

func validateTokenRequest(r behalf.TokenRequest) error {
	if err := validateProviderNameField("resourceCredentialProviderName", r.Provider); err != nil {
		return err
	}
	if r.Flow != behalf.FlowUserFederation && r.Flow != behalf.FlowM2M && r.Flow != behalf.FlowOnBehalfOf {
		return behalf.Invalid("oauth2Flow", "oauth2Flow must be USER_FEDERATION, M2M or ON_BEHALF_OF_TOKEN_EXCHANGE.")
	}
	for _, s := range r.Scopes {
		if n := utf8.RuneCountInString(s); n < 1 || n > 128 || strings.ContainsAny(s, " \t\r\n\"\\") {
			return behalf.Invalid("scopes", "Each scope must be 1 to 128 characters without spaces, quotes or backslashes.")
		}
	}
	if r.SessionURI != "" && (len(r.SessionURI) > 1024 || !sessionURIPattern.MatchString(r.SessionURI)) {
		return behalf.Invalid("sessionUri", "sessionUri is not a valid session URI.")
	}
	if n := len(r.CustomState.Reveal()); n > 4096 {
		return behalf.Invalid("customState", "customState must be at most 4096 characters long.")
	}
	for k, v := range r.CustomParameters {
		if len(k) < 1 || len(k) > 256 || !customParamChars.match(k) || len(v) < 1 || len(v) > 2048 {
			return behalf.Invalid("customParameters", "customParameters keys must be 1 to 256 characters of letters, digits and -_. and values 1 to 2048 characters.")
		}
	}
	for _, list := range [][]string{r.Resources, r.Audiences} {
		for _, v := range list {
			if len(v) < 1 || len(v) > 2048 {
				return behalf.Invalid("resources", "resources and audiences entries must be 1 to 2048 characters long.")
			}
		}
	}
	return nil
}

func validateProviderNameField(field, name string) error {
	return validateName(field, name, providerNameChars, 1, 128)
}

// checkReturnURL requires the workload to allow at least one return URL and
// the request's URL to equal one of them byte for byte.
func (d *DataPlane) checkReturnURL(ctx context.Context, workload, returnURL string) error {
	w, err := d.config.workload(ctx, workload)
	if err != nil {
		return err
	}
	if len(w.AllowedReturnURLs) == 0 {
		return behalf.Invalid("resourceOauth2ReturnUrl", "You must register and use at least one ResourceOauth2ReturnUrl on your workload identity to use this flow.")
	}
	if returnURL == "" {
		return behalf.Invalid("resourceOauth2ReturnUrl", "You must provide a ResourceOauth2ReturnUrl to proceed with this flow.")
	}
	if !slices.Contains(w.AllowedReturnURLs, returnURL) {
		return behalf.Invalid("resourceOauth2ReturnUrl", "resourceOauth2ReturnUrl is not one of the workload identity's allowed return URLs (they are matched exactly).")
	}
	return nil
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
