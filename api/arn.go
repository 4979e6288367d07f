package api

import (
	"strings"

	"github.com/behalf-dev/behalf"
)

func (s *Server) arn(resource string) string {
	return "arn:aws:bedrock-agentcore:" + s.Region + ":" + s.Account + ":" + resource
}

func (s *Server) workloadARN(name string) string {
	return s.arn("workload-identity-directory/default/workload-identity/" + name)
}

func (s *Server) oauth2ProviderARN(name string) string {
	return s.arn("token-vault/default/oauth2credentialprovider/" + name)
}

func (s *Server) apiKeyProviderARN(name string) string {
	return s.arn("token-vault/default/apikeycredentialprovider/" + name)
}

// secretARN names where AgentCore would keep a provider's secret in Secrets
// Manager; Behalf keeps it sealed in its own store and reports this shape.
func (s *Server) secretARN(kind, name string) secretRef {
	return secretRef{"arn:aws:secretsmanager:" + s.Region + ":" + s.Account + ":secret:bedrock-agentcore-identity!default/" + kind + "/" + name}
}

type secretRef struct {
	SecretArn string `json:"secretArn"`
}

// tagTarget reads TagResource's resourceArn: one of the ARNs Behalf gives
// its taggable resources, in its region and account.
func (s *Server) tagTarget(arn string) (behalf.TagTarget, error) {
	if n := len(arn); n < 20 || n > 1011 {
		return behalf.TagTarget{}, behalf.Invalid("resourceArn", "resourceArn must be 20 to 1011 characters long.")
	}
	rest, ok := strings.CutPrefix(arn, "arn:aws:bedrock-agentcore:")
	parts := strings.SplitN(rest, ":", 3)
	if !ok || len(parts) != 3 {
		return behalf.TagTarget{}, behalf.Invalid("resourceArn", "resourceArn %q is not a bedrock-agentcore ARN.", arn)
	}
	if parts[0] != s.Region || parts[1] != s.Account {
		return behalf.TagTarget{}, behalf.Errorf(behalf.ENOTFOUND, "Resource %s was not found.", arn)
	}
	res := parts[2]
	named := func(kind, prefix string) (behalf.TagTarget, bool) {
		name, ok := strings.CutPrefix(res, prefix)
		if !ok || name == "" || strings.Contains(name, "/") {
			return behalf.TagTarget{}, false
		}
		return behalf.TagTarget{Kind: kind, Name: name}, true
	}
	if id, ep, ok := strings.Cut(strings.TrimPrefix(res, "runtime/"), "/runtime-endpoint/"); ok && strings.HasPrefix(res, "runtime/") {
		if id != "" && ep != "" && !strings.Contains(id, "/") && !strings.Contains(ep, "/") {
			return behalf.TagTarget{Kind: behalf.TagAgentRuntimeEndpoint, Name: id, Endpoint: ep}, nil
		}
	}
	for _, k := range []struct{ kind, prefix string }{
		{behalf.TagAgentRuntime, "runtime/"},
		{behalf.TagWorkload, "workload-identity-directory/default/workload-identity/"},
		{behalf.TagOAuth2Provider, "token-vault/default/oauth2credentialprovider/"},
		{behalf.TagAPIKeyProvider, "token-vault/default/apikeycredentialprovider/"},
	} {
		if t, ok := named(k.kind, k.prefix); ok {
			return t, nil
		}
	}
	return behalf.TagTarget{}, behalf.Invalid("resourceArn",
		"Behalf tags agent runtimes, runtime endpoints, workload identities and credential providers; %q is none of them.", arn)
}
