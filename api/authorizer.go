package api

import "github.com/behalf-dev/behalf"

// The JWT authorizer of runtimes and gateways, on the wire
// (authorizerConfiguration.customJWTAuthorizer), both ways.

// jwtAuthorizerIn converts a customJWTAuthorizer.
func jwtAuthorizerIn(j *customJWTAuthorizer) (*behalf.JWTAuthorizer, error) {
	authz := &behalf.JWTAuthorizer{
		DiscoveryURL:    j.DiscoveryURL,
		AllowedClients:  j.AllowedClients,
		AllowedAudience: j.AllowedAudience,
		AllowedScopes:   j.AllowedScopes,
	}
	for _, c := range j.CustomClaims {
		rule := behalf.ClaimRule{
			Name:      c.InboundTokenClaimName,
			ValueType: c.InboundTokenClaimValueType,
			Operator:  c.AuthorizingClaimMatchValue.ClaimMatchOperator,
		}
		v := c.AuthorizingClaimMatchValue.ClaimMatchValue
		if (v.MatchValueString != nil) == (v.MatchValueStringList != nil) {
			return nil, behalf.Invalid("authorizerConfiguration.customJWTAuthorizer.customClaims",
				"Claim %q: claimMatchValue must hold exactly one of matchValueString and matchValueStringList.", rule.Name)
		}
		if v.MatchValueString != nil {
			rule.Value = *v.MatchValueString
		} else {
			rule.Values = v.MatchValueStringList
		}
		authz.CustomClaims = append(authz.CustomClaims, rule)
	}
	return authz, nil
}

// jwtAuthorizerOut is the wire form of an authorizer.
func jwtAuthorizerOut(a *behalf.JWTAuthorizer) *authorizerConfiguration {
	if a == nil {
		return nil
	}
	j := &customJWTAuthorizer{DiscoveryURL: a.DiscoveryURL, AllowedAudience: a.AllowedAudience,
		AllowedClients: a.AllowedClients, AllowedScopes: a.AllowedScopes}
	for _, c := range a.CustomClaims {
		var cc customClaim
		cc.InboundTokenClaimName = c.Name
		cc.InboundTokenClaimValueType = c.ValueType
		cc.AuthorizingClaimMatchValue.ClaimMatchOperator = c.Operator
		if c.Values != nil {
			cc.AuthorizingClaimMatchValue.ClaimMatchValue.MatchValueStringList = c.Values
		} else {
			v := c.Value
			cc.AuthorizingClaimMatchValue.ClaimMatchValue.MatchValueString = &v
		}
		j.CustomClaims = append(j.CustomClaims, cc)
	}
	return &authorizerConfiguration{CustomJWTAuthorizer: j}
}
