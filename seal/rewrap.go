package seal

import (
	"context"
	"errors"
	"fmt"

	"gocloud.dev/secrets"

	"github.com/behalf-dev/behalf"
)

// Rewrap re-encrypts every data key with next, recording nextVersion. Each
// key is unwrapped with the key-encryption key version it names (a Sealer
// from New has only its one keeper); keys already at nextVersion are
// skipped, so an interrupted run can be repeated. Sealed values are
// untouched: they name their data key, whose bytes do not change. It
// returns how many keys it rewrapped.
//
// Servers and "behalf keys rotate" use a Keyring and RewrapAll instead;
// with Rewrap alone, processes that only have the old key-encryption key
// must be restarted on next.
func (s *Sealer) Rewrap(ctx context.Context, next *secrets.Keeper, nextVersion int) (int, error) {
	all, err := s.keys.ListDataKeys(ctx)
	if err != nil {
		return 0, fmt.Errorf("rewrap data keys: %w", err)
	}
	n := 0
	for _, dk := range all {
		if dk.KEKVersion == nextVersion {
			continue
		}
		raw, err := s.kek.unwrap(ctx, dk.KEKVersion, dk.Wrapped)
		if err != nil {
			return n, fmt.Errorf("rewrap data key %q: unwrap: %w", dk.ID, err)
		}
		dk.Wrapped, err = next.Encrypt(ctx, raw)
		clear(raw)
		if err != nil {
			return n, fmt.Errorf("rewrap data key %q: wrap: %w", dk.ID, err)
		}
		dk.KEKVersion = nextVersion
		if err := s.keys.UpdateDataKey(ctx, dk); err != nil {
			return n, fmt.Errorf("rewrap data key %q: %w", dk.ID, err)
		}
		n++
	}
	return n, nil
}

// rewrapPasses bounds RewrapAll's passes over the data keys: a pass is
// repeated while a data key on an older version remains (one created
// during the pass by a process that had not yet seen the new version).
const rewrapPasses = 5

// RewrapAll rewraps every data key that is not on the Keyring's active
// version with that version (online: the row of each data key is updated
// alone, and values sealed with it are untouched). It returns how many
// keys it rewrapped. The Sealer must come from NewWithKeyring.
func (s *Sealer) RewrapAll(ctx context.Context) (int, error) {
	ring, err := s.keyring()
	if err != nil {
		return 0, fmt.Errorf("rewrap data keys: %w", err)
	}
	total := 0
	for range rewrapPasses {
		if err := ring.Reload(ctx); err != nil {
			return total, err
		}
		version, keeper, err := ring.Active()
		if err != nil {
			return total, fmt.Errorf("rewrap data keys: %w", err)
		}
		n, err := s.Rewrap(ctx, keeper, version)
		total += n
		if err != nil {
			return total, err
		}
		if n == 0 {
			return total, nil
		}
	}
	return total, fmt.Errorf("rewrap data keys: keys on older versions kept appearing after %d passes", rewrapPasses)
}

// CheckDataKeys unwraps every data key, proving that this process holds
// the key-encryption keys they need; it returns how many there are.
func (s *Sealer) CheckDataKeys(ctx context.Context) (int, error) {
	all, err := s.keys.ListDataKeys(ctx)
	if err != nil {
		return 0, fmt.Errorf("check data keys: %w", err)
	}
	for _, dk := range all {
		raw, err := s.kek.unwrap(ctx, dk.KEKVersion, dk.Wrapped)
		if err != nil {
			return 0, fmt.Errorf("check data key %q: %w", dk.ID, err)
		}
		clear(raw)
	}
	return len(all), nil
}

// keyring returns the Sealer's keyring, or an error for a Sealer from New.
func (s *Sealer) keyring() (*Keyring, error) {
	ring, ok := s.kek.(*Keyring)
	if !ok {
		return nil, errors.New("key-encryption keys: the Sealer has no keyring")
	}
	return ring, nil
}

// Rotate rotates the key-encryption key online, as "behalf keys rotate"
// and SetTokenVaultCMK do: it records a new active version (Keyring.Rotate:
// the key toKMS names, or a new local key file for "") and rewraps every
// data key with it (RewrapAll). Servers sharing the database follow the
// new version at their next seal or unseal of an unknown version. It
// returns the version and how many data keys it rewrapped; if rewrapping
// fails, the version is recorded and active (returned with the error) and
// RewrapAll finishes the job.
func (s *Sealer) Rotate(ctx context.Context, toKMS string) (*behalf.KEKVersion, int, error) {
	ring, err := s.keyring()
	if err != nil {
		return nil, 0, err
	}
	v, err := ring.Rotate(ctx, toKMS)
	if err != nil {
		return nil, 0, err
	}
	n, err := s.RewrapAll(ctx)
	if err != nil {
		return v, n, fmt.Errorf("%w\nkey-encryption key version %d is recorded and active; run \"behalf keys rewrap\" to finish", err, v.Version)
	}
	return v, n, nil
}

// RotateKEK implements behalf.KeyEncryptionKeys: Rotate.
func (s *Sealer) RotateKEK(ctx context.Context, keeperURL string) (*behalf.KEKVersion, error) {
	v, _, err := s.Rotate(ctx, keeperURL)
	return v, err
}

// ActiveKEK implements behalf.KeyEncryptionKeys: the active version as
// the database records it now.
func (s *Sealer) ActiveKEK(ctx context.Context) (*behalf.KEKVersion, error) {
	ring, err := s.keyring()
	if err != nil {
		return nil, err
	}
	return ring.ActiveVersion(ctx)
}

// KEKGiven implements behalf.KeyEncryptionKeys: whether the keyring was
// configured with keeperURL (serve --kms or --kms-previous).
func (s *Sealer) KEKGiven(keeperURL string) bool {
	ring, err := s.keyring()
	return err == nil && ring.Given(keeperURL)
}

var _ behalf.KeyEncryptionKeys = (*Sealer)(nil)
