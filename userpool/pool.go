package userpool

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
)

// Limits of pool settings.
const (
	maxNameLength = 128
	maxTags       = 50
	maxTagKey     = 128
	maxTagValue   = 256
	createRetries = 3
)

// namePattern is Cognito's pattern of pool and client names.
var namePattern = regexp.MustCompile(`^[\w\s+=,.@-]+$`)

// CreateUserPool creates a pool and its signing key.
func (s *Service) CreateUserPool(ctx context.Context, in behalf.CreateUserPoolInput) (*behalf.UserPool, error) {
	policy, err := validatePool(in.Name, in.PasswordPolicy, in.UsernameAttributes, in.MFAConfiguration, in.Tags)
	if err != nil {
		return nil, err
	}
	if in.MFAConfiguration != "" && in.MFAConfiguration != behalf.MFAOff {
		return nil, invalidParameter("A new user pool has no MFA factor: create it with MfaConfiguration OFF, then enable software token MFA with SetUserPoolMfaConfig.")
	}
	now := s.now()
	if err := validateSignUpSettings(in.AutoVerifiedAttributes, in.VerificationMessage); err != nil {
		return nil, err
	}
	p := &behalf.UserPool{
		Name: in.Name, PasswordPolicy: policy, UsernameAttributes: slices.Clone(in.UsernameAttributes),
		AutoVerifiedAttributes: slices.Clone(in.AutoVerifiedAttributes), AllowAdminCreateUserOnly: in.AllowAdminCreateUserOnly,
		VerificationMessage: in.VerificationMessage, MFAConfiguration: behalf.MFAOff, Tags: in.Tags, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.insertPool(ctx, p); err != nil {
		return nil, err
	}
	if _, err := s.signer(ctx, p.ID); err != nil {
		_ = s.Store.DeleteUserPool(ctx, p.ID)
		return nil, err
	}
	return p, nil
}

// insertPool stores p under a new id, retrying on the unlikely collision.
func (s *Service) insertPool(ctx context.Context, p *behalf.UserPool) error {
	var err error
	for range createRetries {
		p.ID = newPoolID(s.region())
		if err = s.Store.CreateUserPool(ctx, p); !isConflict(err) {
			break
		}
	}
	if err != nil {
		return internal("create pool", err)
	}
	return nil
}

// validatePool checks a pool's settings and returns its normalized
// password policy.
func validatePool(name string, policy *behalf.PasswordPolicy, usernameAttrs []string, mfa string, tags map[string]string) (behalf.PasswordPolicy, error) {
	if err := validateName("PoolName", name); err != nil {
		return behalf.PasswordPolicy{}, err
	}
	for i, a := range usernameAttrs {
		if (a != "email" && a != "phone_number") || slices.Contains(usernameAttrs[:i], a) {
			return behalf.PasswordPolicy{}, invalidParameter("UsernameAttributes may hold email and phone_number, once each.")
		}
	}
	switch mfa {
	case "", behalf.MFAOff, behalf.MFAOn, behalf.MFAOptional:
	default:
		return behalf.PasswordPolicy{}, invalidParameter("1 validation error detected: Value '%s' at 'mfaConfiguration' failed to satisfy constraint: Member must satisfy enum value set: [OFF, ON, OPTIONAL]", mfa)
	}
	if err := validateTags(tags); err != nil {
		return behalf.PasswordPolicy{}, err
	}
	return normalizePolicy(policy)
}

// Bounds of VerificationMessageTemplate's members (Cognito's).
const (
	maxEmailSubject = 140
	maxEmailMessage = 20000
	maxSMSMessage   = 140
	minCodeMessage  = 6
)

// validateSignUpSettings checks AutoVerifiedAttributes and the
// verification messages: each message, when set, must hold {####}.
func validateSignUpSettings(auto []string, m behalf.VerificationMessage) error {
	for i, a := range auto {
		if (a != "email" && a != "phone_number") || slices.Contains(auto[:i], a) {
			return invalidParameter("AutoVerifiedAttributes may hold email and phone_number, once each.")
		}
	}
	if n := utf8.RuneCountInString(m.EmailSubject); n > maxEmailSubject || !utf8.ValidString(m.EmailSubject) {
		return invalidParameter("VerificationMessageTemplate.EmailSubject must be at most %d characters.", maxEmailSubject)
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"EmailMessage", m.EmailMessage, maxEmailMessage}, {"SmsMessage", m.SMSMessage, maxSMSMessage}} {
		if f.v == "" {
			continue
		}
		if n := utf8.RuneCountInString(f.v); n < minCodeMessage || n > f.max || !utf8.ValidString(f.v) || !strings.Contains(f.v, codePlaceholder) {
			return invalidParameter("VerificationMessageTemplate.%s must be %d to %d characters and contain {####}.", f.name, minCodeMessage, f.max)
		}
	}
	return nil
}

// validateName checks a pool or client name.
func validateName(field, name string) error {
	if name == "" || utf8.RuneCountInString(name) > maxNameLength || !namePattern.MatchString(name) {
		return invalidParameter("%s must be 1 to %d characters matching [\\w\\s+=,.@-]+.", field, maxNameLength)
	}
	return nil
}

// validateTags checks tag counts and sizes.
func validateTags(tags map[string]string) error {
	if len(tags) > maxTags {
		return invalidParameter("A user pool has at most %d tags.", maxTags)
	}
	for k, v := range tags {
		if k == "" || utf8.RuneCountInString(k) > maxTagKey || utf8.RuneCountInString(v) > maxTagValue {
			return invalidParameter("Tag keys are 1 to %d characters and values at most %d.", maxTagKey, maxTagValue)
		}
	}
	if v, ok := tags[behalf.TagClientRegistration]; ok && v != behalf.ClientRegistrationOff &&
		v != behalf.ClientRegistrationLoopback && v != behalf.ClientRegistrationOpen {
		return invalidParameter("The tag %s must be %s, %s or %s.", behalf.TagClientRegistration,
			behalf.ClientRegistrationOff, behalf.ClientRegistrationLoopback, behalf.ClientRegistrationOpen)
	}
	return nil
}

// DescribeUserPool returns a pool.
func (s *Service) DescribeUserPool(ctx context.Context, poolID string) (*behalf.UserPool, error) {
	return s.getPool(ctx, poolID)
}

// UpdateUserPool replaces the password policy (nil: the default) and, when
// given, the tags and MfaConfiguration ("" leaves it; ON and OPTIONAL need
// the software token factor, see SetUserPoolMfaConfig).
func (s *Service) UpdateUserPool(ctx context.Context, in behalf.UpdateUserPoolInput) (*behalf.UserPool, error) {
	cur, err := s.getPool(ctx, in.PoolID)
	if err != nil {
		return nil, err
	}
	policy, err := validatePool(cur.Name, in.PasswordPolicy, nil, in.MFAConfiguration, in.Tags)
	if err != nil {
		return nil, err
	}
	if err := validateSignUpSettings(in.AutoVerifiedAttributes, in.VerificationMessage); err != nil {
		return nil, err
	}
	p, err := s.Store.UpdateUserPool(ctx, in.PoolID, func(p *behalf.UserPool) error {
		p.PasswordPolicy = policy
		p.AutoVerifiedAttributes = slices.Clone(in.AutoVerifiedAttributes)
		p.AllowAdminCreateUserOnly = in.AllowAdminCreateUserOnly
		p.VerificationMessage = in.VerificationMessage
		if in.Tags != nil {
			p.Tags = in.Tags
		}
		if in.MFAConfiguration != "" {
			p.MFAConfiguration = in.MFAConfiguration
			if err := checkMFAConfig(p); err != nil {
				return err
			}
		}
		p.UpdatedAt = s.now()
		return nil
	})
	if isNotFound(err) {
		return nil, poolNotFound(in.PoolID)
	}
	var ce *behalf.CognitoError
	if err != nil && asCognito(err, &ce) {
		return nil, err
	}
	if err != nil {
		return nil, internal("update pool", err)
	}
	return p, nil
}

// ListUserPools returns one page of pools, by id.
func (s *Service) ListUserPools(ctx context.Context, req behalf.PageRequest) ([]*behalf.UserPool, string, error) {
	opt, limit, err := listOptions(req)
	if err != nil {
		return nil, "", err
	}
	pools, err := s.Store.ListUserPools(ctx, opt)
	if err != nil {
		return nil, "", internal("list pools", err)
	}
	pools, next := behalf.NextPage(pools, limit, func(p *behalf.UserPool) string { return p.ID })
	return pools, next, nil
}

// DeleteUserPool deletes a pool with its clients, users and tokens. Its
// signing keys stay in the store, unpublished, since nothing serves them.
// A pool with a domain is refused, as Cognito refuses it.
func (s *Service) DeleteUserPool(ctx context.Context, poolID string) error {
	if _, err := s.getPool(ctx, poolID); err != nil {
		return err
	}
	if err := s.checkNoDomains(ctx, poolID); err != nil {
		return err
	}
	err := s.Store.DeleteUserPool(ctx, poolID)
	if isNotFound(err) {
		return poolNotFound(poolID)
	}
	if err != nil {
		return internal("delete pool", err)
	}
	s.forgetSigner(poolID)
	return nil
}
