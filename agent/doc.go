// Package agent is a small Go SDK for writing agents that use Amazon
// Bedrock AgentCore Identity, or Behalf, its self-hosted clone. It is the
// Go counterpart of the Python SDK's BedrockAgentCoreApp and
// @requires_access_token.
//
// The same agent binary works against both services: only the endpoint
// differs, and it comes from the standard AWS configuration
// (AWS_ENDPOINT_URL_BEDROCK_AGENTCORE, AWS_ENDPOINT_URL, the shared config
// file's endpoint_url), or BEDROCK_AGENTCORE_DP_ENDPOINT as in the Python
// SDK. Requests are signed by the official client,
// github.com/aws/aws-sdk-go-v2/service/bedrockagentcore.
//
// # Serving
//
// An App is an http.Handler that speaks the AgentCore Runtime HTTP
// contract: POST /invocations (JSON in; JSON or server-sent events out)
// and GET /ping. It puts what the runtime delivers in request headers into
// the handler's context: the workload access token (WAT), the runtime
// session and request ids, the OAuth2 callback URL and the allowlisted
// headers (Authorization and X-Amzn-Bedrock-AgentCore-Runtime-Custom-*).
//
//	app := agent.NewApp(func(ctx context.Context, payload json.RawMessage) (any, error) {
//		token, err := agent.AccessToken(ctx, agent.TokenRequest{
//			Provider: "google-drive-provider",
//			Scopes:   []string{"https://www.googleapis.com/auth/drive.metadata.readonly"},
//			OnAuthURL: func(ctx context.Context, url string) error {
//				log.Printf("ask the user to open %s", url)
//				return nil
//			},
//		})
//		...
//	})
//	log.Fatal(app.ListenAndServe(""))
//
// # Tokens
//
// AccessToken calls GetResourceOauth2Token with the context's WAT. When
// the user must consent it either returns an *AuthRequiredError at once
// (TokenRequest.ReturnAuthURL: the agent answers with the URL and the
// user invokes it again) or calls OnAuthURL and polls until the user has
// consented, as the Python SDK does (every 5 s for up to 10 min by
// default). APIKey calls GetResourceApiKey.
//
// Outside the runtime (local development), when the context has no WAT,
// the SDK reads .agentcore.json from the working directory
// ({"workload_identity_name": "...", "user_id": "..."}) and mints a WAT
// with GetWorkloadAccessTokenForUserId. Unlike the Python SDK it never
// creates a workload identity or the file by itself.
//
// # Session binding
//
// CallbackHandler is the application's return URL endpoint
// (resourceOauth2ReturnUrl): it checks who is signed in and calls
// CompleteResourceTokenAuth for the session in the session_id parameter.
package agent
