package api

import (
	"testing"

	"github.com/behalf-dev/behalf"
)

// FuzzTagTarget: TagResource's resourceArn parser never panics, and what it
// accepts is exactly an ARN the server gives out.
func FuzzTagTarget(f *testing.F) {
	s := &Server{Region: "us-east-1", Account: "123456789012"}
	for _, seed := range []string{
		s.runtimeARN("agent-0123456789"),
		s.runtimeEndpointARN("agent-0123456789", "prod"),
		s.workloadARN("wl"),
		s.oauth2ProviderARN("google"),
		s.apiKeyProviderARN("key"),
		"arn:aws:bedrock-agentcore:us-east-1:123456789012:gateway/gw",
		"arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime//runtime-endpoint/",
		"arn:aws:bedrock-agentcore:eu-west-1:123456789012:runtime/x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, arn string) {
		tt, err := s.tagTarget(arn)
		if err != nil {
			if c := behalf.ErrorCode(err); c != behalf.EINVALID && c != behalf.ENOTFOUND {
				t.Fatalf("tagTarget(%q): %v", arn, err)
			}
			return
		}
		var back string
		switch tt.Kind {
		case behalf.TagAgentRuntime:
			back = s.runtimeARN(tt.Name)
		case behalf.TagAgentRuntimeEndpoint:
			back = s.runtimeEndpointARN(tt.Name, tt.Endpoint)
		case behalf.TagWorkload:
			back = s.workloadARN(tt.Name)
		case behalf.TagOAuth2Provider:
			back = s.oauth2ProviderARN(tt.Name)
		case behalf.TagAPIKeyProvider:
			back = s.apiKeyProviderARN(tt.Name)
		}
		if back != arn {
			t.Fatalf("tagTarget(%q) = %+v, which is %q", arn, tt, back)
		}
	})
}
