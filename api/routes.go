package api

// restRoute is one line of the restJson1 route table.
type restRoute struct {
	pattern string
	name    string
	op      operation
	// dataPlane routes may be called by keys scoped to one workload; all
	// others need the root key.
	dataPlane bool
}

// routes is the wire API, one line per operation, as in the AgentCore
// control-plane model (bedrock-agentcore-control 2023-06-05).
func (s *Server) routes() []restRoute {
	return []restRoute{
		{"POST /identities/CreateWorkloadIdentity", "CreateWorkloadIdentity", s.createWorkload, false},
		{"POST /identities/GetWorkloadIdentity", "GetWorkloadIdentity", s.getWorkload, false},
		{"POST /identities/UpdateWorkloadIdentity", "UpdateWorkloadIdentity", s.updateWorkload, false},
		{"POST /identities/DeleteWorkloadIdentity", "DeleteWorkloadIdentity", s.deleteWorkload, false},
		{"POST /identities/ListWorkloadIdentities", "ListWorkloadIdentities", s.listWorkloads, false},

		{"POST /identities/CreateOauth2CredentialProvider", "CreateOauth2CredentialProvider", s.createOAuth2Provider, false},
		{"POST /identities/GetOauth2CredentialProvider", "GetOauth2CredentialProvider", s.getOAuth2Provider, false},
		{"POST /identities/UpdateOauth2CredentialProvider", "UpdateOauth2CredentialProvider", s.updateOAuth2Provider, false},
		{"POST /identities/DeleteOauth2CredentialProvider", "DeleteOauth2CredentialProvider", s.deleteOAuth2Provider, false},
		{"POST /identities/ListOauth2CredentialProviders", "ListOauth2CredentialProviders", s.listOAuth2Providers, false},

		{"POST /identities/CreateApiKeyCredentialProvider", "CreateApiKeyCredentialProvider", s.createAPIKeyProvider, false},
		{"POST /identities/GetApiKeyCredentialProvider", "GetApiKeyCredentialProvider", s.getAPIKeyProvider, false},
		{"POST /identities/UpdateApiKeyCredentialProvider", "UpdateApiKeyCredentialProvider", s.updateAPIKeyProvider, false},
		{"POST /identities/DeleteApiKeyCredentialProvider", "DeleteApiKeyCredentialProvider", s.deleteAPIKeyProvider, false},
		{"POST /identities/ListApiKeyCredentialProviders", "ListApiKeyCredentialProviders", s.listAPIKeyProviders, false},

		{"POST /identities/get-token-vault", "GetTokenVault", s.getTokenVault, false},
		{"POST /identities/set-token-vault-cmk", "SetTokenVaultCMK", s.setTokenVaultCMK, false},
		{"POST /identities/reset-token-vault-key-material", "ResetTokenVaultKeyMaterial", s.resetTokenVaultKeyMaterial, false},

		// Consent portals (pages at /consent-portals/{id}; web.Portal).
		{"POST /identities/CreateConsentPortal", "CreateConsentPortal", s.createConsentPortal, false},
		{"POST /identities/GetConsentPortal", "GetConsentPortal", s.getConsentPortal, false},
		{"POST /identities/UpdateConsentPortal", "UpdateConsentPortal", s.updateConsentPortal, false},
		{"POST /identities/DeleteConsentPortal", "DeleteConsentPortal", s.deleteConsentPortal, false},
		{"POST /identities/ListConsentPortals", "ListConsentPortals", s.listConsentPortals, false},

		// Agent runtimes (Behalf fronts agents that are already running; see
		// agentruntime.go). Every version is kept; DEFAULT serves the latest.
		{"PUT /runtimes/{$}", "CreateAgentRuntime", s.createRuntime, false},
		{"POST /runtimes/{$}", "ListAgentRuntimes", s.listRuntimes, false},
		{"GET /runtimes/{agentRuntimeId}/{$}", "GetAgentRuntime", s.getRuntime, false},
		{"PUT /runtimes/{agentRuntimeId}/{$}", "UpdateAgentRuntime", s.updateRuntime, false},
		{"DELETE /runtimes/{agentRuntimeId}/{$}", "DeleteAgentRuntime", s.deleteRuntime, false},
		{"POST /runtimes/{agentRuntimeId}/versions/{$}", "ListAgentRuntimeVersions", s.listRuntimeVersions, false},
		{"PUT /runtimes/{agentRuntimeId}/runtime-endpoints/{$}", "CreateAgentRuntimeEndpoint", s.createRuntimeEndpoint, false},
		{"GET /runtimes/{agentRuntimeId}/runtime-endpoints/{endpointName}/{$}", "GetAgentRuntimeEndpoint", s.getRuntimeEndpoint, false},
		{"PUT /runtimes/{agentRuntimeId}/runtime-endpoints/{endpointName}/{$}", "UpdateAgentRuntimeEndpoint", s.updateRuntimeEndpoint, false},
		{"DELETE /runtimes/{agentRuntimeId}/runtime-endpoints/{endpointName}/{$}", "DeleteAgentRuntimeEndpoint", s.deleteRuntimeEndpoint, false},
		{"POST /runtimes/{agentRuntimeId}/runtime-endpoints/{$}", "ListAgentRuntimeEndpoints", s.listRuntimeEndpoints, false},

		// Tags of runtimes, runtime endpoints, workload identities and
		// credential providers (tags.go).
		{"POST /tags/{resourceArn}", "TagResource", s.tagResource, false},
		{"DELETE /tags/{resourceArn}", "UntagResource", s.untagResource, false},
		{"GET /tags/{resourceArn}", "ListTagsForResource", s.listTags, false},
		// Gateways (MCP endpoints at /gateways/{gatewayId}/mcp; package gateway).
		{"POST /gateways/{$}", "CreateGateway", s.createGateway, false},
		{"GET /gateways/{$}", "ListGateways", s.listGateways, false},
		{"GET /gateways/{gatewayIdentifier}/{$}", "GetGateway", s.getGateway, false},
		{"PUT /gateways/{gatewayIdentifier}/{$}", "UpdateGateway", s.updateGateway, false},
		{"DELETE /gateways/{gatewayIdentifier}/{$}", "DeleteGateway", s.deleteGateway, false},
		{"POST /gateways/{gatewayIdentifier}/targets/{$}", "CreateGatewayTarget", s.createTarget, false},
		{"GET /gateways/{gatewayIdentifier}/targets/{$}", "ListGatewayTargets", s.listTargets, false},
		{"GET /gateways/{gatewayIdentifier}/targets/{targetId}/{$}", "GetGatewayTarget", s.getTarget, false},
		{"PUT /gateways/{gatewayIdentifier}/targets/{targetId}/{$}", "UpdateGatewayTarget", s.updateTarget, false},
		{"DELETE /gateways/{gatewayIdentifier}/targets/{targetId}/{$}", "DeleteGatewayTarget", s.deleteTarget, false},
		{"PUT /gateways/{gatewayIdentifier}/synchronizeTargets", "SynchronizeGatewayTargets", s.synchronizeTargets, false},

		// Data plane (bedrock-agentcore 2024-02-28).
		{"POST /identities/GetWorkloadAccessToken", "GetWorkloadAccessToken", s.getWAT, true},
		{"POST /identities/GetWorkloadAccessTokenForJWT", "GetWorkloadAccessTokenForJWT", s.getWATForJWT, true},
		{"POST /identities/GetWorkloadAccessTokenForUserId", "GetWorkloadAccessTokenForUserId", s.getWATForUserID, true},
		{"POST /identities/oauth2/token", "GetResourceOauth2Token", s.getResourceOAuth2Token, true},
		{"POST /identities/api-key", "GetResourceApiKey", s.getResourceAPIKey, true},
		{"POST /identities/CompleteResourceTokenAuth", "CompleteResourceTokenAuth", s.completeResourceTokenAuth, true},
		{"POST /runtimes/{agentRuntimeArn}/stopruntimesession", "StopRuntimeSession", s.stopRuntimeSession, true},

		// Behalf's own administration (no AgentCore equivalent).
		{"POST /behalf/CreateAccessKey", "CreateAccessKey", s.createAccessKey, false},
		{"POST /behalf/ListAccessKeys", "ListAccessKeys", s.listAccessKeys, false},
		{"POST /behalf/DeleteAccessKey", "DeleteAccessKey", s.deleteAccessKey, false},
		{"POST /behalf/CreateTrustedIssuer", "CreateTrustedIssuer", s.createIssuer, false},
		{"POST /behalf/ListTrustedIssuers", "ListTrustedIssuers", s.listIssuers, false},
		{"POST /behalf/DeleteTrustedIssuer", "DeleteTrustedIssuer", s.deleteIssuer, false},
		{"POST /behalf/ListAuditEvents", "ListAuditEvents", s.listAudit, false},
		{"POST /behalf/ListGrants", "ListGrants", s.listGrants, false},
		{"POST /behalf/RevokeGrant", "RevokeGrant", s.revokeGrant, false},
		{"POST /behalf/SetWorkloadBinding", "SetWorkloadBinding", s.setWorkloadBinding, false},
		{"POST /behalf/ListUserPoolCodes", "ListUserPoolCodes", s.listUserPoolCodes, false},
	}
}
