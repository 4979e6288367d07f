package userpool

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
)

// Resource-server limits (Cognito's).
const (
	maxResourceServers    = 25  // per user pool (a quota)
	maxServerScopes       = 100 // per resource server
	maxResourceServerText = 256 // identifier, name, scope name and description
	maxResourceServerPage = 50  // ListResourceServers' MaxResults
)

// Cognito's patterns of resource-server fields, anchored; the text is what
// a validation message quotes.
const (
	identifierPatternText = `[\x21\x23-\x5B\x5D-\x7E]+`
	serverNamePatternText = `[\w\s+=,.@-]+`
	scopeNamePatternText  = `[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]+`
)

var (
	identifierPattern = regexp.MustCompile(`^` + identifierPatternText + `$`)
	serverNamePattern = regexp.MustCompile(`^` + serverNamePatternText + `$`)
	scopeNamePattern  = regexp.MustCompile(`^` + scopeNamePatternText + `$`)
)

// systemScopes are the scopes Cognito defines; every other scope is a
// resource server's identifier/name.
var systemScopes = []string{"openid", "email", "phone", "profile", behalf.ScopeCognitoAdmin}

// CreateResourceServer defines a resource server and its scopes.
func (s *Service) CreateResourceServer(ctx context.Context, in behalf.ResourceServerInput) (*behalf.ResourceServer, error) {
	if _, err := s.getPool(ctx, in.PoolID); err != nil {
		return nil, err
	}
	if err := validateResourceServer(in); err != nil {
		return nil, err
	}
	existing, err := s.Store.ListResourceServers(ctx, in.PoolID, behalf.ListOptions{Limit: maxResourceServers})
	if err != nil {
		return nil, internal("count resource servers", err)
	}
	if len(existing) >= maxResourceServers {
		return nil, cognito(behalf.CognitoLimitExceeded, "A user pool has at most %d resource servers.", maxResourceServers)
	}
	now := s.now()
	rs := &behalf.ResourceServer{
		PoolID: in.PoolID, Identifier: in.Identifier, Name: in.Name, Scopes: slices.Clone(in.Scopes),
		CreatedAt: now, UpdatedAt: now,
	}
	err = s.Store.CreateResourceServer(ctx, rs)
	switch {
	case isConflict(err):
		return nil, invalidParameter("%s already exists in user pool %s.", in.Identifier, in.PoolID)
	case isNotFound(err):
		return nil, poolNotFound(in.PoolID)
	case err != nil:
		return nil, internal("create resource server", err)
	}
	return rs, nil
}

// DescribeResourceServer returns a resource server.
func (s *Service) DescribeResourceServer(ctx context.Context, poolID, identifier string) (*behalf.ResourceServer, error) {
	if _, err := s.getPool(ctx, poolID); err != nil {
		return nil, err
	}
	if err := validateIdentifier(identifier); err != nil {
		return nil, err
	}
	rs, err := s.Store.GetResourceServer(ctx, poolID, identifier)
	if isNotFound(err) {
		return nil, resourceServerNotFound(identifier)
	}
	if err != nil {
		return nil, internal("get resource server", err)
	}
	return rs, nil
}

// UpdateResourceServer replaces a resource server's name and scopes; the
// store removes the scopes it drops from the pool's app clients.
func (s *Service) UpdateResourceServer(ctx context.Context, in behalf.ResourceServerInput) (*behalf.ResourceServer, error) {
	if _, err := s.getPool(ctx, in.PoolID); err != nil {
		return nil, err
	}
	if err := validateResourceServer(in); err != nil {
		return nil, err
	}
	rs, err := s.Store.UpdateResourceServer(ctx, in.PoolID, in.Identifier, func(rs *behalf.ResourceServer) error {
		rs.Name = in.Name
		rs.Scopes = slices.Clone(in.Scopes)
		rs.UpdatedAt = s.now()
		return nil
	})
	if isNotFound(err) {
		return nil, resourceServerNotFound(in.Identifier)
	}
	if err != nil {
		return nil, internal("update resource server", err)
	}
	return rs, nil
}

// ListResourceServers returns one page of a pool's resource servers, by
// identifier.
func (s *Service) ListResourceServers(ctx context.Context, poolID string, req behalf.PageRequest) ([]*behalf.ResourceServer, string, error) {
	if _, err := s.getPool(ctx, poolID); err != nil {
		return nil, "", err
	}
	opt, limit, err := listOptionsUpTo(req, maxResourceServerPage)
	if err != nil {
		return nil, "", err
	}
	servers, err := s.Store.ListResourceServers(ctx, poolID, opt)
	if err != nil {
		return nil, "", internal("list resource servers", err)
	}
	servers, next := behalf.NextPage(servers, limit, func(rs *behalf.ResourceServer) string { return rs.Identifier })
	return servers, next, nil
}

// DeleteResourceServer deletes a resource server; the store removes its
// scopes from the pool's app clients.
func (s *Service) DeleteResourceServer(ctx context.Context, poolID, identifier string) error {
	if _, err := s.getPool(ctx, poolID); err != nil {
		return err
	}
	if err := validateIdentifier(identifier); err != nil {
		return err
	}
	err := s.Store.DeleteResourceServer(ctx, poolID, identifier)
	if isNotFound(err) {
		return resourceServerNotFound(identifier)
	}
	if err != nil {
		return internal("delete resource server", err)
	}
	return nil
}

// resourceServerNotFound is the error for a missing resource server.
func resourceServerNotFound(identifier string) error {
	return cognito(behalf.CognitoResourceNotFound, "Resource server %s does not exist.", identifier)
}

// validateIdentifier checks a resource-server identifier alone.
func validateIdentifier(identifier string) error {
	var v violations
	v.text("identifier", identifier, identifierPattern, identifierPatternText)
	return v.err()
}

// validateResourceServer checks a resource server's fields against
// Cognito's constraints, reporting every violation as AWS does, and
// refuses a scope name given twice.
func validateResourceServer(in behalf.ResourceServerInput) error {
	var v violations
	v.text("identifier", in.Identifier, identifierPattern, identifierPatternText)
	v.text("name", in.Name, serverNamePattern, serverNamePatternText)
	if len(in.Scopes) > maxServerScopes {
		v.add(fmt.Sprintf("Value at 'scopes' failed to satisfy constraint: Member must have length less than or equal to %d", maxServerScopes))
	}
	for i, sc := range in.Scopes {
		field := fmt.Sprintf("scopes.%d.member.", i+1)
		v.text(field+"scopeName", sc.Name, scopeNamePattern, scopeNamePatternText)
		v.text(field+"scopeDescription", sc.Description, nil, "")
	}
	if err := v.err(); err != nil {
		return err
	}
	for i, sc := range in.Scopes {
		if slices.ContainsFunc(in.Scopes[:i], func(o behalf.ResourceServerScope) bool { return o.Name == sc.Name }) {
			return invalidParameter("The scope name %s is given twice.", sc.Name)
		}
	}
	return nil
}

// violations collects failed constraints in AWS's validation wording.
type violations []string

func (v *violations) add(msg string) { *v = append(*v, msg) }

// text checks a string member: 1 to 256 characters matching pattern (nil:
// any), quoted by patternText.
func (v *violations) text(field, value string, pattern *regexp.Regexp, patternText string) {
	shown := value
	if utf8.RuneCountInString(shown) > maxResourceServerText {
		shown = string([]rune(shown)[:maxResourceServerText]) + "..."
	}
	prefix := fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: ", shown, field)
	switch n := utf8.RuneCountInString(value); {
	case n < 1:
		v.add(prefix + "Member must have length greater than or equal to 1")
		return
	case n > maxResourceServerText:
		v.add(fmt.Sprintf("%sMember must have length less than or equal to %d", prefix, maxResourceServerText))
	}
	if pattern != nil && !pattern.MatchString(value) {
		v.add(prefix + "Member must satisfy regular expression pattern: " + patternText)
	}
}

// err returns the InvalidParameterException of the violations, or nil.
func (v violations) err() error {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return invalidParameter("1 validation error detected: %s", v[0])
	}
	return invalidParameter("%d validation errors detected: %s", len(v), strings.Join(v, "; "))
}

// scopeDoesNotExist is Cognito's error for a scope that is neither a
// system scope nor one a resource server of the pool defines.
func scopeDoesNotExist(scope string) error {
	return cognito(behalf.CognitoScopeDoesNotExist, "Invalid scope requested: %s", scope)
}

// scopeDefinitions answers whether scopes are defined in one pool, reading
// each resource server named once.
type scopeDefinitions struct {
	s       *Service
	poolID  string
	servers map[string]*behalf.ResourceServer // nil: the pool has no such server
}

func (s *Service) scopeDefinitions(poolID string) *scopeDefinitions {
	return &scopeDefinitions{s: s, poolID: poolID, servers: map[string]*behalf.ResourceServer{}}
}

// defined reports whether scope is a system scope or a resource server of
// the pool defines it.
func (d *scopeDefinitions) defined(ctx context.Context, scope string) (bool, error) {
	if slices.Contains(systemScopes, scope) {
		return true, nil
	}
	id, name, ok := behalf.SplitCustomScope(scope)
	if !ok {
		return false, nil
	}
	rs, seen := d.servers[id]
	if !seen {
		var err error
		rs, err = d.s.Store.GetResourceServer(ctx, d.poolID, id)
		if err != nil && !isNotFound(err) {
			return false, internal("get resource server", err)
		}
		d.servers[id] = rs
	}
	return rs != nil && slices.ContainsFunc(rs.Scopes, func(sc behalf.ResourceServerScope) bool { return sc.Name == name }), nil
}

// undefinedScope returns the first of scopes that is neither a system
// scope nor defined by a resource server of the pool ("" when all are).
func (s *Service) undefinedScope(ctx context.Context, poolID string, scopes []string) (string, error) {
	d := s.scopeDefinitions(poolID)
	for _, sc := range scopes {
		ok, err := d.defined(ctx, sc)
		if err != nil {
			return "", err
		}
		if !ok {
			return sc, nil
		}
	}
	return "", nil
}

// checkScopesDefined is ScopeDoesNotExistException for the first scope
// undefinedScope finds.
func (s *Service) checkScopesDefined(ctx context.Context, poolID string, scopes []string) error {
	sc, err := s.undefinedScope(ctx, poolID, scopes)
	if err != nil {
		return err
	}
	if sc != "" {
		return scopeDoesNotExist(sc)
	}
	return nil
}
