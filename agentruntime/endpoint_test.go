package agentruntime_test

import (
	"errors"
	"testing"

	"github.com/behalf-dev/behalf"
)

func TestVersionsAndEndpoints(t *testing.T) {
	s, _ := newService(t, true)
	ctx := t.Context()
	in := behalf.AgentRuntimeInput{Name: "agent", ContainerURI: "http://127.0.0.1:8081", Tags: map[string]string{"team": "a"}}
	r, err := s.CreateAgentRuntime(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, uri := range []string{"http://127.0.0.1:8082", "http://127.0.0.1:8083"} {
		in.ContainerURI = uri
		if r, err = s.UpdateAgentRuntime(ctx, r.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	if r.Version != "3" {
		t.Fatalf("version after two updates = %s", r.Version)
	}

	// Every version is kept, with its own configuration.
	v1, err := s.GetAgentRuntimeVersion(ctx, r.ID, "1")
	if err != nil || v1.ContainerURI != "http://127.0.0.1:8081" || v1.Version != "1" {
		t.Fatalf("version 1 = %+v, %v", v1, err)
	}
	v3, err := s.GetAgentRuntimeVersion(ctx, "agent", "3") // by name too
	if err != nil || v3.ContainerURI != "http://127.0.0.1:8083" {
		t.Fatalf("version 3 = %+v, %v", v3, err)
	}
	wantCode(t, errOf(s.GetAgentRuntimeVersion(ctx, r.ID, "4")), behalf.ENOTFOUND)
	wantInvalid(t, errOf(s.GetAgentRuntimeVersion(ctx, r.ID, "01")), "agentRuntimeVersion")
	wantCode(t, errOf(s.GetAgentRuntimeVersion(ctx, "nope-0123456789", "1")), behalf.ENOTFOUND)

	page, next, err := s.ListAgentRuntimeVersions(ctx, r.ID, behalf.PageRequest{MaxResults: 2})
	if err != nil || len(page) != 2 || page[0].Version != "1" || page[1].Version != "2" || next == "" {
		t.Fatalf("first page = %v, %q, %v", page, next, err)
	}
	page, next, err = s.ListAgentRuntimeVersions(ctx, r.ID, behalf.PageRequest{MaxResults: 2, NextToken: next})
	if err != nil || len(page) != 1 || page[0].Version != "3" || next != "" {
		t.Fatalf("second page = %v, %q, %v", page, next, err)
	}
	wantInvalid(t, errOf3(s.ListAgentRuntimeVersions(ctx, r.ID, behalf.PageRequest{MaxResults: 101})), "maxResults")
	wantInvalid(t, errOf3(s.ListAgentRuntimeVersions(ctx, r.ID, behalf.PageRequest{NextToken: "garbage!"})), "nextToken")
	wantCode(t, errOf3(s.ListAgentRuntimeVersions(ctx, "nope-0123456789", behalf.PageRequest{})), behalf.ENOTFOUND)

	// Endpoints: DEFAULT serves the latest; named ones pin a version.
	def, err := s.GetAgentRuntimeEndpoint(ctx, r.ID, behalf.DefaultEndpoint)
	if err != nil || def.Version != "3" {
		t.Fatalf("DEFAULT = %+v, %v", def, err)
	}
	desc := "production"
	prod, err := s.CreateAgentRuntimeEndpoint(ctx, behalf.AgentRuntimeEndpointInput{RuntimeID: r.ID, Name: "prod", Version: "1", Description: &desc, Tags: map[string]string{"env": "prod"}})
	if err != nil || prod.Version != "1" || prod.Description != "production" || prod.Tags["env"] != "prod" {
		t.Fatalf("create prod = %+v, %v", prod, err)
	}
	latest, err := s.CreateAgentRuntimeEndpoint(ctx, behalf.AgentRuntimeEndpointInput{RuntimeID: r.ID, Name: "dev"})
	if err != nil || latest.Version != "3" {
		t.Fatalf("create dev = %+v, %v", latest, err)
	}
	for _, c := range []struct {
		in    behalf.AgentRuntimeEndpointInput
		code  string
		field string
	}{
		{behalf.AgentRuntimeEndpointInput{RuntimeID: r.ID, Name: "prod"}, behalf.ECONFLICT, ""},
		{behalf.AgentRuntimeEndpointInput{RuntimeID: r.ID, Name: behalf.DefaultEndpoint}, behalf.ECONFLICT, ""},
		{behalf.AgentRuntimeEndpointInput{RuntimeID: r.ID, Name: "x", Version: "9"}, behalf.ENOTFOUND, ""},
		{behalf.AgentRuntimeEndpointInput{RuntimeID: r.ID, Name: "1bad"}, behalf.EINVALID, "name"},
		{behalf.AgentRuntimeEndpointInput{RuntimeID: r.ID, Name: "x", Version: "v1"}, behalf.EINVALID, "agentRuntimeVersion"},
		{behalf.AgentRuntimeEndpointInput{RuntimeID: r.ID, Name: "x", Tags: map[string]string{"": "v"}}, behalf.EINVALID, "tags"},
		{behalf.AgentRuntimeEndpointInput{RuntimeID: "nope-0123456789", Name: "x"}, behalf.ENOTFOUND, ""},
	} {
		_, err := s.CreateAgentRuntimeEndpoint(ctx, c.in)
		if c.field != "" {
			wantInvalid(t, err, c.field)
		} else {
			wantCode(t, err, c.code)
		}
	}
	long := string(make([]byte, 257))
	wantInvalid(t, errOf(s.CreateAgentRuntimeEndpoint(ctx, behalf.AgentRuntimeEndpointInput{RuntimeID: r.ID, Name: "x", Description: &long})), "description")
	if _, err := s.GetAgentRuntimeEndpoint(ctx, r.ID, "x"); behalf.ErrorCode(err) != behalf.ENOTFOUND {
		t.Fatalf("a refused endpoint was stored: %v", err)
	}

	// Update moves a named endpoint; DEFAULT cannot be changed or deleted.
	up, err := s.UpdateAgentRuntimeEndpoint(ctx, behalf.AgentRuntimeEndpointInput{RuntimeID: r.ID, Name: "prod", Version: "2"})
	if err != nil || up.Version != "2" || up.Description != "production" {
		t.Fatalf("update prod = %+v, %v", up, err)
	}
	wantInvalid(t, errOf(s.UpdateAgentRuntimeEndpoint(ctx, behalf.AgentRuntimeEndpointInput{RuntimeID: r.ID, Name: behalf.DefaultEndpoint, Version: "1"})), "endpointName")
	wantCode(t, errOf(s.UpdateAgentRuntimeEndpoint(ctx, behalf.AgentRuntimeEndpointInput{RuntimeID: r.ID, Name: "gone"})), behalf.ENOTFOUND)
	wantCode(t, errOf(s.UpdateAgentRuntimeEndpoint(ctx, behalf.AgentRuntimeEndpointInput{RuntimeID: r.ID, Name: "prod", Version: "7"})), behalf.ENOTFOUND)
	wantInvalid(t, errOf(s.DeleteAgentRuntimeEndpoint(ctx, r.ID, behalf.DefaultEndpoint)), "endpointName")

	// A runtime update moves DEFAULT, not the named endpoints.
	if _, err := s.UpdateAgentRuntime(ctx, r.ID, in); err != nil {
		t.Fatal(err)
	}
	if def, _ := s.GetAgentRuntimeEndpoint(ctx, r.ID, behalf.DefaultEndpoint); def.Version != "4" {
		t.Fatalf("DEFAULT after update serves %s", def.Version)
	}
	if dev, _ := s.GetAgentRuntimeEndpoint(ctx, r.ID, "dev"); dev.Version != "3" {
		t.Fatalf("dev after update serves %s", dev.Version)
	}

	// List: DEFAULT among the named ones, by name, across pages.
	var got []string
	for p := (behalf.PageRequest{MaxResults: 1}); ; {
		items, next, err := s.ListAgentRuntimeEndpoints(ctx, r.ID, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range items {
			got = append(got, e.Name)
		}
		if next == "" {
			break
		}
		p.NextToken = next
	}
	if want := []string{"DEFAULT", "dev", "prod"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("endpoints = %q, want %q", got, want)
	}

	if _, err := s.DeleteAgentRuntimeEndpoint(ctx, r.ID, "dev"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, errOf(s.DeleteAgentRuntimeEndpoint(ctx, r.ID, "dev")), behalf.ENOTFOUND)
}

func errOf[T any](_ T, err error) error              { return err }
func errOf3[T any, U any](_ T, _ U, err error) error { return err }

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if behalf.ErrorCode(err) != code {
		t.Fatalf("error %v, want %s", err, code)
	}
}

func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var e *behalf.Error
	if behalf.ErrorCode(err) != behalf.EINVALID || !errors.As(err, &e) || e.Field != field {
		t.Fatalf("error %v, want EINVALID naming %s", err, field)
	}
}
