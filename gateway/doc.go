// Package gateway implements Behalf's gateway (AgentCore Gateway): the
// control plane of gateways and their targets (behalf.GatewayService) and
// the MCP endpoint each gateway serves at {public-url}/gateways/{id}/mcp
// (Handler), on the official MCP Go SDK.
//
// A gateway is READY as soon as it is created; it gets a workload identity
// named after its id, created and deleted with it, through which its tools
// obtain their outbound credentials: an API key, a client-credentials
// token, or the signed-in user's own token from the vault (asking for
// consent with MCP's URL elicitation when there is none).
//
// OpenAPI targets are parsed with kin-openapi; each operation with an
// operationId is a tool "{target}___{operationId}". MCP-server targets are
// stored and validated only: their tools are not listed yet.
package gateway
