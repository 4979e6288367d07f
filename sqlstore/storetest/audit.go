package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
)

// newAuditEvent returns an audit event of kind with every field but ID set.
func newAuditEvent(kind string, n int) *behalf.AuditEvent {
	return &behalf.AuditEvent{
		Time:       t0.Add(time.Duration(n) * time.Second),
		Kind:       kind,
		Workload:   "agent-1",
		UserKey:    behalf.User{Issuer: "https://idp.example.com", Subject: "alice"}.Key(),
		ProviderID: "prov-1",
		SessionID:  "sess-1",
		Actor:      "BHLFAAAA",
		Detail:     fmt.Sprintf("event %d: scopes \"openid\" ✓", n),
	}
}

// appendAudit stores e, failing t on error.
func appendAudit(t *testing.T, s behalf.Store, e *behalf.AuditEvent) {
	t.Helper()
	if err := s.AppendAudit(t.Context(), e); err != nil {
		t.Fatalf("AppendAudit(%q): %v", e.Kind, err)
	}
}

// listAudit returns ListAudit(kind, limit), failing t on error.
func listAudit(t *testing.T, s behalf.Store, kind string, limit int) []*behalf.AuditEvent {
	t.Helper()
	es, err := s.ListAudit(t.Context(), kind, limit)
	ok(t, err)
	return es
}

// testAudit checks the AuditStore methods.
func testAudit(t *testing.T, open openFunc) {
	t.Run("Append", func(t *testing.T) {
		s := open(t)
		e := newAuditEvent(behalf.AuditGrantIssued, 0)
		e.ID = 1000 // ignored: the store assigns ids
		appendAudit(t, s, e)
		if e.ID == 0 || e.ID == 1000 {
			t.Fatalf("AppendAudit set ID = %d", e.ID)
		}
		want := newAuditEvent(behalf.AuditGrantIssued, 0)
		want.ID = e.ID
		wantEqualList(t, "ListAudit", listAudit(t, s, "", 0), []*behalf.AuditEvent{want})

		bare := &behalf.AuditEvent{Kind: behalf.AuditGrantRevoked}
		appendAudit(t, s, bare)
		if bare.ID <= e.ID {
			t.Fatalf("second AppendAudit set ID = %d, not after %d", bare.ID, e.ID)
		}
		wantEqualList(t, "ListAudit", listAudit(t, s, "", 0), []*behalf.AuditEvent{bare, want})
	})
	t.Run("List", func(t *testing.T) {
		s := open(t)
		if es := listAudit(t, s, "", 0); len(es) != 0 {
			t.Fatalf("ListAudit on an empty store = %d events", len(es))
		}
		kinds := []string{
			behalf.AuditGrantIssued, behalf.AuditGrantRefreshed, behalf.AuditGrantIssued,
			behalf.AuditRefreshFailed, behalf.AuditGrantRefreshed, behalf.AuditGrantIssued,
		}
		var all []*behalf.AuditEvent
		for i, kind := range kinds {
			// Times run backwards: order is by append (id), not by Time.
			e := newAuditEvent(kind, -i)
			appendAudit(t, s, e)
			all = append(all, e)
		}
		slices.Reverse(all) // newest first
		ofKind := func(kind string) []*behalf.AuditEvent {
			var out []*behalf.AuditEvent
			for _, e := range all {
				if e.Kind == kind {
					out = append(out, e)
				}
			}
			return out
		}
		issued := ofKind(behalf.AuditGrantIssued)
		cases := []struct {
			kind  string
			limit int
			want  []*behalf.AuditEvent
		}{
			{"", 0, all},
			{"", -1, all},
			{"", 2, all[:2]},
			{"", 100, all},
			{behalf.AuditGrantIssued, 0, issued},
			{behalf.AuditGrantIssued, 2, issued[:2]},
			{behalf.AuditRefreshFailed, 0, ofKind(behalf.AuditRefreshFailed)},
			{behalf.AuditGrantBound, 0, nil},
			{"grant", 0, nil},
		}
		for _, c := range cases {
			wantEqualList(t, fmt.Sprintf("ListAudit(%q, %d)", c.kind, c.limit), listAudit(t, s, c.kind, c.limit), c.want)
		}
	})
	t.Run("Query", func(t *testing.T) {
		s := open(t)
		query := func(q behalf.AuditQuery) []*behalf.AuditEvent {
			t.Helper()
			es, err := s.QueryAudit(t.Context(), q)
			ok(t, err)
			return es
		}
		if es := query(behalf.AuditQuery{}); len(es) != 0 {
			t.Fatalf("QueryAudit on an empty store = %d events", len(es))
		}
		// Appended out of time order, as a flush of counted fetches is:
		// the answer is by time, newest first, then the latest appended.
		a := newAuditEvent(behalf.AuditGrantIssued, 10)
		b := newAuditEvent(behalf.AuditGrantFetched, 0)
		b.Actor, b.Workload = "", "agent-2"
		c := newAuditEvent(behalf.AuditGrantRevoked, 20)
		c.Actor, c.ProviderID, c.Workload = "BHLFBBBB", "prov-2", "agent-2"
		d := newAuditEvent(behalf.AuditGrantIssued, 10)
		d.SessionID, d.UserKey = "sess-9", "other-user"
		// An administrative event names its resource in Resource only.
		adm := &behalf.AuditEvent{Time: t0.Add(30 * time.Second), Kind: behalf.AuditAdminPrefix + "CreateUserPool",
			Actor: "BHLFROOT", Resource: "us-east-1_Pool/ünïcode user"}
		for _, e := range []*behalf.AuditEvent{a, b, c, d, adm} {
			appendAudit(t, s, e)
		}
		at := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
		cases := []struct {
			name string
			q    behalf.AuditQuery
			want []*behalf.AuditEvent
		}{
			{"all", behalf.AuditQuery{}, []*behalf.AuditEvent{adm, c, d, a, b}},
			{"limit", behalf.AuditQuery{Limit: 2}, []*behalf.AuditEvent{adm, c}},
			{"kind", behalf.AuditQuery{Kind: behalf.AuditGrantIssued}, []*behalf.AuditEvent{d, a}},
			{"principal", behalf.AuditQuery{Principal: "BHLFBBBB"}, []*behalf.AuditEvent{c}},
			{"workload", behalf.AuditQuery{Resource: "agent-2"}, []*behalf.AuditEvent{c, b}},
			{"provider", behalf.AuditQuery{Resource: "prov-2"}, []*behalf.AuditEvent{c}},
			{"session", behalf.AuditQuery{Resource: "sess-9"}, []*behalf.AuditEvent{d}},
			{"user", behalf.AuditQuery{Resource: "other-user"}, []*behalf.AuditEvent{d}},
			{"resource", behalf.AuditQuery{Resource: "us-east-1_Pool/ünïcode user"}, []*behalf.AuditEvent{adm}},
			{"resource and principal", behalf.AuditQuery{Resource: "us-east-1_Pool/ünïcode user", Principal: "BHLFAAAA"}, nil},
			{"resource prefix", behalf.AuditQuery{Resource: "us-east-1_Pool"}, nil},
			{"since", behalf.AuditQuery{Since: at(10)}, []*behalf.AuditEvent{adm, c, d, a}},
			{"until", behalf.AuditQuery{Until: at(10)}, []*behalf.AuditEvent{b}},
			{"window", behalf.AuditQuery{Since: at(5), Until: at(15), Kind: behalf.AuditGrantIssued, Principal: "BHLFAAAA", Limit: 1}, []*behalf.AuditEvent{d}},
			{"none", behalf.AuditQuery{Resource: "agent"}, nil},
		}
		for _, tc := range cases {
			wantEqualList(t, "QueryAudit "+tc.name, query(tc.q), tc.want)
		}
	})
}
