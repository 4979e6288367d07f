package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/identity"
)

// rootKeys sets up the root credentials: from BEHALF_ROOT_ACCESS_KEY_ID and
// BEHALF_ROOT_SECRET_ACCESS_KEY when set; otherwise a key generated at first
// start, stored sealed, and written to DATA-DIR/credentials (mode 0600).
func (m *Main) rootKeys(ctx context.Context, store behalf.Store, sealer behalf.Sealer) (*identity.Keyring, error) {
	k := &identity.Keyring{Store: store, Sealer: sealer}
	id, secret := os.Getenv("BEHALF_ROOT_ACCESS_KEY_ID"), os.Getenv("BEHALF_ROOT_SECRET_ACCESS_KEY")
	if (id == "") != (secret == "") {
		return nil, fmt.Errorf("set both BEHALF_ROOT_ACCESS_KEY_ID and BEHALF_ROOT_SECRET_ACCESS_KEY, or neither")
	}
	if id != "" {
		k.EnvID, k.EnvSecret = id, behalf.Secret(secret)
		m.Log.Info("root credentials from the environment", "access_key_id", id)
		return k, nil
	}
	path := filepath.Join(m.Config.DataDir, "credentials")
	keys, err := store.ListAccessKeys(ctx, identity.RootPrincipal)
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
	newID, newSecret := identity.NewAccessKeyPair()
	sealed, err := sealer.Seal(ctx, identity.AccessKeySeal(newID), []byte(newSecret.Reveal()))
	if err != nil {
		return nil, fmt.Errorf("seal root key: %w", err)
	}
	err = store.CreateAccessKey(ctx, &behalf.AccessKey{ID: newID, Secret: sealed, Principal: identity.RootPrincipal, CreatedAt: time.Now().UTC()})
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
