package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/randid"
)

const rootPrincipal = "root"

// keyring answers SigV4 key lookups: the root key from the environment, or
// access keys from the store, opened once and cached briefly so a deleted
// key stops working within keyCacheTTL.
type keyring struct {
	envID     string
	envSecret behalf.Secret
	store     behalf.AccessKeyStore
	sealer    behalf.Sealer

	mu    sync.Mutex
	cache map[string]cachedKey
}

type cachedKey struct {
	secret    behalf.Secret
	principal string
	expires   time.Time
}

const keyCacheTTL = 5 * time.Second

func accessKeySeal(id string) behalf.SealContext {
	return behalf.SealContext{Kind: "access-key", Key: id, Field: "secret"}
}

// Lookup returns the secret and principal of an access key id.
func (k *keyring) Lookup(ctx context.Context, id string) (behalf.Secret, string, error) {
	if k.envID != "" && id == k.envID {
		return k.envSecret, rootPrincipal, nil
	}
	k.mu.Lock()
	c, ok := k.cache[id]
	k.mu.Unlock()
	if ok && time.Now().Before(c.expires) {
		return c.secret, c.principal, nil
	}
	ak, err := k.store.GetAccessKey(ctx, id)
	if err != nil {
		return "", "", err
	}
	plain, err := k.sealer.Open(ctx, accessKeySeal(id), ak.Secret)
	if err != nil {
		return "", "", fmt.Errorf("open access key %s: %w", id, err)
	}
	c = cachedKey{behalf.Secret(plain), ak.Principal, time.Now().Add(keyCacheTTL)}
	k.mu.Lock()
	k.cache[id] = c
	k.mu.Unlock()
	return c.secret, c.principal, nil
}

// rootKeys sets up the root credentials: from BEHALF_ROOT_ACCESS_KEY_ID and
// BEHALF_ROOT_SECRET_ACCESS_KEY when set; otherwise a key generated at first
// start, stored sealed, and written to DATA-DIR/credentials (mode 0600).
func (m *Main) rootKeys(ctx context.Context, store behalf.Store, sealer behalf.Sealer) (*keyring, error) {
	k := &keyring{store: store, sealer: sealer, cache: map[string]cachedKey{}}
	id, secret := os.Getenv("BEHALF_ROOT_ACCESS_KEY_ID"), os.Getenv("BEHALF_ROOT_SECRET_ACCESS_KEY")
	if (id == "") != (secret == "") {
		return nil, fmt.Errorf("set both BEHALF_ROOT_ACCESS_KEY_ID and BEHALF_ROOT_SECRET_ACCESS_KEY, or neither")
	}
	if id != "" {
		k.envID, k.envSecret = id, behalf.Secret(secret)
		m.Log.Info("root credentials from the environment", "access_key_id", id)
		return k, nil
	}
	path := filepath.Join(m.Config.DataDir, "credentials")
	keys, err := store.ListAccessKeys(ctx, rootPrincipal)
	if err != nil {
		return nil, fmt.Errorf("list root keys: %w", err)
	}
	if len(keys) > 0 {
		if _, err := os.Stat(path); err == nil {
			m.Log.Info("root credentials", "file", path)
			return k, nil
		}
		s, _, err := k.Lookup(ctx, keys[0].ID)
		if err != nil {
			return nil, err
		}
		return k, m.writeCredentials(path, keys[0].ID, s)
	}
	newID, newSecret := "BHLF"+randid.Upper(16), behalf.Secret(randid.Alnum(40))
	sealed, err := sealer.Seal(ctx, accessKeySeal(newID), []byte(newSecret.Reveal()))
	if err != nil {
		return nil, fmt.Errorf("seal root key: %w", err)
	}
	err = store.CreateAccessKey(ctx, &behalf.AccessKey{ID: newID, Secret: sealed, Principal: rootPrincipal, CreatedAt: time.Now().UTC()})
	if err != nil {
		return nil, fmt.Errorf("store root key: %w", err)
	}
	return k, m.writeCredentials(path, newID, newSecret)
}

func (m *Main) writeCredentials(path, id string, secret behalf.Secret) error {
	body := fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", id, secret.Reveal())
	tmp := path + ".tmp"
	os.Remove(tmp)
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		return fmt.Errorf("write credentials file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write credentials file: %w", err)
	}
	m.Log.Info("root credentials written", "file", path, "access_key_id", id)
	return nil
}
