package storetest

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// versionStore returns the store open makes, skipping t unless it keeps
// runtime versions, endpoints and sessions.
func versionStore(t *testing.T, open openFunc) behalf.Store {
	t.Helper()
	s := runtimeStore(t, open)
	_, v := s.(behalf.AgentRuntimeVersionStore)
	_, e := s.(behalf.AgentRuntimeEndpointStore)
	_, ss := s.(behalf.RuntimeSessionStore)
	if !v || !e || !ss {
		t.Skip("store does not keep runtime versions, endpoints and sessions")
	}
	return s
}

func rvs(s behalf.Store) behalf.AgentRuntimeVersionStore { return s.(behalf.AgentRuntimeVersionStore) }
func res(s behalf.Store) behalf.AgentRuntimeEndpointStore {
	return s.(behalf.AgentRuntimeEndpointStore)
}
func rss(s behalf.Store) behalf.RuntimeSessionStore { return s.(behalf.RuntimeSessionStore) }

// bumpRuntime updates r to version v with a new container URI.
func bumpRuntime(t *testing.T, s behalf.Store, id string, v int) {
	t.Helper()
	_, err := rts(s).UpdateAgentRuntime(t.Context(), id, func(x *behalf.AgentRuntime) error {
		x.Version = strconv.Itoa(v)
		x.ContainerURI = fmt.Sprintf("https://v%d.example.com", v)
		x.UpdatedAt = t0.Add(time.Duration(v) * time.Hour)
		return nil
	})
	ok(t, err)
}

// testAgentRuntimeVersions checks AgentRuntimeVersionStore,
// AgentRuntimeEndpointStore and RuntimeSessionStore.
func testAgentRuntimeVersions(t *testing.T, open openFunc) {
	t.Run("Versions", func(t *testing.T) {
		s := versionStore(t, open)
		r, w := newAgentRuntime("agent_1")
		createAgentRuntime(t, s, r, w)
		for v := 2; v <= 11; v++ {
			bumpRuntime(t, s, r.ID, v)
		}
		// An update that keeps the version records none.
		_, err := rts(s).UpdateAgentRuntime(t.Context(), r.ID, func(x *behalf.AgentRuntime) error {
			x.Tags = map[string]string{"now": "this"}
			return nil
		})
		ok(t, err)
		v1, err := rvs(s).GetAgentRuntimeVersion(t.Context(), r.ID, "1")
		ok(t, err)
		want, _ := newAgentRuntime("agent_1")
		want.Tags = map[string]string{"now": "this"} // the runtime's, not the version's
		wantEqual(t, "version 1", v1, want)
		v5, err := rvs(s).GetAgentRuntimeVersion(t.Context(), r.ID, "5")
		ok(t, err)
		if v5.ContainerURI != "https://v5.example.com" || v5.Version != "5" || v5.Name != "agent_1" {
			t.Fatalf("version 5 = %+v", v5)
		}
		for _, bad := range []string{"12", "0", "x", ""} {
			_, err = rvs(s).GetAgentRuntimeVersion(t.Context(), r.ID, bad)
			wantCode(t, err, behalf.ENOTFOUND)
		}
		_, err = rvs(s).GetAgentRuntimeVersion(t.Context(), "missing-0123456789", "1")
		wantCode(t, err, behalf.ENOTFOUND)

		list := func(opt behalf.ListOptions) []string {
			vs, err := rvs(s).ListAgentRuntimeVersions(t.Context(), r.ID, opt)
			ok(t, err)
			return names(vs, func(v *behalf.AgentRuntime) string { return v.Version })
		}
		wantEqual(t, "all versions", list(behalf.ListOptions{}), []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"})
		wantEqual(t, "after 9, 2", list(behalf.ListOptions{After: "9", Limit: 2}), []string{"10", "11"})
		_, err = rvs(s).ListAgentRuntimeVersions(t.Context(), r.ID, behalf.ListOptions{After: "nine"})
		wantCode(t, err, behalf.EINVALID)
		none, err := rvs(s).ListAgentRuntimeVersions(t.Context(), "missing-0123456789", behalf.ListOptions{})
		ok(t, err)
		if len(none) != 0 {
			t.Fatalf("versions of a missing runtime: %d", len(none))
		}
	})
	t.Run("Endpoints", func(t *testing.T) {
		s := versionStore(t, open)
		r, w := newAgentRuntime("agent_1")
		createAgentRuntime(t, s, r, w)
		e := &behalf.AgentRuntimeEndpoint{RuntimeID: r.ID, Name: "prod", Description: "production ✓", Version: "1",
			Tags: map[string]string{"env": "prod"}, CreatedAt: t0, UpdatedAt: t0}
		ok(t, res(s).CreateAgentRuntimeEndpoint(t.Context(), e))
		got, err := res(s).GetAgentRuntimeEndpoint(t.Context(), r.ID, "prod")
		ok(t, err)
		wantEqual(t, "GetAgentRuntimeEndpoint", got, e)
		dup := *e
		wantCode(t, res(s).CreateAgentRuntimeEndpoint(t.Context(), &dup), behalf.ECONFLICT)
		orphan := *e
		orphan.RuntimeID = "missing-0123456789"
		wantCode(t, res(s).CreateAgentRuntimeEndpoint(t.Context(), &orphan), behalf.ENOTFOUND)
		_, err = res(s).GetAgentRuntimeEndpoint(t.Context(), r.ID, "dev")
		wantCode(t, err, behalf.ENOTFOUND)

		up, err := res(s).UpdateAgentRuntimeEndpoint(t.Context(), r.ID, "prod", func(x *behalf.AgentRuntimeEndpoint) error {
			x.Version, x.Description, x.Tags, x.UpdatedAt = "2", "", nil, t0.Add(time.Hour)
			x.Name, x.RuntimeID, x.CreatedAt = "renamed", "other", t0.Add(time.Hour) // immutable
			return nil
		})
		ok(t, err)
		wantEqual(t, "UpdateAgentRuntimeEndpoint", up, &behalf.AgentRuntimeEndpoint{RuntimeID: r.ID, Name: "prod", Version: "2", CreatedAt: t0, UpdatedAt: t0.Add(time.Hour)})
		_, err = res(s).UpdateAgentRuntimeEndpoint(t.Context(), r.ID, "prod", func(x *behalf.AgentRuntimeEndpoint) error {
			x.Version = "9"
			return errFn
		})
		wantFnErr(t, err)
		_, err = res(s).UpdateAgentRuntimeEndpoint(t.Context(), r.ID, "dev", func(*behalf.AgentRuntimeEndpoint) error { return nil })
		wantCode(t, err, behalf.ENOTFOUND)

		create := func(name string) {
			ok(t, res(s).CreateAgentRuntimeEndpoint(t.Context(), &behalf.AgentRuntimeEndpoint{RuntimeID: r.ID, Name: name, Version: "1", CreatedAt: t0, UpdatedAt: t0}))
		}
		create("dev")
		create("alpha")
		list := func(opt behalf.ListOptions) []string {
			es, err := res(s).ListAgentRuntimeEndpoints(t.Context(), r.ID, opt)
			ok(t, err)
			return names(es, func(e *behalf.AgentRuntimeEndpoint) string { return e.Name })
		}
		wantEqual(t, "endpoints", list(behalf.ListOptions{}), []string{"alpha", "dev", "prod"})
		wantEqual(t, "endpoints after alpha", list(behalf.ListOptions{After: "alpha", Limit: 1}), []string{"dev"})

		del, err := res(s).DeleteAgentRuntimeEndpoint(t.Context(), r.ID, "dev")
		ok(t, err)
		if del.Name != "dev" {
			t.Fatalf("deleted %+v", del)
		}
		_, err = res(s).DeleteAgentRuntimeEndpoint(t.Context(), r.ID, "dev")
		wantCode(t, err, behalf.ENOTFOUND)
	})
	t.Run("Sessions", func(t *testing.T) {
		s := versionStore(t, open)
		r, w := newAgentRuntime("agent_1")
		createAgentRuntime(t, s, r, w)
		sess := &behalf.RuntimeSession{RuntimeID: r.ID, Endpoint: behalf.DefaultEndpoint, ID: "session-1", Version: "1",
			StartedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(15 * time.Minute)}
		ok(t, rss(s).SaveRuntimeSessions(t.Context(), []*behalf.RuntimeSession{sess}, nil))
		got, err := rss(s).GetRuntimeSession(t.Context(), r.ID, behalf.DefaultEndpoint, "session-1")
		ok(t, err)
		wantEqual(t, "GetRuntimeSession", got, sess)
		// A second start of the same key keeps the first.
		again := *sess
		again.Version, again.StartedAt = "2", t0.Add(time.Minute)
		ok(t, rss(s).SaveRuntimeSessions(t.Context(), []*behalf.RuntimeSession{&again}, nil))
		got, err = rss(s).GetRuntimeSession(t.Context(), r.ID, behalf.DefaultEndpoint, "session-1")
		ok(t, err)
		wantEqual(t, "after a second start", got, sess)
		// Use: recorded for the same start only, never backwards.
		used := *sess
		used.LastUsedAt, used.ExpiresAt = t0.Add(5*time.Minute), t0.Add(20*time.Minute)
		other := used
		other.StartedAt = t0.Add(time.Second)
		older := *sess
		older.LastUsedAt, older.ExpiresAt = t0.Add(time.Minute), t0.Add(16*time.Minute)
		ok(t, rss(s).SaveRuntimeSessions(t.Context(), nil, []*behalf.RuntimeSession{&used, &other, &older}))
		got, err = rss(s).GetRuntimeSession(t.Context(), r.ID, behalf.DefaultEndpoint, "session-1")
		ok(t, err)
		wantEqual(t, "after use", got, &used)
		// The same id on another endpoint is another session.
		_, err = rss(s).GetRuntimeSession(t.Context(), r.ID, "prod", "session-1")
		wantCode(t, err, behalf.ENOTFOUND)
		// Using a missing session does not create it.
		ghost := used
		ghost.ID = "session-ghost"
		ok(t, rss(s).SaveRuntimeSessions(t.Context(), nil, []*behalf.RuntimeSession{&ghost}))
		_, err = rss(s).GetRuntimeSession(t.Context(), r.ID, behalf.DefaultEndpoint, "session-ghost")
		wantCode(t, err, behalf.ENOTFOUND)

		// Delete: expired sessions are not found.
		_, err = rss(s).DeleteRuntimeSession(t.Context(), r.ID, behalf.DefaultEndpoint, "session-1", used.ExpiresAt)
		wantCode(t, err, behalf.ENOTFOUND)
		del, err := rss(s).DeleteRuntimeSession(t.Context(), r.ID, behalf.DefaultEndpoint, "session-1", used.ExpiresAt.Add(-time.Second))
		ok(t, err)
		wantEqual(t, "DeleteRuntimeSession", del, &used)
		_, err = rss(s).DeleteRuntimeSession(t.Context(), r.ID, behalf.DefaultEndpoint, "session-1", t0)
		wantCode(t, err, behalf.ENOTFOUND)

		// Expired sessions are swept.
		for i, exp := range []time.Duration{time.Minute, time.Hour} {
			x := *sess
			x.ID, x.ExpiresAt = fmt.Sprintf("sweep-%d", i), t0.Add(exp)
			ok(t, rss(s).SaveRuntimeSessions(t.Context(), []*behalf.RuntimeSession{&x}, nil))
		}
		n, err := rss(s).DeleteExpiredRuntimeSessions(t.Context(), t0.Add(30*time.Minute))
		ok(t, err)
		if n != 1 {
			t.Fatalf("DeleteExpiredRuntimeSessions = %d, want 1", n)
		}
		_, err = rss(s).GetRuntimeSession(t.Context(), r.ID, behalf.DefaultEndpoint, "sweep-1")
		ok(t, err)
	})
	t.Run("DeleteRuntime", func(t *testing.T) {
		s := versionStore(t, open)
		r, w := newAgentRuntime("agent_1")
		createAgentRuntime(t, s, r, w)
		bumpRuntime(t, s, r.ID, 2)
		ok(t, res(s).CreateAgentRuntimeEndpoint(t.Context(), &behalf.AgentRuntimeEndpoint{RuntimeID: r.ID, Name: "prod", Version: "1", CreatedAt: t0, UpdatedAt: t0}))
		sess := &behalf.RuntimeSession{RuntimeID: r.ID, Endpoint: "prod", ID: "session-1", Version: "1", StartedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		ok(t, rss(s).SaveRuntimeSessions(t.Context(), []*behalf.RuntimeSession{sess}, nil))
		_, err := rts(s).DeleteAgentRuntime(t.Context(), r.ID)
		ok(t, err)
		// A new runtime with the same id (ids are random; here forced)
		// starts with nothing of the old one.
		r2, w2 := newAgentRuntime("agent_1")
		createAgentRuntime(t, s, r2, w2)
		vs, err := rvs(s).ListAgentRuntimeVersions(t.Context(), r.ID, behalf.ListOptions{})
		ok(t, err)
		wantEqual(t, "versions after re-create", names(vs, func(v *behalf.AgentRuntime) string { return v.Version }), []string{"1"})
		_, err = res(s).GetAgentRuntimeEndpoint(t.Context(), r.ID, "prod")
		wantCode(t, err, behalf.ENOTFOUND)
		_, err = rss(s).GetRuntimeSession(t.Context(), r.ID, "prod", "session-1")
		wantCode(t, err, behalf.ENOTFOUND)
	})
}
