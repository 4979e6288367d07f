package identity

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/randid"
)

// watAudience is the aud of every workload access token: only Behalf's own
// data plane accepts them.
const watAudience = "behalf:workload-access-token"

// watIdentity is what a verified workload access token says.
type watIdentity struct {
	Workload string
	User     behalf.User
}

// WorkloadAccessToken mints a WAT for the workload itself, with no user.
func (d *DataPlane) WorkloadAccessToken(ctx context.Context, workload string) (behalf.Secret, error) {
	if err := d.checkWorkload(ctx, workload); err != nil {
		return "", err
	}
	return d.mintWAT(workload, behalf.User{}, time.Time{})
}

// WorkloadAccessTokenForJWT mints a WAT for the user a trusted JWT names; it
// expires with that JWT.
func (d *DataPlane) WorkloadAccessTokenForJWT(ctx context.Context, workload string, userToken behalf.Secret) (behalf.Secret, error) {
	if err := d.checkWorkload(ctx, workload); err != nil {
		return "", err
	}
	if n := len(userToken.Reveal()); n < 1 || n > 131072 {
		return "", behalf.Invalid("userToken", "userToken must be 1 to 131072 characters long.")
	}
	user, exp, err := d.Users.VerifyUser(ctx, userToken.Reveal())
	if err != nil {
		return "", err
	}
	return d.mintWAT(workload, user, exp)
}

// WorkloadAccessTokenForUserID mints a WAT for a user id the caller asserts.
func (d *DataPlane) WorkloadAccessTokenForUserID(ctx context.Context, workload, userID string) (behalf.Secret, error) {
	if err := d.checkWorkload(ctx, workload); err != nil {
		return "", err
	}
	if n := utf8.RuneCountInString(userID); n < 1 || n > 128 {
		return "", behalf.Invalid("userId", "userId must be 1 to 128 characters long.")
	}
	return d.mintWAT(workload, behalf.User{Subject: userID}, time.Time{})
}

// checkWorkload validates the name, authorizes the caller and checks the
// workload identity exists.
func (d *DataPlane) checkWorkload(ctx context.Context, workload string) error {
	if err := validateName("workloadName", workload, workloadNamePattern, 3, 255); err != nil {
		return err
	}
	if err := authorizeWorkload(ctx, workload); err != nil {
		return err
	}
	_, err := d.getWorkload(ctx, workload)
	return err
}

func (d *DataPlane) mintWAT(workload string, user behalf.User, userExpiry time.Time) (behalf.Secret, error) {
	now := d.now()
	exp := now.Add(MaxWATLifetime)
	if !userExpiry.IsZero() && userExpiry.Before(exp) {
		exp = userExpiry
	}
	claims := map[string]any{
		"iss": d.PublicURL, "aud": watAudience, "sub": workload, "jti": randid.Hex(16),
		"iat": now.Unix(), "exp": exp.Unix(),
	}
	if !user.IsZero() {
		claims["user_sub"] = user.Subject
		if user.Issuer != "" {
			claims["user_iss"] = user.Issuer
		}
	}
	tok, err := d.Signer.Sign(claims)
	if err != nil {
		return "", err
	}
	return behalf.Secret(tok), nil
}

var errBadWAT = behalf.Errorf(behalf.EUNAUTHORIZED, "The workload access token is invalid or has expired.")

// verifyWAT checks a workload access token's signature, issuer, audience and
// expiry, and that the caller may act for its workload.
func (d *DataPlane) verifyWAT(ctx context.Context, token behalf.Secret) (watIdentity, error) {
	if n := len(token.Reveal()); n < 1 || n > 131072 {
		return watIdentity{}, behalf.Invalid("workloadIdentityToken", "workloadIdentityToken must be 1 to 131072 characters long.")
	}
	id, err := d.watIdentity(token.Reveal())
	if err != nil {
		return watIdentity{}, err
	}
	if err := authorizeWorkload(ctx, id.Workload); err != nil {
		return watIdentity{}, err
	}
	return id, nil
}

// watIdentity verifies a WAT once and caches what it says until it expires
// (the cache is keyed by the whole token, so nothing unverified is trusted).
func (d *DataPlane) watIdentity(token string) (watIdentity, error) {
	now := d.now()
	if id, ok := d.wats.Get(token, now); ok {
		return id, nil
	}
	claims, err := d.Signer.Verify(token, now)
	if err != nil {
		return watIdentity{}, errBadWAT
	}
	iss, _ := claims["iss"].(string)
	sub, _ := claims["sub"].(string)
	if iss != d.PublicURL || !hasAudience(claims["aud"], watAudience) || sub == "" {
		return watIdentity{}, errBadWAT
	}
	id := watIdentity{Workload: sub}
	id.User.Issuer, _ = claims["user_iss"].(string)
	id.User.Subject, _ = claims["user_sub"].(string)
	if exp, ok := claims["exp"].(float64); ok {
		d.wats.Put(token, id, time.Unix(int64(exp), 0))
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
