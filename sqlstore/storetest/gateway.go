package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// gatewayStore returns the store open makes as a behalf.GatewayStore, or
// skips t if it is not one.
func gatewayStore(t *testing.T, open openFunc) behalf.Store {
	t.Helper()
	s := open(t)
	if _, ok := s.(behalf.GatewayStore); !ok {
		t.Skip("store does not implement behalf.GatewayStore")
	}
	return s
}

func gws(s behalf.Store) behalf.GatewayStore { return s.(behalf.GatewayStore) }

// newGateway returns a gateway with id with every field set, and its
// workload identity.
func newGateway(id string) (*behalf.Gateway, *behalf.WorkloadIdentity) {
	g := &behalf.Gateway{
		ID:             id,
		Name:           "name-" + id,
		Description:    "tools ✓",
		RoleARN:        "arn:aws:iam::123456789012:role/gw",
		ProtocolType:   "MCP",
		AuthorizerType: behalf.GatewayAuthorizerJWT,
		Authorizer: &behalf.JWTAuthorizer{
			DiscoveryURL:    "https://idp.example.com/.well-known/openid-configuration",
			AllowedClients:  []string{"client-1"},
			AllowedAudience: []string{"https://gw.example.com/mcp"},
			AllowedScopes:   []string{"tools"},
		},
		Instructions:   "Use the tools.",
		ExceptionLevel: "DEBUG",
		Workload:       id,
		Tags:           map[string]string{"team": "tools"},
		Status:         behalf.GatewayReady,
		CreatedAt:      t0,
		UpdatedAt:      t0.Add(time.Second),
	}
	return g, &behalf.WorkloadIdentity{ID: "id-" + id, Name: id, CreatedAt: t0, UpdatedAt: t0}
}

// newGatewayTarget returns a target of gateway gw with every field set.
func newGatewayTarget(gw, id, name string) *behalf.GatewayTarget {
	return &behalf.GatewayTarget{
		GatewayID:   gw,
		ID:          id,
		Name:        name,
		Description: "the drive",
		Kind:        behalf.TargetOpenAPI,
		OpenAPI:     `{"openapi":"3.0.3"}`,
		Credentials: []behalf.GatewayCredential{
			{Type: behalf.CredentialAPIKey, Provider: "key", Location: behalf.APIKeyInHeader, ParameterName: "X-Key", Prefix: "Key"},
			{Type: behalf.CredentialOAuth, Provider: "google", Scopes: []string{"a", "b"}, GrantType: behalf.GrantAuthorizationCode,
				DefaultReturnURL: "https://app.example.com/cb", CustomParameters: map[string]string{"access_type": "offline"}},
		},
		Status:    behalf.GatewayReady,
		CreatedAt: t0,
		UpdatedAt: t0,
	}
}

func createGateway(t *testing.T, s behalf.Store, id string) *behalf.Gateway {
	t.Helper()
	g, w := newGateway(id)
	if err := gws(s).CreateGateway(t.Context(), g, w); err != nil {
		t.Fatalf("CreateGateway(%q): %v", id, err)
	}
	return g
}

// testGateways checks the GatewayStore methods.
func testGateways(t *testing.T, open openFunc) {
	t.Run("CreateGet", func(t *testing.T) {
		s := gatewayStore(t, open)
		createGateway(t, s, "gw-0123456789")
		want, wantW := newGateway("gw-0123456789")
		for _, key := range []string{want.ID, want.Name} {
			got, err := gws(s).GetGateway(t.Context(), key)
			ok(t, err)
			wantEqual(t, "GetGateway", got, want)
		}
		wantEqual(t, "GetWorkload", getWorkload(t, s, want.Workload), wantW)
		_, err := gws(s).GetGateway(t.Context(), "missing-0123456789")
		wantCode(t, err, behalf.ENOTFOUND)
	})
	t.Run("CreateConflict", func(t *testing.T) {
		s := gatewayStore(t, open)
		createGateway(t, s, "gw-0123456789")
		dup, w := newGateway("gw-9999999999")
		dup.Name = "name-gw-0123456789"
		wantCode(t, gws(s).CreateGateway(t.Context(), dup, w), behalf.ECONFLICT)
		_, err := s.GetWorkload(t.Context(), w.Name)
		wantCode(t, err, behalf.ENOTFOUND) // rolled back
	})
	t.Run("Bare", func(t *testing.T) {
		s := gatewayStore(t, open)
		g := &behalf.Gateway{ID: "b-0123456789", Name: "b", ProtocolType: "MCP", AuthorizerType: behalf.GatewayAuthorizerNone,
			Workload: "b-0123456789", Status: behalf.GatewayReady, CreatedAt: t0, UpdatedAt: t0}
		ok(t, gws(s).CreateGateway(t.Context(), g, &behalf.WorkloadIdentity{Name: g.Workload, CreatedAt: t0, UpdatedAt: t0}))
		got, err := gws(s).GetGateway(t.Context(), "b")
		ok(t, err)
		wantEqual(t, "GetGateway", got, g)
	})
	t.Run("Update", func(t *testing.T) {
		s := gatewayStore(t, open)
		createGateway(t, s, "gw-0123456789")
		got, err := gws(s).UpdateGateway(t.Context(), "gw-0123456789", func(g *behalf.Gateway) error {
			g.Name, g.ID, g.Workload = "renamed", "other", "other" // kept
			g.Description, g.Authorizer, g.AuthorizerType, g.Tags = "new", nil, behalf.GatewayAuthorizerNone, nil
			g.UpdatedAt = t0.Add(time.Hour)
			return nil
		})
		ok(t, err)
		want, _ := newGateway("gw-0123456789")
		want.Description, want.Authorizer, want.AuthorizerType, want.Tags = "new", nil, behalf.GatewayAuthorizerNone, nil
		want.UpdatedAt = t0.Add(time.Hour)
		wantEqual(t, "UpdateGateway", got, want)
		errFn := errors.New("fn")
		_, err = gws(s).UpdateGateway(t.Context(), "gw-0123456789", func(*behalf.Gateway) error { return errFn })
		if err != errFn {
			t.Fatalf("fn error: %v", err)
		}
		_, err = gws(s).UpdateGateway(t.Context(), "missing", func(*behalf.Gateway) error { return nil })
		wantCode(t, err, behalf.ENOTFOUND)
	})
	t.Run("List", func(t *testing.T) {
		s := gatewayStore(t, open)
		create := func(id string) {
			g, w := newGateway(id)
			ok(t, gws(s).CreateGateway(t.Context(), g, w))
		}
		list := func(opt behalf.ListOptions) []string {
			gs, err := gws(s).ListGateways(t.Context(), opt)
			ok(t, err)
			return names(gs, func(g *behalf.Gateway) string { return g.ID })
		}
		testPaging(t, create, list)
	})
	t.Run("Targets", func(t *testing.T) {
		s := gatewayStore(t, open)
		createGateway(t, s, "gw-0123456789")
		createGateway(t, s, "gw-other0000")
		tg := newGatewayTarget("gw-0123456789", "TARGET0001", "drive")
		ok(t, gws(s).CreateGatewayTarget(t.Context(), tg))
		got, err := gws(s).GetGatewayTarget(t.Context(), "gw-0123456789", "TARGET0001")
		ok(t, err)
		wantEqual(t, "GetGatewayTarget", got, newGatewayTarget("gw-0123456789", "TARGET0001", "drive"))
		// Another gateway's id does not reach it.
		_, err = gws(s).GetGatewayTarget(t.Context(), "gw-other0000", "TARGET0001")
		wantCode(t, err, behalf.ENOTFOUND)
		// Names are unique per gateway, not across gateways.
		wantCode(t, gws(s).CreateGatewayTarget(t.Context(), newGatewayTarget("gw-0123456789", "TARGET0002", "drive")), behalf.ECONFLICT)
		ok(t, gws(s).CreateGatewayTarget(t.Context(), newGatewayTarget("gw-other0000", "TARGET0002", "drive")))
		wantCode(t, gws(s).CreateGatewayTarget(t.Context(), newGatewayTarget("missing", "TARGET0003", "x")), behalf.ENOTFOUND)
		ok(t, gws(s).CreateGatewayTarget(t.Context(), newGatewayTarget("gw-0123456789", "TARGET0003", "notes")))

		// Update: a name another target has is a conflict; the rest changes.
		_, err = gws(s).UpdateGatewayTarget(t.Context(), "gw-0123456789", "TARGET0003", func(t *behalf.GatewayTarget) error {
			t.Name = "drive"
			return nil
		})
		wantCode(t, err, behalf.ECONFLICT)
		up, err := gws(s).UpdateGatewayTarget(t.Context(), "gw-0123456789", "TARGET0003", func(t *behalf.GatewayTarget) error {
			t.ID, t.GatewayID = "X", "Y" // kept
			t.Kind, t.OpenAPI, t.Endpoint, t.Credentials = behalf.TargetMCPServer, "", "https://mcp.example.com/mcp", nil
			t.Status, t.StatusReasons, t.AuthUserID = behalf.TargetCreatePendingAuth, []string{"needs consent"}, "gw-0123456789TARGET0003u"
			t.AuthorizationURL, t.SyncedAt = "https://behalf.example.com/authorize?x=1", t0.Add(time.Minute)
			return nil
		})
		ok(t, err)
		want := newGatewayTarget("gw-0123456789", "TARGET0003", "notes")
		want.Kind, want.OpenAPI, want.Endpoint, want.Credentials = behalf.TargetMCPServer, "", "https://mcp.example.com/mcp", nil
		want.Status, want.StatusReasons, want.AuthUserID = behalf.TargetCreatePendingAuth, []string{"needs consent"}, "gw-0123456789TARGET0003u"
		want.AuthorizationURL, want.SyncedAt = "https://behalf.example.com/authorize?x=1", t0.Add(time.Minute)
		wantEqual(t, "UpdateGatewayTarget", up, want)

		ts, err := gws(s).ListGatewayTargets(t.Context(), "gw-0123456789", behalf.ListOptions{Limit: 1})
		ok(t, err)
		if len(ts) != 1 || ts[0].ID != "TARGET0001" {
			t.Fatalf("ListGatewayTargets limit 1 = %v", names(ts, func(t *behalf.GatewayTarget) string { return t.ID }))
		}
		ts, err = gws(s).ListGatewayTargets(t.Context(), "gw-0123456789", behalf.ListOptions{After: "TARGET0001"})
		ok(t, err)
		if len(ts) != 1 || ts[0].ID != "TARGET0003" {
			t.Fatalf("ListGatewayTargets after = %v", names(ts, func(t *behalf.GatewayTarget) string { return t.ID }))
		}

		// A gateway with targets cannot be deleted.
		_, err = gws(s).DeleteGateway(t.Context(), "gw-0123456789")
		wantCode(t, err, behalf.ECONFLICT)
		for _, id := range []string{"TARGET0001", "TARGET0003"} {
			_, err := gws(s).DeleteGatewayTarget(t.Context(), "gw-0123456789", id)
			ok(t, err)
		}
		_, err = gws(s).DeleteGatewayTarget(t.Context(), "gw-0123456789", "TARGET0001")
		wantCode(t, err, behalf.ENOTFOUND)
		del, err := gws(s).DeleteGateway(t.Context(), "gw-0123456789")
		ok(t, err)
		wantEqual(t, "DeleteGateway", del.ID, "gw-0123456789")
		_, err = s.GetWorkload(t.Context(), "gw-0123456789")
		wantCode(t, err, behalf.ENOTFOUND)
		_, err = gws(s).DeleteGateway(t.Context(), "gw-0123456789")
		wantCode(t, err, behalf.ENOTFOUND)
	})
}
