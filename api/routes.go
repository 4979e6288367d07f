package api

// restRoute is one line of the restJson1 route table.
type restRoute struct {
	pattern string
	name    string
	op      operation
	// dataPlane routes may be called by keys scoped to one workload; all
	// others need the root key.
	dataPlane bool
	// effect says whether a success is an administrative change, audited
	// as admin.<name> with the resource it names (audit.go).
	effect effect
}

// routes is the wire API, one line per operation, as in the AgentCore
// control-plane model (bedrock-agentcore-control 2023-06-05).
func (s *Server) routes() []restRoute {
	return []restRoute{
		{"POST /identities/CreateWorkloadIdentity", "CreateWorkloadIdentity", s.createWorkload, false, changes(fromBody("name"))},
		{"POST /identities/GetWorkloadIdentity", "GetWorkloadIdentity", s.getWorkload, false, reads()},
		{"POST /identities/UpdateWorkloadIdentity", "UpdateWorkloadIdentity", s.updateWorkload, false, changes(fromBody("name"))},
		{"POST /identities/DeleteWorkloadIdentity", "DeleteWorkloadIdentity", s.deleteWorkload, false, changes(fromBody("name"))},
		{"POST /identities/ListWorkloadIdentities", "ListWorkloadIdentities", s.listWorkloads, false, reads()},

		{"POST /identities/CreateOauth2CredentialProvider", "CreateOauth2CredentialProvider", s.createOAuth2Provider, false, changes(fromBody("name"))},
		{"POST /identities/GetOauth2CredentialProvider", "GetOauth2CredentialProvider", s.getOAuth2Provider, false, reads()},
		{"POST /identities/UpdateOauth2CredentialProvider", "UpdateOauth2CredentialProvider", s.updateOAuth2Provider, false, changes(fromBody("name"))},
		{"POST /identities/DeleteOauth2CredentialProvider", "DeleteOauth2CredentialProvider", s.deleteOAuth2Provider, false, changes(fromBody("name"))},
		{"POST /identities/ListOauth2CredentialProviders", "ListOauth2CredentialProviders", s.listOAuth2Providers, false, reads()},

		{"POST /identities/CreateApiKeyCredentialProvider", "CreateApiKeyCredentialProvider", s.createAPIKeyProvider, false, changes(fromBody("name"))},
		{"POST /identities/GetApiKeyCredentialProvider", "GetApiKeyCredentialProvider", s.getAPIKeyProvider, false, reads()},
		{"POST /identities/UpdateApiKeyCredentialProvider", "UpdateApiKeyCredentialProvider", s.updateAPIKeyProvider, false, changes(fromBody("name"))},
		{"POST /identities/DeleteApiKeyCredentialProvider", "DeleteApiKeyCredentialProvider", s.deleteAPIKeyProvider, false, changes(fromBody("name"))},
		{"POST /identities/ListApiKeyCredentialProviders", "ListApiKeyCredentialProviders", s.listAPIKeyProviders, false, reads()},

		{"POST /identities/get-token-vault", "GetTokenVault", s.getTokenVault, false, reads()},
		{"POST /identities/set-token-vault-cmk", "SetTokenVaultCMK", s.setTokenVaultCMK, false, changes(fromOut("tokenVaultId"))},
		{"POST /identities/reset-token-vault-key-material", "ResetTokenVaultKeyMaterial", s.resetTokenVaultKeyMaterial, false, changes(fromOut("tokenVaultId"))},

		// Consent portals (pages at /consent-portals/{id}; web.Portal).
		{"POST /identities/CreateConsentPortal", "CreateConsentPortal", s.createConsentPortal, false, changes(fromOut("consentPortalId"))},
		{"POST /identities/GetConsentPortal", "GetConsentPortal", s.getConsentPortal, false, reads()},
		{"POST /identities/UpdateConsentPortal", "UpdateConsentPortal", s.updateConsentPortal, false, changes(fromOut("consentPortalId"))},
		{"POST /identities/DeleteConsentPortal", "DeleteConsentPortal", s.deleteConsentPortal, false, changes(fromBody("consentPortalIdentifier"))},
		{"POST /identities/ListConsentPortals", "ListConsentPortals", s.listConsentPortals, false, reads()},

		// Agent runtimes (Behalf fronts agents that are already running; see
		// agentruntime.go). Every version is kept; DEFAULT serves the latest.
		{"PUT /runtimes/{$}", "CreateAgentRuntime", s.createRuntime, false, changes(fromOut("agentRuntimeId"))},
		{"POST /runtimes/{$}", "ListAgentRuntimes", s.listRuntimes, false, reads()},
		{"GET /runtimes/{agentRuntimeId}/{$}", "GetAgentRuntime", s.getRuntime, false, reads()},
		{"PUT /runtimes/{agentRuntimeId}/{$}", "UpdateAgentRuntime", s.updateRuntime, false, changes(fromOut("agentRuntimeId"))},
		{"DELETE /runtimes/{agentRuntimeId}/{$}", "DeleteAgentRuntime", s.deleteRuntime, false, changes(fromOut("agentRuntimeId"))},
		{"POST /runtimes/{agentRuntimeId}/versions/{$}", "ListAgentRuntimeVersions", s.listRuntimeVersions, false, reads()},
		{"PUT /runtimes/{agentRuntimeId}/runtime-endpoints/{$}", "CreateAgentRuntimeEndpoint", s.createRuntimeEndpoint, false, changes(fromPath("agentRuntimeId"), fromBody("name"))},
		{"GET /runtimes/{agentRuntimeId}/runtime-endpoints/{endpointName}/{$}", "GetAgentRuntimeEndpoint", s.getRuntimeEndpoint, false, reads()},
		{"PUT /runtimes/{agentRuntimeId}/runtime-endpoints/{endpointName}/{$}", "UpdateAgentRuntimeEndpoint", s.updateRuntimeEndpoint, false, changes(fromPath("agentRuntimeId"), fromPath("endpointName"))},
		{"DELETE /runtimes/{agentRuntimeId}/runtime-endpoints/{endpointName}/{$}", "DeleteAgentRuntimeEndpoint", s.deleteRuntimeEndpoint, false, changes(fromPath("agentRuntimeId"), fromPath("endpointName"))},
		{"POST /runtimes/{agentRuntimeId}/runtime-endpoints/{$}", "ListAgentRuntimeEndpoints", s.listRuntimeEndpoints, false, reads()},

		// Tags of runtimes, runtime endpoints, workload identities and
		// credential providers (tags.go).
		{"POST /tags/{resourceArn}", "TagResource", s.tagResource, false, changes(fromPath("resourceArn"))},
		{"DELETE /tags/{resourceArn}", "UntagResource", s.untagResource, false, changes(fromPath("resourceArn"))},
		{"GET /tags/{resourceArn}", "ListTagsForResource", s.listTags, false, reads()},
		// Gateways (MCP endpoints at /gateways/{gatewayId}/mcp; package gateway).
		{"POST /gateways/{$}", "CreateGateway", s.createGateway, false, changes(fromOut("gatewayId"))},
		{"GET /gateways/{$}", "ListGateways", s.listGateways, false, reads()},
		{"GET /gateways/{gatewayIdentifier}/{$}", "GetGateway", s.getGateway, false, reads()},
		{"PUT /gateways/{gatewayIdentifier}/{$}", "UpdateGateway", s.updateGateway, false, changes(fromOut("gatewayId"))},
		{"DELETE /gateways/{gatewayIdentifier}/{$}", "DeleteGateway", s.deleteGateway, false, changes(fromOut("gatewayId"))},
		{"POST /gateways/{gatewayIdentifier}/targets/{$}", "CreateGatewayTarget", s.createTarget, false, changes(fromPath("gatewayIdentifier"), fromOut("targetId"))},
		{"GET /gateways/{gatewayIdentifier}/targets/{$}", "ListGatewayTargets", s.listTargets, false, reads()},
		{"GET /gateways/{gatewayIdentifier}/targets/{targetId}/{$}", "GetGatewayTarget", s.getTarget, false, reads()},
		{"PUT /gateways/{gatewayIdentifier}/targets/{targetId}/{$}", "UpdateGatewayTarget", s.updateTarget, false, changes(fromPath("gatewayIdentifier"), fromPath("targetId"))},
		{"DELETE /gateways/{gatewayIdentifier}/targets/{targetId}/{$}", "DeleteGatewayTarget", s.deleteTarget, false, changes(fromPath("gatewayIdentifier"), fromPath("targetId"))},
		{"PUT /gateways/{gatewayIdentifier}/synchronizeTargets", "SynchronizeGatewayTargets", s.synchronizeTargets, false, changes(fromPath("gatewayIdentifier"))},

		// Data plane (bedrock-agentcore 2024-02-28).
		{"POST /identities/GetWorkloadAccessToken", "GetWorkloadAccessToken", s.getWAT, true, userCall()},
		{"POST /identities/GetWorkloadAccessTokenForJWT", "GetWorkloadAccessTokenForJWT", s.getWATForJWT, true, userCall()},
		{"POST /identities/GetWorkloadAccessTokenForUserId", "GetWorkloadAccessTokenForUserId", s.getWATForUserID, true, userCall()},
		{"POST /identities/oauth2/token", "GetResourceOauth2Token", s.getResourceOAuth2Token, true, userCall()},
		{"POST /identities/api-key", "GetResourceApiKey", s.getResourceAPIKey, true, userCall()},
		{"POST /identities/CompleteResourceTokenAuth", "CompleteResourceTokenAuth", s.completeResourceTokenAuth, true, userCall()},
		{"POST /runtimes/{agentRuntimeArn}/stopruntimesession", "StopRuntimeSession", s.stopRuntimeSession, true, userCall()},

		// Behalf's own administration (no AgentCore equivalent).
		{"POST /behalf/CreateAccessKey", "CreateAccessKey", s.createAccessKey, false, changes(fromOut("accessKeyId"))},
		{"POST /behalf/ListAccessKeys", "ListAccessKeys", s.listAccessKeys, false, reads()},
		{"POST /behalf/DeleteAccessKey", "DeleteAccessKey", s.deleteAccessKey, false, changes(fromBody("accessKeyId"))},
		{"POST /behalf/CreateTrustedIssuer", "CreateTrustedIssuer", s.createIssuer, false, changes(fromOut("issuer"))},
		{"POST /behalf/ListTrustedIssuers", "ListTrustedIssuers", s.listIssuers, false, reads()},
		{"POST /behalf/DeleteTrustedIssuer", "DeleteTrustedIssuer", s.deleteIssuer, false, changes(fromBody("issuer"))},
		{"POST /behalf/ListAuditEvents", "ListAuditEvents", s.listAudit, false, reads()},
		{"POST /behalf/ListGrants", "ListGrants", s.listGrants, false, reads()},
		{"POST /behalf/RevokeGrant", "RevokeGrant", s.revokeGrant, false, changes(fromBody("grantId"))},
		{"POST /behalf/SetWorkloadBinding", "SetWorkloadBinding", s.setWorkloadBinding, false, changes(fromBody("workloadName"))},
		{"POST /behalf/ListUserPoolCodes", "ListUserPoolCodes", s.listUserPoolCodes, false, reads()},
	}
}
