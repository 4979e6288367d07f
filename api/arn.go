package api

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
