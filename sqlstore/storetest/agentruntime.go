package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// runtimeStore returns the store open makes as a behalf.AgentRuntimeStore,
// or skips t if it is not one.
func runtimeStore(t *testing.T, open openFunc) behalf.Store {
	t.Helper()
	s := open(t)
	if _, ok := s.(behalf.AgentRuntimeStore); !ok {
		t.Skip("store does not implement behalf.AgentRuntimeStore")
	}
	return s
}

// rts returns s as the runtime store it is.
func rts(s behalf.Store) behalf.AgentRuntimeStore { return s.(behalf.AgentRuntimeStore) }

// newAgentRuntime returns a runtime named name with every field set, and
// its workload identity.
func newAgentRuntime(name string) (*behalf.AgentRuntime, *behalf.WorkloadIdentity) {
	r := &behalf.AgentRuntime{
		ID:           name + "-AbCdE12345",
		Name:         name,
		Description:  "an agent ✓",
		ContainerURI: "https://agent.example.com/base",
		Protocol:     behalf.ProtocolHTTP,
		ProtocolPath: "/invocations",
		RoleARN:      "arn:aws:iam::123456789012:role/agent",
		Authorizer: &behalf.JWTAuthorizer{
			DiscoveryURL:    "https://idp.example.com/.well-known/openid-configuration",
			AllowedClients:  []string{"client-1", "client-2"},
			AllowedAudience: []string{"aud-1"},
			AllowedScopes:   []string{"read", "write"},
			CustomClaims: []behalf.ClaimRule{
				{Name: "tier", ValueType: behalf.ClaimString, Operator: behalf.ClaimEquals, Value: "gold"},
				{Name: "groups", ValueType: behalf.ClaimStringArray, Operator: behalf.ClaimContainsAny, Values: []string{"a", "b"}},
			},
		},
		HeaderAllowlist:    []string{"Authorization", "X-Amzn-Bedrock-AgentCore-Runtime-Custom-Foo"},
		Workload:           name + "-wl12345678",
		CallbackURL:        "https://app.example.com/oauth2/callback",
		Environment:        map[string]string{"MODE": "test"},
		IdleSessionTimeout: 600,
		MaxLifetime:        3600,
		Tags:               map[string]string{"team": "agents"},
		Status:             behalf.RuntimeReady,
		Version:            "1",
		CreatedAt:          t0,
		UpdatedAt:          t0.Add(time.Second),
	}
	w := &behalf.WorkloadIdentity{ID: "id-" + r.Workload, Name: r.Workload, CreatedAt: t0, UpdatedAt: t0}
	return r, w
}

// createAgentRuntime stores r and w, failing t on error.
func createAgentRuntime(t *testing.T, s behalf.Store, r *behalf.AgentRuntime, w *behalf.WorkloadIdentity) {
	t.Helper()
	if err := rts(s).CreateAgentRuntime(t.Context(), r, w); err != nil {
		t.Fatalf("CreateAgentRuntime(%q): %v", r.Name, err)
	}
}

// getAgentRuntime reads a runtime by id or name, failing t on error.
func getAgentRuntime(t *testing.T, s behalf.Store, key string) *behalf.AgentRuntime {
	t.Helper()
	r, err := rts(s).GetAgentRuntime(t.Context(), key)
	if err != nil {
		t.Fatalf("GetAgentRuntime(%q): %v", key, err)
	}
	return r
}

// testAgentRuntimes checks the AgentRuntimeStore methods.
func testAgentRuntimes(t *testing.T, open openFunc) {
	t.Run("Create", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := runtimeStore(t, open)
			r, w := newAgentRuntime("agent_1")
			createAgentRuntime(t, s, r, w)
			want, wantW := newAgentRuntime("agent_1")
			wantEqual(t, "GetAgentRuntime by id", getAgentRuntime(t, s, want.ID), want)
			wantEqual(t, "GetAgentRuntime by name", getAgentRuntime(t, s, "agent_1"), want)
			wantEqual(t, "GetWorkload", getWorkload(t, s, want.Workload), wantW)
		})
		t.Run("Bare", func(t *testing.T) {
			s := runtimeStore(t, open)
			r := &behalf.AgentRuntime{ID: "bare-0123456789", Name: "bare", ContainerURI: "http://10.0.0.1:8080",
				Workload: "bare-wl", Status: behalf.RuntimeReady, Version: "1", CreatedAt: t0, UpdatedAt: t0}
			createAgentRuntime(t, s, r, &behalf.WorkloadIdentity{Name: "bare-wl", CreatedAt: t0, UpdatedAt: t0})
			got := getAgentRuntime(t, s, "bare")
			if got.Authorizer != nil || got.HeaderAllowlist != nil || got.Environment != nil || got.Tags != nil {
				t.Fatalf("GetAgentRuntime = %+v, want no authorizer, headers, environment or tags", got)
			}
			wantEqual(t, "GetAgentRuntime", got, r)
		})
		t.Run("ErrConflictName", func(t *testing.T) {
			s := runtimeStore(t, open)
			r, w := newAgentRuntime("agent_1")
			createAgentRuntime(t, s, r, w)
			dup, dupW := newAgentRuntime("agent_1")
			dup.ID, dup.Workload, dupW.Name = "agent_1-ZZZZZZZZZZ", "agent_1-other", "agent_1-other"
			wantCode(t, rts(s).CreateAgentRuntime(t.Context(), dup, dupW), behalf.ECONFLICT)
			// The transaction rolled back: no stray workload identity.
			_, err := s.GetWorkload(t.Context(), "agent_1-other")
			wantCode(t, err, behalf.ENOTFOUND)
		})
		t.Run("ErrConflictWorkload", func(t *testing.T) {
			s := runtimeStore(t, open)
			r, w := newAgentRuntime("agent_1")
			createWorkload(t, s, newWorkload(w.Name))
			wantCode(t, rts(s).CreateAgentRuntime(t.Context(), r, w), behalf.ECONFLICT)
			_, err := rts(s).GetAgentRuntime(t.Context(), r.ID)
			wantCode(t, err, behalf.ENOTFOUND)
		})
	})
	t.Run("Get", func(t *testing.T) {
		t.Run("ErrNotFound", func(t *testing.T) {
			s := runtimeStore(t, open)
			_, err := rts(s).GetAgentRuntime(t.Context(), "missing-0123456789")
			wantCode(t, err, behalf.ENOTFOUND)
		})
	})
	t.Run("Update", func(t *testing.T) { testUpdateAgentRuntime(t, open) })
	t.Run("Delete", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := runtimeStore(t, open)
			r1, w1 := newAgentRuntime("agent_1")
			r2, w2 := newAgentRuntime("agent_2")
			createAgentRuntime(t, s, r1, w1)
			createAgentRuntime(t, s, r2, w2)
			// The runtimes' workloads have scoped keys (behalf runtime
			// create -- COMMAND makes one for the agent).
			createAccessKey(t, s, newScopedKey("BHLFR1", w1))
			createAccessKey(t, s, newScopedKey("BHLFR2", w2))
			got, err := rts(s).DeleteAgentRuntime(t.Context(), r1.ID)
			ok(t, err)
			want, _ := newAgentRuntime("agent_1")
			wantEqual(t, "DeleteAgentRuntime result", got, want)
			_, err = rts(s).GetAgentRuntime(t.Context(), r1.ID)
			wantCode(t, err, behalf.ENOTFOUND)
			_, err = s.GetWorkload(t.Context(), w1.Name)
			wantCode(t, err, behalf.ENOTFOUND)
			_, err = s.GetAccessKey(t.Context(), "BHLFR1")
			wantCode(t, err, behalf.ENOTFOUND)
			getAgentRuntime(t, s, r2.ID)
			getWorkload(t, s, w2.Name)
			if _, err := s.GetAccessKey(t.Context(), "BHLFR2"); err != nil {
				t.Fatalf("the other runtime's key: %v", err)
			}
		})
		t.Run("WorkloadAlreadyGone", func(t *testing.T) {
			s := runtimeStore(t, open)
			r, w := newAgentRuntime("agent_1")
			createAgentRuntime(t, s, r, w)
			ok(t, s.DeleteWorkload(t.Context(), w.Name))
			_, err := rts(s).DeleteAgentRuntime(t.Context(), r.ID)
			ok(t, err)
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			s := runtimeStore(t, open)
			_, err := rts(s).DeleteAgentRuntime(t.Context(), "missing-0123456789")
			wantCode(t, err, behalf.ENOTFOUND)
		})
	})
	t.Run("List", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			s := runtimeStore(t, open)
			create := func(id string) {
				r, w := newAgentRuntime("n" + fmt.Sprint(len(id)) + id)
				r.ID, r.Workload, w.Name = id, "wl-"+id, "wl-"+id
				createAgentRuntime(t, s, r, w)
			}
			list := func(opt behalf.ListOptions) []string {
				rs, err := rts(s).ListAgentRuntimes(t.Context(), opt)
				ok(t, err)
				return names(rs, func(r *behalf.AgentRuntime) string { return r.ID })
			}
			testPaging(t, create, list)
		})
		t.Run("Fields", func(t *testing.T) {
			s := runtimeStore(t, open)
			r, w := newAgentRuntime("agent_1")
			createAgentRuntime(t, s, r, w)
			rs, err := rts(s).ListAgentRuntimes(t.Context(), behalf.ListOptions{})
			ok(t, err)
			want, _ := newAgentRuntime("agent_1")
			wantEqualList(t, "ListAgentRuntimes", rs, []*behalf.AgentRuntime{want})
		})
	})
}

// testUpdateAgentRuntime checks UpdateAgentRuntime.
func testUpdateAgentRuntime(t *testing.T, open openFunc) {
	t.Run("OK", func(t *testing.T) {
		s := runtimeStore(t, open)
		r, w := newAgentRuntime("agent_1")
		createAgentRuntime(t, s, r, w)
		t1 := t0.Add(time.Hour)
		edit := func(x *behalf.AgentRuntime) {
			x.Description = ""
			x.ContainerURI = "http://127.0.0.1:9000"
			x.Protocol = behalf.ProtocolMCP
			x.ProtocolPath = ""
			x.RoleARN = "arn:aws:iam::123456789012:role/other"
			x.Authorizer = nil
			x.HeaderAllowlist = []string{"X-Other"}
			x.CallbackURL = ""
			x.Environment = nil
			x.IdleSessionTimeout = 0
			x.MaxLifetime = 7200
			x.Tags = map[string]string{"new": "tag"}
			x.Status = behalf.RuntimeUpdating
			x.Version = "2"
			x.UpdatedAt = t1
		}
		got, err := rts(s).UpdateAgentRuntime(t.Context(), r.ID, func(x *behalf.AgentRuntime) error {
			edit(x)
			x.ID = "other-0123456789"       // immutable: ignored
			x.Name = "renamed"              // immutable: ignored
			x.Workload = "other"            // immutable: ignored
			x.CreatedAt = t1.Add(time.Hour) // immutable: ignored
			return nil
		})
		ok(t, err)
		want, _ := newAgentRuntime("agent_1")
		edit(want)
		wantEqual(t, "UpdateAgentRuntime result", got, want)
		wantEqual(t, "GetAgentRuntime after update", getAgentRuntime(t, s, r.ID), want)
		_, err = rts(s).GetAgentRuntime(t.Context(), "renamed")
		wantCode(t, err, behalf.ENOTFOUND)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := runtimeStore(t, open)
		_, err := rts(s).UpdateAgentRuntime(t.Context(), "missing-0123456789", func(*behalf.AgentRuntime) error {
			t.Error("fn called for a missing runtime")
			return nil
		})
		wantCode(t, err, behalf.ENOTFOUND)
	})
	t.Run("ErrFn", func(t *testing.T) {
		s := runtimeStore(t, open)
		r, w := newAgentRuntime("agent_1")
		createAgentRuntime(t, s, r, w)
		_, err := rts(s).UpdateAgentRuntime(t.Context(), r.ID, func(x *behalf.AgentRuntime) error {
			x.ContainerURI = "https://changed.example.com"
			return errFn
		})
		wantFnErr(t, err)
		want, _ := newAgentRuntime("agent_1")
		wantEqual(t, "GetAgentRuntime after failed update", getAgentRuntime(t, s, r.ID), want)
	})
	t.Run("Concurrent", func(t *testing.T) {
		s := runtimeStore(t, open)
		r, w := newAgentRuntime("agent_1")
		r.HeaderAllowlist = nil
		createAgentRuntime(t, s, r, w)
		const n = 20
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, err := rts(s).UpdateAgentRuntime(t.Context(), r.ID, func(x *behalf.AgentRuntime) error {
					x.HeaderAllowlist = append(x.HeaderAllowlist, fmt.Sprintf("X-H%02d", i))
					return nil
				})
				if err != nil {
					t.Errorf("UpdateAgentRuntime %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if got := getAgentRuntime(t, s, r.ID).HeaderAllowlist; len(got) != n {
			t.Fatalf("after %d concurrent updates the allowlist has %d entries: %q", n, len(got), got)
		}
	})
}
