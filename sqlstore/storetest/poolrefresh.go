package storetest

import (
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// newPoolRefreshToken returns an unrevoked refresh token with every other
// field set.
func newPoolRefreshToken(hash, poolID, clientID, username string) *behalf.PoolRefreshToken {
	return &behalf.PoolRefreshToken{
		Hash:      hash,
		PoolID:    poolID,
		ClientID:  clientID,
		Username:  username,
		OriginJTI: "jti-" + hash,
		Scopes:    []string{"openid", "email", "aws.cognito.signin.user.admin"},
		Resources: []string{"https://mcp.example.com/mcp", "https://other.example.com/api?x=1"},
		AuthTime:  t0.Add(-time.Minute),
		ExpiresAt: t0.Add(30 * 24 * time.Hour),
		CreatedAt: t0,
	}
}

// createPoolRefreshToken stores rt, failing t on error.
func createPoolRefreshToken(t *testing.T, s behalf.Store, rt *behalf.PoolRefreshToken) {
	t.Helper()
	if err := s.CreatePoolRefreshToken(t.Context(), rt); err != nil {
		t.Fatalf("CreatePoolRefreshToken(%q): %v", rt.Hash, err)
	}
}

// getPoolRefreshToken reads the refresh token with the given hash, failing
// t on error.
func getPoolRefreshToken(t *testing.T, s behalf.Store, hash string) *behalf.PoolRefreshToken {
	t.Helper()
	rt, err := s.GetPoolRefreshToken(t.Context(), hash)
	if err != nil {
		t.Fatalf("GetPoolRefreshToken(%q): %v", hash, err)
	}
	return rt
}

// revokedHashes returns which of hashes are revoked, failing t on error.
func revokedHashes(t *testing.T, s behalf.Store, hashes []string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, h := range hashes {
		if getPoolRefreshToken(t, s, h).Revoked {
			out[h] = true
		}
	}
	return out
}

// testPoolRefreshTokens checks the refresh token methods of UserPoolStore.
func testPoolRefreshTokens(t *testing.T, open openFunc) {
	t.Run("Create", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createPoolRefreshToken(t, s, newPoolRefreshToken("hash-1", poolA, "client1", "alice"))
			wantEqual(t, "GetPoolRefreshToken", getPoolRefreshToken(t, s, "hash-1"), newPoolRefreshToken("hash-1", poolA, "client1", "alice"))
		})
		t.Run("ZeroFields", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			bare := &behalf.PoolRefreshToken{Hash: "hash-1", PoolID: poolA}
			createPoolRefreshToken(t, s, bare)
			wantEqual(t, "GetPoolRefreshToken", getPoolRefreshToken(t, s, "hash-1"), bare)
		})
		t.Run("Revoked", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			rt := newPoolRefreshToken("hash-1", poolA, "client1", "alice")
			rt.Revoked = true
			createPoolRefreshToken(t, s, rt)
			wantEqual(t, "GetPoolRefreshToken", getPoolRefreshToken(t, s, "hash-1"), rt)
		})
		t.Run("ErrConflict", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createUserPool(t, s, newUserPool(poolB))
			createPoolRefreshToken(t, s, newPoolRefreshToken("hash-1", poolA, "client1", "alice"))
			wantCode(t, s.CreatePoolRefreshToken(t.Context(), newPoolRefreshToken("hash-1", poolB, "client2", "bob")), behalf.ECONFLICT)
			wantEqual(t, "GetPoolRefreshToken after conflict", getPoolRefreshToken(t, s, "hash-1"),
				newPoolRefreshToken("hash-1", poolA, "client1", "alice"))
		})
		t.Run("ErrPoolNotFound", func(t *testing.T) {
			s := open(t)
			err := s.CreatePoolRefreshToken(t.Context(), newPoolRefreshToken("hash-1", poolA, "client1", "alice"))
			wantCode(t, err, behalf.ENOTFOUND)
			wantMessage(t, err, "User pool "+poolA+" does not exist.")
		})
	})
	t.Run("Get", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createPoolRefreshToken(t, s, newPoolRefreshToken("hash-1", poolA, "client1", "alice"))
			for _, h := range []string{"hash-2", "HASH-1", ""} {
				_, err := s.GetPoolRefreshToken(t.Context(), h)
				wantCode(t, err, behalf.ENOTFOUND)
			}
		})
	})
	t.Run("RevokeAll", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createUserPool(t, s, newUserPool(poolB))
		tokens := []*behalf.PoolRefreshToken{
			newPoolRefreshToken("alice-c1-a", poolA, "client1", "alice"),
			newPoolRefreshToken("alice-c1-b", poolA, "client1", "alice"),
			newPoolRefreshToken("alice-c2", poolA, "client2", "alice"),
			newPoolRefreshToken("bob-c1", poolA, "client1", "bob"),
			newPoolRefreshToken("Alice-c1", poolA, "client1", "Alice"),
			newPoolRefreshToken("alice-B-c3", poolB, "client3", "alice"),
		}
		var hashes []string
		for _, rt := range tokens {
			createPoolRefreshToken(t, s, rt)
			hashes = append(hashes, rt.Hash)
		}
		revoke := func(poolID, username, clientID string, want int) {
			t.Helper()
			n, err := s.RevokePoolRefreshTokens(t.Context(), poolID, username, clientID)
			ok(t, err)
			if n != want {
				t.Fatalf("RevokePoolRefreshTokens(%q, %q, %q) = %d, want %d", poolID, username, clientID, n, want)
			}
		}
		revoke(poolA, "alice", "client1", 2)
		wantEqual(t, "revoked after one client", revokedHashes(t, s, hashes), map[string]bool{"alice-c1-a": true, "alice-c1-b": true})
		// Revoked tokens are not counted again.
		revoke(poolA, "alice", "client1", 0)
		// Every client.
		revoke(poolA, "alice", "", 1)
		wantEqual(t, "revoked after all clients", revokedHashes(t, s, hashes),
			map[string]bool{"alice-c1-a": true, "alice-c1-b": true, "alice-c2": true})
		revoke(poolA, "alice", "", 0)
		// Nothing of unknown users, clients or pools.
		revoke(poolA, "carol", "", 0)
		revoke(poolA, "bob", "client2", 0)
		revoke(poolB, "bob", "", 0)
		revoke("us-west-2_missing", "alice", "", 0)
		wantEqual(t, "revoked after misses", revokedHashes(t, s, hashes),
			map[string]bool{"alice-c1-a": true, "alice-c1-b": true, "alice-c2": true})
		revoke(poolA, "bob", "", 1)
		// Revocation changes nothing else.
		for _, rt := range tokens {
			want := *rt
			want.Revoked = rt.Username != "Alice" && rt.PoolID == poolA
			wantEqual(t, "token after revocations", getPoolRefreshToken(t, s, rt.Hash), &want)
		}
	})
	t.Run("RevokeOne", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createPoolRefreshToken(t, s, newPoolRefreshToken("hash-1", poolA, "client1", "alice"))
			createPoolRefreshToken(t, s, newPoolRefreshToken("hash-2", poolA, "client1", "alice"))
			ok(t, s.RevokePoolRefreshToken(t.Context(), "hash-1"))
			want := newPoolRefreshToken("hash-1", poolA, "client1", "alice")
			want.Revoked = true
			wantEqual(t, "revoked token", getPoolRefreshToken(t, s, "hash-1"), want)
			wantEqual(t, "other token", getPoolRefreshToken(t, s, "hash-2"), newPoolRefreshToken("hash-2", poolA, "client1", "alice"))
			// Revoking again is fine.
			ok(t, s.RevokePoolRefreshToken(t.Context(), "hash-1"))
			wantEqual(t, "token revoked twice", getPoolRefreshToken(t, s, "hash-1"), want)
			n, err := s.RevokePoolRefreshTokens(t.Context(), poolA, "alice", "")
			ok(t, err)
			if n != 1 {
				t.Fatalf("RevokePoolRefreshTokens after revoking one of two = %d, want 1", n)
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createPoolRefreshToken(t, s, newPoolRefreshToken("hash-1", poolA, "client1", "alice"))
			for _, h := range []string{"hash-2", "HASH-1", ""} {
				wantCode(t, s.RevokePoolRefreshToken(t.Context(), h), behalf.ENOTFOUND)
			}
			wantEqual(t, "token after misses", getPoolRefreshToken(t, s, "hash-1"), newPoolRefreshToken("hash-1", poolA, "client1", "alice"))
		})
	})
}
