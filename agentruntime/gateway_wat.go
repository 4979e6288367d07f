package agentruntime

import (
	"context"
	"crypto/sha256"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/internal/ttlcache"
)

// watCache keeps the WAT minted for a workload and a user credential (the
// bearer token itself, or a SigV4 caller's user id) until WATRefreshMargin
// before it expires, so repeated invocations with one token mint once.
// Keys are SHA-256 hashes: no token is kept in clear as a key.
type watCache struct {
	entries ttlcache.Cache[[32]byte, behalf.Secret]
	group   singleflight.Group
}

// wat returns the WAT for workload and user, from the cache or minted.
// cred identifies the credential the user was authenticated with;
// userToken is the user's JWT ("" for none); userExpiry and userIssued are
// its expiry and issue time (zero for none).
func (g *Gateway) wat(ctx context.Context, workload, cred string, user behalf.User, userToken behalf.Secret, userExpiry, userIssued time.Time) (behalf.Secret, error) {
	key := sha256.Sum256([]byte(workload + "\x00" + cred))
	if tok, ok := g.wats.entries.Get(key, g.now()); ok {
		return tok, nil
	}
	v, err, _ := g.wats.group.Do(string(key[:]), func() (any, error) {
		if tok, ok := g.wats.entries.Get(key, g.now()); ok {
			return tok, nil
		}
		// Not the caller's context: others may be waiting on this mint.
		tok, exp, err := g.WATs.MintForRuntime(context.WithoutCancel(ctx), workload, user, userToken, userExpiry, userIssued)
		if err != nil {
			return behalf.Secret(""), err
		}
		if refresh := exp.Add(-WATRefreshMargin); g.now().Before(refresh) {
			g.wats.entries.Put(key, tok, refresh)
		}
		return tok, nil
	})
	if err != nil {
		if behalf.ErrorCode(err) == behalf.ENOTFOUND {
			// The runtime's workload identity is gone: the runtime is
			// being deleted or was damaged by hand.
			return "", behalf.Errorf(behalf.ENOTFOUND, "The agent runtime's workload identity was not found.")
		}
		return "", err
	}
	return v.(behalf.Secret), nil
}
