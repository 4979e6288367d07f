package userpool

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"

	"github.com/behalf-dev/behalf"
)

// SecretHash returns Cognito's SECRET_HASH:
// Base64(HMAC-SHA256(key = client secret, message = username + client id)).
func SecretHash(clientSecret behalf.Secret, username, clientID string) string {
	m := hmac.New(sha256.New, []byte(clientSecret.Reveal()))
	m.Write([]byte(username + clientID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// checkSecretHash requires, for a client with a secret, a SECRET_HASH
// computed over one of names (the username as given, or the user's other
// names), compared in constant time. Public clients need none.
func (s *Service) checkSecretHash(ctx context.Context, c *behalf.AppClient, given behalf.Secret, names ...string) error {
	if len(c.Secret) == 0 {
		return nil
	}
	if given.IsZero() {
		return notAuthorized("Client " + c.ID + " is configured with secret but SECRET_HASH was not received")
	}
	secret, err := s.clientSecret(ctx, c)
	if err != nil {
		return err
	}
	match := 0
	for _, name := range names {
		if name != "" {
			match |= subtle.ConstantTimeCompare([]byte(SecretHash(secret, name, c.ID)), []byte(given.Reveal()))
		}
	}
	if match != 1 {
		return secretHashMismatch(c.ID)
	}
	return nil
}

// checkClientSecret checks a client secret given directly (RevokeToken),
// in constant time. Public clients need none.
func (s *Service) checkClientSecret(ctx context.Context, c *behalf.AppClient, given behalf.Secret) error {
	if len(c.Secret) == 0 {
		return nil
	}
	secret, err := s.clientSecret(ctx, c)
	if err != nil {
		return err
	}
	if given.IsZero() || subtle.ConstantTimeCompare([]byte(secret.Reveal()), []byte(given.Reveal())) != 1 {
		return notAuthorized("Unable to verify client secret for client " + c.ID)
	}
	return nil
}
