package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/randid"
	"github.com/behalf-dev/behalf/internal/ttlcache"
)

// watAudience is the aud of every workload access token: only Behalf's own
// data plane accepts them.
const watAudience = "behalf:workload-access-token"

// MaxWATLifetime bounds a workload access token's lifetime.
const MaxWATLifetime = time.Hour

// WATSigner signs and verifies workload access tokens (package signer).
type WATSigner interface {
	Sign(claims map[string]any) (string, error)
	Verify(token string, now time.Time) (map[string]any, error)
}

// WATs mints and verifies workload access tokens: for a workload (and a
// user) it signs them, and for the data plane it checks the ones agents
// present, caching what each verified token says until it expires.
type WATs struct {
	signer WATSigner
	// users checks a WAT's user still stands (nil: no check).
	users UserVerifier
	// config reads workloads; shared with the data plane.
	config    *configCache
	publicURL string
	clock     clock
	// subjects keeps, sealed with sealer, the user's JWT behind each WAT
	// minted from one, under its subjectRef, for on-behalf-of exchange;
	// kept says which this process stored, until when, so that WATs minted
	// again from one JWT write nothing.
	subjects behalf.SubjectTokenStore
	sealer   behalf.Sealer
	kept     ttlcache.Cache[string, time.Time]
	// verified caches what verified WATs say, by token, until they expire.
	verified ttlcache.Cache[string, watIdentity]
}

var _ behalf.WATService = (*WATs)(nil)

// watIdentity is what a verified workload access token says.
type watIdentity struct {
	Workload string
	// WorkloadID is the ID of the workload identity the token was minted
	// for ("" in tokens minted before WATs carried it).
	WorkloadID string
	User       behalf.User
	// SubjectRef is the claim claimSubjectRef: the key of the user's JWT
	// kept for on-behalf-of exchange.
	SubjectRef string
	// UserIssuedAt is when the user's JWT the token was minted from was
	// issued (zero for other tokens, and for tokens minted before WATs
	// carried it); IssuedAt is the WAT's own iat.
	UserIssuedAt time.Time
	IssuedAt     time.Time
}

// WorkloadAccessToken mints a WAT for the workload itself, with no user.
func (ws *WATs) WorkloadAccessToken(ctx context.Context, workload string) (behalf.Secret, error) {
	w, err := ws.checkWorkload(ctx, workload)
	if err != nil {
		return "", err
	}
	tok, _, _, err := ws.mintWAT(w, behalf.User{}, time.Time{}, time.Time{}, "")
	return tok, err
}

// WorkloadAccessTokenForJWT mints a WAT for the user a trusted JWT names; it
// expires with that JWT.
func (ws *WATs) WorkloadAccessTokenForJWT(ctx context.Context, workload string, userToken behalf.Secret) (behalf.Secret, error) {
	w, err := ws.checkWorkload(ctx, workload)
	if err != nil {
		return "", err
	}
	if n := len(userToken.Reveal()); n < 1 || n > 131072 {
		return "", behalf.Invalid("userToken", "userToken must be 1 to 131072 characters long.")
	}
	u, err := ws.users.VerifyUserToken(ctx, userToken.Reveal())
	if err != nil {
		return "", err
	}
	ref := subjectRef(userToken)
	tok, _, exp, err := ws.mintWAT(w, u.User, u.Expiry, u.IssuedAt, ref)
	if err != nil {
		return "", err
	}
	if err := ws.keepSubjectToken(ctx, ref, userToken, exp); err != nil {
		return "", err
	}
	return tok, nil
}

// subjectRef is the key the user's JWT is kept under: a hash of the JWT,
// so that every WAT minted from one JWT shares one record.
func subjectRef(userToken behalf.Secret) string {
	sum := sha256.Sum256([]byte("behalf-subject-token\x00" + userToken.Reveal()))
	return hex.EncodeToString(sum[:])
}

// keepSubjectToken stores the user's JWT a WAT was minted from, sealed,
// under ref until the WAT expires (or the latest of the WATs minted from
// it): an on-behalf-of exchange presents it to the provider. The WAT itself
// carries only ref. A JWT this process already stored for as long writes
// nothing, so minting again from one JWT costs no database write.
func (ws *WATs) keepSubjectToken(ctx context.Context, ref string, userToken behalf.Secret, exp time.Time) error {
	if ws.subjects == nil {
		return nil
	}
	if until, ok := ws.kept.Get(ref, ws.clock.now()); ok && !until.Before(exp) {
		return nil
	}
	sealed, err := ws.sealer.Seal(ctx, behalf.SubjectTokenSeal(ref), []byte(userToken.Reveal()))
	if err != nil {
		return fmt.Errorf("seal the user token: %w", err)
	}
	if err := ws.subjects.PutSubjectToken(ctx, &behalf.SubjectToken{ID: ref, Token: sealed, ExpiresAt: exp}); err != nil {
		return err
	}
	ws.kept.Put(ref, exp, exp)
	return nil
}

// SubjectToken returns the user's JWT kept under ref (a WAT's SubjectRef),
// or EINVALID when there is none (a WAT minted for a user id, by the
// agent-runtime gateway, or expired).
func (ws *WATs) SubjectToken(ctx context.Context, ref string) (behalf.Secret, error) {
	missing := behalf.Invalid("workloadIdentityToken",
		"ON_BEHALF_OF_TOKEN_EXCHANGE needs a workload access token minted from the user's JWT by GetWorkloadAccessTokenForJWT.")
	if ws.subjects == nil || ref == "" {
		return "", missing
	}
	st, err := ws.subjects.GetSubjectToken(ctx, ref)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return "", missing
	} else if err != nil {
		return "", err
	}
	if !ws.clock.now().Before(st.ExpiresAt) {
		return "", missing
	}
	b, err := ws.sealer.Open(ctx, behalf.SubjectTokenSeal(ref), st.Token)
	if err != nil {
		return "", fmt.Errorf("open the user token %s: %w", ref, err)
	}
	return behalf.Secret(b), nil
}

// SweepSubjectTokens deletes the user tokens of WATs that have expired.
func (ws *WATs) SweepSubjectTokens(ctx context.Context) (int64, error) {
	if ws.subjects == nil {
		return 0, nil
	}
	return ws.subjects.DeleteExpiredSubjectTokens(ctx, ws.clock.now())
}

// WorkloadAccessTokenForUserID mints a WAT for a user id the caller asserts.
func (ws *WATs) WorkloadAccessTokenForUserID(ctx context.Context, workload, userID string) (behalf.Secret, error) {
	w, err := ws.checkWorkload(ctx, workload)
	if err != nil {
		return "", err
	}
	if n := utf8.RuneCountInString(userID); n < 1 || n > 128 {
		return "", behalf.Invalid("userId", "userId must be 1 to 128 characters long.")
	}
	tok, _, _, err := ws.mintWAT(w, behalf.User{Subject: userID}, time.Time{}, time.Time{}, "")
	return tok, err
}

// checkWorkload validates the name, authorizes the caller and reads the
// workload identity the token will be bound to.
func (ws *WATs) checkWorkload(ctx context.Context, workload string) (*behalf.WorkloadIdentity, error) {
	if err := validateName("workloadName", workload, workloadNameChars, 3, 255); err != nil {
		return nil, err
	}
	if err := authorizeWorkload(ctx, workload); err != nil {
		return nil, err
	}
	return ws.config.freshWorkload(ctx, workload)
}

// claimWorkloadID is the WAT claim naming the ID of the workload identity
// it was minted for: a token minted for a deleted workload never works
// for a later workload of the same name.
const claimWorkloadID = "workload_id"

// claimSubjectRef is the WAT claim naming the key of the user's JWT it was
// minted from, kept for on-behalf-of exchange (a hash of the JWT, which
// its holder, the agent that presented the JWT, knows already).
const claimSubjectRef = "subject_ref"

// claimUserIssued is the WAT claim holding, in Unix microseconds, when the
// user's JWT a WAT was minted from was issued: a pool user's sign-out
// refuses the WATs of the tokens issued before it.
const claimUserIssued = "user_iat_us"

// mintWAT signs a WAT for workload w and user (zero: none) and returns it
// with its jti and expiry. userExpiry, when not zero, caps its lifetime;
// userIssued is when the user's JWT was issued (zero if not minted from
// one); subjectRef, when not empty, is the key its JWT is kept under
// (claimSubjectRef).
func (ws *WATs) mintWAT(w *behalf.WorkloadIdentity, user behalf.User, userExpiry, userIssued time.Time, subjectRef string) (behalf.Secret, string, time.Time, error) {
	now := ws.clock.now()
	exp := now.Add(MaxWATLifetime)
	if !userExpiry.IsZero() && userExpiry.Before(exp) {
		exp = userExpiry
	}
	jti := randid.Hex(16)
	claims := map[string]any{
		"iss": ws.publicURL, "aud": watAudience, "sub": w.Name, "jti": jti,
		"iat": now.Unix(), "exp": exp.Unix(),
	}
	if w.ID != "" {
		claims[claimWorkloadID] = w.ID
	}
	if subjectRef != "" {
		claims[claimSubjectRef] = subjectRef
	}
	if !user.IsZero() {
		claims["user_sub"] = user.Subject
		if user.Issuer != "" {
			claims["user_iss"] = user.Issuer
			if !userIssued.IsZero() {
				claims[claimUserIssued] = userIssued.UnixMicro()
			}
		}
	}
	tok, err := ws.signer.Sign(claims)
	if err != nil {
		return "", "", time.Time{}, err
	}
	return behalf.Secret(tok), jti, time.Unix(exp.Unix(), 0).UTC(), nil
}

var (
	errBadWAT         = behalf.Errorf(behalf.EUNAUTHORIZED, "The workload access token is invalid or has expired.")
	errWATOldWorkload = behalf.Errorf(behalf.EUNAUTHORIZED, "The workload access token was minted for a deleted workload identity of the same name.")
)

// VerifyWAT checks a workload access token's signature, issuer, audience
// and expiry, that the caller may act for its workload, that the workload
// is the one it was minted for (not a later one of the same name), and
// that its user still stands (checkWATUser).
func (ws *WATs) VerifyWAT(ctx context.Context, token behalf.Secret) (behalf.WATClaims, error) {
	if n := len(token.Reveal()); n < 1 || n > 131072 {
		return behalf.WATClaims{}, behalf.Invalid("workloadIdentityToken", "workloadIdentityToken must be 1 to 131072 characters long.")
	}
	id, err := ws.watIdentity(token.Reveal())
	if err != nil {
		return behalf.WATClaims{}, err
	}
	if err := authorizeWorkload(ctx, id.Workload); err != nil {
		return behalf.WATClaims{}, err
	}
	if err := ws.checkWATWorkload(ctx, id); err != nil {
		return behalf.WATClaims{}, err
	}
	if err := ws.checkWATUser(ctx, id); err != nil {
		return behalf.WATClaims{}, err
	}
	return behalf.WATClaims{Workload: id.Workload, User: id.User, SubjectRef: id.SubjectRef}, nil
}

// checkWATUser refuses a WAT minted from the JWT of a Behalf user pool's
// user who has since been disabled, deleted or signed out, with the check
// and the staleness bound (userpool.TokenUserCacheTTL) of minting and
// runtime invocations: a WAT does not outlive its user's standing.
func (ws *WATs) checkWATUser(ctx context.Context, id watIdentity) error {
	if ws.users == nil || id.User.Issuer == "" {
		return nil
	}
	issued := id.UserIssuedAt
	if issued.IsZero() {
		// Minted before WATs carried the user token's issue time: the
		// WAT's own iat stands in (it is no earlier than the token's).
		issued = id.IssuedAt
	}
	if err := ws.users.CheckUser(ctx, id.User, issued); err != nil {
		if code := behalf.ErrorCode(err); code == behalf.EINTERNAL || code == behalf.EUNAVAILABLE {
			return err
		}
		return behalf.Errorf(behalf.EUNAUTHORIZED, "The workload access token was refused: %s", behalf.ErrorMessage(err))
	}
	return nil
}

// checkWATWorkload refuses a WAT whose workload identity was deleted, or
// deleted and created again (another ID). The workload is read through the
// config cache; a mismatch is confirmed with the store, so a cache that
// still holds the previous workload does not refuse a new one's tokens.
// Tokens minted before WATs carried the workload's ID are not checked.
func (ws *WATs) checkWATWorkload(ctx context.Context, id watIdentity) error {
	if id.WorkloadID == "" {
		return nil
	}
	w, err := ws.config.workload(ctx, id.Workload)
	if err == nil && w.ID != id.WorkloadID {
		w, err = ws.config.freshWorkload(ctx, id.Workload)
	}
	if err != nil {
		return err
	}
	if w.ID != id.WorkloadID {
		return errWATOldWorkload
	}
	return nil
}

// watIdentity verifies a WAT once and caches what it says until it expires
// (the cache is keyed by the whole token, so nothing unverified is trusted).
func (ws *WATs) watIdentity(token string) (watIdentity, error) {
	now := ws.clock.now()
	if id, ok := ws.verified.Get(token, now); ok {
		return id, nil
	}
	claims, err := ws.signer.Verify(token, now)
	if err != nil {
		return watIdentity{}, errBadWAT
	}
	iss, _ := claims["iss"].(string)
	sub, _ := claims["sub"].(string)
	if iss != ws.publicURL || !hasAudience(claims["aud"], watAudience) || sub == "" {
		return watIdentity{}, errBadWAT
	}
	id := watIdentity{Workload: sub}
	id.WorkloadID, _ = claims[claimWorkloadID].(string)
	id.SubjectRef, _ = claims[claimSubjectRef].(string)
	id.User.Issuer, _ = claims["user_iss"].(string)
	id.User.Subject, _ = claims["user_sub"].(string)
	if us, ok := claims[claimUserIssued].(float64); ok {
		id.UserIssuedAt = time.UnixMicro(int64(us)).UTC()
	}
	if iat, ok := claims["iat"].(float64); ok {
		id.IssuedAt = time.Unix(int64(iat), 0).UTC()
	}
	if exp, ok := claims["exp"].(float64); ok {
		ws.verified.Put(token, id, time.Unix(int64(exp), 0))
	}
	return id, nil
}

func hasAudience(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []string:
		for _, s := range a {
			if s == want {
				return true
			}
		}
	case []any:
		for _, s := range a {
			if s == want {
				return true
			}
		}
	}
	return false
}
