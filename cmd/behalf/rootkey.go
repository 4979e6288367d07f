package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/identity"
)

// rootKeys sets up the root credentials: from BEHALF_ROOT_ACCESS_KEY_ID and
// BEHALF_ROOT_SECRET_ACCESS_KEY when set; otherwise a key generated at first
// start, stored sealed, and written to DATA-DIR/credentials (mode 0600).
//
// An existing credentials file is never overwritten. One that names no root
// key of the database (the database is new, or was replaced) stops the
// start unless --init is given; then it is kept aside as
// credentials.replaced-TIME and a new root key is written.
func (m *Main) rootKeys(ctx context.Context, store behalf.Store, sealer behalf.Sealer) (*identity.AccessKeys, error) {
	k := &identity.AccessKeys{Store: store, Sealer: sealer}
	id, secret := os.Getenv("BEHALF_ROOT_ACCESS_KEY_ID"), os.Getenv("BEHALF_ROOT_SECRET_ACCESS_KEY")
	if (id == "") != (secret == "") {
		return nil, fmt.Errorf("set both BEHALF_ROOT_ACCESS_KEY_ID and BEHALF_ROOT_SECRET_ACCESS_KEY, or neither")
	}
	if id != "" {
		k.EnvID, k.EnvSecret = id, behalf.Secret(secret)
		m.Log.Info("root credentials from the environment", "access_key_id", id)
		return k, nil
	}
	path := m.credentialsPath()
	keys, err := store.ListAccessKeys(ctx, behalf.RootPrincipal)
	if err != nil {
		return nil, fmt.Errorf("list root keys: %w", err)
	}
	isRoot := func(id string) bool {
		return slices.ContainsFunc(keys, func(k *behalf.AccessKey) bool { return k.ID == id })
	}
	if _, err := os.Lstat(path); err == nil {
		fileID := credentialsKeyID(path)
		if fileID != "" && isRoot(fileID) {
			m.Log.Info("root credentials", "file", path)
			return k, nil
		}
		if len(keys) > 0 {
			// The database has its root key and the file names another
			// (e.g. a database restored from elsewhere): leave the file be.
			m.Log.Warn("the credentials file names no root key of this database; it is left as it is", "file", path, "access_key_id", fileID)
			return k, nil
		}
		if !m.Config.Init {
			return nil, fmt.Errorf("%s names root key %q, which the database does not hold: the database is new, or was replaced.\n"+
				"If the database was lost, restore your last backup (%s BACKUP.db).\n"+
				"To start with a new root key anyway, start once with --init: %s is then kept as %s.replaced-TIME, never overwritten",
				path, fileID, m.restoreCommand(false), credentialsFile, credentialsFile)
		}
		aside := path + ".replaced-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(path, aside); err != nil {
			return nil, fmt.Errorf("--init: keep the old credentials file: %w", err)
		}
		m.Log.Warn("--init: the old credentials file is kept aside", "file", aside, "access_key_id", fileID)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("credentials file: %w", err)
	}
	if len(keys) > 0 {
		s, _, err := k.Lookup(ctx, keys[0].ID)
		if err != nil {
			return nil, err
		}
		return k, m.writeCredentials(path, keys[0].ID, s, isRoot)
	}
	newID, newSecret := identity.NewAccessKeyPair()
	sealed, err := sealer.Seal(ctx, identity.AccessKeySeal(newID), []byte(newSecret.Reveal()))
	if err != nil {
		return nil, fmt.Errorf("seal root key: %w", err)
	}
	err = store.CreateAccessKey(ctx, &behalf.AccessKey{ID: newID, Secret: sealed, Principal: behalf.RootPrincipal, CreatedAt: time.Now().UTC()})
	if err != nil {
		return nil, fmt.Errorf("store root key: %w", err)
	}
	// Another server starting on the same new database may have written
	// the file meanwhile, with its own root key: that one is kept.
	return k, m.writeCredentials(path, newID, newSecret, func(id string) bool {
		others, err := store.ListAccessKeys(ctx, behalf.RootPrincipal)
		return err == nil && slices.ContainsFunc(others, func(k *behalf.AccessKey) bool { return k.ID == id })
	})
}

// writeCredentials writes the credentials file at path, which must not
// exist: it is never replaced. If a file appeared there meanwhile naming a
// key that isRoot accepts (another server on the same database wrote it),
// that file stands; any other is an error.
func (m *Main) writeCredentials(path, id string, secret behalf.Secret, isRoot func(id string) bool) error {
	body := fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", id, secret.Reveal())
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write credentials file: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(body) // CreateTemp's mode is 0600
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write credentials file: %w", err)
	}
	// A link, unlike a rename, never replaces an existing file.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			if other := credentialsKeyID(path); other != "" && isRoot(other) {
				m.Log.Info("root credentials", "file", path)
				return nil
			}
			return fmt.Errorf("write credentials file: %s appeared meanwhile and names no root key of this database; it is left as it is", path)
		}
		return fmt.Errorf("write credentials file: %w", err)
	}
	m.Log.Info("root credentials written", "file", path, "access_key_id", id)
	return nil
}
