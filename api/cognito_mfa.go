package api

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/behalf-dev/behalf"
)

// TOTP MFA: the pool's MFA configuration, software tokens and users' MFA
// preferences. Behalf serves software tokens only: SMS, email and WebAuthn
// settings that would turn a factor on are InvalidParameterException,
// never silently ignored.

// msgOnlySoftwareTokens refuses the other factors.
const msgOnlySoftwareTokens = "Behalf serves only software token (TOTP) MFA: %s is not supported."

// mfaConfigurationOut is a pool's MfaConfiguration, "" read as OFF.
func mfaConfigurationOut(v string) string {
	if v == "" {
		return behalf.MFAOff
	}
	return v
}

// mfaSettingsOut is GetUser's and AdminGetUser's PreferredMfaSetting and
// UserMFASettingList (the enabled factors).
func mfaSettingsOut(u *behalf.PoolUser) (string, []string) {
	if !u.SoftwareTokenMFAEnabled {
		return "", nil
	}
	return u.PreferredMFA, []string{behalf.ChallengeSoftwareTokenMFA}
}

// configured reports whether a settings object sets anything: absent,
// null and {} do not.
func configured(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return false
	}
	var m map[string]json.RawMessage
	return json.Unmarshal(t, &m) != nil || len(m) > 0
}

// softwareTokenConfigWire is SoftwareTokenMfaConfigType.
type softwareTokenConfigWire struct {
	Enabled bool `json:"Enabled"`
}

// mfaConfigOut is the output of SetUserPoolMfaConfig and GetUserPoolMfaConfig.
type mfaConfigOut struct {
	MfaConfiguration              string                  `json:"MfaConfiguration"`
	SoftwareTokenMfaConfiguration softwareTokenConfigWire `json:"SoftwareTokenMfaConfiguration"`
}

func mfaConfigWire(c *behalf.PoolMFAConfig) mfaConfigOut {
	out := mfaConfigOut{MfaConfiguration: mfaConfigurationOut(c.MFAConfiguration)}
	if c.SoftwareTokenMFA != nil {
		out.SoftwareTokenMfaConfiguration.Enabled = *c.SoftwareTokenMFA
	}
	return out
}

func (s *Server) cognitoSetUserPoolMfaConfig(ctx context.Context, body []byte) (any, error) {
	var in struct {
		UserPoolID                    string                   `json:"UserPoolId"`
		MfaConfiguration              string                   `json:"MfaConfiguration"`
		SoftwareTokenMfaConfiguration *softwareTokenConfigWire `json:"SoftwareTokenMfaConfiguration"`
		SmsMfaConfiguration           json.RawMessage          `json:"SmsMfaConfiguration"`
		EmailMfaConfiguration         json.RawMessage          `json:"EmailMfaConfiguration"`
		WebAuthnConfiguration         json.RawMessage          `json:"WebAuthnConfiguration"`
	}
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID); err != nil {
		return nil, err
	}
	for _, o := range []struct {
		name string
		raw  json.RawMessage
	}{{"SmsMfaConfiguration", in.SmsMfaConfiguration}, {"EmailMfaConfiguration", in.EmailMfaConfiguration}, {"WebAuthnConfiguration", in.WebAuthnConfiguration}} {
		if configured(o.raw) {
			return nil, behalf.CognitoErrorf(behalf.CognitoInvalidParameter, msgOnlySoftwareTokens, o.name)
		}
	}
	cfg := behalf.PoolMFAConfig{PoolID: in.UserPoolID, MFAConfiguration: in.MfaConfiguration}
	if in.SoftwareTokenMfaConfiguration != nil {
		cfg.SoftwareTokenMFA = &in.SoftwareTokenMfaConfiguration.Enabled
	}
	out, err := s.UserPools.SetUserPoolMfaConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return mfaConfigWire(out), nil
}

func (s *Server) cognitoGetUserPoolMfaConfig(ctx context.Context, body []byte) (any, error) {
	var in poolIDIn
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID); err != nil {
		return nil, err
	}
	out, err := s.UserPools.GetUserPoolMfaConfig(ctx, in.UserPoolID)
	if err != nil {
		return nil, err
	}
	return mfaConfigWire(out), nil
}

func (s *Server) cognitoAssociateSoftwareToken(ctx context.Context, body []byte) (any, error) {
	var in struct {
		AccessToken behalf.Secret `json:"AccessToken"`
		Session     behalf.Secret `json:"Session"`
	}
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	secret, session, err := s.UserPools.AssociateSoftwareToken(ctx, in.AccessToken, in.Session)
	if err != nil {
		return nil, err
	}
	return struct {
		SecretCode string `json:"SecretCode"`
		Session    string `json:"Session,omitempty"`
	}{secret.Reveal(), session.Reveal()}, nil
}

func (s *Server) cognitoVerifySoftwareToken(ctx context.Context, body []byte) (any, error) {
	var in struct {
		AccessToken        behalf.Secret `json:"AccessToken"`
		Session            behalf.Secret `json:"Session"`
		UserCode           behalf.Secret `json:"UserCode"`
		FriendlyDeviceName string        `json:"FriendlyDeviceName"`
	}
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserCode", in.UserCode.Reveal()); err != nil {
		return nil, err
	}
	session, err := s.UserPools.VerifySoftwareToken(ctx, in.AccessToken, in.Session, in.UserCode, in.FriendlyDeviceName)
	if err != nil {
		return nil, err
	}
	return struct {
		Status  string `json:"Status"`
		Session string `json:"Session,omitempty"`
	}{"SUCCESS", session.Reveal()}, nil
}

// mfaSettingsWire is SMSMfaSettingsType, SoftwareTokenMfaSettingsType and
// EmailMfaSettingsType.
type mfaSettingsWire struct {
	Enabled      bool `json:"Enabled"`
	PreferredMfa bool `json:"PreferredMfa"`
}

// mfaPreferenceIn holds SetUserMFAPreference and AdminSetUserMFAPreference.
type mfaPreferenceIn struct {
	AccessToken              behalf.Secret    `json:"AccessToken"`
	UserPoolID               string           `json:"UserPoolId"`
	Username                 string           `json:"Username"`
	SoftwareTokenMfaSettings *mfaSettingsWire `json:"SoftwareTokenMfaSettings"`
	SMSMfaSettings           *mfaSettingsWire `json:"SMSMfaSettings"`
	EmailMfaSettings         *mfaSettingsWire `json:"EmailMfaSettings"`
	WebAuthnMfaSettings      *struct {
		Enabled bool `json:"Enabled"`
	} `json:"WebAuthnMfaSettings"`
}

func (in *mfaPreferenceIn) preference() (behalf.MFAPreference, error) {
	if in.WebAuthnMfaSettings != nil && in.WebAuthnMfaSettings.Enabled {
		return behalf.MFAPreference{}, behalf.CognitoErrorf(behalf.CognitoInvalidParameter, msgOnlySoftwareTokens, "WebAuthn")
	}
	conv := func(w *mfaSettingsWire) *behalf.MFASetting {
		if w == nil {
			return nil
		}
		return &behalf.MFASetting{Enabled: w.Enabled, Preferred: w.PreferredMfa}
	}
	return behalf.MFAPreference{SoftwareToken: conv(in.SoftwareTokenMfaSettings), SMS: conv(in.SMSMfaSettings), Email: conv(in.EmailMfaSettings)}, nil
}

func (s *Server) cognitoSetUserMFAPreference(ctx context.Context, body []byte) (any, error) {
	var in mfaPreferenceIn
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("AccessToken", in.AccessToken.Reveal()); err != nil {
		return nil, err
	}
	pref, err := in.preference()
	if err != nil {
		return nil, err
	}
	return nil, s.UserPools.SetUserMFAPreference(ctx, in.AccessToken, pref)
}

func (s *Server) cognitoAdminSetUserMFAPreference(ctx context.Context, body []byte) (any, error) {
	var in mfaPreferenceIn
	if err := decodeCognito(body, &in); err != nil {
		return nil, err
	}
	if err := requireMembers("UserPoolId", in.UserPoolID, "Username", in.Username); err != nil {
		return nil, err
	}
	pref, err := in.preference()
	if err != nil {
		return nil, err
	}
	return nil, s.UserPools.AdminSetUserMFAPreference(ctx, in.UserPoolID, in.Username, pref)
}
