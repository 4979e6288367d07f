package behalf

import (
	"context"
	"time"
)

// SigningKey is a token-signing key pair. The private half is sealed under
// SealContext{"signing-key", ID, "private"}; the public half is a JWK.
type SigningKey struct {
	ID        string // the JWK kid
	Use       string // what it signs: "wat", or a user pool id
	Algorithm string // "EdDSA", "ES256", "RS256"
	Private   Sealed
	PublicJWK []byte
	Active    bool // signs new tokens
	CreatedAt time.Time
	// RetireAt, when set, is when the key stops being published.
	RetireAt time.Time
}

// SigningKeyStore persists signing keys.
type SigningKeyStore interface {
	// CreateSigningKey inserts k; if k.Active, other keys of the same Use
	// become inactive in the same transaction.
	CreateSigningKey(ctx context.Context, k *SigningKey) error
	// CreateFirstSigningKey inserts k, which must be Active, unless the
	// store already holds an active key of k.Use and k.Algorithm that is
	// not retired at k.CreatedAt; the other active keys of k.Use (another
	// algorithm, or retired) become inactive in the same transaction. It
	// reports whether k was stored. Of concurrent callers for one use at
	// most one stores its key: the others store nothing and report false,
	// and must then read the store's active key and use that one.
	CreateFirstSigningKey(ctx context.Context, k *SigningKey) (bool, error)
	// ListSigningKeys returns the keys of one use, oldest first.
	ListSigningKeys(ctx context.Context, use string) ([]*SigningKey, error)
	// RetireSigningKey sets key id's RetireAt to t (rotation: the key stays
	// published until then). Returns ENOTFOUND.
	RetireSigningKey(ctx context.Context, id string, t time.Time) error
}
