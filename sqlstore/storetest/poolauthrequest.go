package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// newPoolAuthRequest returns an auth request with every field set; an
// empty codeHash makes it a request without a code yet.
func newPoolAuthRequest(id, poolID, codeHash string) *behalf.PoolAuthRequest {
	return &behalf.PoolAuthRequest{
		ID:        id,
		PoolID:    poolID,
		CodeHash:  codeHash,
		ClientIP:  "2001:db8:1:2::/64",
		Data:      behalf.Sealed{0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 'r'},
		ExpiresAt: t0.Add(10 * time.Minute),
		CreatedAt: t0,
	}
}

// createPoolAuthRequest stores r, failing t on error.
func createPoolAuthRequest(t *testing.T, s behalf.Store, r *behalf.PoolAuthRequest) {
	t.Helper()
	if err := s.CreatePoolAuthRequest(t.Context(), r); err != nil {
		t.Fatalf("CreatePoolAuthRequest(%q): %v", r.ID, err)
	}
}

// getPoolAuthRequest reads the auth request with the given id, failing t
// on error.
func getPoolAuthRequest(t *testing.T, s behalf.Store, id string) *behalf.PoolAuthRequest {
	t.Helper()
	r, err := s.GetPoolAuthRequest(t.Context(), id)
	if err != nil {
		t.Fatalf("GetPoolAuthRequest(%q): %v", id, err)
	}
	return r
}

// testPoolAuthRequests checks the auth request methods of UserPoolStore.
func testPoolAuthRequests(t *testing.T, open openFunc) {
	t.Run("Create", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createPoolAuthRequest(t, s, newPoolAuthRequest("req-1", poolA, "code-1"))
			wantEqual(t, "GetPoolAuthRequest", getPoolAuthRequest(t, s, "req-1"), newPoolAuthRequest("req-1", poolA, "code-1"))
		})
		t.Run("ZeroFields", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			bare := &behalf.PoolAuthRequest{ID: "req-1", PoolID: poolA}
			createPoolAuthRequest(t, s, bare)
			wantEqual(t, "GetPoolAuthRequest", getPoolAuthRequest(t, s, "req-1"), bare)
		})
		t.Run("WithoutCode", func(t *testing.T) {
			// Any number of requests may be without a code.
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			for _, id := range []string{"req-1", "req-2", "req-3"} {
				createPoolAuthRequest(t, s, newPoolAuthRequest(id, poolA, ""))
			}
			wantEqual(t, "GetPoolAuthRequest", getPoolAuthRequest(t, s, "req-2"), newPoolAuthRequest("req-2", poolA, ""))
			_, err := s.GetPoolAuthRequestByCode(t.Context(), "")
			wantCode(t, err, behalf.ENOTFOUND)
		})
		t.Run("ErrConflict", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createUserPool(t, s, newUserPool(poolB))
			createPoolAuthRequest(t, s, newPoolAuthRequest("req-1", poolA, "code-1"))
			// Same id; same code (in any pool).
			for _, dup := range []*behalf.PoolAuthRequest{
				newPoolAuthRequest("req-1", poolA, "code-2"),
				newPoolAuthRequest("req-1", poolB, ""),
				newPoolAuthRequest("req-2", poolA, "code-1"),
				newPoolAuthRequest("req-2", poolB, "code-1"),
			} {
				wantCode(t, s.CreatePoolAuthRequest(t.Context(), dup), behalf.ECONFLICT)
			}
			wantEqual(t, "GetPoolAuthRequest after conflict", getPoolAuthRequest(t, s, "req-1"), newPoolAuthRequest("req-1", poolA, "code-1"))
			_, err := s.GetPoolAuthRequest(t.Context(), "req-2")
			wantCode(t, err, behalf.ENOTFOUND)
			_, err = s.GetPoolAuthRequestByCode(t.Context(), "code-2")
			wantCode(t, err, behalf.ENOTFOUND)
		})
		t.Run("ErrPoolNotFound", func(t *testing.T) {
			s := open(t)
			err := s.CreatePoolAuthRequest(t.Context(), newPoolAuthRequest("req-1", poolA, "code-1"))
			wantCode(t, err, behalf.ENOTFOUND)
			wantMessage(t, err, "User pool "+poolA+" does not exist.")
		})
	})
	t.Run("Get", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createPoolAuthRequest(t, s, newPoolAuthRequest("req-1", poolA, "code-1"))
			for _, id := range []string{"req-2", "REQ-1", "code-1", ""} {
				_, err := s.GetPoolAuthRequest(t.Context(), id)
				wantCode(t, err, behalf.ENOTFOUND)
			}
		})
	})
	t.Run("GetByCode", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createPoolAuthRequest(t, s, newPoolAuthRequest("req-1", poolA, "code-1"))
			createPoolAuthRequest(t, s, newPoolAuthRequest("req-2", poolA, "code-2"))
			createPoolAuthRequest(t, s, newPoolAuthRequest("req-3", poolA, ""))
			got, err := s.GetPoolAuthRequestByCode(t.Context(), "code-2")
			ok(t, err)
			wantEqual(t, "GetPoolAuthRequestByCode", got, newPoolAuthRequest("req-2", poolA, "code-2"))
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createPoolAuthRequest(t, s, newPoolAuthRequest("req-1", poolA, "code-1"))
			createPoolAuthRequest(t, s, newPoolAuthRequest("req-2", poolA, ""))
			for _, h := range []string{"code-2", "CODE-1", "req-1", "req-2", ""} {
				_, err := s.GetPoolAuthRequestByCode(t.Context(), h)
				wantCode(t, err, behalf.ENOTFOUND)
			}
		})
	})
	t.Run("Update", func(t *testing.T) { testUpdatePoolAuthRequest(t, open) })
	t.Run("Delete", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			createPoolAuthRequest(t, s, newPoolAuthRequest("req-1", poolA, "code-1"))
			createPoolAuthRequest(t, s, newPoolAuthRequest("req-2", poolA, "code-2"))
			ok(t, s.DeletePoolAuthRequest(t.Context(), "req-1"))
			_, err := s.GetPoolAuthRequest(t.Context(), "req-1")
			wantCode(t, err, behalf.ENOTFOUND)
			_, err = s.GetPoolAuthRequestByCode(t.Context(), "code-1")
			wantCode(t, err, behalf.ENOTFOUND)
			wantEqual(t, "other request", getPoolAuthRequest(t, s, "req-2"), newPoolAuthRequest("req-2", poolA, "code-2"))
			// The code is free again.
			createPoolAuthRequest(t, s, newPoolAuthRequest("req-3", poolA, "code-1"))
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s := open(t)
			createUserPool(t, s, newUserPool(poolA))
			wantCode(t, s.DeletePoolAuthRequest(t.Context(), "req-1"), behalf.ENOTFOUND)
		})
	})
	t.Run("DeleteExpired", func(t *testing.T) { testDeleteExpiredPoolAuthRequests(t, open) })
	t.Run("Count", func(t *testing.T) { testCountPoolAuthRequests(t, open) })
}

// testCountPoolAuthRequests checks CountPoolAuthRequests: requests whose
// ExpiresAt is strictly after the time count, with or without a code, in
// every pool, of one ClientIP or all; counting stops at the limit; updates
// keep the ClientIP.
func testCountPoolAuthRequests(t *testing.T, open openFunc) {
	s := open(t)
	createUserPool(t, s, newUserPool(poolA))
	createUserPool(t, s, newUserPool(poolB))
	count := func(clientIP string, at time.Time, limit, want int) {
		t.Helper()
		n, err := s.CountPoolAuthRequests(t.Context(), clientIP, at, limit)
		ok(t, err)
		if n != want {
			t.Errorf("CountPoolAuthRequests(%q, t0%+v, %d) = %d, want %d", clientIP, at.Sub(t0), limit, n, want)
		}
	}
	count("", t0, 0, 0)
	count("192.0.2.1", t0, 10, 0)
	const ipA, ipB = "192.0.2.1", "2001:db8:1:2::/64"
	// Per address, expiring at -1µs, t0, +1µs, +1m, +10m: 3 unexpired at t0.
	i := 0
	for _, ip := range []string{ipA, ipB, ""} {
		for _, exp := range []time.Duration{-time.Microsecond, 0, time.Microsecond, time.Minute, 10 * time.Minute} {
			i++
			id, code, pool := fmt.Sprintf("req-%d", i), "", poolA
			if i%2 == 0 {
				code, pool = "code-"+id, poolB
			}
			r := newPoolAuthRequest(id, pool, code)
			r.ClientIP, r.ExpiresAt = ip, t0.Add(exp)
			createPoolAuthRequest(t, s, r)
		}
	}
	count(ipA, t0, 0, 3)
	count(ipB, t0, 0, 3)
	count("192.0.2.2", t0, 0, 0)
	count("", t0, 0, 9)
	count("", t0.Add(-time.Hour), 0, 15)
	count(ipA, t0.Add(time.Minute), 0, 1)
	count("", t0.Add(10*time.Minute), 0, 0)
	// The limit stops the count; a larger one does not change it.
	count(ipA, t0, 2, 2)
	count("", t0, 5, 5)
	count("", t0, 1, 1)
	count(ipB, t0, 100, 3)
	count("", t0, 9, 9)
	// An update (a code issued) keeps the address; a deletion counts no more.
	_, err := s.UpdatePoolAuthRequest(t.Context(), "req-3", func(r *behalf.PoolAuthRequest) error {
		r.CodeHash, r.ClientIP, r.ExpiresAt = "code-new", ipB, t0.Add(5*time.Minute)
		return nil
	})
	ok(t, err)
	count(ipA, t0, 0, 3)
	count(ipB, t0, 0, 3)
	ok(t, s.DeletePoolAuthRequest(t.Context(), "req-3"))
	count(ipA, t0, 0, 2)
	count("", t0, 0, 8)
}

// testDeleteExpiredPoolAuthRequests checks DeleteExpiredPoolAuthRequests:
// requests that expired strictly before the cutoff go, in every pool,
// with or without a code; the others stay.
func testDeleteExpiredPoolAuthRequests(t *testing.T, open openFunc) {
	s := open(t)
	createUserPool(t, s, newUserPool(poolA))
	createUserPool(t, s, newUserPool(poolB))
	n, err := s.DeleteExpiredPoolAuthRequests(t.Context(), t0)
	ok(t, err)
	if n != 0 {
		t.Fatalf("DeleteExpiredPoolAuthRequests on an empty store = %d", n)
	}
	requests := map[string]*behalf.PoolAuthRequest{}
	for i, exp := range []time.Duration{-2 * time.Minute, -time.Microsecond, 0, time.Microsecond, 2 * time.Minute} {
		for _, pool := range []string{poolA, poolB} {
			id, code := fmt.Sprintf("req-%s-%d", pool, i), ""
			if i%2 == 0 {
				code = "code-" + id
			}
			r := newPoolAuthRequest(id, pool, code)
			r.ExpiresAt = t0.Add(exp)
			createPoolAuthRequest(t, s, r)
			requests[id] = r
		}
	}
	// Expired before t0: requests 0 and 1 of each pool; 2 expires exactly at t0.
	n, err = s.DeleteExpiredPoolAuthRequests(t.Context(), t0)
	ok(t, err)
	if n != 4 {
		t.Fatalf("DeleteExpiredPoolAuthRequests(t0) = %d, want 4", n)
	}
	for id, r := range requests {
		if r.ExpiresAt.Before(t0) {
			_, err := s.GetPoolAuthRequest(t.Context(), id)
			wantCode(t, err, behalf.ENOTFOUND)
			if r.CodeHash != "" {
				_, err = s.GetPoolAuthRequestByCode(t.Context(), r.CodeHash)
				wantCode(t, err, behalf.ENOTFOUND)
			}
			continue
		}
		wantEqual(t, "GetPoolAuthRequest("+id+") after the sweep", getPoolAuthRequest(t, s, id), r)
	}
	n, err = s.DeleteExpiredPoolAuthRequests(t.Context(), t0)
	ok(t, err)
	if n != 0 {
		t.Fatalf("second DeleteExpiredPoolAuthRequests(t0) = %d, want 0", n)
	}
	n, err = s.DeleteExpiredPoolAuthRequests(t.Context(), t0.Add(time.Hour))
	ok(t, err)
	if n != 6 {
		t.Fatalf("DeleteExpiredPoolAuthRequests(t0+1h) = %d, want 6", n)
	}
}

// testUpdatePoolAuthRequest checks UpdatePoolAuthRequest.
func testUpdatePoolAuthRequest(t *testing.T, open openFunc) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createUserPool(t, s, newUserPool(poolB))
		createPoolAuthRequest(t, s, newPoolAuthRequest("req-1", poolA, ""))
		t1 := t0.Add(time.Hour)
		edit := func(r *behalf.PoolAuthRequest) {
			r.CodeHash = "code-1"
			r.Data = behalf.Sealed("new data")
			r.ExpiresAt = t1
		}
		got, err := s.UpdatePoolAuthRequest(t.Context(), "req-1", func(r *behalf.PoolAuthRequest) error {
			edit(r)
			r.ID = "req-2"            // immutable: ignored
			r.PoolID = poolB          // immutable: ignored
			r.ClientIP = "192.0.2.99" // immutable: ignored
			r.CreatedAt = t1          // immutable: ignored
			return nil
		})
		ok(t, err)
		want := newPoolAuthRequest("req-1", poolA, "")
		edit(want)
		wantEqual(t, "UpdatePoolAuthRequest result", got, want)
		wantEqual(t, "GetPoolAuthRequest after update", getPoolAuthRequest(t, s, "req-1"), want)
		byCode, err := s.GetPoolAuthRequestByCode(t.Context(), "code-1")
		ok(t, err)
		wantEqual(t, "GetPoolAuthRequestByCode after update", byCode, want)
		_, err = s.GetPoolAuthRequest(t.Context(), "req-2")
		wantCode(t, err, behalf.ENOTFOUND)

		// Clearing the code.
		got, err = s.UpdatePoolAuthRequest(t.Context(), "req-1", func(r *behalf.PoolAuthRequest) error {
			r.CodeHash = ""
			r.Data = nil
			return nil
		})
		ok(t, err)
		want.CodeHash = ""
		want.Data = nil
		wantEqual(t, "UpdatePoolAuthRequest result after clearing the code", got, want)
		_, err = s.GetPoolAuthRequestByCode(t.Context(), "code-1")
		wantCode(t, err, behalf.ENOTFOUND)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		_, err := s.UpdatePoolAuthRequest(t.Context(), "req-1", func(*behalf.PoolAuthRequest) error {
			t.Error("fn called for a missing request")
			return nil
		})
		wantCode(t, err, behalf.ENOTFOUND)
	})
	t.Run("ErrFn", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createPoolAuthRequest(t, s, newPoolAuthRequest("req-1", poolA, "code-1"))
		_, err := s.UpdatePoolAuthRequest(t.Context(), "req-1", func(r *behalf.PoolAuthRequest) error {
			r.CodeHash = "code-2"
			r.Data = nil
			return errFn
		})
		wantFnErr(t, err)
		wantEqual(t, "GetPoolAuthRequest after failed update", getPoolAuthRequest(t, s, "req-1"), newPoolAuthRequest("req-1", poolA, "code-1"))
		_, err = s.GetPoolAuthRequestByCode(t.Context(), "code-2")
		wantCode(t, err, behalf.ENOTFOUND)
	})
	t.Run("ErrConflict", func(t *testing.T) {
		s := open(t)
		createUserPool(t, s, newUserPool(poolA))
		createPoolAuthRequest(t, s, newPoolAuthRequest("req-1", poolA, "code-1"))
		createPoolAuthRequest(t, s, newPoolAuthRequest("req-2", poolA, "code-2"))
		_, err := s.UpdatePoolAuthRequest(t.Context(), "req-1", func(r *behalf.PoolAuthRequest) error {
			r.CodeHash = "code-2"
			return nil
		})
		wantCode(t, err, behalf.ECONFLICT)
		wantEqual(t, "GetPoolAuthRequest after conflict", getPoolAuthRequest(t, s, "req-1"), newPoolAuthRequest("req-1", poolA, "code-1"))
	})
}
