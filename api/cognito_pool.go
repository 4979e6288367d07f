package api

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/behalf-dev/behalf"
)

// User pools and app clients (UserPoolType, UserPoolClientType).

// passwordPolicyWire is PasswordPolicyType. The SDK omits false booleans
// and zero numbers, so absent means false / the default.
type passwordPolicyWire struct {
	MinimumLength                 int  `json:"MinimumLength"`
	RequireUppercase              bool `json:"RequireUppercase"`
	RequireLowercase              bool `json:"RequireLowercase"`
	RequireNumbers                bool `json:"RequireNumbers"`
	RequireSymbols                bool `json:"RequireSymbols"`
	TemporaryPasswordValidityDays int  `json:"TemporaryPasswordValidityDays"`
	PasswordHistorySize           int  `json:"PasswordHistorySize,omitempty"`
}

type signInPolicyWire struct {
	AllowedFirstAuthFactors []string `json:"AllowedFirstAuthFactors"`
}

// policiesWire is UserPoolPolicyType.
type policiesWire struct {
	PasswordPolicy *passwordPolicyWire `json:"PasswordPolicy,omitempty"`
	SignInPolicy   *signInPolicyWire   `json:"SignInPolicy,omitempty"`
}

// schemaAttributeWire is SchemaAttributeType.
type schemaAttributeWire struct {
	Name                       string `json:"Name"`
	AttributeDataType          string `json:"AttributeDataType"`
	DeveloperOnlyAttribute     bool   `json:"DeveloperOnlyAttribute"`
	Mutable                    bool   `json:"Mutable"`
	Required                   bool   `json:"Required"`
	StringAttributeConstraints *struct {
		MinLength string `json:"MinLength,omitempty"`
		MaxLength string `json:"MaxLength,omitempty"`
	} `json:"StringAttributeConstraints,omitempty"`
}

// poolSettingsIn holds the members of CreateUserPool and UpdateUserPool
// that Behalf reads or refuses; the others are ignored.
type poolSettingsIn struct {
	PoolName              string        `json:"PoolName"`
	Policies              *policiesWire `json:"Policies"`
	MfaConfiguration      string        `json:"MfaConfiguration"`
	UsernameAttributes    []string      `json:"UsernameAttributes"`
	AliasAttributes       []string      `json:"AliasAttributes"`
	UsernameConfiguration *struct {
		CaseSensitive *bool `json:"CaseSensitive"`
	} `json:"UsernameConfiguration"`
	DeletionProtection string                     `json:"DeletionProtection"`
	LambdaConfig       map[string]json.RawMessage `json:"LambdaConfig"`
	Schema             []schemaAttributeWire      `json:"Schema"`
	UserPoolTags       map[string]string          `json:"UserPoolTags"`

	AutoVerifiedAttributes      []string                     `json:"AutoVerifiedAttributes"`
	VerificationMessageTemplate *verificationMessageTemplate `json:"VerificationMessageTemplate"`
	EmailVerificationMessage    string                       `json:"EmailVerificationMessage"`
	EmailVerificationSubject    string                       `json:"EmailVerificationSubject"`
	SmsVerificationMessage      string                       `json:"SmsVerificationMessage"`
	AdminCreateUserConfig       *struct {
		AllowAdminCreateUserOnly bool `json:"AllowAdminCreateUserOnly"`
	} `json:"AdminCreateUserConfig"`
}

// verificationMessageTemplate is VerificationMessageTemplateType.
type verificationMessageTemplate struct {
	DefaultEmailOption string `json:"DefaultEmailOption,omitempty"`
	EmailMessage       string `json:"EmailMessage,omitempty"`
	EmailSubject       string `json:"EmailSubject,omitempty"`
	EmailMessageByLink string `json:"EmailMessageByLink,omitempty"`
	EmailSubjectByLink string `json:"EmailSubjectByLink,omitempty"`
	SmsMessage         string `json:"SmsMessage,omitempty"`
}

// verificationMessage returns the pool's code messages: the template's,
// else the legacy members'.
func (in *poolSettingsIn) verificationMessage() behalf.VerificationMessage {
	m := behalf.VerificationMessage{EmailSubject: in.EmailVerificationSubject, EmailMessage: in.EmailVerificationMessage, SMSMessage: in.SmsVerificationMessage}
	if t := in.VerificationMessageTemplate; t != nil {
		m = behalf.VerificationMessage{EmailSubject: t.EmailSubject, EmailMessage: t.EmailMessage, SMSMessage: t.SmsMessage}
	}
	return m
}

// adminOnly is AdminCreateUserConfig.AllowAdminCreateUserOnly.
func (in *poolSettingsIn) adminOnly() bool {
	return in.AdminCreateUserConfig != nil && in.AdminCreateUserConfig.AllowAdminCreateUserOnly
}

// checkUnsupported refuses settings that would change how the pool behaves
// in ways Behalf does not implement. (MfaConfiguration is the service's to
// check.)
func (in *poolSettingsIn) checkUnsupported() error {
	if len(in.AliasAttributes) > 0 {
		return unsupported("AliasAttributes; use UsernameAttributes to sign in with email or phone_number.")
	}
	if in.UsernameConfiguration != nil && in.UsernameConfiguration.CaseSensitive != nil && !*in.UsernameConfiguration.CaseSensitive {
		return unsupported("case-insensitive usernames (UsernameConfiguration.CaseSensitive false).")
	}
	if in.DeletionProtection == "ACTIVE" {
		return unsupported("DeletionProtection ACTIVE.")
	}
	if len(in.LambdaConfig) > 0 {
		return unsupported("Lambda triggers (LambdaConfig).")
	}
	if t := in.VerificationMessageTemplate; t != nil && (t.DefaultEmailOption == "CONFIRM_WITH_LINK" || t.EmailMessageByLink != "" || t.EmailSubjectByLink != "") {
		return unsupported("confirmation links (CONFIRM_WITH_LINK); codes only.")
	}
	for _, a := range in.Schema {
		if a.Required {
			return unsupported("required schema attributes (%s).", a.Name)
		}
	}
	if in.Policies != nil {
		if pp := in.Policies.PasswordPolicy; pp != nil && pp.PasswordHistorySize > 0 {
			return unsupported("password history (PasswordHistorySize).")
		}
		if sp := in.Policies.SignInPolicy; sp != nil {
			for _, f := range sp.AllowedFirstAuthFactors {
				if f != "PASSWORD" {
					return unsupported("the sign-in factor %s; only PASSWORD.", f)
				}
			}
		}
	}
	return nil
}

// passwordPolicy returns the requested policy, nil for the default.
func (in *poolSettingsIn) passwordPolicy() *behalf.PasswordPolicy {
	if in.Policies == nil || in.Policies.PasswordPolicy == nil {
		return nil
	}
	pp := in.Policies.PasswordPolicy
	return &behalf.PasswordPolicy{
		MinimumLength: pp.MinimumLength, RequireUppercase: pp.RequireUppercase, RequireLowercase: pp.RequireLowercase,
		RequireNumbers: pp.RequireNumbers, RequireSymbols: pp.RequireSymbols,
		TemporaryPasswordValidityDays: pp.TemporaryPasswordValidityDays,
	}
}

// userPoolWire is UserPoolType.
type userPoolWire struct {
	ID                    string            `json:"Id"`
	Name                  string            `json:"Name"`
	Arn                   string            `json:"Arn"`
	Policies              policiesWire      `json:"Policies"`
	CreationDate          epoch             `json:"CreationDate"`
	LastModifiedDate      epoch             `json:"LastModifiedDate"`
	MfaConfiguration      string            `json:"MfaConfiguration"`
	UsernameAttributes    []string          `json:"UsernameAttributes,omitempty"`
	UsernameConfiguration map[string]bool   `json:"UsernameConfiguration"`
	Domain                string            `json:"Domain,omitempty"`
	CustomDomain          string            `json:"CustomDomain,omitempty"`
	UserPoolTags          map[string]string `json:"UserPoolTags,omitempty"`
	DeletionProtection    string            `json:"DeletionProtection"`
	AdminCreateUserConfig struct {
		AllowAdminCreateUserOnly  bool `json:"AllowAdminCreateUserOnly"`
		UnusedAccountValidityDays int  `json:"UnusedAccountValidityDays"`
	} `json:"AdminCreateUserConfig"`
	SchemaAttributes            []schemaAttributeWire       `json:"SchemaAttributes"`
	AutoVerifiedAttributes      []string                    `json:"AutoVerifiedAttributes,omitempty"`
	VerificationMessageTemplate verificationMessageTemplate `json:"VerificationMessageTemplate"`
	EmailVerificationMessage    string                      `json:"EmailVerificationMessage,omitempty"`
	EmailVerificationSubject    string                      `json:"EmailVerificationSubject,omitempty"`
	SmsVerificationMessage      string                      `json:"SmsVerificationMessage,omitempty"`
}

// standardSchema is the schema of every pool: sub and the OpenID Connect
// standard attributes, as Cognito reports them.
var standardSchema = func() []schemaAttributeWire {
	str := func(name string, mutable bool, minLen, maxLen string) schemaAttributeWire {
		a := schemaAttributeWire{Name: name, AttributeDataType: "String", Mutable: mutable}
		a.StringAttributeConstraints = &struct {
			MinLength string `json:"MinLength,omitempty"`
			MaxLength string `json:"MaxLength,omitempty"`
		}{minLen, maxLen}
		return a
	}
	out := []schemaAttributeWire{str("sub", false, "1", "2048")}
	out[0].Required = true
	for _, n := range []string{"name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
		"profile", "picture", "website", "email", "gender", "birthdate", "zoneinfo", "locale", "phone_number", "address"} {
		a := str(n, true, "0", "2048")
		if n == "birthdate" {
			a.StringAttributeConstraints.MinLength, a.StringAttributeConstraints.MaxLength = "10", "10"
		}
		out = append(out, a)
	}
	for _, n := range []string{"email_verified", "phone_number_verified"} {
		out = append(out, schemaAttributeWire{Name: n, AttributeDataType: "Boolean", Mutable: true})
	}
	out = append(out, schemaAttributeWire{Name: "updated_at", AttributeDataType: "Number", Mutable: true})
	return out
}()

func (s *Server) userPoolARN(id string) string {
	return "arn:aws:cognito-idp:" + s.Region + ":" + s.Account + ":userpool/" + id
}

func (s *Server) userPoolOut(p *behalf.UserPool) userPoolWire {
	pp := p.PasswordPolicy
	out := userPoolWire{
		ID: p.ID, Name: p.Name, Arn: s.userPoolARN(p.ID),
		Policies: policiesWire{
			PasswordPolicy: &passwordPolicyWire{
				MinimumLength: pp.MinimumLength, RequireUppercase: pp.RequireUppercase, RequireLowercase: pp.RequireLowercase,
				RequireNumbers: pp.RequireNumbers, RequireSymbols: pp.RequireSymbols,
				TemporaryPasswordValidityDays: pp.TemporaryPasswordValidityDays,
			},
			SignInPolicy: &signInPolicyWire{AllowedFirstAuthFactors: []string{"PASSWORD"}},
		},
		CreationDate: epoch(p.CreatedAt), LastModifiedDate: epoch(p.UpdatedAt),
		MfaConfiguration: mfaConfigurationOut(p.MFAConfiguration), UsernameAttributes: p.UsernameAttributes,
		UsernameConfiguration: map[string]bool{"CaseSensitive": true},
		UserPoolTags:          p.Tags, DeletionProtection: "INACTIVE",
		SchemaAttributes: standardSchema,
	}
	out.AdminCreateUserConfig.AllowAdminCreateUserOnly = p.AllowAdminCreateUserOnly
	out.AdminCreateUserConfig.UnusedAccountValidityDays = pp.TemporaryPasswordValidityDays
	vm := p.VerificationMessage
	out.AutoVerifiedAttributes = p.AutoVerifiedAttributes
	out.VerificationMessageTemplate = verificationMessageTemplate{
		DefaultEmailOption: "CONFIRM_WITH_CODE", EmailMessage: vm.EmailMessage, EmailSubject: vm.EmailSubject, SmsMessage: vm.SMSMessage,
	}
	out.EmailVerificationMessage, out.EmailVerificationSubject, out.SmsVerificationMessage = vm.EmailMessage, vm.EmailSubject, vm.SMSMessage
	return out
}

type poolIDIn struct {
	UserPoolID string `json:"UserPoolId"`
}

func (s *Server) cognitoCreateUserPool(ctx context.Context, body []byte) (any, error) {
	var in poolSettingsIn
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("PoolName", in.PoolName); err != nil {
		return nil, err
	}
	if err := in.checkUnsupported(); err != nil {
		return nil, err
	}
	p, err := s.UserPools.CreateUserPool(ctx, behalf.CreateUserPoolInput{
		Name: in.PoolName, PasswordPolicy: in.passwordPolicy(), UsernameAttributes: in.UsernameAttributes,
		MFAConfiguration: in.MfaConfiguration, Tags: in.UserPoolTags,
		AutoVerifiedAttributes: in.AutoVerifiedAttributes, AllowAdminCreateUserOnly: in.adminOnly(),
		VerificationMessage: in.verificationMessage(),
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"UserPool": s.userPoolOut(p)}, nil
}

func (s *Server) cognitoDescribeUserPool(ctx context.Context, body []byte) (any, error) {
	var in poolIDIn
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID); err != nil {
		return nil, err
	}
	p, err := s.UserPools.DescribeUserPool(ctx, in.UserPoolID)
	if err != nil {
		return nil, err
	}
	out := s.userPoolOut(p)
	if err := s.poolDomains(ctx, &out); err != nil {
		return nil, err
	}
	return map[string]any{"UserPool": out}, nil
}

func (s *Server) cognitoUpdateUserPool(ctx context.Context, body []byte) (any, error) {
	var in struct {
		poolSettingsIn
		UserPoolID string `json:"UserPoolId"`
	}
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID); err != nil {
		return nil, err
	}
	if err := in.checkUnsupported(); err != nil {
		return nil, err
	}
	if in.PoolName != "" {
		cur, err := s.UserPools.DescribeUserPool(ctx, in.UserPoolID)
		if err != nil {
			return nil, err
		}
		if cur.Name != in.PoolName {
			return nil, unsupported("renaming a user pool.")
		}
	}
	_, err := s.UserPools.UpdateUserPool(ctx, behalf.UpdateUserPoolInput{
		PoolID: in.UserPoolID, PasswordPolicy: in.passwordPolicy(), MFAConfiguration: in.MfaConfiguration, Tags: in.UserPoolTags,
		AutoVerifiedAttributes: in.AutoVerifiedAttributes, AllowAdminCreateUserOnly: in.adminOnly(),
		VerificationMessage: in.verificationMessage(),
	})
	return nil, err
}

func (s *Server) cognitoListUserPools(ctx context.Context, body []byte) (any, error) {
	var in struct {
		MaxResults int    `json:"MaxResults"`
		NextToken  string `json:"NextToken"`
	}
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	pools, next, err := s.UserPools.ListUserPools(ctx, behalf.PageRequest{NextToken: in.NextToken, MaxResults: in.MaxResults})
	if err != nil {
		return nil, err
	}
	type item struct {
		ID               string         `json:"Id"`
		Name             string         `json:"Name"`
		Status           string         `json:"Status"`
		CreationDate     epoch          `json:"CreationDate"`
		LastModifiedDate epoch          `json:"LastModifiedDate"`
		LambdaConfig     map[string]any `json:"LambdaConfig"`
	}
	out := struct {
		UserPools []item `json:"UserPools"`
		NextToken string `json:"NextToken,omitempty"`
	}{UserPools: []item{}, NextToken: next}
	for _, p := range pools {
		out.UserPools = append(out.UserPools, item{p.ID, p.Name, "Enabled", epoch(p.CreatedAt), epoch(p.UpdatedAt), map[string]any{}})
	}
	return out, nil
}

func (s *Server) cognitoDeleteUserPool(ctx context.Context, body []byte) (any, error) {
	var in poolIDIn
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID); err != nil {
		return nil, err
	}
	return nil, s.UserPools.DeleteUserPool(ctx, in.UserPoolID)
}

// tokenValidityUnitsWire is TokenValidityUnitsType.
type tokenValidityUnitsWire struct {
	AccessToken  string `json:"AccessToken,omitempty"`
	IDToken      string `json:"IdToken,omitempty"`
	RefreshToken string `json:"RefreshToken,omitempty"`
}

// userPoolClientIn holds the members of CreateUserPoolClient and
// UpdateUserPoolClient that Behalf reads or refuses.
type userPoolClientIn struct {
	UserPoolID                      string                    `json:"UserPoolId"`
	ClientID                        string                    `json:"ClientId"`
	ClientName                      string                    `json:"ClientName"`
	GenerateSecret                  bool                      `json:"GenerateSecret"`
	ClientSecret                    string                    `json:"ClientSecret"`
	ExplicitAuthFlows               []string                  `json:"ExplicitAuthFlows"`
	AllowedOAuthFlows               []string                  `json:"AllowedOAuthFlows"`
	AllowedOAuthScopes              []string                  `json:"AllowedOAuthScopes"`
	AllowedOAuthFlowsUserPoolClient bool                      `json:"AllowedOAuthFlowsUserPoolClient"`
	CallbackURLs                    []string                  `json:"CallbackURLs"`
	LogoutURLs                      []string                  `json:"LogoutURLs"`
	DefaultRedirectURI              string                    `json:"DefaultRedirectURI"`
	SupportedIdentityProviders      []string                  `json:"SupportedIdentityProviders"`
	AccessTokenValidity             int64                     `json:"AccessTokenValidity"`
	IDTokenValidity                 int64                     `json:"IdTokenValidity"`
	RefreshTokenValidity            int64                     `json:"RefreshTokenValidity"`
	TokenValidityUnits              tokenValidityUnitsWire    `json:"TokenValidityUnits"`
	EnableTokenRevocation           *bool                     `json:"EnableTokenRevocation"`
	AuthSessionValidity             int                       `json:"AuthSessionValidity"`
	ReadAttributes                  []string                  `json:"ReadAttributes"`
	WriteAttributes                 []string                  `json:"WriteAttributes"`
	RefreshTokenRotation            *refreshTokenRotationWire `json:"RefreshTokenRotation"`
}

// refreshTokenRotationWire is RefreshTokenRotationType.
type refreshTokenRotationWire struct {
	Feature                 string `json:"Feature"`
	RetryGracePeriodSeconds int64  `json:"RetryGracePeriodSeconds"`
}

// input validates the members Behalf does not implement and returns the
// service's input.
func (in *userPoolClientIn) input() (behalf.UserPoolClientInput, error) {
	switch {
	case in.ClientSecret != "":
		return behalf.UserPoolClientInput{}, unsupported("caller-chosen client secrets (ClientSecret); set GenerateSecret.")
	case in.AuthSessionValidity != 0 && in.AuthSessionValidity != cognitoAuthSessionMinutes:
		return behalf.UserPoolClientInput{}, unsupported("AuthSessionValidity other than %d minutes.", cognitoAuthSessionMinutes)
	case len(in.ReadAttributes) > 0 || len(in.WriteAttributes) > 0:
		return behalf.UserPoolClientInput{}, unsupported("per-client attribute permissions (ReadAttributes, WriteAttributes).")
	case in.RefreshTokenRotation != nil && in.RefreshTokenRotation.Feature != "ENABLED" && in.RefreshTokenRotation.Feature != "DISABLED":
		return behalf.UserPoolClientInput{}, behalf.CognitoErrorf(behalf.CognitoInvalidParameter,
			"1 validation error detected: Value '%s' at 'refreshTokenRotation.feature' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]", in.RefreshTokenRotation.Feature)
	case in.DefaultRedirectURI != "" && !slices.Contains(in.CallbackURLs, in.DefaultRedirectURI):
		return behalf.UserPoolClientInput{}, behalf.CognitoErrorf(behalf.CognitoInvalidParameter, "DefaultRedirectURI must be one of the CallbackURLs.")
	}
	out := behalf.UserPoolClientInput{
		PoolID: in.UserPoolID, ClientID: in.ClientID, Name: in.ClientName, GenerateSecret: in.GenerateSecret,
		ExplicitAuthFlows: in.ExplicitAuthFlows, AllowedOAuthFlows: in.AllowedOAuthFlows, AllowedOAuthScopes: in.AllowedOAuthScopes,
		AllowedOAuthFlowsUserPoolClient: in.AllowedOAuthFlowsUserPoolClient, CallbackURLs: in.CallbackURLs, LogoutURLs: in.LogoutURLs,
		SupportedIdentityProviders: in.SupportedIdentityProviders,
		AccessTokenValidity:        in.AccessTokenValidity, IDTokenValidity: in.IDTokenValidity, RefreshTokenValidity: in.RefreshTokenValidity,
		TokenValidityUnits: behalf.TokenValidityUnits{
			AccessToken: in.TokenValidityUnits.AccessToken, IDToken: in.TokenValidityUnits.IDToken, RefreshToken: in.TokenValidityUnits.RefreshToken,
		},
		EnableTokenRevocation: in.EnableTokenRevocation,
	}
	if r := in.RefreshTokenRotation; r != nil {
		out.RotateRefreshTokens = r.Feature == "ENABLED"
		out.RefreshRetryGrace = time.Duration(r.RetryGracePeriodSeconds) * time.Second
		if r.RetryGracePeriodSeconds < 0 || r.RetryGracePeriodSeconds > 60 {
			out.RefreshRetryGrace = -1 // refused by the service, in its words
		}
	}
	return out, nil
}

// userPoolClientWire is UserPoolClientType.
type userPoolClientWire struct {
	UserPoolID                      string                   `json:"UserPoolId"`
	ClientName                      string                   `json:"ClientName"`
	ClientID                        string                   `json:"ClientId"`
	ClientSecret                    string                   `json:"ClientSecret,omitempty"`
	CreationDate                    epoch                    `json:"CreationDate"`
	LastModifiedDate                epoch                    `json:"LastModifiedDate"`
	AccessTokenValidity             int64                    `json:"AccessTokenValidity"`
	IDTokenValidity                 int64                    `json:"IdTokenValidity"`
	RefreshTokenValidity            int64                    `json:"RefreshTokenValidity"`
	TokenValidityUnits              tokenValidityUnitsWire   `json:"TokenValidityUnits"`
	ExplicitAuthFlows               []string                 `json:"ExplicitAuthFlows"`
	SupportedIdentityProviders      []string                 `json:"SupportedIdentityProviders,omitempty"`
	CallbackURLs                    []string                 `json:"CallbackURLs,omitempty"`
	LogoutURLs                      []string                 `json:"LogoutURLs,omitempty"`
	AllowedOAuthFlows               []string                 `json:"AllowedOAuthFlows,omitempty"`
	AllowedOAuthScopes              []string                 `json:"AllowedOAuthScopes,omitempty"`
	AllowedOAuthFlowsUserPoolClient bool                     `json:"AllowedOAuthFlowsUserPoolClient"`
	PreventUserExistenceErrors      string                   `json:"PreventUserExistenceErrors"`
	EnableTokenRevocation           bool                     `json:"EnableTokenRevocation"`
	AuthSessionValidity             int                      `json:"AuthSessionValidity"`
	RefreshTokenRotation            refreshTokenRotationWire `json:"RefreshTokenRotation"`
	// DynamicallyRegistered is Behalf's own member (SDKs skip members they
	// do not know): the client registered itself at the pool's RFC 7591
	// endpoint.
	DynamicallyRegistered bool `json:"DynamicallyRegistered,omitempty"`
}

func userPoolClientOut(c *behalf.AppClient, secret behalf.Secret) userPoolClientWire {
	access, accessUnit := behalf.ValidityUnits(c.AccessTokenValidity)
	id, idUnit := behalf.ValidityUnits(c.IDTokenValidity)
	refresh, refreshUnit := behalf.ValidityUnits(c.RefreshTokenValidity)
	return userPoolClientWire{
		UserPoolID: c.PoolID, ClientName: c.Name, ClientID: c.ID, ClientSecret: secret.Reveal(),
		CreationDate: epoch(c.CreatedAt), LastModifiedDate: epoch(c.UpdatedAt),
		AccessTokenValidity: access, IDTokenValidity: id, RefreshTokenValidity: refresh,
		TokenValidityUnits: tokenValidityUnitsWire{AccessToken: accessUnit, IDToken: idUnit, RefreshToken: refreshUnit},
		ExplicitAuthFlows:  c.ExplicitAuthFlows, SupportedIdentityProviders: c.SupportedIdentityProviders,
		CallbackURLs: c.CallbackURLs, LogoutURLs: c.LogoutURLs, AllowedOAuthFlows: c.AllowedOAuthFlows,
		AllowedOAuthScopes: c.AllowedOAuthScopes, AllowedOAuthFlowsUserPoolClient: c.AllowedOAuthFlowsUserPoolClient,
		// Behalf never reveals whether a user exists to the anonymous API.
		PreventUserExistenceErrors: "ENABLED",
		EnableTokenRevocation:      c.EnableTokenRevocation,
		AuthSessionValidity:        cognitoAuthSessionMinutes,
		RefreshTokenRotation:       rotationOut(c),
		DynamicallyRegistered:      c.DynamicallyRegistered,
	}
}

// rotationOut is a client's RefreshTokenRotation.
func rotationOut(c *behalf.AppClient) refreshTokenRotationWire {
	r := refreshTokenRotationWire{Feature: "DISABLED", RetryGracePeriodSeconds: int64(c.RefreshRetryGrace / time.Second)}
	if c.RotateRefreshTokens {
		r.Feature = "ENABLED"
	}
	return r
}

func (s *Server) cognitoCreateUserPoolClient(ctx context.Context, body []byte) (any, error) {
	var in userPoolClientIn
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID, "ClientName", in.ClientName); err != nil {
		return nil, err
	}
	in.ClientID = ""
	input, err := in.input()
	if err != nil {
		return nil, err
	}
	c, secret, err := s.UserPools.CreateUserPoolClient(ctx, input)
	if err != nil {
		return nil, err
	}
	return map[string]any{"UserPoolClient": userPoolClientOut(c, secret)}, nil
}

func (s *Server) cognitoDescribeUserPoolClient(ctx context.Context, body []byte) (any, error) {
	var in struct {
		UserPoolID string `json:"UserPoolId"`
		ClientID   string `json:"ClientId"`
	}
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID, "ClientId", in.ClientID); err != nil {
		return nil, err
	}
	c, secret, err := s.UserPools.DescribeUserPoolClient(ctx, in.UserPoolID, in.ClientID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"UserPoolClient": userPoolClientOut(c, secret)}, nil
}

func (s *Server) cognitoUpdateUserPoolClient(ctx context.Context, body []byte) (any, error) {
	var in userPoolClientIn
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID, "ClientId", in.ClientID); err != nil {
		return nil, err
	}
	if in.GenerateSecret {
		return nil, behalf.CognitoErrorf(behalf.CognitoInvalidParameter, "GenerateSecret cannot be set on an existing client.")
	}
	if in.ClientName == "" {
		// ClientName is optional in UpdateUserPoolClient; an update
		// replaces every setting but keeps the name when none is given.
		cur, _, err := s.UserPools.DescribeUserPoolClient(ctx, in.UserPoolID, in.ClientID)
		if err != nil {
			return nil, err
		}
		in.ClientName = cur.Name
	}
	input, err := in.input()
	if err != nil {
		return nil, err
	}
	c, secret, err := s.UserPools.UpdateUserPoolClient(ctx, input)
	if err != nil {
		return nil, err
	}
	return map[string]any{"UserPoolClient": userPoolClientOut(c, secret)}, nil
}

func (s *Server) cognitoListUserPoolClients(ctx context.Context, body []byte) (any, error) {
	var in struct {
		UserPoolID string `json:"UserPoolId"`
		MaxResults int    `json:"MaxResults"`
		NextToken  string `json:"NextToken"`
	}
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID); err != nil {
		return nil, err
	}
	clients, next, err := s.UserPools.ListUserPoolClients(ctx, in.UserPoolID, behalf.PageRequest{NextToken: in.NextToken, MaxResults: in.MaxResults})
	if err != nil {
		return nil, err
	}
	type item struct {
		ClientID   string `json:"ClientId"`
		ClientName string `json:"ClientName"`
		UserPoolID string `json:"UserPoolId"`
	}
	out := struct {
		UserPoolClients []item `json:"UserPoolClients"`
		NextToken       string `json:"NextToken,omitempty"`
	}{UserPoolClients: []item{}, NextToken: next}
	for _, c := range clients {
		out.UserPoolClients = append(out.UserPoolClients, item{c.ID, c.Name, c.PoolID})
	}
	return out, nil
}

func (s *Server) cognitoDeleteUserPoolClient(ctx context.Context, body []byte) (any, error) {
	var in struct {
		UserPoolID string `json:"UserPoolId"`
		ClientID   string `json:"ClientId"`
	}
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID, "ClientId", in.ClientID); err != nil {
		return nil, err
	}
	return nil, s.UserPools.DeleteUserPoolClient(ctx, in.UserPoolID, in.ClientID)
}
