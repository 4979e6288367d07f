package api

import (
	"context"

	"github.com/behalf-dev/behalf"
)

// Sign-in, challenges and the operations an access or refresh token
// authorizes. The user-pool service checks flows, SECRET_HASH, passwords
// and tokens; this file only moves them on and off the wire.

// authenticationResultWire is AuthenticationResultType.
type authenticationResultWire struct {
	AccessToken  string `json:"AccessToken"`
	ExpiresIn    int    `json:"ExpiresIn"`
	IDToken      string `json:"IdToken,omitempty"`
	RefreshToken string `json:"RefreshToken,omitempty"`
	TokenType    string `json:"TokenType"`
}

// authOutWire is the output of InitiateAuth, RespondToAuthChallenge and
// their Admin forms: tokens, or a challenge with its session.
type authOutWire struct {
	AuthenticationResult *authenticationResultWire `json:"AuthenticationResult,omitempty"`
	ChallengeName        string                    `json:"ChallengeName,omitempty"`
	ChallengeParameters  map[string]string         `json:"ChallengeParameters"`
	Session              string                    `json:"Session,omitempty"`
}

func authOut(r *behalf.AuthResult) authOutWire {
	out := authOutWire{ChallengeParameters: r.ChallengeParameters}
	if out.ChallengeParameters == nil {
		out.ChallengeParameters = map[string]string{}
	}
	if t := r.Tokens; t != nil {
		tokenType := t.TokenType
		if tokenType == "" {
			tokenType = "Bearer"
		}
		out.AuthenticationResult = &authenticationResultWire{
			AccessToken: t.AccessToken.Reveal(), ExpiresIn: t.ExpiresIn, IDToken: t.IDToken.Reveal(),
			RefreshToken: t.RefreshToken.Reveal(), TokenType: tokenType,
		}
		return out
	}
	out.ChallengeName, out.Session = r.ChallengeName, r.Session.Reveal()
	return out
}

// secrets wraps the values of an AuthParameters or ChallengeResponses map.
func secrets(m map[string]string) map[string]behalf.Secret {
	out := make(map[string]behalf.Secret, len(m))
	for k, v := range m {
		out[k] = behalf.Secret(v)
	}
	return out
}

// initiateAuthIn holds InitiateAuth and AdminInitiateAuth. ClientMetadata,
// analytics and context data are ignored.
type initiateAuthIn struct {
	UserPoolID     string            `json:"UserPoolId"`
	ClientID       string            `json:"ClientId"`
	AuthFlow       string            `json:"AuthFlow"`
	AuthParameters map[string]string `json:"AuthParameters"`
}

func (s *Server) cognitoInitiateAuth(ctx context.Context, body []byte) (any, error) {
	var in initiateAuthIn
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("AuthFlow", in.AuthFlow, "ClientId", in.ClientID); err != nil {
		return nil, err
	}
	r, err := s.UserPools.InitiateAuth(ctx, in.ClientID, in.AuthFlow, secrets(in.AuthParameters))
	if err != nil {
		return nil, err
	}
	return authOut(r), nil
}

func (s *Server) cognitoAdminInitiateAuth(ctx context.Context, body []byte) (any, error) {
	var in initiateAuthIn
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID, "ClientId", in.ClientID, "AuthFlow", in.AuthFlow); err != nil {
		return nil, err
	}
	r, err := s.UserPools.AdminInitiateAuth(ctx, in.UserPoolID, in.ClientID, in.AuthFlow, secrets(in.AuthParameters))
	if err != nil {
		return nil, err
	}
	return authOut(r), nil
}

// respondIn holds RespondToAuthChallenge and AdminRespondToAuthChallenge.
type respondIn struct {
	UserPoolID         string            `json:"UserPoolId"`
	ClientID           string            `json:"ClientId"`
	ChallengeName      string            `json:"ChallengeName"`
	Session            behalf.Secret     `json:"Session"`
	ChallengeResponses map[string]string `json:"ChallengeResponses"`
}

func (s *Server) cognitoRespondToAuthChallenge(ctx context.Context, body []byte) (any, error) {
	var in respondIn
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("ClientId", in.ClientID, "ChallengeName", in.ChallengeName); err != nil {
		return nil, err
	}
	r, err := s.UserPools.RespondToAuthChallenge(ctx, in.ClientID, in.ChallengeName, in.Session, secrets(in.ChallengeResponses))
	if err != nil {
		return nil, err
	}
	return authOut(r), nil
}

func (s *Server) cognitoAdminRespondToAuthChallenge(ctx context.Context, body []byte) (any, error) {
	var in respondIn
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID, "ClientId", in.ClientID, "ChallengeName", in.ChallengeName); err != nil {
		return nil, err
	}
	r, err := s.UserPools.AdminRespondToAuthChallenge(ctx, in.UserPoolID, in.ClientID, in.ChallengeName, in.Session, secrets(in.ChallengeResponses))
	if err != nil {
		return nil, err
	}
	return authOut(r), nil
}

type accessTokenIn struct {
	AccessToken behalf.Secret `json:"AccessToken"`
}

func (in *accessTokenIn) decode(body []byte) error {
	if err := decodeCognito(body, in); err != nil {
		return err
	}
	return requireMembers("AccessToken", in.AccessToken.Reveal())
}

func (s *Server) cognitoGetUser(ctx context.Context, body []byte) (any, error) {
	var in accessTokenIn
	if err := in.decode(body); err != nil {
		return nil, err
	}
	u, err := s.UserPools.GetUser(ctx, in.AccessToken)
	if err != nil {
		return nil, err
	}
	pref, list := mfaSettingsOut(u)
	return struct {
		Username            string          `json:"Username"`
		UserAttributes      []attributeWire `json:"UserAttributes"`
		PreferredMfaSetting string          `json:"PreferredMfaSetting,omitempty"`
		UserMFASettingList  []string        `json:"UserMFASettingList,omitempty"`
	}{u.Username, attributesOut(u, nil), pref, list}, nil
}

func (s *Server) cognitoChangePassword(ctx context.Context, body []byte) (any, error) {
	var in struct {
		AccessToken      behalf.Secret `json:"AccessToken"`
		PreviousPassword behalf.Secret `json:"PreviousPassword"`
		ProposedPassword behalf.Secret `json:"ProposedPassword"`
	}
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	// PreviousPassword is optional in the model (passwordless users);
	// Behalf users always have one, and the service requires it.
	if err := requireMembers("AccessToken", in.AccessToken.Reveal(), "ProposedPassword", in.ProposedPassword.Reveal()); err != nil {
		return nil, err
	}
	return nil, s.UserPools.ChangePassword(ctx, in.AccessToken, in.PreviousPassword, in.ProposedPassword)
}

func (s *Server) cognitoGlobalSignOut(ctx context.Context, body []byte) (any, error) {
	var in accessTokenIn
	if err := in.decode(body); err != nil {
		return nil, err
	}
	return nil, s.UserPools.GlobalSignOut(ctx, in.AccessToken)
}

func (s *Server) cognitoRevokeToken(ctx context.Context, body []byte) (any, error) {
	var in struct {
		Token        behalf.Secret `json:"Token"`
		ClientID     string        `json:"ClientId"`
		ClientSecret behalf.Secret `json:"ClientSecret"`
	}
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("Token", in.Token.Reveal(), "ClientId", in.ClientID); err != nil {
		return nil, err
	}
	return nil, s.UserPools.RevokeToken(ctx, in.Token, in.ClientID, in.ClientSecret)
}

func (s *Server) cognitoGetTokensFromRefreshToken(ctx context.Context, body []byte) (any, error) {
	var in struct {
		RefreshToken behalf.Secret `json:"RefreshToken"`
		ClientID     string        `json:"ClientId"`
		ClientSecret behalf.Secret `json:"ClientSecret"`
	}
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("RefreshToken", in.RefreshToken.Reveal(), "ClientId", in.ClientID); err != nil {
		return nil, err
	}
	t, err := s.UserPools.GetTokensFromRefreshToken(ctx, in.ClientID, in.RefreshToken, in.ClientSecret)
	if err != nil {
		return nil, err
	}
	out := authOut(&behalf.AuthResult{Tokens: t})
	return struct {
		AuthenticationResult *authenticationResultWire `json:"AuthenticationResult"`
	}{out.AuthenticationResult}, nil
}
