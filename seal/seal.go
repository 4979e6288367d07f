package seal

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/randid"
	"gocloud.dev/secrets"
)

const dataKeySize = 32 // AES-256

// Options tunes a Sealer. The zero value is ready to use.
type Options struct {
	// Now stamps new data keys; time.Now if nil.
	Now func() time.Time
	// KEKVersion is recorded on data keys this Sealer wraps; 1 if zero.
	KEKVersion int
}

// Sealer implements behalf.Sealer with AES-256-GCM data keys wrapped by a
// key-encryption key. It is safe for concurrent use.
//
// Unwrapped data keys are cached for the Sealer's lifetime, and the active
// key is chosen once, on the first Seal: after first use Seal and Open call
// neither the keeper nor the store.
type Sealer struct {
	kek  kekSource
	keys behalf.DataKeyStore
	now  func() time.Time

	mu     sync.Mutex              // serialises choosing the active key
	active atomic.Pointer[dataKey] // the key Seal uses; nil until first Seal
	cache  sync.Map                // data key id → cipher.AEAD
}

var _ behalf.Sealer = (*Sealer)(nil)

// dataKey is an unwrapped data key ready to seal and open.
type dataKey struct {
	id   string
	aead cipher.AEAD
}

// New returns a Sealer that wraps data keys with keeper and stores them in
// keys. It knows one key-encryption key: data keys are unwrapped with
// keeper whatever version they name. Servers use NewWithKeyring.
func New(keeper *secrets.Keeper, keys behalf.DataKeyStore, opts Options) *Sealer {
	v := opts.KEKVersion
	if v == 0 {
		v = 1
	}
	return newSealer(&oneKEK{keeper: keeper, version: v}, keys, opts)
}

// NewWithKeyring returns a Sealer that unwraps each data key with the
// key-encryption key version it names, and wraps new data keys with the
// ring's active version. opts.KEKVersion is ignored.
func NewWithKeyring(ring *Keyring, keys behalf.DataKeyStore, opts Options) *Sealer {
	return newSealer(ring, keys, opts)
}

func newSealer(kek kekSource, keys behalf.DataKeyStore, opts Options) *Sealer {
	s := &Sealer{kek: kek, keys: keys, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// kekSource wraps and unwraps data keys: one keeper, or a Keyring.
type kekSource interface {
	// wrap encrypts a new data key and says with which version.
	wrap(ctx context.Context, raw []byte) (wrapped []byte, version int, err error)
	// unwrap decrypts a data key wrapped by version.
	unwrap(ctx context.Context, version int, wrapped []byte) ([]byte, error)
}

// oneKEK is a single keeper, recorded as one version.
type oneKEK struct {
	keeper  *secrets.Keeper
	version int
}

func (o *oneKEK) wrap(ctx context.Context, raw []byte) ([]byte, int, error) {
	b, err := o.keeper.Encrypt(ctx, raw)
	return b, o.version, err
}

func (o *oneKEK) unwrap(ctx context.Context, version int, wrapped []byte) ([]byte, error) {
	raw, err := o.keeper.Decrypt(ctx, wrapped)
	if err != nil {
		return nil, fmt.Errorf("key-encryption key version %d, this process has %d: %w", version, o.version, err)
	}
	return raw, nil
}

// Seal encrypts plaintext for the record sc names with the active data key,
// creating one if the store has none.
func (s *Sealer) Seal(ctx context.Context, sc behalf.SealContext, plaintext []byte) (behalf.Sealed, error) {
	if err := checkContext(sc); err != nil {
		return nil, fmt.Errorf("seal value: %w", err)
	}
	k, err := s.activeKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("seal value: %w", err)
	}
	b := blobHeader(k.id, k.aead.Overhead()+len(plaintext))
	ad := associatedData(sc.Kind, sc.Key, sc.Field, k.id)
	return k.aead.Seal(b, nil, plaintext, ad), nil
}

// Open decrypts a value Seal produced for the same sc. Tampered, moved or
// unknown-key values fail with an uncoded (internal) error.
func (s *Sealer) Open(ctx context.Context, sc behalf.SealContext, sealed behalf.Sealed) ([]byte, error) {
	if err := checkContext(sc); err != nil {
		return nil, fmt.Errorf("open sealed value: %w", err)
	}
	keyID, body, err := parseBlob(sealed)
	if err != nil {
		return nil, fmt.Errorf("open sealed value: %w", err)
	}
	aead, err := s.key(ctx, keyID)
	if err != nil {
		return nil, fmt.Errorf("open sealed value: %w", err)
	}
	plaintext, err := aead.Open(nil, nil, body, associatedData(sc.Kind, sc.Key, sc.Field, keyID))
	if err != nil {
		return nil, fmt.Errorf("open sealed value: %w", errAuthFailed)
	}
	return plaintext, nil
}

// SealString seals a secret's plaintext.
func (s *Sealer) SealString(ctx context.Context, sc behalf.SealContext, secret behalf.Secret) (behalf.Sealed, error) {
	return s.Seal(ctx, sc, []byte(secret.Reveal()))
}

// OpenSecret opens a value sealed by SealString.
func (s *Sealer) OpenSecret(ctx context.Context, sc behalf.SealContext, sealed behalf.Sealed) (behalf.Secret, error) {
	b, err := s.Open(ctx, sc, sealed)
	if err != nil {
		return "", err
	}
	secret := behalf.Secret(b)
	clear(b)
	return secret, nil
}

// checkContext rejects a SealContext with an empty part.
func checkContext(sc behalf.SealContext) error {
	switch {
	case sc.Kind == "":
		return errEmptyKind
	case sc.Key == "":
		return errEmptyKey
	case sc.Field == "":
		return errEmptyField
	}
	return nil
}

// activeKey returns the key Seal uses: cached, else the store's active key,
// else a new one.
func (s *Sealer) activeKey(ctx context.Context) (*dataKey, error) {
	if k := s.active.Load(); k != nil {
		return k, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.active.Load(); k != nil {
		return k, nil
	}
	k, err := s.loadActiveKey(ctx)
	if err != nil {
		return nil, err
	}
	s.active.Store(k)
	return k, nil
}

// loadActiveKey unwraps the store's active key, creating one if there is
// none.
func (s *Sealer) loadActiveKey(ctx context.Context) (*dataKey, error) {
	dk, err := s.keys.ActiveDataKey(ctx)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		return s.createDataKey(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("get active data key: %w", err)
	}
	if len(dk.ID) == 0 || len(dk.ID) > maxKeyIDLen {
		return nil, fmt.Errorf("active data key: %w", errKeyIDLength)
	}
	aead, err := s.unwrap(ctx, dk)
	if err != nil {
		return nil, err
	}
	return &dataKey{id: dk.ID, aead: aead}, nil
}

// createDataKey makes a random data key, stores it wrapped and active, and
// caches it.
func (s *Sealer) createDataKey(ctx context.Context) (*dataKey, error) {
	raw := make([]byte, dataKeySize)
	rand.Read(raw) // never fails (Go 1.24+ panics instead)
	defer clear(raw)
	aead, err := newAEAD(raw)
	if err != nil {
		return nil, fmt.Errorf("create data key: %w", err)
	}
	wrapped, version, err := s.kek.wrap(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("create data key: wrap: %w", err)
	}
	dk := &behalf.DataKey{
		ID:         randid.Hex(16),
		Wrapped:    wrapped,
		KEKVersion: version,
		Active:     true,
		CreatedAt:  s.now(),
	}
	if err := s.keys.CreateDataKey(ctx, dk); err != nil {
		if behalf.ErrorCode(err) == behalf.ECONFLICT {
			// Another replica created the active key at the same moment
			// (the store allows one): use that one.
			if active, aerr := s.keys.ActiveDataKey(ctx); aerr == nil {
				aead, uerr := s.unwrap(ctx, active)
				if uerr != nil {
					return nil, uerr
				}
				return &dataKey{id: active.ID, aead: aead}, nil
			}
		}
		return nil, fmt.Errorf("create data key: %w", err)
	}
	s.cache.Store(dk.ID, aead)
	return &dataKey{id: dk.ID, aead: aead}, nil
}

// key returns the AEAD for data key id, from the cache or else from the
// store through the keeper.
func (s *Sealer) key(ctx context.Context, id string) (cipher.AEAD, error) {
	if v, ok := s.cache.Load(id); ok {
		return v.(cipher.AEAD), nil
	}
	dk, err := s.keys.GetDataKey(ctx, id)
	if behalf.ErrorCode(err) == behalf.ENOTFOUND {
		// Not wrapped: a missing key is a broken value, not a caller's 404.
		return nil, fmt.Errorf("unknown data key %q", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get data key %q: %w", id, err)
	}
	return s.unwrap(ctx, dk)
}

// unwrap decrypts dk with the keeper and caches its AEAD.
func (s *Sealer) unwrap(ctx context.Context, dk *behalf.DataKey) (cipher.AEAD, error) {
	if v, ok := s.cache.Load(dk.ID); ok {
		return v.(cipher.AEAD), nil
	}
	raw, err := s.kek.unwrap(ctx, dk.KEKVersion, dk.Wrapped)
	if err != nil {
		return nil, fmt.Errorf("unwrap data key %q: %w", dk.ID, err)
	}
	defer clear(raw)
	aead, err := newAEAD(raw)
	if err != nil {
		return nil, fmt.Errorf("unwrap data key %q: %w", dk.ID, err)
	}
	v, _ := s.cache.LoadOrStore(dk.ID, aead)
	return v.(cipher.AEAD), nil
}

// newAEAD returns AES-256-GCM with random 12-byte nonces prepended to the
// ciphertext, keyed by a 32-byte data key.
func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != dataKeySize {
		return nil, errors.New("data key is not 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}
