package userpool

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/behalf-dev/behalf"
)

// User pool domains. Cognito serves a prefix domain at
// {prefix}.auth.{region}.amazoncognito.com, which Behalf cannot; it serves
// one at {prefix}.{DomainSuffix} instead, and a custom domain only if it
// is one of CustomDomains. A domain is served with the public URL's scheme
// and port (the same listener, or the same proxy in front of it), at the
// root of its host; DNS and TLS are the operator's.

// Messages Cognito sends about domains.
const (
	msgNoSuchDomain = "No such domain or user pool exists."
	msgPoolDomains  = "User pool cannot be deleted. It has a domain configured that should be deleted first."
	msgPrefixFormat = `The domain name contains an invalid character. Domain names can only contain lower-case letters, numbers, and hyphens. Please enter a different name that follows this format: ^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$`
)

var (
	// prefixPattern is Cognito's pattern of a prefix domain (DomainType).
	prefixPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$`)
	// certificateARNPattern is Cognito's ArnType.
	certificateARNPattern = regexp.MustCompile(`^arn:[\w+=/,.@-]+:[\w+=/,.@-]+:([\w+=/,.@-]*)?:[0-9]+:[\w+=/,.@-]+(:[\w+=/,.@-]+)?(:[\w+=/,.@-]+)?$`)
)

// reservedWords may not appear in a prefix domain, as in Cognito.
var reservedWords = []string{"aws", "amazon", "cognito"}

// domainConfig is the Service's domain configuration, parsed once.
type domainConfig struct {
	scheme     string          // of PublicURL
	port       string          // PublicURL's port; "" when it is the scheme's default
	publicHost string          // PublicURL's host name, never host-routed
	suffix     string          // prefix domains are {prefix}.{suffix}; "" for none
	custom     map[string]bool // the custom domains that may be served
}

// domainState holds the parsed configuration.
type domainState struct {
	once sync.Once
	cfg  *domainConfig
	err  error
}

// CheckDomains reports whether DomainSuffix and CustomDomains are valid
// with PublicURL: host names (no scheme, port or path) that are not IP
// addresses, custom domains with at least two labels and neither under
// the suffix nor the public URL's host. A Service whose configuration is
// invalid serves and allows no domain; call CheckDomains at startup.
func (s *Service) CheckDomains() error {
	_, err := s.domains()
	return err
}

// domains returns the parsed domain configuration: nil (and no error)
// when no domain is configured.
func (s *Service) domains() (*domainConfig, error) {
	s.domainState.once.Do(func() {
		s.domainState.cfg, s.domainState.err = parseDomains(s.PublicURL, s.DomainSuffix, s.CustomDomains)
	})
	return s.domainState.cfg, s.domainState.err
}

// parseDomains parses and checks a domain configuration.
func parseDomains(publicURL, suffix string, custom []string) (*domainConfig, error) {
	if suffix == "" && len(custom) == 0 {
		return nil, nil
	}
	u, err := url.Parse(publicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, fmt.Errorf("user pool domains: the public URL %q is not an absolute http(s) URL", publicURL)
	}
	cfg := &domainConfig{scheme: u.Scheme, port: u.Port(), publicHost: strings.ToLower(u.Hostname()), custom: map[string]bool{}}
	if cfg.port == defaultPort(cfg.scheme) {
		cfg.port = ""
	}
	var errs []error
	if suffix != "" {
		cfg.suffix = strings.ToLower(suffix)
		if !validHostName(cfg.suffix, 1) {
			errs = append(errs, fmt.Errorf("user pool domain suffix %q is not a host name (give it without scheme, port or path)", suffix))
		}
	}
	for _, name := range custom {
		lower := strings.ToLower(name)
		switch {
		case !validHostName(lower, 2):
			errs = append(errs, fmt.Errorf("user pool domain %q is not a fully qualified host name (give it without scheme, port or path)", name))
		case cfg.suffix != "" && strings.HasSuffix(lower, "."+cfg.suffix):
			errs = append(errs, fmt.Errorf("user pool domain %q is under the prefix domain suffix %q", name, cfg.suffix))
		case lower == cfg.publicHost:
			errs = append(errs, fmt.Errorf("user pool domain %q is the public URL's host", name))
		}
		cfg.custom[lower] = true
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

// validHostName reports whether name is a lower-case DNS host name of at
// least minLabels labels, and not an IP address.
func validHostName(name string, minLabels int) bool {
	labels := strings.Split(name, ".")
	if len(name) > 253 || len(labels) < minLabels || net.ParseIP(name) != nil {
		return false
	}
	for _, l := range labels {
		if !prefixPattern.MatchString(l) {
			return false
		}
	}
	return true
}

// defaultPort returns the port a URL of scheme has without one.
func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}

// host returns the host name a domain is served at: a custom domain's
// name, a prefix domain's {prefix}.{suffix} ("" without a suffix).
func (c *domainConfig) host(d *behalf.UserPoolDomain) string {
	if d.Custom {
		return d.Domain
	}
	if c.suffix == "" {
		return ""
	}
	return d.Domain + "." + c.suffix
}

// url returns the base URL of a host name served here.
func (c *domainConfig) url(host string) string {
	if c.port != "" {
		host = net.JoinHostPort(host, c.port)
	}
	return c.scheme + "://" + host
}

// served returns where a domain is served now, or "" if the configuration
// does not serve it.
func (c *domainConfig) served(d *behalf.UserPoolDomain) string {
	if c == nil || (d.Custom && !c.custom[d.Domain]) {
		return ""
	}
	h := c.host(d)
	if h == "" || h == c.publicHost {
		return ""
	}
	return c.url(h)
}

// match returns the domain name a request's Host header names (a prefix,
// or a custom domain's name), if it names one this configuration serves:
// compared in lower case, with the public URL's port (the scheme's
// default when the Host has none); never the public URL's own host.
func (c *domainConfig) match(hostport string) (name string, custom, ok bool) {
	hostport = strings.ToLower(hostport)
	host, port := hostport, ""
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 {
		host, port = hostport[:i], hostport[i+1:]
	}
	if port == defaultPort(c.scheme) {
		port = ""
	}
	if port != c.port || host == "" || host == c.publicHost || strings.ContainsAny(host, "[]") {
		return "", false, false
	}
	if c.suffix != "" {
		if prefix, found := strings.CutSuffix(host, "."+c.suffix); found {
			return prefix, false, prefixPattern.MatchString(prefix)
		}
	}
	if c.custom[host] {
		return host, true, true
	}
	return "", false, false
}

// ResolveHost returns the pool whose domain a request's Host header names
// and the base URL Behalf serves that domain at (its scheme, the domain,
// the public URL's port), or "" and "" when the Host names no domain this
// Service serves: one that its configuration allows and that a pool has.
// The base URL is built from the configuration and the stored name, never
// from the Host header's text.
func (s *Service) ResolveHost(ctx context.Context, hostport string) (poolID, base string, err error) {
	cfg, _ := s.domains()
	if cfg == nil {
		return "", "", nil
	}
	name, custom, ok := cfg.match(hostport)
	if !ok {
		return "", "", nil
	}
	d, err := s.Store.GetUserPoolDomain(ctx, name)
	if isNotFound(err) {
		return "", "", nil
	}
	if err != nil {
		return "", "", internal("get user pool domain", err)
	}
	if d.Custom != custom {
		return "", "", nil
	}
	base = cfg.served(d)
	if base == "" {
		return "", "", nil
	}
	return d.PoolID, base, nil
}

// withURL sets d.URL to where d is served now and returns d.
func (s *Service) withURL(d *behalf.UserPoolDomain) *behalf.UserPoolDomain {
	cfg, _ := s.domains()
	d.URL = cfg.served(d)
	return d
}

// CreateUserPoolDomain adds a prefix domain (in.CertificateARN nil) or a
// custom domain to a pool, if this Service serves it.
func (s *Service) CreateUserPoolDomain(ctx context.Context, in behalf.UserPoolDomainInput) (*behalf.UserPoolDomain, error) {
	if _, err := s.getPool(ctx, in.PoolID); err != nil {
		return nil, err
	}
	version, err := managedLoginVersion(in.ManagedLoginVersion)
	if err != nil {
		return nil, err
	}
	d := &behalf.UserPoolDomain{Domain: in.Domain, PoolID: in.PoolID, Custom: in.CertificateARN != nil, ManagedLoginVersion: version}
	if d.Custom {
		d.CertificateARN = *in.CertificateARN
		err = s.checkCustomDomain(d)
	} else {
		err = s.checkPrefixDomain(d)
	}
	if err != nil {
		return nil, err
	}
	d.CreatedAt = s.now()
	d.UpdatedAt = d.CreatedAt
	err = s.Store.CreateUserPoolDomain(ctx, d)
	switch {
	case isConflict(err):
		return nil, invalidParameter("%s", behalf.ErrorMessage(err))
	case isNotFound(err):
		return nil, poolNotFound(in.PoolID)
	case err != nil:
		return nil, internal("create user pool domain", err)
	}
	return s.withURL(d), nil
}

// checkPrefixDomain checks a new prefix domain: Cognito's rules, and that
// Behalf can serve it.
func (s *Service) checkPrefixDomain(d *behalf.UserPoolDomain) error {
	if !prefixPattern.MatchString(d.Domain) {
		return invalidParameter(msgPrefixFormat)
	}
	for _, w := range reservedWords {
		if strings.Contains(d.Domain, w) {
			return invalidParameter("Domain cannot contain reserved word: %s", w)
		}
	}
	cfg, err := s.domains()
	if err != nil {
		return internal("domain configuration", err)
	}
	if cfg == nil || cfg.suffix == "" {
		return invalidParameter("Behalf serves prefix domains under a domain suffix its operator sets (behalf serve --pool-domain-suffix), and this server has none.")
	}
	if cfg.served(d) == "" {
		return invalidParameter("Domain %s is Behalf's own public host.", cfg.host(d))
	}
	return nil
}

// checkCustomDomain checks a new custom domain: its certificate ARN, and
// that the operator allows its name.
func (s *Service) checkCustomDomain(d *behalf.UserPoolDomain) error {
	if err := checkCertificateARN(d.CertificateARN); err != nil {
		return err
	}
	if !validHostName(d.Domain, 2) {
		return invalidParameter("The custom domain %.253q is not a fully qualified domain name in lower case.", d.Domain)
	}
	cfg, err := s.domains()
	if err != nil {
		return internal("domain configuration", err)
	}
	if cfg.served(d) == "" {
		return invalidParameter("Behalf serves a custom domain only if its operator allows it (behalf serve --pool-domain %s).", d.Domain)
	}
	return nil
}

// checkCertificateARN checks CustomDomainConfig.CertificateArn as Cognito's
// validation does.
func checkCertificateARN(arn string) error {
	if arn == "" {
		return invalidParameter("1 validation error detected: Value null at 'customDomainConfig.certificateArn' failed to satisfy constraint: Member must not be null")
	}
	if len(arn) < 20 || len(arn) > 2048 || !certificateARNPattern.MatchString(arn) {
		return invalidParameter("1 validation error detected: Value at 'customDomainConfig.certificateArn' failed to satisfy constraint: Member must have length between 20 and 2048 and satisfy regular expression pattern: %s",
			strings.Trim(certificateARNPattern.String(), "^$"))
	}
	return nil
}

// managedLoginVersion returns the version a domain gets: 1 for 0.
func managedLoginVersion(v int) (int, error) {
	switch v {
	case 0:
		return 1, nil
	case 1, 2:
		return v, nil
	}
	return 0, invalidParameter("ManagedLoginVersion must be 1 (hosted UI) or 2 (managed login).")
}

// DescribeUserPoolDomain returns a domain, with where it is served now.
func (s *Service) DescribeUserPoolDomain(ctx context.Context, domain string) (*behalf.UserPoolDomain, error) {
	if domain == "" || len(domain) > 253 {
		return nil, domainNotFound(domain)
	}
	d, err := s.Store.GetUserPoolDomain(ctx, domain)
	if isNotFound(err) {
		return nil, domainNotFound(domain)
	}
	if err != nil {
		return nil, internal("get user pool domain", err)
	}
	return s.withURL(d), nil
}

// errForeignDomain stops an update of another pool's domain.
var errForeignDomain = errors.New("another pool's domain")

// UpdateUserPoolDomain replaces a custom domain's certificate ARN (when
// given) and the managed login version (when not 0).
func (s *Service) UpdateUserPoolDomain(ctx context.Context, in behalf.UserPoolDomainInput) (*behalf.UserPoolDomain, error) {
	if !behalf.IsPoolID(in.PoolID) || in.Domain == "" || len(in.Domain) > 253 {
		return nil, invalidParameter(msgNoSuchDomain)
	}
	if in.ManagedLoginVersion != 0 {
		if _, err := managedLoginVersion(in.ManagedLoginVersion); err != nil {
			return nil, err
		}
	}
	if in.CertificateARN != nil {
		if err := checkCertificateARN(*in.CertificateARN); err != nil {
			return nil, err
		}
	}
	d, err := s.Store.UpdateUserPoolDomain(ctx, in.Domain, func(d *behalf.UserPoolDomain) error {
		if d.PoolID != in.PoolID {
			return errForeignDomain
		}
		if in.CertificateARN != nil {
			if !d.Custom {
				return invalidParameter("CustomDomainConfig applies to custom domains only; %s is a prefix domain.", d.Domain)
			}
			d.CertificateARN = *in.CertificateARN
		}
		if in.ManagedLoginVersion != 0 {
			d.ManagedLoginVersion = in.ManagedLoginVersion
		}
		d.UpdatedAt = s.now()
		return nil
	})
	var ce *behalf.CognitoError
	switch {
	case err == nil:
		return s.withURL(d), nil
	case errors.Is(err, errForeignDomain) || isNotFound(err):
		return nil, invalidParameter(msgNoSuchDomain)
	case asCognito(err, &ce):
		return nil, err
	}
	return nil, internal("update user pool domain", err)
}

// DeleteUserPoolDomain deletes a domain of a pool.
func (s *Service) DeleteUserPoolDomain(ctx context.Context, poolID, domain string) error {
	if !behalf.IsPoolID(poolID) || domain == "" || len(domain) > 253 {
		return invalidParameter(msgNoSuchDomain)
	}
	err := s.Store.DeleteUserPoolDomain(ctx, poolID, domain)
	if isNotFound(err) {
		return invalidParameter(msgNoSuchDomain)
	}
	if err != nil {
		return internal("delete user pool domain", err)
	}
	return nil
}

// UserPoolDomains returns a pool's domains, prefix domain first.
func (s *Service) UserPoolDomains(ctx context.Context, poolID string) ([]*behalf.UserPoolDomain, error) {
	if _, err := s.getPool(ctx, poolID); err != nil {
		return nil, err
	}
	ds, err := s.Store.ListUserPoolDomains(ctx, poolID)
	if err != nil {
		return nil, internal("list user pool domains", err)
	}
	for _, d := range ds {
		s.withURL(d)
	}
	return ds, nil
}

// checkNoDomains refuses to delete a pool that has a domain, as Cognito
// does.
func (s *Service) checkNoDomains(ctx context.Context, poolID string) error {
	ds, err := s.Store.ListUserPoolDomains(ctx, poolID)
	if err != nil {
		return internal("list user pool domains", err)
	}
	if len(ds) > 0 {
		return invalidParameter(msgPoolDomains)
	}
	return nil
}

// domainNotFound is the service's error for an unknown domain (the wire
// answers DescribeUserPoolDomain's with an empty description).
func domainNotFound(domain string) error {
	return cognito(behalf.CognitoResourceNotFound, "Domain %.253s does not exist.", domain)
}
