package userpool

import (
	"errors"
	"fmt"

	"github.com/behalf-dev/behalf"
)

// Messages Cognito sends, which clients string-match.
const (
	msgIncorrect        = "Incorrect username or password."
	msgDisabled         = "User is disabled."
	msgAttemptsExceeded = "Password attempts exceeded"
	msgUserNotFound     = "User does not exist."
	msgUserExists       = "User account already exists"
	msgRefreshInvalid   = "Invalid Refresh Token"
	msgRefreshRevoked   = "Refresh Token has been revoked"
	msgRefreshExpired   = "Refresh Token has expired"
	msgAccessInvalid    = "Invalid Access Token"
	msgAccessRevoked    = "Access Token has been revoked"
	msgAccessExpired    = "Access Token has expired"
	msgAccessScopes     = "Access Token does not have required scopes"
	msgSessionInvalid   = "Invalid session for the user, session is expired."
	msgTempExpired      = "Temporary password has expired and must be reset by an administrator."
)

// cognito returns a CognitoError.
func cognito(exception, format string, args ...any) error {
	return behalf.CognitoErrorf(exception, format, args...)
}

// notAuthorized returns a NotAuthorizedException.
func notAuthorized(msg string) error { return cognito(behalf.CognitoNotAuthorized, "%s", msg) }

// invalidParameter returns an InvalidParameterException.
func invalidParameter(format string, args ...any) error {
	return cognito(behalf.CognitoInvalidParameter, format, args...)
}

// poolNotFound is the error for a missing pool.
func poolNotFound(id string) error {
	return cognito(behalf.CognitoResourceNotFound, "User pool %s does not exist.", id)
}

// clientNotFound is the error for a missing app client.
func clientNotFound(id string) error {
	return cognito(behalf.CognitoResourceNotFound, "User pool client %s does not exist.", id)
}

// userNotFound is the error admin operations return for a missing user.
func userNotFound() error { return cognito(behalf.CognitoUserNotFound, msgUserNotFound) }

// secretHashMismatch is the error for a wrong SECRET_HASH.
func secretHashMismatch(clientID string) error {
	return cognito(behalf.CognitoNotAuthorized, "Unable to verify secret hash for client %s", clientID)
}

// internal wraps an unexpected failure: it stays uncoded (EINTERNAL).
func internal(op string, err error) error { return fmt.Errorf("userpool: %s: %w", op, err) }

// isNotFound reports whether a store error is ENOTFOUND.
func isNotFound(err error) bool { return behalf.ErrorCode(err) == behalf.ENOTFOUND }

// isConflict reports whether a store error is ECONFLICT.
func isConflict(err error) bool { return behalf.ErrorCode(err) == behalf.ECONFLICT }

// asCognito reports whether err's chain holds a CognitoError, setting *target.
func asCognito(err error, target **behalf.CognitoError) bool { return errors.As(err, target) }
