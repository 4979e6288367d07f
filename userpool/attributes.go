package userpool

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
)

// Attribute limits (Cognito's).
const (
	maxAttributeName  = 32
	maxAttributeValue = 2048
	maxUsernameLength = 128
	customPrefix      = "custom:"
)

// standardAttributes are the OpenID Connect attributes every pool has.
var standardAttributes = []string{
	"address", "birthdate", "email", "email_verified", "family_name", "gender", "given_name",
	"locale", "middle_name", "name", "nickname", "phone_number", "phone_number_verified",
	"picture", "preferred_username", "profile", "updated_at", "website", "zoneinfo",
}

// phonePattern is E.164 as Cognito accepts it.
var phonePattern = regexp.MustCompile(`^\+[0-9]{4,15}$`)

// validateAttributes checks user attributes a caller sets: standard or
// custom:* names, sizes, and the formats of email, phone and *_verified.
// sub is never settable.
func validateAttributes(attrs map[string]string) error {
	for name, v := range attrs {
		if name == "sub" {
			return invalidParameter("Cannot modify the non-mutable attribute sub.")
		}
		known := slices.Contains(standardAttributes, name) || (strings.HasPrefix(name, customPrefix) && len(name) > len(customPrefix))
		if !known || len(name) > maxAttributeName {
			return invalidParameter("Attributes did not conform to the schema: %s: Attribute does not exist in the schema.", name)
		}
		if !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxAttributeValue || strings.ContainsRune(v, 0) {
			return invalidParameter("Attribute %s must be valid UTF-8 of at most %d characters, without NUL.", name, maxAttributeValue)
		}
		if err := validateAttributeValue(name, v); err != nil {
			return err
		}
	}
	return nil
}

// validateAttributeValue checks the attributes that have a format.
func validateAttributeValue(name, v string) error {
	switch name {
	case "email":
		if !validEmail(v) {
			return invalidParameter("Invalid email address format.")
		}
	case "phone_number":
		if !phonePattern.MatchString(v) {
			return invalidParameter("Invalid phone number format.")
		}
	case "email_verified", "phone_number_verified":
		if v != "true" && v != "false" {
			return invalidParameter("%s must be true or false.", name)
		}
	}
	return nil
}

// validEmail is a loose check: one @ with text on both sides, no spaces.
func validEmail(v string) bool {
	local, domain, ok := strings.Cut(v, "@")
	return ok && local != "" && domain != "" && !strings.Contains(domain, "@") && !hasSpace(v)
}

// validateUsername checks a username: 1 to 128 characters, no whitespace
// or control characters.
func validateUsername(name string) error {
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxUsernameLength || hasSpace(name) {
		return invalidParameter("Username must be 1 to %d characters without whitespace.", maxUsernameLength)
	}
	return nil
}

// publicUser returns a copy of u to hand out: no password hash, and the
// sub among the attributes, as Cognito lists it.
func publicUser(u *behalf.PoolUser) *behalf.PoolUser {
	c := *u
	c.PasswordHash, c.SRPVerifier = "", nil
	c.SoftwareToken, c.PendingSoftwareToken = nil, nil
	c.Attributes = maps.Clone(u.Attributes)
	if c.Attributes == nil {
		c.Attributes = map[string]string{}
	}
	c.Attributes["sub"] = u.Sub
	return &c
}
