package behalf

import (
	"context"
	"time"
)

// DataKey is a data-encryption key wrapped by a key-encryption key. Sealed
// values name the data key that sealed them; rotating the key-encryption key
// rewraps data keys without touching the values.
type DataKey struct {
	ID         string
	Wrapped    []byte // the key, encrypted by the key-encryption key
	KEKVersion int    // which key-encryption key wrapped it
	Active     bool   // new values are sealed with the active key
	CreatedAt  time.Time
}

// DataKeyStore persists wrapped data keys.
type DataKeyStore interface {
	// CreateDataKey inserts k; if k.Active, every other key becomes inactive
	// in the same transaction. Returns ECONFLICT if the id exists.
	CreateDataKey(ctx context.Context, k *DataKey) error
	// GetDataKey returns ENOTFOUND.
	GetDataKey(ctx context.Context, id string) (*DataKey, error)
	// ActiveDataKey returns the active key, or ENOTFOUND if there is none.
	ActiveDataKey(ctx context.Context) (*DataKey, error)
	// ListDataKeys returns every data key, oldest first.
	ListDataKeys(ctx context.Context) ([]*DataKey, error)
	// UpdateDataKey replaces Wrapped and KEKVersion (rewrapping). Returns ENOTFOUND.
	UpdateDataKey(ctx context.Context, k *DataKey) error
}

// Sealer encrypts secrets for storage and opens them again. Implementations
// bind the SealContext as associated data.
type Sealer interface {
	Seal(ctx context.Context, sc SealContext, plaintext []byte) (Sealed, error)
	// Open returns EINTERNAL-coded errors for tampered, moved or
	// wrong-key ciphertext; callers never see why.
	Open(ctx context.Context, sc SealContext, sealed Sealed) ([]byte, error)
}
