package userpool

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/behalf-dev/behalf"
)

// TOTP MFA (totp.go has the codes and secrets).
//
// When MFA applies. After the password (USER_PASSWORD_AUTH,
// ADMIN_USER_PASSWORD_AUTH, USER_SRP_AUTH's PASSWORD_VERIFIER, a new
// password for NEW_PASSWORD_REQUIRED, the hosted login), a user of a pool
// whose MfaConfiguration is ON gets SOFTWARE_TOKEN_MFA if it has a
// verified software token, else MFA_SETUP; in an OPTIONAL pool, a user
// who enabled its token (SetUserMFAPreference) gets SOFTWARE_TOKEN_MFA;
// everyone else gets tokens.
//
// Sessions. A challenge's Session is the base64url of a sealed record
// (sessionData with a random id) under SealContext{"pool-auth-session",
// "mfa", "session"}: AssociateSoftwareToken and VerifySoftwareToken carry
// no client id, so the client is inside the record and checked at each
// step. It expires after Service.SessionValidity (3 minutes), and is
// spent (UsePoolNonce "mfa:"+id, on every replica) by the answer that
// signs in: a session signs in once. Wrong codes may be retried within
// the session's life, each counted as a failed sign-in on the user's
// lockout record (lockout.go), which the password step leaves standing
// while MFA is pending: only a correct code clears it, so proving the
// password again does not buy more guesses.
//
// MFA_SETUP: AssociateSoftwareToken(Session) stores a new secret as the
// user's pending token and returns it with a new session;
// VerifySoftwareToken(Session, code) checks the code against the pending
// secret, makes it the user's software token (enabled and preferred), and
// returns the session that answers MFA_SETUP. Signed in
// (AssociateSoftwareToken/VerifySoftwareToken with an access token), the
// verified token replaces the old one on verification and is not enabled
// until SetUserMFAPreference enables it (the user of an ON pool is asked
// for it all the same).
const (
	paramMFACode      = "SOFTWARE_TOKEN_MFA_CODE"
	paramMFAsCanSetup = "MFAS_CAN_SETUP"
	mfaSessionKey     = "mfa"
	msgMFAMismatch    = "Invalid code received for user"
	msgEnableMismatch = "Code mismatch and fail enable Software Token MFA"
	msgSessionUsed    = "Invalid session for the user, session can only be used once."
	msgNoSoftwareMFA  = "Software Token MFA has not been enabled by the userPool."
	msgOnlyTOTP       = "Behalf serves only software token (TOTP) MFA: SMS and email MFA cannot be enabled."
)

// mfaChallenge is the MFA challenge u must answer after its password in
// pool: "", SOFTWARE_TOKEN_MFA or MFA_SETUP.
func mfaChallenge(pool *behalf.UserPool, u *behalf.PoolUser) string {
	hasToken := len(u.SoftwareToken) > 0
	switch pool.MFAConfiguration {
	case behalf.MFAOn:
		if hasToken {
			return behalf.ChallengeSoftwareTokenMFA
		}
		return behalf.ChallengeMFASetup
	case behalf.MFAOptional:
		if hasToken && u.SoftwareTokenMFAEnabled {
			return behalf.ChallengeSoftwareTokenMFA
		}
	}
	return ""
}

// signedIn finishes a sign-in whose password (or new password) was
// proved: the MFA challenge if one applies, else tokens.
func (s *Service) signedIn(ctx context.Context, pool *behalf.UserPool, client *behalf.AppClient, u *behalf.PoolUser, login string) (*behalf.AuthResult, error) {
	if ch := mfaChallenge(pool, u); ch != "" {
		return s.mfaChallengeResult(ctx, pool, client, u, login, ch)
	}
	tokens, err := s.issue(ctx, issueRequest{pool: pool, client: client, user: u, authTime: s.now(), newRefresh: true})
	if err != nil {
		return nil, err
	}
	return &behalf.AuthResult{Tokens: tokens}, nil
}

// mfaChallengeResult returns challenge ch with a new session.
func (s *Service) mfaChallengeResult(ctx context.Context, pool *behalf.UserPool, client *behalf.AppClient, u *behalf.PoolUser, login, ch string) (*behalf.AuthResult, error) {
	session, err := s.sealMFASession(ctx, sessionData{Pool: pool.ID, Client: client.ID, User: u.Username, Sub: u.Sub, Login: login, Challenge: ch})
	if err != nil {
		return nil, err
	}
	params := map[string]string{paramUserIDForSRP: u.Username}
	if ch == behalf.ChallengeMFASetup {
		params[paramMFAsCanSetup] = `["SOFTWARE_TOKEN_MFA"]`
	}
	return &behalf.AuthResult{ChallengeName: ch, Session: session, ChallengeParameters: params}, nil
}

// sealMFASession seals d with a new id and expiry.
func (s *Service) sealMFASession(ctx context.Context, d sessionData) (behalf.Secret, error) {
	id := make([]byte, 16)
	rand.Read(id)
	d.ID = base64.RawURLEncoding.EncodeToString(id)
	d.Expires = s.now().Add(s.sessionValidity()).Unix()
	b, err := json.Marshal(d)
	if err != nil {
		return "", internal("encode session", err)
	}
	sealed, err := s.Sealer.Seal(ctx, sessionContext(mfaSessionKey), b)
	if err != nil {
		return "", internal("seal session", err)
	}
	return behalf.Secret(base64.RawURLEncoding.EncodeToString(sealed)), nil
}

// openMFASession opens an MFA session of challenge ch; any failure,
// expiry included, is the same NotAuthorizedException.
func (s *Service) openMFASession(ctx context.Context, session behalf.Secret, ch string) (*sessionData, error) {
	invalid := notAuthorized(msgSessionInvalid)
	raw := session.Reveal()
	if raw == "" || len(raw) > maxSessionLength {
		return nil, invalid
	}
	sealed, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return nil, invalid
	}
	b, err := s.Sealer.Open(ctx, sessionContext(mfaSessionKey), sealed)
	if err != nil {
		return nil, invalid
	}
	var d sessionData
	if json.Unmarshal(b, &d) != nil || d.ID == "" || d.Challenge != ch || !s.now().Before(time.Unix(d.Expires, 0)) {
		return nil, invalid
	}
	return &d, nil
}

// sessionUser returns the pool and user of an open MFA session, if the
// user is still the one (same sub) it was issued to.
func (s *Service) sessionUser(ctx context.Context, d *sessionData) (*behalf.UserPool, *behalf.PoolUser, error) {
	pool, err := s.getPool(ctx, d.Pool)
	if err != nil {
		return nil, nil, notAuthorized(msgSessionInvalid)
	}
	u, err := s.Store.GetPoolUser(ctx, pool.ID, d.User)
	if isNotFound(err) || (err == nil && u.Sub != d.Sub) {
		return nil, nil, notAuthorized(msgSessionInvalid)
	}
	if err != nil {
		return nil, nil, internal("get user", err)
	}
	return pool, u, nil
}

// respondMFA answers SOFTWARE_TOKEN_MFA (USERNAME, SOFTWARE_TOKEN_MFA_CODE)
// and MFA_SETUP (USERNAME, with the session VerifySoftwareToken returned).
func (s *Service) respondMFA(ctx context.Context, pool *behalf.UserPool, client *behalf.AppClient, ch string, session behalf.Secret, responses map[string]behalf.Secret) (*behalf.AuthResult, error) {
	d, err := s.openMFASession(ctx, session, ch)
	if err != nil {
		return nil, err
	}
	if d.Client != client.ID || d.Pool != pool.ID {
		return nil, notAuthorized(msgSessionInvalid)
	}
	username := responses[paramUsername].Reveal()
	if username == "" {
		return nil, invalidParameter("Missing required parameter USERNAME")
	}
	if username != d.User && username != d.Login && username != d.Sub {
		return nil, notAuthorized(msgSessionInvalid)
	}
	if err := s.checkSecretHash(ctx, client, responses[paramSecretHash], username); err != nil {
		return nil, err
	}
	code := responses[paramMFACode].Reveal()
	if ch == behalf.ChallengeSoftwareTokenMFA && code == "" {
		return nil, invalidParameter("Missing required parameter %s", paramMFACode)
	}
	_, u, err := s.sessionUser(ctx, d)
	if err != nil {
		return nil, err
	}
	switch ch {
	case behalf.ChallengeSoftwareTokenMFA:
		if err := s.checkCode(ctx, pool, u, code); err != nil {
			return nil, err
		}
	case behalf.ChallengeMFASetup:
		if !d.Verified || len(u.SoftwareToken) == 0 {
			return nil, invalidParameter("Verify a software token first: AssociateSoftwareToken and VerifySoftwareToken with this challenge's Session.")
		}
	}
	err = s.Store.UsePoolNonce(ctx, pool.ID, "mfa:"+d.ID, time.Unix(d.Expires, 0))
	if isConflict(err) || isNotFound(err) {
		return nil, notAuthorized(msgSessionUsed)
	}
	if err != nil {
		return nil, internal("spend session", err)
	}
	if err := s.resetLockout(ctx, pool.ID, u.Username); err != nil {
		return nil, err
	}
	if err := checkUsable(pool, u, s.now()); err != nil {
		return nil, err
	}
	if u.Status != behalf.UserConfirmed {
		return nil, statusError(u.Status)
	}
	tokens, err := s.issue(ctx, issueRequest{pool: pool, client: client, user: u, authTime: s.now(), newRefresh: true})
	if err != nil {
		return nil, err
	}
	return &behalf.AuthResult{Tokens: tokens}, nil
}

// checkCode checks a code of u's software token, with lockout: a locked
// user is refused unchecked, and a wrong, malformed or spent code counts a
// failure. A right code spends its step (UsePoolUserTOTPStep); it does not
// clear the lockout record (the caller does, once the sign-in succeeds).
func (s *Service) checkCode(ctx context.Context, pool *behalf.UserPool, u *behalf.PoolUser, code string) error {
	now, key := s.now(), lockoutKey(pool.ID, u.Username)
	l, err := s.lockout(ctx, pool.ID, key)
	if err != nil {
		return err
	}
	if locked(l, now) {
		return notAuthorized(msgAttemptsExceeded)
	}
	mismatch := func() error {
		if err := s.recordFailure(ctx, pool.ID, key, now); err != nil {
			return err
		}
		return cognito(behalf.CognitoCodeMismatch, msgMFAMismatch)
	}
	if len(u.SoftwareToken) == 0 || !wellFormedCode(code) {
		return mismatch()
	}
	secret, err := s.openTOTP(ctx, u, totpField, u.SoftwareToken)
	if err != nil {
		return err
	}
	step, ok := matchTOTP(secret, code, now, u.TOTPLastStep)
	if !ok {
		return mismatch()
	}
	err = s.Store.UsePoolUserTOTPStep(ctx, pool.ID, u.Username, step)
	if isConflict(err) {
		return mismatch()
	}
	if isNotFound(err) {
		return notAuthorized(msgSessionInvalid)
	}
	if err != nil {
		return internal("spend TOTP step", err)
	}
	return nil
}

// mfaTarget resolves the user of AssociateSoftwareToken and
// VerifySoftwareToken: the access token's, or the MFA_SETUP session's
// (d, not yet verified).
func (s *Service) mfaTarget(ctx context.Context, accessToken, session behalf.Secret) (*behalf.UserPool, *behalf.PoolUser, *sessionData, error) {
	switch {
	case accessToken.IsZero() == session.IsZero():
		return nil, nil, nil, invalidParameter("Give either AccessToken or Session, not both.")
	case !accessToken.IsZero():
		c, pool, err := s.userToken(ctx, accessToken)
		if err != nil {
			return nil, nil, nil, err
		}
		u, err := s.Store.GetPoolUser(ctx, pool.ID, c.Username)
		if isNotFound(err) {
			return nil, nil, nil, notAuthorized(msgAccessInvalid)
		}
		if err != nil {
			return nil, nil, nil, internal("get user", err)
		}
		return pool, u, nil, nil
	}
	d, err := s.openMFASession(ctx, session, behalf.ChallengeMFASetup)
	if err != nil {
		return nil, nil, nil, err
	}
	if d.Verified {
		return nil, nil, nil, notAuthorized(msgSessionInvalid)
	}
	pool, u, err := s.sessionUser(ctx, d)
	if err != nil {
		return nil, nil, nil, err
	}
	return pool, u, d, nil
}

// AssociateSoftwareToken gives the user of an access token, or of an
// MFA_SETUP session, a new pending TOTP secret and returns it (base32),
// with a new session when it was given one. The user's verified token,
// if any, stays until the new one is verified.
func (s *Service) AssociateSoftwareToken(ctx context.Context, accessToken, session behalf.Secret) (behalf.Secret, behalf.Secret, error) {
	pool, u, d, err := s.mfaTarget(ctx, accessToken, session)
	if err != nil {
		return "", "", err
	}
	secret, _, err := s.associate(ctx, pool, u)
	if err != nil {
		return "", "", err
	}
	if d == nil {
		return secret, "", nil
	}
	next, err := s.sealMFASession(ctx, *d)
	if err != nil {
		return "", "", err
	}
	return secret, next, nil
}

// associate stores a new pending secret for u and returns it with its
// otpauth:// URI.
func (s *Service) associate(ctx context.Context, pool *behalf.UserPool, u *behalf.PoolUser) (behalf.Secret, string, error) {
	if !pool.SoftwareTokenMFA {
		return "", "", cognito(behalf.CognitoSoftwareTokenMFANotFound, msgNoSoftwareMFA)
	}
	account := u.Username
	if a := aliasOf(pool, u); a != "" {
		account = a
	}
	key, err := newTOTPKey(pool.Name, account)
	if err != nil {
		return "", "", internal("generate TOTP secret", err)
	}
	sealed, err := s.sealTOTP(ctx, pool.ID, u.Username, totpPending, key.Secret())
	if err != nil {
		return "", "", err
	}
	sub := u.Sub
	if _, err := s.updateUser(ctx, pool.ID, u.Username, func(u *behalf.PoolUser) error {
		if u.Sub != sub {
			return notAuthorized(msgSessionInvalid)
		}
		u.PendingSoftwareToken = sealed
		return nil
	}); err != nil {
		return "", "", err
	}
	return behalf.Secret(key.Secret()), key.URL(), nil
}

// aliasOf is the sign-in attribute a user of an alias pool signs in with.
func aliasOf(pool *behalf.UserPool, u *behalf.PoolUser) string {
	for _, a := range pool.UsernameAttributes {
		if v := u.Attributes[a]; v != "" {
			return v
		}
	}
	return ""
}

// VerifySoftwareToken checks a code of the user's pending secret and makes
// it the user's software token; with an MFA_SETUP session, enabled and
// preferred, and the returned session answers MFA_SETUP. A wrong code is
// EnableSoftwareTokenMFAException (as Cognito answers) and counts a
// failed sign-in.
func (s *Service) VerifySoftwareToken(ctx context.Context, accessToken, session, code behalf.Secret, friendlyName string) (behalf.Secret, error) {
	if !wellFormedCode(code.Reveal()) {
		return "", invalidParameter("1 validation error detected: Value at 'userCode' failed to satisfy constraint: Member must be %d digits [0-9].", totpDigits.Length())
	}
	if len(friendlyName) > 131072 {
		return "", invalidParameter("FriendlyDeviceName is too long.")
	}
	pool, u, d, err := s.mfaTarget(ctx, accessToken, session)
	if err != nil {
		return "", err
	}
	if err := s.verifyPending(ctx, pool, u, code.Reveal(), d != nil); err != nil {
		return "", err
	}
	if d == nil {
		return "", nil
	}
	d.Verified = true
	return s.sealMFASession(ctx, *d)
}

// verifyPending checks code against u's pending secret (with lockout) and
// makes it u's software token, its step spent; setup also enables and
// prefers it.
func (s *Service) verifyPending(ctx context.Context, pool *behalf.UserPool, u *behalf.PoolUser, code string, setup bool) error {
	if !pool.SoftwareTokenMFA {
		return cognito(behalf.CognitoSoftwareTokenMFANotFound, msgNoSoftwareMFA)
	}
	if len(u.PendingSoftwareToken) == 0 {
		return cognito(behalf.CognitoSoftwareTokenMFANotFound, "No software token is associated with the user: call AssociateSoftwareToken first.")
	}
	now, key := s.now(), lockoutKey(pool.ID, u.Username)
	l, err := s.lockout(ctx, pool.ID, key)
	if err != nil {
		return err
	}
	if locked(l, now) {
		return notAuthorized(msgAttemptsExceeded)
	}
	mismatch := func() error {
		if err := s.recordFailure(ctx, pool.ID, key, now); err != nil {
			return err
		}
		return cognito(behalf.CognitoEnableSoftwareTokenMFA, msgEnableMismatch)
	}
	secret, err := s.openTOTP(ctx, u, totpPending, u.PendingSoftwareToken)
	if err != nil {
		return err
	}
	step, ok := matchTOTP(secret, code, now, 0)
	if !ok {
		return mismatch()
	}
	active, err := s.sealTOTP(ctx, pool.ID, u.Username, totpField, secret)
	if err != nil {
		return err
	}
	pending, sub := u.PendingSoftwareToken, u.Sub
	_, err = s.updateUser(ctx, pool.ID, u.Username, func(u *behalf.PoolUser) error {
		// A concurrent verification, or a newer association, won.
		if u.Sub != sub || !bytes.Equal(u.PendingSoftwareToken, pending) {
			return cognito(behalf.CognitoEnableSoftwareTokenMFA, msgEnableMismatch)
		}
		u.SoftwareToken, u.PendingSoftwareToken = active, nil
		u.TOTPLastStep = max(u.TOTPLastStep, step)
		if setup {
			u.SoftwareTokenMFAEnabled, u.PreferredMFA = true, behalf.ChallengeSoftwareTokenMFA
		}
		return nil
	})
	return err
}

// SetUserMFAPreference sets the MFA preference of an access token's user.
func (s *Service) SetUserMFAPreference(ctx context.Context, accessToken behalf.Secret, pref behalf.MFAPreference) error {
	c, pool, err := s.userToken(ctx, accessToken)
	if err != nil {
		return err
	}
	return s.setMFAPreference(ctx, pool, c.Username, pref)
}

// AdminSetUserMFAPreference sets a user's MFA preference.
func (s *Service) AdminSetUserMFAPreference(ctx context.Context, poolID, username string, pref behalf.MFAPreference) error {
	pool, u, err := s.adminUser(ctx, poolID, username)
	if err != nil {
		return err
	}
	return s.setMFAPreference(ctx, pool, u.Username, pref)
}

// setMFAPreference applies pref: SMS and email may only be turned off; the
// software token may be enabled (and preferred) once verified.
func (s *Service) setMFAPreference(ctx context.Context, pool *behalf.UserPool, username string, pref behalf.MFAPreference) error {
	for _, o := range []*behalf.MFASetting{pref.SMS, pref.Email} {
		if o != nil && (o.Enabled || o.Preferred) {
			return invalidParameter(msgOnlyTOTP)
		}
	}
	st := pref.SoftwareToken
	if st == nil {
		return nil
	}
	if st.Preferred && !st.Enabled {
		return invalidParameter("A disabled MFA factor cannot be preferred: set SoftwareTokenMfaSettings.Enabled too.")
	}
	_, err := s.updateUser(ctx, pool.ID, username, func(u *behalf.PoolUser) error {
		if st.Enabled && len(u.SoftwareToken) == 0 {
			return invalidParameter("User has not verified software token mfa")
		}
		u.SoftwareTokenMFAEnabled = st.Enabled
		u.PreferredMFA = ""
		if st.Preferred {
			u.PreferredMFA = behalf.ChallengeSoftwareTokenMFA
		}
		return nil
	})
	return err
}

// SetUserPoolMfaConfig sets a pool's MFA configuration. ON and OPTIONAL
// need the software token factor, the only one Behalf serves.
func (s *Service) SetUserPoolMfaConfig(ctx context.Context, in behalf.PoolMFAConfig) (*behalf.PoolMFAConfig, error) {
	if _, err := s.getPool(ctx, in.PoolID); err != nil {
		return nil, err
	}
	switch in.MFAConfiguration {
	case "", behalf.MFAOff, behalf.MFAOptional, behalf.MFAOn:
	default:
		return nil, invalidParameter("1 validation error detected: Value '%s' at 'mfaConfiguration' failed to satisfy constraint: Member must satisfy enum value set: [OFF, ON, OPTIONAL]", in.MFAConfiguration)
	}
	p, err := s.Store.UpdateUserPool(ctx, in.PoolID, func(p *behalf.UserPool) error {
		if in.MFAConfiguration != "" {
			p.MFAConfiguration = in.MFAConfiguration
		}
		if in.SoftwareTokenMFA != nil {
			p.SoftwareTokenMFA = *in.SoftwareTokenMFA
		}
		if err := checkMFAConfig(p); err != nil {
			return err
		}
		p.UpdatedAt = s.now()
		return nil
	})
	if isNotFound(err) {
		return nil, poolNotFound(in.PoolID)
	}
	if err != nil {
		var ce *behalf.CognitoError
		if asCognito(err, &ce) {
			return nil, err
		}
		return nil, internal("update pool", err)
	}
	return mfaConfigOf(p), nil
}

// checkMFAConfig refuses MFA without a factor.
func checkMFAConfig(p *behalf.UserPool) error {
	if (p.MFAConfiguration == behalf.MFAOn || p.MFAConfiguration == behalf.MFAOptional) && !p.SoftwareTokenMFA {
		return invalidParameter("Invalid MFA configuration given: MfaConfiguration %s needs SoftwareTokenMfaConfiguration enabled (Behalf serves software token MFA only).", p.MFAConfiguration)
	}
	return nil
}

// GetUserPoolMfaConfig returns a pool's MFA configuration.
func (s *Service) GetUserPoolMfaConfig(ctx context.Context, poolID string) (*behalf.PoolMFAConfig, error) {
	p, err := s.getPool(ctx, poolID)
	if err != nil {
		return nil, err
	}
	return mfaConfigOf(p), nil
}

// mfaConfigOf is a pool's MFA configuration, "" read as OFF.
func mfaConfigOf(p *behalf.UserPool) *behalf.PoolMFAConfig {
	mfa, on := p.MFAConfiguration, p.SoftwareTokenMFA
	if mfa == "" {
		mfa = behalf.MFAOff
	}
	return &behalf.PoolMFAConfig{PoolID: p.ID, MFAConfiguration: mfa, SoftwareTokenMFA: &on}
}

// loginUser reads a user of the hosted login by username.
func (s *Service) loginUser(ctx context.Context, poolID, username string) (*behalf.UserPool, *behalf.PoolUser, error) {
	pool, err := s.getPool(ctx, poolID)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.Store.GetPoolUser(ctx, pool.ID, username)
	if isNotFound(err) {
		return nil, nil, userNotFound()
	}
	if err != nil {
		return nil, nil, internal("get user", err)
	}
	return pool, u, nil
}

// LoginMFA returns the MFA step the hosted login must ask of a user who
// proved its password: "", SOFTWARE_TOKEN_MFA or MFA_SETUP.
func (s *Service) LoginMFA(ctx context.Context, poolID, username string) (string, error) {
	pool, u, err := s.loginUser(ctx, poolID, username)
	if err != nil {
		return "", err
	}
	return mfaChallenge(pool, u), nil
}

// CheckLoginCode checks a hosted login's TOTP code, as SOFTWARE_TOKEN_MFA
// does, and clears the user's lockout record when it is right.
func (s *Service) CheckLoginCode(ctx context.Context, poolID, username string, code behalf.Secret) error {
	pool, u, err := s.loginUser(ctx, poolID, username)
	if err != nil {
		return err
	}
	if err := s.checkCode(ctx, pool, u, code.Reveal()); err != nil {
		return err
	}
	return s.resetLockout(ctx, pool.ID, u.Username)
}

// BeginLoginTOTPSetup associates a new secret with a user the hosted
// login must have set up MFA, and returns it with its otpauth:// URI.
func (s *Service) BeginLoginTOTPSetup(ctx context.Context, poolID, username string) (behalf.Secret, string, error) {
	pool, u, err := s.loginUser(ctx, poolID, username)
	if err != nil {
		return "", "", err
	}
	return s.associate(ctx, pool, u)
}

// CompleteLoginTOTPSetup verifies a code of the secret
// BeginLoginTOTPSetup gave, as VerifySoftwareToken does in MFA_SETUP,
// and clears the user's lockout record.
func (s *Service) CompleteLoginTOTPSetup(ctx context.Context, poolID, username string, code behalf.Secret) error {
	pool, u, err := s.loginUser(ctx, poolID, username)
	if err != nil {
		return err
	}
	if err := s.verifyPending(ctx, pool, u, code.Reveal(), true); err != nil {
		return err
	}
	return s.resetLockout(ctx, pool.ID, u.Username)
}
