package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// newSession returns an authorization session with every field set.
func newSession(id, stateHash string) *behalf.AuthSession {
	return &behalf.AuthSession{
		ID:            id,
		Workload:      "agent-1",
		User:          behalf.User{Issuer: "https://idp.example.com", Subject: "alice"},
		ProviderID:    "prov-1",
		Scopes:        []string{"openid", "email"},
		ReturnURL:     "https://agent.example.com/callback?x=1",
		StateHash:     stateHash,
		Secrets:       behalf.Sealed{0x00, 0x01, 0xfe, 0xff, 's'},
		Pending:       behalf.Sealed{0x00, 0x02, 0xfd, 'p'},
		Resources:     []string{"https://api.example.com/"},
		Audiences:     []string{"aud-1", "aud-2"},
		RequestHash:   "req-" + id,
		BrowserHash:   "browser-" + id,
		Account:       "alice@example.com",
		Status:        behalf.SessionAuthorize,
		FailureReason: "none yet",
		GrantID:       "g-1",
		Version:       1,
		CreatedAt:     t0,
		ExpiresAt:     t0.Add(10 * time.Minute),
	}
}

// createSession stores s, failing t on error.
func createSession(t *testing.T, st behalf.Store, s *behalf.AuthSession) {
	t.Helper()
	if err := st.CreateSession(t.Context(), s); err != nil {
		t.Fatalf("CreateSession(%q): %v", s.ID, err)
	}
}

// getSession reads the session with the given id, failing t on error.
func getSession(t *testing.T, st behalf.Store, id string) *behalf.AuthSession {
	t.Helper()
	s, err := st.GetSession(t.Context(), id)
	if err != nil {
		t.Fatalf("GetSession(%q): %v", id, err)
	}
	return s
}

// testSessions checks the SessionStore methods.
func testSessions(t *testing.T, open openFunc) {
	t.Run("Create", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			st := open(t)
			createSession(t, st, newSession("sess-1", "state-1"))
			wantEqual(t, "GetSession", getSession(t, st, "sess-1"), newSession("sess-1", "state-1"))
		})
		t.Run("ZeroFields", func(t *testing.T) {
			st := open(t)
			bare := &behalf.AuthSession{ID: "sess-1", StateHash: "state-1"}
			createSession(t, st, bare)
			wantEqual(t, "GetSession", getSession(t, st, "sess-1"), bare)
		})
		t.Run("UserWithoutIssuer", func(t *testing.T) {
			st := open(t)
			s := newSession("sess-1", "state-1")
			s.User = behalf.User{Subject: "user-42"}
			createSession(t, st, s)
			wantEqual(t, "GetSession", getSession(t, st, "sess-1").User, behalf.User{Subject: "user-42"})
		})
		t.Run("ErrConflict", func(t *testing.T) {
			st := open(t)
			createSession(t, st, newSession("sess-1", "state-1"))
			// Same id.
			wantCode(t, st.CreateSession(t.Context(), newSession("sess-1", "state-2")), behalf.ECONFLICT)
			// Same state hash.
			wantCode(t, st.CreateSession(t.Context(), newSession("sess-2", "state-1")), behalf.ECONFLICT)
			wantEqual(t, "GetSession after conflict", getSession(t, st, "sess-1"), newSession("sess-1", "state-1"))
			_, err := st.GetSession(t.Context(), "sess-2")
			wantCode(t, err, behalf.ENOTFOUND)
			_, err = st.GetSessionByState(t.Context(), "state-2")
			wantCode(t, err, behalf.ENOTFOUND)
		})
	})
	t.Run("Get", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			st := open(t)
			_, err := st.GetSession(t.Context(), "missing")
			wantCode(t, err, behalf.ENOTFOUND)
		})
	})
	t.Run("GetByState", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			st := open(t)
			createSession(t, st, newSession("sess-1", "state-1"))
			createSession(t, st, newSession("sess-2", "state-2"))
			got, err := st.GetSessionByState(t.Context(), "state-2")
			ok(t, err)
			wantEqual(t, "GetSessionByState", got, newSession("sess-2", "state-2"))
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			st := open(t)
			createSession(t, st, newSession("sess-1", "state-1"))
			for _, h := range []string{"missing", "STATE-1", "sess-1", ""} {
				_, err := st.GetSessionByState(t.Context(), h)
				wantCode(t, err, behalf.ENOTFOUND)
			}
		})
	})
	t.Run("GetByRequest", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			st := open(t)
			createSession(t, st, newSession("sess-1", "state-1"))
			createSession(t, st, newSession("sess-2", "state-2"))
			got, err := st.GetSessionByRequest(t.Context(), "req-sess-2")
			ok(t, err)
			wantEqual(t, "GetSessionByRequest", got, newSession("sess-2", "state-2"))
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			st := open(t)
			createSession(t, st, newSession("sess-1", "state-1"))
			noRequest := newSession("sess-2", "state-2")
			noRequest.RequestHash = ""
			createSession(t, st, noRequest)
			for _, h := range []string{"missing", "REQ-SESS-1", "sess-1", "state-1", ""} {
				_, err := st.GetSessionByRequest(t.Context(), h)
				wantCode(t, err, behalf.ENOTFOUND)
			}
		})
		t.Run("ErrConflict", func(t *testing.T) {
			st := open(t)
			createSession(t, st, newSession("sess-1", "state-1"))
			dup := newSession("sess-2", "state-2")
			dup.RequestHash = "req-sess-1"
			wantCode(t, st.CreateSession(t.Context(), dup), behalf.ECONFLICT)
			// Sessions without a request reference do not collide.
			for _, id := range []string{"sess-3", "sess-4"} {
				s := newSession(id, "state-x"+id)
				s.RequestHash = ""
				createSession(t, st, s)
			}
		})
	})
	t.Run("ExpiredPending", func(t *testing.T) {
		st := open(t)
		mk := func(id, status string, expires time.Duration) {
			s := newSession(id, "state-"+id)
			s.Status, s.ExpiresAt = status, t0.Add(expires)
			createSession(t, st, s)
		}
		mk("late", behalf.SessionCallback, -time.Minute)
		mk("older", behalf.SessionCallback, -time.Hour)
		mk("live", behalf.SessionCallback, time.Minute)
		mk("done", behalf.SessionCompleted, -time.Hour)
		mk("failed", behalf.SessionFailed, -time.Hour)
		got, err := st.ExpiredPendingSessions(t.Context(), t0, 10)
		ok(t, err)
		var ids []string
		for _, s := range got {
			ids = append(ids, s.ID)
		}
		if len(ids) != 2 || ids[0] != "older" || ids[1] != "late" {
			t.Fatalf("ExpiredPendingSessions = %q, want [older late]", ids)
		}
		got, err = st.ExpiredPendingSessions(t.Context(), t0, 1)
		ok(t, err)
		if len(got) != 1 || got[0].ID != "older" {
			t.Fatalf("ExpiredPendingSessions(limit 1) = %d sessions, want [older]", len(got))
		}
	})
	t.Run("Update", func(t *testing.T) { testUpdateSession(t, open) })
	t.Run("DeleteExpired", func(t *testing.T) {
		st := open(t)
		n, err := st.DeleteExpiredSessions(t.Context(), t0)
		ok(t, err)
		if n != 0 {
			t.Fatalf("DeleteExpiredSessions on an empty store = %d", n)
		}
		for i, exp := range []time.Duration{-2, -1, 0, 1, 2} {
			s := newSession("sess-"+string(rune('a'+i)), "state-"+string(rune('a'+i)))
			s.ExpiresAt = t0.Add(exp * time.Minute)
			createSession(t, st, s)
		}
		// Expired before t0: sess-a and sess-b; sess-c expires exactly at t0.
		n, err = st.DeleteExpiredSessions(t.Context(), t0)
		ok(t, err)
		if n != 2 {
			t.Fatalf("DeleteExpiredSessions(t0) = %d, want 2", n)
		}
		for _, id := range []string{"sess-a", "sess-b"} {
			_, err := st.GetSession(t.Context(), id)
			wantCode(t, err, behalf.ENOTFOUND)
		}
		for _, id := range []string{"sess-c", "sess-d", "sess-e"} {
			getSession(t, st, id)
		}
		n, err = st.DeleteExpiredSessions(t.Context(), t0)
		ok(t, err)
		if n != 0 {
			t.Fatalf("second DeleteExpiredSessions(t0) = %d, want 0", n)
		}
		n, err = st.DeleteExpiredSessions(t.Context(), t0.Add(time.Hour))
		ok(t, err)
		if n != 3 {
			t.Fatalf("DeleteExpiredSessions(t0+1h) = %d, want 3", n)
		}
	})
}

// testUpdateSession checks UpdateSession.
func testUpdateSession(t *testing.T, open openFunc) {
	t.Run("OK", func(t *testing.T) {
		st := open(t)
		createSession(t, st, newSession("sess-1", "state-1"))
		t1 := t0.Add(time.Hour)
		got, err := st.UpdateSession(t.Context(), "sess-1", func(s *behalf.AuthSession) error {
			if s.Version != 1 {
				t.Errorf("fn got Version %d, want 1", s.Version)
			}
			s.Scopes = []string{"openid"}
			s.ReturnURL = "https://agent.example.com/other"
			s.StateHash = "state-1b"
			s.Secrets = behalf.Sealed("new secrets")
			s.Pending = nil
			s.Resources = nil
			s.Audiences = []string{"aud-3"}
			s.Status = behalf.SessionCompleted
			s.FailureReason = ""
			s.GrantID = "g-2"
			s.ExpiresAt = t1
			s.ID = "sess-2"                      // immutable: ignored
			s.Workload = "agent-2"               // immutable: ignored
			s.User = behalf.User{Subject: "bob"} // immutable: ignored
			s.ProviderID = "prov-2"              // immutable: ignored
			s.CreatedAt = t1                     // immutable: ignored
			s.Version = 100                      // set by the store: ignored
			return nil
		})
		ok(t, err)
		want := newSession("sess-1", "state-1b")
		want.Scopes = []string{"openid"}
		want.ReturnURL = "https://agent.example.com/other"
		want.Secrets = behalf.Sealed("new secrets")
		want.Pending = nil
		want.Resources = nil
		want.Audiences = []string{"aud-3"}
		want.Status = behalf.SessionCompleted
		want.FailureReason = ""
		want.GrantID = "g-2"
		want.ExpiresAt = t1
		want.Version = 2
		wantEqual(t, "UpdateSession result", got, want)
		wantEqual(t, "GetSession after update", getSession(t, st, "sess-1"), want)
		byState, err := st.GetSessionByState(t.Context(), "state-1b")
		ok(t, err)
		wantEqual(t, "GetSessionByState after update", byState, want)
		_, err = st.GetSessionByState(t.Context(), "state-1")
		wantCode(t, err, behalf.ENOTFOUND)
		_, err = st.GetSession(t.Context(), "sess-2")
		wantCode(t, err, behalf.ENOTFOUND)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		st := open(t)
		_, err := st.UpdateSession(t.Context(), "missing", func(*behalf.AuthSession) error {
			t.Error("fn called for a missing session")
			return nil
		})
		wantCode(t, err, behalf.ENOTFOUND)
	})
	t.Run("ErrFn", func(t *testing.T) {
		st := open(t)
		createSession(t, st, newSession("sess-1", "state-1"))
		_, err := st.UpdateSession(t.Context(), "sess-1", func(s *behalf.AuthSession) error {
			s.Status = behalf.SessionFailed
			s.Pending = nil
			return errFn
		})
		wantFnErr(t, err)
		wantEqual(t, "GetSession after failed update", getSession(t, st, "sess-1"), newSession("sess-1", "state-1"))
	})
	t.Run("ErrConflict", func(t *testing.T) {
		st := open(t)
		createSession(t, st, newSession("sess-1", "state-1"))
		createSession(t, st, newSession("sess-2", "state-2"))
		_, err := st.UpdateSession(t.Context(), "sess-1", func(s *behalf.AuthSession) error {
			s.StateHash = "state-2"
			return nil
		})
		wantCode(t, err, behalf.ECONFLICT)
		wantEqual(t, "GetSession after conflict", getSession(t, st, "sess-1"), newSession("sess-1", "state-1"))
	})
	t.Run("Concurrent", func(t *testing.T) {
		st := open(t)
		s := newSession("sess-1", "state-1")
		s.Status = behalf.SessionCallback
		createSession(t, st, s)
		errMoved := errors.New("session no longer in CALLBACK")
		const n = 20
		var wins atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				_, err := st.UpdateSession(t.Context(), "sess-1", func(s *behalf.AuthSession) error {
					if s.Status != behalf.SessionCallback {
						return errMoved
					}
					// Widen the window between read and write, so that a
					// store that does not lock the row lets others read
					// CALLBACK too.
					time.Sleep(10 * time.Millisecond)
					s.Status = behalf.SessionCompleted
					s.GrantID = "g-1"
					return nil
				})
				switch err {
				case nil:
					wins.Add(1)
				case errMoved:
				default:
					t.Errorf("UpdateSession %d: %v", i, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if got := wins.Load(); got != 1 {
			t.Fatalf("%d of %d concurrent CALLBACK→COMPLETED moves succeeded, want exactly 1", got, n)
		}
		got := getSession(t, st, "sess-1")
		if got.Status != behalf.SessionCompleted || got.Version != 2 {
			t.Fatalf("after the moves: status %q, Version %d; want %q and 2", got.Status, got.Version, behalf.SessionCompleted)
		}
	})
}
