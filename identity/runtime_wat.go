package identity

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/behalf-dev/behalf"
)

// MintForRuntime mints a workload access token for workload and user on
// behalf of the agent-runtime gateway (package agentruntime), which has
// already authenticated the caller: a JWT checked against the runtime's
// authorizer, or a SigV4 key allowed to act for the runtime's workload.
// Unlike the WorkloadAccessToken* operations it needs no principal in ctx,
// so it must never be reachable from a request the gateway did not
// authenticate.
//
// user is the JWT's issuer and subject, or a user id as the subject alone
// (as WorkloadAccessTokenForJWT and ForUserID mint them, so the vault keys
// and CompleteResourceTokenAuth see the same user); a zero user mints a WAT
// for the workload itself. userExpiry, when not zero, caps the token's
// lifetime (a WAT minted from a JWT expires with it); userIssued is when
// that JWT was issued (behalf.TokenIssuedAt; zero for none), so the WAT is
// refused once a pool user signs out after it. userToken, when not empty,
// is that JWT: kept sealed under its subjectRef for its on-behalf-of
// exchanges, as WorkloadAccessTokenForJWT keeps it. It returns the token
// and its expiry (whole seconds, as in the token's exp claim).
//
// Errors: EINVALID for a bad workload name or user id, ENOTFOUND when the
// workload identity does not exist.
func (ws *WATs) MintForRuntime(ctx context.Context, workload string, user behalf.User, userToken behalf.Secret, userExpiry, userIssued time.Time) (behalf.Secret, time.Time, error) {
	if err := validateName("workloadName", workload, workloadNameChars, 3, 255); err != nil {
		return "", time.Time{}, err
	}
	if user.Issuer == "" && user.Subject != "" {
		if n := utf8.RuneCountInString(user.Subject); n > 128 {
			return "", time.Time{}, behalf.Invalid("userId", "userId must be 1 to 128 characters long.")
		}
	}
	w, err := ws.config.freshWorkload(ctx, workload)
	if err != nil {
		return "", time.Time{}, err
	}
	// mintWAT reads the clock again, microseconds later: its exp is never
	// earlier than this one.
	exp := ws.clock.now().Add(MaxWATLifetime)
	if !userExpiry.IsZero() && userExpiry.Before(exp) {
		exp = userExpiry
	}
	ref := ""
	if !userToken.IsZero() && user.Issuer != "" {
		ref = subjectRef(userToken)
	}
	tok, _, watExp, err := ws.mintWAT(w, user, userExpiry, userIssued, ref)
	if err != nil {
		return "", time.Time{}, err
	}
	if ref != "" {
		if err := ws.keepSubjectToken(ctx, ref, userToken, watExp); err != nil {
			return "", time.Time{}, err
		}
	}
	return tok, time.Unix(exp.Unix(), 0), nil
}
