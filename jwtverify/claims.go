package jwtverify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/behalf-dev/behalf"
)

// Claims are a verified token's claims.
type Claims struct {
	Issuer   string
	Subject  string
	Audience []string
	// ClientID is the client_id claim (Cognito access tokens), if any.
	ClientID string
	// Scope is the space-separated scope claim split into its values, or
	// the scp claim (a string or a list) when there is no scope.
	Scope    []string
	Expiry   time.Time
	IssuedAt time.Time // zero if the token has no iat
	// Raw holds every claim as decoded from JSON (numbers are float64).
	Raw map[string]any
}

// User returns the user the token identifies: its issuer and subject.
func (c Claims) User() behalf.User {
	return behalf.User{Issuer: c.Issuer, Subject: c.Subject}
}

// claimsOf builds Claims from a verified token and its payload. The
// registered claims must have RFC 7519's types: exp, nbf and iat are JSON
// numbers (NumericDate), which jwx does not insist on (it reads the string
// "9999999999", and RFC 3339 dates, as times). The payload is decoded once,
// into raw, and the types are checked there.
func claimsOf(tok jwt.Token, payload []byte) (Claims, error) {
	var raw map[string]any
	if err := json.Unmarshal(payload, &raw); err != nil {
		return Claims{}, fmt.Errorf("decode claims: %w", err)
	}
	for _, name := range []string{"exp", "nbf", "iat"} {
		if v, ok := raw[name]; ok {
			if _, number := v.(float64); !number {
				return Claims{}, fmt.Errorf("registered claims: %s must be a number (RFC 7519 NumericDate)", name)
			}
		}
	}
	c := Claims{Raw: raw}
	c.Issuer, _ = tok.Issuer()
	c.Subject, _ = tok.Subject()
	c.Audience, _ = tok.Audience()
	c.Expiry, _ = tok.Expiration()
	c.IssuedAt, _ = tok.IssuedAt()
	c.ClientID, _ = raw["client_id"].(string)
	c.Scope = scopes(raw)
	return c, nil
}

// scopes reads scope (a space-separated string) or, failing that, scp (a
// string or a list of strings).
func scopes(raw map[string]any) []string {
	if s, ok := raw["scope"].(string); ok {
		return strings.Fields(s)
	}
	switch v := raw["scp"].(type) {
	case string:
		return strings.Fields(v)
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// audienceAllowed reports whether c's audience is allowed: always when
// allowed is empty; else one of its aud values must be allowed, or, for a
// token without aud, its client_id.
func audienceAllowed(c Claims, allowed []string) bool {
	if len(allowed) == 0 {
		return true
	}
	if len(c.Audience) > 0 {
		return slices.ContainsFunc(c.Audience, func(a string) bool { return slices.Contains(allowed, a) })
	}
	return c.ClientID != "" && slices.Contains(allowed, c.ClientID)
}
