package userpool

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"maps"
	"strings"
	"time"

	"github.com/behalf-dev/behalf"
)

// Challenge sessions are stateless: the Session string is the base64url
// of a sealed JSON record (behalf.Sealer, so AES-GCM under Behalf's data
// key) bound by its SealContext to the app client. The record names the
// pool, client, user (username and sub) and challenge, expires after
// Service.SessionValidity, and carries the SHA-256 of the password hash
// the user had when challenged. Answering sets a new password, which
// changes that hash inside the same store transaction that checks it, so
// a session works once.
const (
	sessionKind        = "pool-auth-session"
	sessionField       = "session"
	attrResponsePrefix = "userAttributes."
	maxSessionLength   = 8192
)

// sessionData is the sealed content of a challenge session.
type sessionData struct {
	Pool      string `json:"p"`
	Client    string `json:"c"`
	User      string `json:"u"`
	Sub       string `json:"s"`
	Login     string `json:"l"` // the name the user signed in with
	Challenge string `json:"ch"`
	Password  string `json:"h"` // hex SHA-256 of the password hash
	Expires   int64  `json:"e"` // Unix seconds
	// MFA sessions (mfa.go) only: a random id, spent by the answer that
	// signs in, and whether VerifySoftwareToken verified a token.
	ID       string `json:"i,omitempty"`
	Verified bool   `json:"v,omitempty"`
}

// sessionContext binds a session to its client.
func sessionContext(clientID string) behalf.SealContext {
	return behalf.SealContext{Kind: sessionKind, Key: clientID, Field: sessionField}
}

// passwordFingerprint is the hex SHA-256 of a password hash.
func passwordFingerprint(hash string) string {
	sum := sha256.Sum256([]byte(hash))
	return hex.EncodeToString(sum[:])
}

// newPasswordChallenge returns NEW_PASSWORD_REQUIRED with a new session.
func (s *Service) newPasswordChallenge(ctx context.Context, pool *behalf.UserPool, client *behalf.AppClient, u *behalf.PoolUser, login string) (*behalf.AuthResult, error) {
	data := sessionData{
		Pool: pool.ID, Client: client.ID, User: u.Username, Sub: u.Sub, Login: login,
		Challenge: behalf.ChallengeNewPasswordRequired, Password: passwordFingerprint(u.PasswordHash),
		Expires: s.now().Add(s.sessionValidity()).Unix(),
	}
	b, err := json.Marshal(data)
	if err != nil {
		return nil, internal("encode session", err)
	}
	sealed, err := s.Sealer.Seal(ctx, sessionContext(client.ID), b)
	if err != nil {
		return nil, internal("seal session", err)
	}
	return &behalf.AuthResult{
		ChallengeName:       behalf.ChallengeNewPasswordRequired,
		Session:             behalf.Secret(base64.RawURLEncoding.EncodeToString(sealed)),
		ChallengeParameters: challengeParameters(u),
	}, nil
}

// openSession opens a session of client for challenge and pool; any
// failure, including expiry, is the same NotAuthorizedException.
func (s *Service) openSession(ctx context.Context, client *behalf.AppClient, session behalf.Secret, challenge string) (*sessionData, error) {
	invalid := notAuthorized(msgSessionInvalid)
	raw := session.Reveal()
	if raw == "" || len(raw) > maxSessionLength {
		return nil, invalid
	}
	sealed, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return nil, invalid
	}
	b, err := s.Sealer.Open(ctx, sessionContext(client.ID), sealed)
	if err != nil {
		return nil, invalid
	}
	var d sessionData
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, invalid
	}
	if d.Client != client.ID || d.Pool != client.PoolID || d.Challenge != challenge || !s.now().Before(time.Unix(d.Expires, 0)) {
		return nil, invalid
	}
	return &d, nil
}

// RespondToAuthChallenge answers NEW_PASSWORD_REQUIRED, PASSWORD_VERIFIER,
// SOFTWARE_TOKEN_MFA and MFA_SETUP.
func (s *Service) RespondToAuthChallenge(ctx context.Context, clientID, challenge string, session behalf.Secret, responses map[string]behalf.Secret) (*behalf.AuthResult, error) {
	return s.respond(ctx, "", clientID, challenge, session, responses)
}

// AdminRespondToAuthChallenge is RespondToAuthChallenge for a client of poolID.
func (s *Service) AdminRespondToAuthChallenge(ctx context.Context, poolID, clientID, challenge string, session behalf.Secret, responses map[string]behalf.Secret) (*behalf.AuthResult, error) {
	if poolID == "" {
		return nil, invalidParameter("UserPoolId is required.")
	}
	return s.respond(ctx, poolID, clientID, challenge, session, responses)
}

// respond checks the session, USERNAME, SECRET_HASH, the new password and
// attributes, sets the password and issues tokens.
func (s *Service) respond(ctx context.Context, poolID, clientID, challenge string, session behalf.Secret, responses map[string]behalf.Secret) (*behalf.AuthResult, error) {
	switch challenge {
	case behalf.ChallengeNewPasswordRequired, challengePasswordVerifier, behalf.ChallengeSoftwareTokenMFA, behalf.ChallengeMFASetup:
	default:
		return nil, invalidParameter("Behalf answers only the NEW_PASSWORD_REQUIRED, PASSWORD_VERIFIER, SOFTWARE_TOKEN_MFA and MFA_SETUP challenges.")
	}
	client, pool, err := s.getClient(ctx, poolID, clientID)
	if err != nil {
		return nil, err
	}
	switch challenge {
	case challengePasswordVerifier:
		return s.respondPasswordVerifier(ctx, pool, client, responses)
	case behalf.ChallengeSoftwareTokenMFA, behalf.ChallengeMFASetup:
		return s.respondMFA(ctx, pool, client, challenge, session, responses)
	}
	d, err := s.openSession(ctx, client, session, challenge)
	if err != nil {
		return nil, err
	}
	username := responses[paramUsername].Reveal()
	if username == "" {
		return nil, invalidParameter("Missing required parameter USERNAME")
	}
	if username != d.User && username != d.Login {
		return nil, notAuthorized(msgSessionInvalid)
	}
	if err := s.checkSecretHash(ctx, client, responses[paramSecretHash], username); err != nil {
		return nil, err
	}
	hash, attrs, err := s.newPasswordResponse(ctx, pool, responses)
	if err != nil {
		return nil, err
	}
	srp, err := s.newSRPVerifier(ctx, pool.ID, d.User, responses[paramNewPassword], hash)
	if err != nil {
		return nil, err
	}
	u, err := s.updateUser(ctx, pool.ID, d.User, func(u *behalf.PoolUser) error {
		if err := completeNewPassword(u, d, hash, attrs, s.now()); err != nil {
			return err
		}
		u.SRPVerifier = srp
		return nil
	})
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return nil, notAuthorized(msgSessionInvalid)
	}
	if err != nil {
		return nil, err
	}
	// The lockout record stays while MFA is pending (mfa.go).
	if mfaChallenge(pool, u) == "" {
		if err := s.resetLockout(ctx, pool.ID, u.Username); err != nil {
			return nil, err
		}
	}
	return s.signedIn(ctx, pool, client, u, d.Login)
}

// newPasswordResponse validates NEW_PASSWORD and userAttributes.* and
// hashes the password.
func (s *Service) newPasswordResponse(ctx context.Context, pool *behalf.UserPool, responses map[string]behalf.Secret) (string, map[string]string, error) {
	password := responses[paramNewPassword]
	if password.IsZero() {
		return "", nil, invalidParameter("Missing required parameter NEW_PASSWORD")
	}
	attrs := map[string]string{}
	for k, v := range responses {
		if name, ok := strings.CutPrefix(k, attrResponsePrefix); ok {
			attrs[name] = v.Reveal()
		}
	}
	if err := validateAttributes(attrs); err != nil {
		return "", nil, err
	}
	for _, a := range pool.UsernameAttributes {
		if _, ok := attrs[a]; ok {
			return "", nil, invalidParameter("Cannot modify the sign-in attribute %s here.", a)
		}
	}
	if err := checkPassword(pool.PasswordPolicy, password); err != nil {
		return "", nil, err
	}
	hash, err := s.hashPassword(ctx, password)
	return hash, attrs, err
}

// completeNewPassword sets the new password if the user is still the one,
// with the temporary password, the session was issued for.
func completeNewPassword(u *behalf.PoolUser, d *sessionData, hash string, attrs map[string]string, now time.Time) error {
	if u.Sub != d.Sub || u.Status != behalf.UserForceChangePassword || passwordFingerprint(u.PasswordHash) != d.Password {
		return notAuthorized(msgSessionInvalid)
	}
	if !u.Enabled {
		return notAuthorized(msgDisabled)
	}
	setPassword(u, hash, behalf.UserConfirmed, now)
	if u.Attributes == nil {
		u.Attributes = map[string]string{}
	}
	maps.Copy(u.Attributes, attrs)
	return nil
}
