package api

type route struct {
	pattern string
	name    string
	op      operation
}

// routes is the wire API, one line per operation, as in the AgentCore
// control-plane model (bedrock-agentcore-control 2023-06-05).
func (s *Server) routes() []route {
	return []route{
		{"POST /identities/CreateWorkloadIdentity", "CreateWorkloadIdentity", s.createWorkload},
		{"POST /identities/GetWorkloadIdentity", "GetWorkloadIdentity", s.getWorkload},
		{"POST /identities/UpdateWorkloadIdentity", "UpdateWorkloadIdentity", s.updateWorkload},
		{"POST /identities/DeleteWorkloadIdentity", "DeleteWorkloadIdentity", s.deleteWorkload},
		{"POST /identities/ListWorkloadIdentities", "ListWorkloadIdentities", s.listWorkloads},

		{"POST /identities/CreateOauth2CredentialProvider", "CreateOauth2CredentialProvider", s.createOAuth2Provider},
		{"POST /identities/GetOauth2CredentialProvider", "GetOauth2CredentialProvider", s.getOAuth2Provider},
		{"POST /identities/UpdateOauth2CredentialProvider", "UpdateOauth2CredentialProvider", s.updateOAuth2Provider},
		{"POST /identities/DeleteOauth2CredentialProvider", "DeleteOauth2CredentialProvider", s.deleteOAuth2Provider},
		{"POST /identities/ListOauth2CredentialProviders", "ListOauth2CredentialProviders", s.listOAuth2Providers},

		{"POST /identities/CreateApiKeyCredentialProvider", "CreateApiKeyCredentialProvider", s.createAPIKeyProvider},
		{"POST /identities/GetApiKeyCredentialProvider", "GetApiKeyCredentialProvider", s.getAPIKeyProvider},
		{"POST /identities/UpdateApiKeyCredentialProvider", "UpdateApiKeyCredentialProvider", s.updateAPIKeyProvider},
		{"POST /identities/DeleteApiKeyCredentialProvider", "DeleteApiKeyCredentialProvider", s.deleteAPIKeyProvider},
		{"POST /identities/ListApiKeyCredentialProviders", "ListApiKeyCredentialProviders", s.listAPIKeyProviders},

		{"POST /identities/get-token-vault", "GetTokenVault", s.getTokenVault},
		{"POST /identities/set-token-vault-cmk", "SetTokenVaultCMK", s.setTokenVaultCMK},
	}
}
