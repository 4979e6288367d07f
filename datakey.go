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

	// CreateKEKVersion records a key-encryption key version. If v.State is
	// KEKActive, the active version becomes KEKPrevious in the same
	// transaction. Returns ECONFLICT if the version is recorded.
	CreateKEKVersion(ctx context.Context, v *KEKVersion) error
	// ListKEKVersions returns every recorded version, lowest first.
	ListKEKVersions(ctx context.Context) ([]*KEKVersion, error)
	// RetireKEKVersion marks a version KEKRetired at t. In one transaction it
	// checks that the version is not active and wraps no data key: ECONFLICT
	// otherwise; ENOTFOUND if it is not recorded. Retiring a retired version
	// changes nothing.
	RetireKEKVersion(ctx context.Context, version int, t time.Time) error
}

// KEKVersion records one key-encryption key (KEK) that wraps data keys, so
// that every process sharing the database knows which versions exist, which
// one wraps new data keys, and where each is kept. Data keys name their
// version (DataKey.KEKVersion).
type KEKVersion struct {
	Version int
	// Keeper says where the key is, never the key itself: KEKKeeperFile
	// (the local key file, DATA-DIR/kek for version 1 and DATA-DIR/kek.N
	// for version N), KEKKeeperInline (a base64key:// URL given on the
	// command line; never stored), or a KMS URL such as awskms://….
	Keeper string
	// Check is a fixed value wrapped by this key, by which a process
	// recognises the key it was given as this version.
	Check     []byte
	State     string // KEKActive, KEKPrevious or KEKRetired
	CreatedAt time.Time
	RetiredAt time.Time // zero unless retired
}

// Key-encryption key states.
const (
	KEKActive   = "active"   // wraps new data keys; one version at a time
	KEKPrevious = "previous" // still opens the data keys it wrapped
	KEKRetired  = "retired"  // wraps no data key; no longer needed
)

// Where a key-encryption key version is kept (KEKVersion.Keeper), besides
// a KMS URL.
const (
	KEKKeeperFile   = "file"      // DATA-DIR/kek (version 1) or DATA-DIR/kek.N
	KEKKeeperInline = "base64key" // a base64key:// URL given with --kms
)

// Sealer encrypts secrets for storage and opens them again. Implementations
// bind the SealContext as associated data.
type Sealer interface {
	Seal(ctx context.Context, sc SealContext, plaintext []byte) (Sealed, error)
	// Open returns EINTERNAL-coded errors for tampered, moved or
	// wrong-key ciphertext; callers never see why.
	Open(ctx context.Context, sc SealContext, sealed Sealed) ([]byte, error)
}
