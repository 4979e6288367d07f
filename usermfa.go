package behalf

import "context"

// MFA configurations of a user pool (UserPoolMfaType).
const (
	MFAOff      = "OFF"
	MFAOptional = "OPTIONAL"
	MFAOn       = "ON"
)

// MFA challenges and the factor name Behalf serves (TOTP software tokens
// only).
const (
	ChallengeSoftwareTokenMFA = "SOFTWARE_TOKEN_MFA"
	ChallengeMFASetup         = "MFA_SETUP"
)

// PoolMFAConfig is a pool's MFA configuration (SetUserPoolMfaConfig,
// GetUserPoolMfaConfig). On a set, "" and nil leave a setting unchanged.
type PoolMFAConfig struct {
	PoolID           string
	MFAConfiguration string // MFAOff, MFAOptional or MFAOn
	SoftwareTokenMFA *bool  // SoftwareTokenMfaConfiguration.Enabled
}

// MFASetting is one factor's part of a user's MFA preference.
type MFASetting struct {
	Enabled   bool
	Preferred bool
}

// MFAPreference is SetUserMFAPreference's settings; a nil factor is left
// unchanged. SMS and Email can only be turned off: Behalf serves software
// tokens alone.
type MFAPreference struct {
	SoftwareToken *MFASetting
	SMS           *MFASetting
	Email         *MFASetting
}

// PoolMFAStore is the store's part of TOTP MFA.
type PoolMFAStore interface {
	// UsePoolUserTOTPStep raises the user's TOTPLastStep to step in one
	// atomic statement if it is below step, so that a code is accepted
	// once across replicas: ECONFLICT if it is not below (the code's step
	// is spent), ENOTFOUND if there is no such user.
	UsePoolUserTOTPStep(ctx context.Context, poolID, username string, step int64) error
}

// PoolMFAService is TOTP MFA: the pool's configuration, software tokens
// and preferences (the wire operations), and what the hosted login needs
// to ask for a code after the password. Wrong codes count toward the
// sign-in lockout.
type PoolMFAService interface {
	// SetUserPoolMfaConfig sets and returns the pool's MFA configuration;
	// ON and OPTIONAL need the software token factor enabled.
	SetUserPoolMfaConfig(ctx context.Context, in PoolMFAConfig) (*PoolMFAConfig, error)
	// GetUserPoolMfaConfig returns it.
	GetUserPoolMfaConfig(ctx context.Context, poolID string) (*PoolMFAConfig, error)
	// AssociateSoftwareToken makes a new TOTP secret for the user of an
	// access token, or of an MFA_SETUP session (then a new session is
	// returned too), and returns it (base32) this once.
	AssociateSoftwareToken(ctx context.Context, accessToken, session Secret) (secretCode, newSession Secret, err error)
	// VerifySoftwareToken checks a code of the associated secret and makes
	// it the user's software token; with a session it returns the session
	// that answers MFA_SETUP.
	VerifySoftwareToken(ctx context.Context, accessToken, session, code Secret, friendlyName string) (newSession Secret, err error)
	// SetUserMFAPreference sets the MFA preference of an access token's user.
	SetUserMFAPreference(ctx context.Context, accessToken Secret, pref MFAPreference) error
	// AdminSetUserMFAPreference sets a user's MFA preference.
	AdminSetUserMFAPreference(ctx context.Context, poolID, username string, pref MFAPreference) error

	// LoginMFA returns the MFA step a user who proved the password must
	// pass before tokens: "", ChallengeSoftwareTokenMFA or ChallengeMFASetup.
	LoginMFA(ctx context.Context, poolID, username string) (string, error)
	// CheckLoginCode checks a TOTP code of a user's software token
	// (CodeMismatchException), spending its step.
	CheckLoginCode(ctx context.Context, poolID, username string, code Secret) error
	// BeginLoginTOTPSetup associates a new secret with a user who must set
	// up MFA and returns it with its otpauth:// URI.
	BeginLoginTOTPSetup(ctx context.Context, poolID, username string) (secret Secret, uri string, err error)
	// CompleteLoginTOTPSetup verifies a code of that secret and makes it
	// the user's enabled, preferred software token.
	CompleteLoginTOTPSetup(ctx context.Context, poolID, username string, code Secret) error
}
