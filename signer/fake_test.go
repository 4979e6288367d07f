package signer_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/behalf-dev/behalf"
)

// memStore is an in-memory behalf.SigningKeyStore.
type memStore struct {
	mu    sync.Mutex
	keys  []*behalf.SigningKey
	lists int // ListSigningKeys calls
}

func (m *memStore) CreateSigningKey(_ context.Context, k *behalf.SigningKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.keys {
		if o.ID == k.ID {
			return behalf.Errorf(behalf.ECONFLICT, "key exists")
		}
		if k.Active && o.Use == k.Use {
			o.Active = false
		}
	}
	c := *k
	m.keys = append(m.keys, &c)
	return nil
}

func (m *memStore) CreateFirstSigningKey(_ context.Context, k *behalf.SigningKey) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !k.Active {
		return false, errors.New("the key must be active")
	}
	live := func(o *behalf.SigningKey) bool { return o.RetireAt.IsZero() || o.RetireAt.After(k.CreatedAt) }
	for _, o := range m.keys {
		if o.ID == k.ID {
			return false, nil
		}
		if o.Use == k.Use && o.Active && o.Algorithm == k.Algorithm && live(o) {
			return false, nil
		}
	}
	for _, o := range m.keys {
		if o.Use == k.Use {
			o.Active = false
		}
	}
	c := *k
	m.keys = append(m.keys, &c)
	return true, nil
}

func (m *memStore) ListSigningKeys(_ context.Context, use string) ([]*behalf.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lists++
	var out []*behalf.SigningKey
	for _, k := range m.keys {
		if k.Use == use {
			c := *k
			out = append(out, &c)
		}
	}
	return out, nil
}

func (m *memStore) RetireSigningKey(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range m.keys {
		if k.ID == id {
			k.RetireAt = at
			return nil
		}
	}
	return behalf.Errorf(behalf.ENOTFOUND, "key not found")
}

// listCalls returns how many times the keys were listed.
func (m *memStore) listCalls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lists
}

// edit applies fn to the stored keys.
func (m *memStore) edit(fn func(keys []*behalf.SigningKey)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn(m.keys)
}

// gcmSealer is a behalf.Sealer using AES-256-GCM with the SealContext as
// associated data, so a value moved to another context fails to open.
type gcmSealer struct{ aead cipher.AEAD }

func newSealer() *gcmSealer {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &gcmSealer{aead: aead}
}

func aad(sc behalf.SealContext) []byte {
	return fmt.Appendf(nil, "%d:%s%d:%s%s", len(sc.Kind), sc.Kind, len(sc.Key), sc.Key, sc.Field)
}

func (g *gcmSealer) Seal(_ context.Context, sc behalf.SealContext, plaintext []byte) (behalf.Sealed, error) {
	nonce := make([]byte, g.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return g.aead.Seal(nonce, nonce, plaintext, aad(sc)), nil
}

func (g *gcmSealer) Open(_ context.Context, sc behalf.SealContext, sealed behalf.Sealed) ([]byte, error) {
	n := g.aead.NonceSize()
	if len(sealed) < n {
		return nil, behalf.Errorf(behalf.EINTERNAL, "sealed value too short")
	}
	pt, err := g.aead.Open(nil, sealed[:n], sealed[n:], aad(sc))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", behalf.Errorf(behalf.EINTERNAL, "cannot open"), errors.New("gcm open failed"))
	}
	return pt, nil
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
