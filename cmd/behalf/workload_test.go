package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ctl "github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol/types"
)

// Ensure every workload-identity operation round-trips through the official
// client, with AgentCore's shapes, codes and errors.
func TestWorkloadIdentity(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *testServer) {
		ctx, c := context.Background(), s.client(t)

		created, err := c.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{
			Name: aws.String("my-agent"), AllowedResourceOauth2ReturnUrls: []string{"http://localhost:9090/callback"},
			Tags: map[string]string{"team": "agents"},
		})
		if err != nil {
			t.Fatal(err)
		}
		wantARN := "arn:aws:bedrock-agentcore:us-east-1:000000000000:workload-identity-directory/default/workload-identity/my-agent"
		if got := aws.ToString(created.WorkloadIdentityArn); got != wantARN {
			t.Fatalf("ARN=%s, want %s", got, wantARN)
		}

		got, err := c.GetWorkloadIdentity(ctx, &ctl.GetWorkloadIdentityInput{Name: aws.String("my-agent")})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.AllowedResourceOauth2ReturnUrls, []string{"http://localhost:9090/callback"}) || got.CreatedTime == nil || got.CreatedTime.IsZero() {
			t.Fatalf("Get = %+v", got)
		}

		_, err = c.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String("my-agent")})
		var conflict *types.ConflictException
		if !errors.As(err, &conflict) {
			t.Fatalf("duplicate create: err=%v, want ConflictException", err)
		}

		up, err := c.UpdateWorkloadIdentity(ctx, &ctl.UpdateWorkloadIdentityInput{
			Name: aws.String("my-agent"), AllowedResourceOauth2ReturnUrls: []string{"https://app.example/cb", "https://app.example/cb2"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(up.AllowedResourceOauth2ReturnUrls) != 2 || up.LastUpdatedTime.Before(*up.CreatedTime) {
			t.Fatalf("Update = %+v", up)
		}

		if _, err := c.DeleteWorkloadIdentity(ctx, &ctl.DeleteWorkloadIdentityInput{Name: aws.String("my-agent")}); err != nil {
			t.Fatal(err)
		}
		_, err = c.GetWorkloadIdentity(ctx, &ctl.GetWorkloadIdentityInput{Name: aws.String("my-agent")})
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("get after delete: err=%v, want ResourceNotFoundException", err)
		}
		_, err = c.DeleteWorkloadIdentity(ctx, &ctl.DeleteWorkloadIdentityInput{Name: aws.String("my-agent")})
		if !errors.As(err, &nf) {
			t.Fatalf("delete missing: err=%v, want ResourceNotFoundException", err)
		}
		_, err = c.UpdateWorkloadIdentity(ctx, &ctl.UpdateWorkloadIdentityInput{Name: aws.String("my-agent")})
		if !errors.As(err, &nf) {
			t.Fatalf("update missing: err=%v, want ResourceNotFoundException", err)
		}
	})
}

// Ensure listing pages through every workload exactly once.
func TestWorkloadIdentityPagination(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s *testServer) {
		ctx, c := context.Background(), s.client(t)
		var want []string
		for i := range 23 {
			name := fmt.Sprintf("agent-%02d", i)
			want = append(want, name)
			if _, err := c.CreateWorkloadIdentity(ctx, &ctl.CreateWorkloadIdentityInput{Name: aws.String(name)}); err != nil {
				t.Fatal(err)
			}
		}
		var names []string
		pages := 0
		p := ctl.NewListWorkloadIdentitiesPaginator(c, &ctl.ListWorkloadIdentitiesInput{MaxResults: aws.Int32(10)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, w := range page.WorkloadIdentities {
				names = append(names, aws.ToString(w.Name))
			}
		}
		if got, want := pages, 3; got != want {
			t.Fatalf("pages=%d, want %d", got, want)
		}
		if !slices.Equal(names, want) {
			t.Fatalf("names=%v, want %v", names, want)
		}

		_, err := c.ListWorkloadIdentities(ctx, &ctl.ListWorkloadIdentitiesInput{NextToken: aws.String("garbage!")})
		assertValidation(t, err, "nextToken")
		_, err = c.ListWorkloadIdentities(ctx, &ctl.ListWorkloadIdentitiesInput{MaxResults: aws.Int32(21)})
		assertValidation(t, err, "maxResults")
	})
}

// Ensure bad input is refused with ValidationException naming the field,
// and nothing is stored.
func TestWorkloadIdentityValidation(t *testing.T) {
	s := mustRunMain(t, "")
	ctx, c := context.Background(), s.client(t)
	for _, tc := range []struct {
		name  string
		in    ctl.CreateWorkloadIdentityInput
		field string
	}{
		{"ShortName", ctl.CreateWorkloadIdentityInput{Name: aws.String("ab")}, "name"},
		{"BadName", ctl.CreateWorkloadIdentityInput{Name: aws.String("my agent")}, "name"},
		{"NotURL", ctl.CreateWorkloadIdentityInput{Name: aws.String("agent"), AllowedResourceOauth2ReturnUrls: []string{"not a url"}}, "allowedResourceOauth2ReturnUrls"},
		{"Fragment", ctl.CreateWorkloadIdentityInput{Name: aws.String("agent"), AllowedResourceOauth2ReturnUrls: []string{"https://a.example/cb#x"}}, "allowedResourceOauth2ReturnUrls"},
		{"UserInfo", ctl.CreateWorkloadIdentityInput{Name: aws.String("agent"), AllowedResourceOauth2ReturnUrls: []string{"https://u:p@a.example/cb"}}, "allowedResourceOauth2ReturnUrls"},
		{"Duplicate", ctl.CreateWorkloadIdentityInput{Name: aws.String("agent"), AllowedResourceOauth2ReturnUrls: []string{"https://a.example/cb", "https://a.example/cb"}}, "allowedResourceOauth2ReturnUrls"},
		{"BadTag", ctl.CreateWorkloadIdentityInput{Name: aws.String("agent"), Tags: map[string]string{"k": "v<script>"}}, "tags"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateWorkloadIdentity(ctx, &tc.in)
			assertValidation(t, err, tc.field)
		})
	}
	out, err := c.ListWorkloadIdentities(ctx, &ctl.ListWorkloadIdentitiesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.WorkloadIdentities) != 0 {
		t.Fatalf("stored %d workloads from invalid input", len(out.WorkloadIdentities))
	}
}

// assertValidation checks err is a ValidationException naming field.
func assertValidation(t *testing.T, err error, field string) {
	t.Helper()
	var ve *types.ValidationException
	if !errors.As(err, &ve) {
		t.Fatalf("err=%v, want ValidationException", err)
	}
	if field == "" {
		return
	}
	for _, f := range ve.FieldList {
		if aws.ToString(f.Name) == field || len(aws.ToString(f.Name)) > len(field) && aws.ToString(f.Name)[:len(field)] == field {
			return
		}
	}
	t.Fatalf("ValidationException %q fieldList=%v does not name %s", ve.ErrorMessage(), fieldNames(ve), field)
}

func fieldNames(ve *types.ValidationException) []string {
	var out []string
	for _, f := range ve.FieldList {
		out = append(out, aws.ToString(f.Name))
	}
	return out
}
