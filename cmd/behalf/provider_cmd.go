package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
)

var providerCommands = map[string]command{
	"create": {usage: "NAME --vendor VENDOR --client-id ID --client-secret-file FILE [flags]", short: "Create an OAuth 2.0 credential provider and print its callback URL.", run: providerCreate, flags: providerFlags},
	"get":    {usage: "NAME", short: "Show an OAuth 2.0 credential provider (never its secret).", run: providerGet},
	"list":   {usage: "", short: "List OAuth 2.0 credential providers.", run: providerList},
	"update": {usage: "NAME [--client-id ID] [--client-secret-file FILE] [flags]", short: "Change a provider's configuration: only the flags given; its secret and callback URL stay.", run: providerUpdate, flags: providerFlags},
	"delete": {usage: "NAME", short: "Delete an OAuth 2.0 credential provider.", run: providerDelete},
}

func providerFlags(fs *flagSet) {
	fs.String("vendor", "", "GoogleOauth2, GithubOauth2, MicrosoftOauth2, SlackOauth2, SalesforceOauth2, AtlassianOauth2, LinkedinOauth2, CustomOauth2, or another AgentCore vendor (OktaOauth2, Auth0Oauth2, XOauth2, DropboxOauth2, ...: see docs/api.md)")
	fs.String("client-id", "", "the OAuth client id registered at the provider")
	fs.String("client-secret-file", "", "file holding the client secret (- for stdin)")
	fs.String("tenant-id", "", "Microsoft Entra tenant (MicrosoftOauth2)")
	fs.String("discovery-url", "", "OIDC or RFC 8414 discovery URL (CustomOauth2)")
	fs.String("issuer", "", "issuer (CustomOauth2 without discovery; a tenant vendor such as OktaOauth2, alone: read from its discovery document)")
	fs.String("authorization-endpoint", "", "authorization endpoint (CustomOauth2 without discovery; tenant vendors)")
	fs.String("token-endpoint", "", "token endpoint (CustomOauth2 without discovery; tenant vendors)")
	fs.String("auth-method", "", "CLIENT_SECRET_BASIC, CLIENT_SECRET_POST or PRIVATE_KEY_JWT (CustomOauth2; default from the server's metadata)")
	fs.String("signing-algorithm", "", "PRIVATE_KEY_JWT: RS256 (default), PS256 or ES256")
	fs.String("assertion-audience", "", "PRIVATE_KEY_JWT: the client assertion's aud (default the token endpoint; some servers want their issuer)")
	fs.Var(&multi{}, "tag", "a tag KEY=VALUE (repeatable; create only)")
}

// providerConfig builds the SDK's union input from the flags.
func providerConfig(c *cli) (types.Oauth2ProviderConfigInput, error) {
	id, secret := aws.String(c.str("client-id")), (*string)(nil)
	if f := c.str("client-secret-file"); f != "" {
		s, err := readSecretFile(f)
		if err != nil {
			return nil, err
		}
		secret = aws.String(s)
	}
	switch c.str("vendor") {
	case "GoogleOauth2":
		return &types.Oauth2ProviderConfigInputMemberGoogleOauth2ProviderConfig{Value: types.GoogleOauth2ProviderConfigInput{ClientId: id, ClientSecret: secret}}, nil
	case "GithubOauth2":
		return &types.Oauth2ProviderConfigInputMemberGithubOauth2ProviderConfig{Value: types.GithubOauth2ProviderConfigInput{ClientId: id, ClientSecret: secret}}, nil
	case "SlackOauth2":
		return &types.Oauth2ProviderConfigInputMemberSlackOauth2ProviderConfig{Value: types.SlackOauth2ProviderConfigInput{ClientId: id, ClientSecret: secret}}, nil
	case "SalesforceOauth2":
		return &types.Oauth2ProviderConfigInputMemberSalesforceOauth2ProviderConfig{Value: types.SalesforceOauth2ProviderConfigInput{ClientId: id, ClientSecret: secret}}, nil
	case "AtlassianOauth2":
		return &types.Oauth2ProviderConfigInputMemberAtlassianOauth2ProviderConfig{Value: types.AtlassianOauth2ProviderConfigInput{ClientId: id, ClientSecret: secret}}, nil
	case "LinkedinOauth2":
		return &types.Oauth2ProviderConfigInputMemberLinkedinOauth2ProviderConfig{Value: types.LinkedinOauth2ProviderConfigInput{ClientId: id, ClientSecret: secret}}, nil
	case "MicrosoftOauth2":
		var tenant *string
		if t := c.str("tenant-id"); t != "" {
			tenant = aws.String(t)
		}
		return &types.Oauth2ProviderConfigInputMemberMicrosoftOauth2ProviderConfig{Value: types.MicrosoftOauth2ProviderConfigInput{ClientId: id, ClientSecret: secret, TenantId: tenant}}, nil
	case "CustomOauth2":
		return customConfig(c, id, secret), nil
	case "":
		return nil, fmt.Errorf("%w: --vendor is required", errUsage)
	}
	if v := c.str("vendor"); strings.HasSuffix(v, "Oauth2") {
		// The vendors without a union member of their own; the server
		// knows which it serves.
		in := types.IncludedOauth2ProviderConfigInput{ClientId: id, ClientSecret: secret}
		for _, f := range []struct {
			flag string
			dst  **string
		}{{"issuer", &in.Issuer}, {"authorization-endpoint", &in.AuthorizationEndpoint}, {"token-endpoint", &in.TokenEndpoint}} {
			if v := c.str(f.flag); v != "" {
				*f.dst = aws.String(v)
			}
		}
		return &types.Oauth2ProviderConfigInputMemberIncludedOauth2ProviderConfig{Value: in}, nil
	}
	return nil, fmt.Errorf("unknown --vendor %q", c.str("vendor"))
}

func customConfig(c *cli, id, secret *string) types.Oauth2ProviderConfigInput {
	var disc types.Oauth2Discovery
	if u := c.str("discovery-url"); u != "" {
		disc = &types.Oauth2DiscoveryMemberDiscoveryUrl{Value: u}
	} else {
		disc = &types.Oauth2DiscoveryMemberAuthorizationServerMetadata{Value: types.Oauth2AuthorizationServerMetadata{
			Issuer: aws.String(c.str("issuer")), AuthorizationEndpoint: aws.String(c.str("authorization-endpoint")),
			TokenEndpoint: aws.String(c.str("token-endpoint")),
		}}
	}
	in := types.CustomOauth2ProviderConfigInput{
		OauthDiscovery: disc, ClientId: id, ClientSecret: secret,
		ClientAuthenticationMethod: types.ClientAuthenticationMethodType(strings.ToUpper(c.str("auth-method"))),
	}
	if c.str("signing-algorithm") != "" || c.str("assertion-audience") != "" {
		in.PrivateKeyJwtConfig = &types.PrivateKeyJwtConfig{SigningAlgorithm: types.SigningAlgorithm(strings.ToUpper(c.str("signing-algorithm")))}
		if a := c.str("assertion-audience"); a != "" {
			in.PrivateKeyJwtConfig.AdditionalPayloadClaims = map[string]string{"aud": a}
		}
	}
	return &types.Oauth2ProviderConfigInputMemberCustomOauth2ProviderConfig{Value: in}
}

// jwksURL is where a PRIVATE_KEY_JWT provider's public keys are published:
// beside its callback URL, under Behalf's public URL.
func jwksURL(callbackURL string) string {
	base, id, ok := strings.Cut(callbackURL, "/identities/oauth2/callback/")
	if !ok {
		return ""
	}
	return base + "/identities/oauth2/providers/" + id + "/jwks.json"
}

// printJWKS tells where to register the client-assertion keys of a
// PRIVATE_KEY_JWT provider.
func printJWKS(w io.Writer, cfg types.Oauth2ProviderConfigOutput, callbackURL string) {
	custom, ok := cfg.(*types.Oauth2ProviderConfigOutputMemberCustomOauth2ProviderConfig)
	if !ok || custom.Value.ClientAuthenticationMethod != types.ClientAuthenticationMethodTypePrivateKeyJwt {
		return
	}
	fmt.Fprintf(w, "  JWKS URL:     %s\n", jwksURL(callbackURL))
}

func providerCreate(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one provider name"); err != nil {
		return err
	}
	if c.str("client-secret-file") == "" && c.str("vendor") != "CustomOauth2" {
		return fmt.Errorf("%w: --client-secret-file is required", errUsage)
	}
	cfg, err := providerConfig(c)
	if err != nil {
		return err
	}
	tags, err := parseTags(c.list("tag"))
	if err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	out, err := client.CreateOauth2CredentialProvider(ctx, &ctl.CreateOauth2CredentialProviderInput{
		Name: aws.String(args[0]), CredentialProviderVendor: types.CredentialProviderVendorType(c.str("vendor")),
		Oauth2ProviderConfigInput: cfg, Tags: tags,
	})
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "Created credential provider %s (%s)\n  ARN:          %s\n  Callback URL: %s\n\n",
			aws.ToString(out.Name), c.str("vendor"), aws.ToString(out.CredentialProviderArn), aws.ToString(out.CallbackUrl))
		fmt.Fprintln(w, "Register the callback URL as an authorized redirect URI in the provider's OAuth client settings.")
		if u := jwksURL(aws.ToString(out.CallbackUrl)); u != "" && strings.EqualFold(c.str("auth-method"), "PRIVATE_KEY_JWT") {
			fmt.Fprintf(w, "Register %s as the client's JWKS (jwks_uri), or paste what it serves.\n", u)
		}
	})
}

func providerGet(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 1, "one provider name"); err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	out, err := client.GetOauth2CredentialProvider(ctx, &ctl.GetOauth2CredentialProviderInput{Name: aws.String(args[0])})
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "Credential provider %s (%s)\n  ARN:          %s\n  Callback URL: %s\n",
			aws.ToString(out.Name), out.CredentialProviderVendor, aws.ToString(out.CredentialProviderArn), aws.ToString(out.CallbackUrl))
		printDiscovery(w, out.Oauth2ProviderConfigOutput)
		printJWKS(w, out.Oauth2ProviderConfigOutput, aws.ToString(out.CallbackUrl))
		fmt.Fprintf(w, "  Created:      %s\n  Updated:      %s\n", fmtTime(out.CreatedTime), fmtTime(out.LastUpdatedTime))
	})
}

// printDiscovery shows the client id and endpoints of any vendor's output.
func printDiscovery(w io.Writer, cfg types.Oauth2ProviderConfigOutput) {
	var id *string
	var disc types.Oauth2Discovery
	switch v := cfg.(type) {
	case *types.Oauth2ProviderConfigOutputMemberCustomOauth2ProviderConfig:
		id, disc = v.Value.ClientId, v.Value.OauthDiscovery
	case *types.Oauth2ProviderConfigOutputMemberGoogleOauth2ProviderConfig:
		id, disc = v.Value.ClientId, v.Value.OauthDiscovery
	case *types.Oauth2ProviderConfigOutputMemberGithubOauth2ProviderConfig:
		id, disc = v.Value.ClientId, v.Value.OauthDiscovery
	case *types.Oauth2ProviderConfigOutputMemberMicrosoftOauth2ProviderConfig:
		id, disc = v.Value.ClientId, v.Value.OauthDiscovery
	case *types.Oauth2ProviderConfigOutputMemberSlackOauth2ProviderConfig:
		id, disc = v.Value.ClientId, v.Value.OauthDiscovery
	case *types.Oauth2ProviderConfigOutputMemberSalesforceOauth2ProviderConfig:
		id, disc = v.Value.ClientId, v.Value.OauthDiscovery
	case *types.Oauth2ProviderConfigOutputMemberAtlassianOauth2ProviderConfig:
		id, disc = v.Value.ClientId, v.Value.OauthDiscovery
	case *types.Oauth2ProviderConfigOutputMemberLinkedinOauth2ProviderConfig:
		id, disc = v.Value.ClientId, v.Value.OauthDiscovery
	case *types.Oauth2ProviderConfigOutputMemberIncludedOauth2ProviderConfig:
		id, disc = v.Value.ClientId, v.Value.OauthDiscovery
	}
	fmt.Fprintf(w, "  Client id:    %s\n", aws.ToString(id))
	switch d := disc.(type) {
	case *types.Oauth2DiscoveryMemberDiscoveryUrl:
		fmt.Fprintf(w, "  Discovery:    %s\n", d.Value)
	case *types.Oauth2DiscoveryMemberAuthorizationServerMetadata:
		fmt.Fprintf(w, "  Authorize:    %s\n  Token:        %s\n", aws.ToString(d.Value.AuthorizationEndpoint), aws.ToString(d.Value.TokenEndpoint))
	}
}

func providerList(ctx context.Context, c *cli, args []string) error {
	if err := needArgs(args, 0, "no arguments"); err != nil {
		return err
	}
	client, err := c.client(ctx)
	if err != nil {
		return err
	}
	var items []types.Oauth2CredentialProviderItem
	p := ctl.NewListOauth2CredentialProvidersPaginator(client, &ctl.ListOauth2CredentialProvidersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return wrapAPIError(err)
		}
		items = append(items, page.CredentialProviders...)
	}
	return c.printTable(map[string]any{"CredentialProviders": items}, []string{"NAME", "VENDOR", "ARN"}, len(items), func(i int) []string {
		it := items[i]
		return []string{aws.ToString(it.Name), string(it.CredentialProviderVendor), aws.ToString(it.CredentialProviderArn)}
	})
}

func providerUpdate(ctx context.Context, c *cli, args []string) error {
	client, err := c.updateClient(ctx, args, "one provider name")
	if err != nil {
		return err
	}
	// Read the provider; the flags given change it, the others keep it
	// (its secret stays unless --client-secret-file is given).
	if _, err := client.GetOauth2CredentialProvider(ctx, &ctl.GetOauth2CredentialProviderInput{Name: aws.String(args[0])}); err != nil {
		return wrapAPIError(err)
	}
	if err := c.keepUnset(c.providerFlagValues(c.wire.last())); err != nil {
		return err
	}
	cfg, err := providerConfig(c)
	if err != nil {
		return err
	}
	out, err := client.UpdateOauth2CredentialProvider(ctx, &ctl.UpdateOauth2CredentialProviderInput{
		Name: aws.String(args[0]), CredentialProviderVendor: types.CredentialProviderVendorType(c.str("vendor")),
		Oauth2ProviderConfigInput: cfg,
	})
	if err != nil {
		return wrapAPIError(err)
	}
	return c.print(out, func(w io.Writer) {
		fmt.Fprintf(w, "Updated credential provider %s\n  Callback URL: %s\n", aws.ToString(out.Name), aws.ToString(out.CallbackUrl))
	})
}

// providerFlagValues reads a GetOauth2CredentialProvider answer (as sent)
// into the values of the provider flags.
func (c *cli) providerFlagValues(body []byte) map[string][]string {
	var doc struct {
		Vendor string                        `json:"credentialProviderVendor"`
		Config map[string]providerConfigWire `json:"oauth2ProviderConfigOutput"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return nil
	}
	vals := map[string][]string{"vendor": {doc.Vendor}}
	for _, cfg := range doc.Config { // a union: one member
		vals["client-id"] = []string{cfg.ClientID}
		if cfg.TenantID != "" {
			vals["tenant-id"] = []string{cfg.TenantID}
		}
		if cfg.Method != "" {
			vals["auth-method"] = []string{cfg.Method}
		}
		if j := cfg.PrivateKeyJWT; j != nil {
			vals["signing-algorithm"] = []string{j.Algorithm}
			if aud := j.Claims["aud"]; aud != "" {
				vals["assertion-audience"] = []string{aud}
			}
		}
		endpoints := c.set("issuer") || c.set("authorization-endpoint") || c.set("token-endpoint")
		if d := cfg.Discovery.URL; d != "" && !endpoints {
			vals["discovery-url"] = []string{d}
		} else if m := cfg.Discovery.Metadata; m != nil && !c.set("discovery-url") {
			vals["issuer"], vals["authorization-endpoint"], vals["token-endpoint"] = []string{m.Issuer}, []string{m.AuthorizationEndpoint}, []string{m.TokenEndpoint}
		}
	}
	return vals
}

// providerConfigWire is one member of the oauth2ProviderConfigOutput union.
type providerConfigWire struct {
	ClientID  string `json:"clientId"`
	TenantID  string `json:"tenantId"`
	Method    string `json:"clientAuthenticationMethod"`
	Discovery struct {
		URL      string `json:"discoveryUrl"`
		Metadata *struct {
			Issuer                string `json:"issuer"`
			AuthorizationEndpoint string `json:"authorizationEndpoint"`
			TokenEndpoint         string `json:"tokenEndpoint"`
		} `json:"authorizationServerMetadata"`
	} `json:"oauthDiscovery"`
	PrivateKeyJWT *struct {
		Algorithm string            `json:"signingAlgorithm"`
		Claims    map[string]string `json:"additionalPayloadClaims"`
	} `json:"privateKeyJwtConfig"`
}

func providerDelete(ctx context.Context, c *cli, args []string) error {
	return deleteOne(ctx, c, args, "one provider name", "Deleted credential provider %s", func(ctx context.Context, client *ctl.Client, name string) (string, error) {
		_, err := client.DeleteOauth2CredentialProvider(ctx, &ctl.DeleteOauth2CredentialProviderInput{Name: aws.String(name)})
		return name, err
	})
}
