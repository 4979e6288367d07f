package oidcop

import (
	"context"
	"net/http"

	"github.com/behalf-dev/behalf"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Error codes of RFC 6750 and RFC 7009 that package oidc has no
// constructor for.
const (
	errorInvalidToken         = "invalid_token"
	errorInsufficientScope    = "insufficient_scope"
	errorUnsupportedTokenType = "unsupported_token_type"
	errorInvalidTarget        = "invalid_target" // RFC 8707 §2
	invalidTokenDescription   = "Access token is expired, disabled, or deleted, or the user has globally signed out."
	genericFailure            = "Something went wrong. Please try again."
)

func errInvalidRequest(desc string) *oidc.Error {
	return oidc.ErrInvalidRequest().WithDescription("%s", desc)
}

// errInvalidRequestNoRedirect is an invalid_request that op must answer
// itself, never by redirecting to the (unverified) redirect_uri.
func errInvalidRequestNoRedirect(desc string) *oidc.Error {
	return oidc.ErrInvalidRequestRedirectURI().WithDescription("%s", desc)
}

func errInvalidClient(desc string) *oidc.Error {
	return oidc.ErrInvalidClient().WithDescription("%s", desc)
}

func errInvalidGrant(desc string) *oidc.Error {
	return oidc.ErrInvalidGrant().WithDescription("%s", desc)
}

func errInvalidScope(desc string) *oidc.Error {
	return oidc.ErrInvalidScope().WithDescription("%s", desc)
}

// errInvalidTarget is RFC 8707's invalid_target: a resource indicator
// that is malformed or not granted.
func errInvalidTarget(desc string) *oidc.Error {
	return &oidc.Error{ErrorType: errorInvalidTarget, Description: desc}
}

// errInvalidToken is RFC 6750's invalid_token, answered with 401.
func errInvalidToken() error {
	return op.NewStatusError(&oidc.Error{ErrorType: errorInvalidToken, Description: invalidTokenDescription}, http.StatusUnauthorized)
}

// serverError logs an unexpected failure and returns a server_error that
// tells the caller nothing more.
func (p *Provider) serverError(ctx context.Context, what string, err error) error {
	p.logFailure(ctx, what, err)
	return oidc.ErrServerError().WithDescription("Internal error.")
}

// grantError maps a UserPoolService error met while minting tokens for a
// grant: refusals about the user or the token are invalid_grant, a scope
// no resource server defines (any more) invalid_scope.
func (p *Provider) grantError(ctx context.Context, err error) error {
	msg := behalf.ErrorMessage(err)
	switch behalf.CognitoException(err) {
	case behalf.CognitoNotAuthorized, behalf.CognitoUserNotFound, behalf.CognitoUserNotConfirmed,
		behalf.CognitoPasswordResetRequired, behalf.CognitoResourceNotFound, behalf.CognitoRefreshTokenReuse:
		return errInvalidGrant(msg)
	case behalf.CognitoInvalidParameter, behalf.CognitoUnsupportedOperation:
		return errInvalidRequest(msg)
	case behalf.CognitoScopeDoesNotExist:
		return errInvalidScope(msg)
	case behalf.CognitoTooManyRequests, behalf.CognitoTooManyFailedAttempts, behalf.CognitoLimitExceeded:
		return op.NewStatusError(errInvalidRequest(msg), http.StatusTooManyRequests)
	}
	return p.serverError(ctx, "issue tokens", err)
}

// signInError is what the login page says, and answers, for a failed
// sign-in: the service's own message (already generic for a wrong
// username or password, or a lockout) for refusals, nothing for failures.
func (p *Provider) signInError(ctx context.Context, err error) (int, string) {
	msg := behalf.ErrorMessage(err)
	switch behalf.CognitoException(err) {
	case behalf.CognitoNotAuthorized, behalf.CognitoUserNotFound:
		return http.StatusUnauthorized, msg
	case behalf.CognitoTooManyRequests, behalf.CognitoTooManyFailedAttempts:
		return http.StatusTooManyRequests, msg
	case behalf.CognitoUserNotConfirmed, behalf.CognitoPasswordResetRequired, behalf.CognitoLimitExceeded:
		return http.StatusForbidden, msg
	case behalf.CognitoInvalidParameter, behalf.CognitoInvalidPassword, behalf.CognitoExpiredCode:
		return http.StatusBadRequest, msg
	case behalf.CognitoUsernameExists:
		return http.StatusConflict, msg
	case behalf.CognitoCodeDeliveryFailure:
		return http.StatusServiceUnavailable, msg
	case behalf.CognitoCodeMismatch, behalf.CognitoEnableSoftwareTokenMFA:
		return http.StatusBadRequest, "That code is not right, or was used already. Check it and try again."
	case behalf.CognitoSoftwareTokenMFANotFound:
		return http.StatusForbidden, msg
	}
	p.logFailure(ctx, "sign-in", err)
	return http.StatusInternalServerError, genericFailure
}

// logFailure logs an unexpected failure as an error, or at debug level
// once the client went away (ctx ended): then it is the client's doing.
func (p *Provider) logFailure(ctx context.Context, what string, err error) {
	if ctx.Err() != nil {
		p.log.DebugContext(ctx, "hosted login: "+what+": client gone", "err", err)
		return
	}
	p.log.ErrorContext(ctx, "hosted login: "+what, "err", err)
}
