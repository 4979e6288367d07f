package seal

import (
	"context"
	"fmt"

	"gocloud.dev/secrets"
)

// Rewrap re-encrypts every data key with next, recording nextVersion, for
// "behalf keys rotate". Each key is unwrapped with the Sealer's own keeper;
// keys already at nextVersion are skipped, so an interrupted run can be
// repeated. Sealed values are untouched. It returns how many keys it
// rewrapped. Afterwards, build Sealers on next with KEKVersion nextVersion;
// other processes still on the old key-encryption key must be restarted.
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
		raw, err := s.keeper.Decrypt(ctx, dk.Wrapped)
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
