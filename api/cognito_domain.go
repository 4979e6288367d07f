package api

import (
	"context"
	"encoding/json"
	"net/url"

	"github.com/behalf-dev/behalf"
)

// User pool domains (DomainDescriptionType): a prefix domain, served at
// {prefix}.{--pool-domain-suffix}, or a custom domain the operator allows
// (--pool-domain), under which Behalf serves the pool's hosted login.

// Domain statuses (DomainStatusType) Behalf reports: a domain is ACTIVE
// while its configuration serves it, FAILED when it no longer does (a
// restart without its suffix or name).
const (
	domainActive = "ACTIVE"
	domainFailed = "FAILED"
)

// domainVersionLayout formats DomainDescriptionType's Version, which
// Cognito sends as the time of the domain's last change, e.g. 20190128175402.
const domainVersionLayout = "20060102150405"

// customDomainConfigWire is CustomDomainConfigType.
type customDomainConfigWire struct {
	CertificateArn string `json:"CertificateArn"`
}

// domainDescriptionWire is DomainDescriptionType. Behalf has no S3
// bucket; CloudFrontDistribution is the host the operator's DNS points
// the domain at: the public URL's.
type domainDescriptionWire struct {
	UserPoolID             string                  `json:"UserPoolId,omitempty"`
	AWSAccountID           string                  `json:"AWSAccountId,omitempty"`
	Domain                 string                  `json:"Domain,omitempty"`
	CloudFrontDistribution string                  `json:"CloudFrontDistribution,omitempty"`
	Version                string                  `json:"Version,omitempty"`
	Status                 string                  `json:"Status,omitempty"`
	CustomDomainConfig     *customDomainConfigWire `json:"CustomDomainConfig,omitempty"`
	ManagedLoginVersion    int                     `json:"ManagedLoginVersion,omitempty"`
}

// domainIn holds the members of CreateUserPoolDomain and UpdateUserPoolDomain.
type domainIn struct {
	UserPoolID          string                  `json:"UserPoolId"`
	Domain              string                  `json:"Domain"`
	CustomDomainConfig  *customDomainConfigWire `json:"CustomDomainConfig"`
	ManagedLoginVersion *int                    `json:"ManagedLoginVersion"`
	Routing             json.RawMessage         `json:"Routing"`
}

// input checks the members and returns the service's input.
func (in *domainIn) input() (behalf.UserPoolDomainInput, error) {
	if err := requireMembers("Domain", in.Domain, "UserPoolId", in.UserPoolID); err != nil {
		return behalf.UserPoolDomainInput{}, err
	}
	if len(in.Routing) > 0 && string(in.Routing) != "null" {
		return behalf.UserPoolDomainInput{}, unsupported("Routing: Behalf has no replicated user pools.")
	}
	out := behalf.UserPoolDomainInput{PoolID: in.UserPoolID, Domain: in.Domain}
	if in.CustomDomainConfig != nil {
		arn := in.CustomDomainConfig.CertificateArn
		out.CertificateARN = &arn
	}
	if v := in.ManagedLoginVersion; v != nil {
		if *v != 1 && *v != 2 {
			return behalf.UserPoolDomainInput{}, behalf.CognitoErrorf(behalf.CognitoInvalidParameter,
				"ManagedLoginVersion must be 1 (hosted UI) or 2 (managed login).")
		}
		out.ManagedLoginVersion = *v
	}
	return out, nil
}

// dnsTarget is the host name a domain's DNS record points at: the public
// URL's (CloudFrontDomain, CloudFrontDistribution).
func (s *Server) dnsTarget() string {
	u, err := url.Parse(s.PublicURL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// domainWriteOut is the answer of CreateUserPoolDomain and
// UpdateUserPoolDomain: CloudFrontDomain for a custom domain only, as
// Cognito answers.
func (s *Server) domainWriteOut(d *behalf.UserPoolDomain) any {
	out := struct {
		CloudFrontDomain    string `json:"CloudFrontDomain,omitempty"`
		ManagedLoginVersion int    `json:"ManagedLoginVersion"`
	}{ManagedLoginVersion: d.ManagedLoginVersion}
	if d.Custom {
		out.CloudFrontDomain = s.dnsTarget()
	}
	return out
}

func (s *Server) cognitoCreateUserPoolDomain(ctx context.Context, body []byte) (any, error) {
	var in domainIn
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	input, err := in.input()
	if err != nil {
		return nil, err
	}
	d, err := s.UserPools.CreateUserPoolDomain(ctx, input)
	if err != nil {
		return nil, err
	}
	return s.domainWriteOut(d), nil
}

// cognitoDescribeUserPoolDomain answers an unknown domain with an empty
// DomainDescription, as Cognito does.
func (s *Server) cognitoDescribeUserPoolDomain(ctx context.Context, body []byte) (any, error) {
	var in struct {
		Domain string `json:"Domain"`
	}
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("Domain", in.Domain); err != nil {
		return nil, err
	}
	d, err := s.UserPools.DescribeUserPoolDomain(ctx, in.Domain)
	if behalf.CognitoException(err) == behalf.CognitoResourceNotFound {
		return map[string]any{"DomainDescription": domainDescriptionWire{}}, nil
	}
	if err != nil {
		return nil, err
	}
	out := domainDescriptionWire{
		UserPoolID: d.PoolID, AWSAccountID: s.Account, Domain: d.Domain, CloudFrontDistribution: s.dnsTarget(),
		Version: d.UpdatedAt.UTC().Format(domainVersionLayout), Status: domainFailed, ManagedLoginVersion: d.ManagedLoginVersion,
	}
	if d.URL != "" {
		out.Status = domainActive
	}
	if d.Custom {
		out.CustomDomainConfig = &customDomainConfigWire{CertificateArn: d.CertificateARN}
	}
	return map[string]any{"DomainDescription": out}, nil
}

func (s *Server) cognitoUpdateUserPoolDomain(ctx context.Context, body []byte) (any, error) {
	var in domainIn
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	input, err := in.input()
	if err != nil {
		return nil, err
	}
	d, err := s.UserPools.UpdateUserPoolDomain(ctx, input)
	if err != nil {
		return nil, err
	}
	return s.domainWriteOut(d), nil
}

func (s *Server) cognitoDeleteUserPoolDomain(ctx context.Context, body []byte) (any, error) {
	var in struct {
		UserPoolID string `json:"UserPoolId"`
		Domain     string `json:"Domain"`
	}
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("Domain", in.Domain, "UserPoolId", in.UserPoolID); err != nil {
		return nil, err
	}
	return nil, s.UserPools.DeleteUserPoolDomain(ctx, in.UserPoolID, in.Domain)
}

// poolDomains sets DescribeUserPool's Domain (the prefix domain) and
// CustomDomain.
func (s *Server) poolDomains(ctx context.Context, out *userPoolWire) error {
	ds, err := s.UserPools.UserPoolDomains(ctx, out.ID)
	if err != nil {
		return err
	}
	out.Domain, out.CustomDomain = "", ""
	for _, d := range ds {
		if d.Custom {
			out.CustomDomain = d.Domain
		} else {
			out.Domain = d.Domain
		}
	}
	return nil
}
