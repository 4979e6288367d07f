package identity

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"testing"
	"time"

	"github.com/behalf-dev/behalf"
	"github.com/behalf-dev/behalf/sqlstore"
)

func TestTags(t *testing.T) {
	db, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "behalf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := t.Context()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := db.CreateWorkload(ctx, &behalf.WorkloadIdentity{Name: "wl", Tags: map[string]string{"a": "1"}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	rt := &behalf.AgentRuntime{ID: "agent-0123456789", Name: "agent", ContainerURI: "http://127.0.0.1:1", Protocol: behalf.ProtocolHTTP,
		Workload: "agent-wl", Status: behalf.RuntimeReady, Version: "1", CreatedAt: now, UpdatedAt: now}
	if err := db.CreateAgentRuntime(ctx, rt, &behalf.WorkloadIdentity{Name: "agent-wl", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAgentRuntimeEndpoint(ctx, &behalf.AgentRuntimeEndpoint{RuntimeID: rt.ID, Name: "prod", Version: "1", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	s := &Tags{Store: db}
	wantTags := func(target behalf.TagTarget, want map[string]string) {
		t.Helper()
		got, err := s.ListTags(ctx, target)
		if err != nil || !maps.Equal(got, want) {
			t.Fatalf("ListTags(%+v) = %v, %v; want %v", target, got, err, want)
		}
	}
	wl := behalf.TagTarget{Kind: behalf.TagWorkload, Name: "wl"}
	if err := s.TagResource(ctx, wl, map[string]string{"b": "2", "a": "one"}); err != nil {
		t.Fatal(err)
	}
	wantTags(wl, map[string]string{"a": "one", "b": "2"})
	if err := s.UntagResource(ctx, wl, []string{"a", "missing"}); err != nil {
		t.Fatal(err)
	}
	wantTags(wl, map[string]string{"b": "2"})

	runtime := behalf.TagTarget{Kind: behalf.TagAgentRuntime, Name: rt.ID}
	if err := s.TagResource(ctx, runtime, map[string]string{"team": "x"}); err != nil {
		t.Fatal(err)
	}
	wantTags(runtime, map[string]string{"team": "x"})
	if got, _ := db.GetAgentRuntime(ctx, rt.ID); got.Version != "1" || !got.UpdatedAt.Equal(now) {
		t.Fatalf("tagging changed the runtime's version or update time: %+v", got)
	}
	ep := behalf.TagTarget{Kind: behalf.TagAgentRuntimeEndpoint, Name: rt.ID, Endpoint: "prod"}
	if err := s.TagResource(ctx, ep, map[string]string{"env": "prod"}); err != nil {
		t.Fatal(err)
	}
	wantTags(ep, map[string]string{"env": "prod"})
	def := behalf.TagTarget{Kind: behalf.TagAgentRuntimeEndpoint, Name: rt.ID, Endpoint: behalf.DefaultEndpoint}
	wantTags(def, nil)
	wantField(t, s.TagResource(ctx, def, map[string]string{"x": "y"}), "resourceArn")

	// Bad input names its field and changes nothing.
	wantField(t, s.TagResource(ctx, wl, map[string]string{"bad\x00key": "v"}), "tags")
	wantField(t, s.TagResource(ctx, wl, map[string]string{"k": string(make([]byte, 257))}), "tags")
	many := map[string]string{}
	for i := range 50 {
		many[fmt.Sprint("k", i)] = "v"
	}
	wantField(t, s.TagResource(ctx, wl, many), "tags") // 50 + "b": one too many
	wantTags(wl, map[string]string{"b": "2"})
	wantField(t, s.UntagResource(ctx, wl, []string{""}), "tagKeys")
	wantField(t, s.UntagResource(ctx, wl, make([]string, 201)), "tagKeys")

	for _, missing := range []behalf.TagTarget{
		{Kind: behalf.TagWorkload, Name: "nope"},
		{Kind: behalf.TagAgentRuntime, Name: "nope-0123456789"},
		{Kind: behalf.TagAgentRuntimeEndpoint, Name: rt.ID, Endpoint: "nope"},
		{Kind: behalf.TagOAuth2Provider, Name: "nope"},
		{Kind: behalf.TagAPIKeyProvider, Name: "nope"},
	} {
		if err := s.TagResource(ctx, missing, map[string]string{"k": "v"}); behalf.ErrorCode(err) != behalf.ENOTFOUND {
			t.Fatalf("TagResource(%+v) = %v, want ENOTFOUND", missing, err)
		}
	}
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var e *behalf.Error
	if !errors.As(err, &e) || e.Code != behalf.EINVALID || e.Field != field {
		t.Fatalf("error %v, want EINVALID naming %s", err, field)
	}
}
